"""Message rows: store a snapshot with the session's next seq, read them back in order and in pages.

Synchronous functions over the worker's connection; the caller holds the transaction.
Imports `errors`, `protocol` and the store's own `codec`, `sessions` and `turn_links`.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any, cast

from director_desktop.errors import DuplicateId, InvalidPayload, NotFound, SessionNotFound
from director_desktop.protocol import (
    STATUSES,
    ContentItem,
    Message,
    MessageMetadata,
    check_id,
    now_epoch,
    now_iso,
)
from director_desktop.protocol.inputs import About
from director_desktop.store import sessions, turn_links
from director_desktop.store.codec import dumps, loads, no_cycle_collection

# Each row as the JSON text of the wire message, so a page is decoded by one json call instead of
# four per row (a 100,000-message conversation loads ~25% faster). The JSON columns hold JSON text
# written by codec.dumps, so they are spliced in as they are.
_JSON_ROW = (
    "'{\"session_id\":' || json_quote(session_id) || ',\"conv_id\":' || json_quote(conv_id)"
    " || ',\"msg_id\":' || json_quote(msg_id) || ',\"msg_type\":' || json_quote(msg_type)"
    " || ',\"status\":' || json_quote(status) || ',\"actions\":' || actions"
    " || ',\"agents\":' || agents || ',\"content\":' || content || ',\"metadata\":' || metadata"
    " || ',\"created_at\":' || created_at || ',\"updated_at\":' || updated_at || '}'"
)
_SELECT_JSON = f"SELECT {_JSON_ROW} FROM messages"  # noqa: S608 (constant SQL)


_CHUNK = 1000  # rows decoded per json call: big pages never hold their whole text twice


def fetch(conn: sqlite3.Connection, where: str, params: tuple[Any, ...]) -> list[Message]:
    """The messages `where` selects, in its order, decoded a chunk of rows at a time."""
    cursor = conn.execute(f"{_SELECT_JSON} {where}", params)
    found: list[Message] = []
    with no_cycle_collection():
        while rows := cursor.fetchmany(_CHUNK):
            # Safe: every row was written by `_write` or `insert_restored` from a `checked`
            # message, and `_JSON_ROW` rebuilds exactly the keys of `Message`.
            found += cast(list[Message], loads("[" + ",".join([text for (text,) in rows]) + "]"))
    return found


def row_to_message(row: tuple[Any, ...]) -> Message:
    return {
        "session_id": row[0],
        "conv_id": row[1],
        "msg_id": row[2],
        "msg_type": row[3],
        "status": row[4],
        "actions": loads(row[5]),
        "agents": loads(row[6]),
        "content": loads(row[7]),
        "metadata": loads(row[8]),
        "created_at": row[9],
        "updated_at": row[10],
    }


def get(conn: sqlite3.Connection, session_id: str, msg_id: str) -> Message | None:
    found = fetch(conn, "WHERE session_id = ? AND msg_id = ?", (session_id, msg_id))
    return found[0] if found else None


def _list_of(value: object, key: str, item_type: type) -> list[Any]:
    """A message's `key`, not yet checked: a list of `item_type`, or `[]` when absent."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, item_type) for v in value):
        raise InvalidPayload(f"{key} must be a list of {item_type.__name__}")
    return value


def checked(message: object) -> Message:
    """The wire fields of a message (typed or not yet checked: an export's, another app's),
    type-checked; unknown top-level keys are dropped."""
    if not isinstance(message, dict):
        raise InvalidPayload("a message must be a JSON object")
    for key in ("session_id", "conv_id", "msg_id"):
        check_id(message.get(key), key)
    if message.get("msg_type") not in ("input", "output"):
        raise InvalidPayload("msg_type must be 'input' or 'output'")
    status = message.get("status", "success")
    if status not in STATUSES:
        raise InvalidPayload(f"status must be one of {sorted(STATUSES)}")
    metadata = message.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise InvalidPayload("metadata must be an object")
    return {
        "session_id": message["session_id"],
        "conv_id": message["conv_id"],
        "msg_id": message["msg_id"],
        "msg_type": message["msg_type"],
        "status": status,
        "actions": _list_of(message.get("actions"), "actions", str),
        "agents": _list_of(message.get("agents"), "agents", str),
        "content": _list_of(message.get("content"), "content", dict),
        # Safe: an object; the server's keys in it are replaced when it is written, and a
        # client's own keys ride along unchecked, as `MessageMetadata` says.
        "metadata": cast(MessageMetadata, metadata),
    }


def put(conn: sqlite3.Connection, message: Message) -> Message:
    """Insert or replace by (session_id, msg_id) under the session's next seq; returns the row."""
    msg = checked(message)
    session_id, msg_id = msg["session_id"], msg["msg_id"]
    old = conn.execute(
        "SELECT first_seq, created_at, conv_id FROM messages WHERE session_id = ? AND msg_id = ?",
        (session_id, msg_id),
    ).fetchone()
    if old is not None and old[2] != msg["conv_id"]:
        raise DuplicateId(f"msg_id {msg_id!r} already belongs to another conversation")
    now = now_epoch()
    seq = sessions.next_seq(conn, session_id, now)
    return _write(conn, msg, seq, now, None if old is None else (int(old[0]), int(old[1])))


def _write(
    conn: sqlite3.Connection, msg: Message, seq: int, now: int, old: tuple[int, int] | None
) -> Message:
    """Store checked `msg` under `seq`: a new row, or the change of the row whose
    `(first_seq, created_at)` is `old`. Answers the message as stored."""
    session_id, msg_id = msg["session_id"], msg["msg_id"]
    first_seq, created_at = (seq, now) if old is None else old
    metadata: MessageMetadata = {
        **msg["metadata"],
        "seq": seq,
        "first_seq": first_seq,
        "timestamp": now_iso(),
    }
    texts = (
        dumps(msg["actions"], "actions"),
        dumps(msg["agents"], "agents"),
        dumps(msg["content"], "content"),
        dumps(metadata, "metadata"),
    )
    stored = (session_id, msg["conv_id"], msg_id, msg["msg_type"], msg["status"], *texts)
    if old is None:
        conn.execute(
            "INSERT INTO messages (session_id, conv_id, msg_id, msg_type, status, actions,"
            " agents, content, metadata, seq, first_seq, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*stored, seq, first_seq, created_at, now),
        )
    else:
        conn.execute(
            "UPDATE messages SET msg_type = ?, status = ?, actions = ?, agents = ?, content = ?,"
            " metadata = ?, seq = ?, updated_at = ? WHERE session_id = ? AND msg_id = ?",
            (msg["msg_type"], msg["status"], *texts, seq, now, session_id, msg_id),
        )
    try:  # what get() would decode from the stored text, without decoding it
        return {
            "session_id": session_id,
            "conv_id": msg["conv_id"],
            "msg_id": msg_id,
            "msg_type": msg["msg_type"],
            "status": msg["status"],
            "actions": _plain_copy(msg["actions"]),
            "agents": _plain_copy(msg["agents"]),
            "content": _plain_copy(msg["content"]),
            "metadata": _plain_copy(metadata),
            "created_at": created_at,
            "updated_at": now,
        }
    except _NotPlain:  # a tuple, a non-str key...: JSON changed it, so read back what it wrote
        return row_to_message((*stored, created_at, now))


class _NotPlain(Exception):
    pass


def _plain_copy(value: Any) -> Any:
    """A copy of `value` that is equal, value for value, to `loads(dumps(value))` (and shares
    nothing mutable with it), at half the CPU of decoding the text just written; `_NotPlain`
    for anything JSON would change on the way (tuples, non-str keys, str or int subclasses)."""
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    if kind is dict:
        copied = {}
        for key, item in value.items():
            if type(key) is not str:
                raise _NotPlain
            copied[key] = _plain_copy(item)
        return copied
    if kind is list:
        return [_plain_copy(item) for item in value]
    raise _NotPlain


def insert_restored(
    conn: sqlite3.Connection, message: object, *, seq: int, first_seq: int
) -> Message:
    """Insert a message from an export or another app as it was, keeping its seq and times;
    `message` is checked here (`invalid_payload`)."""
    msg = checked(message)
    assert isinstance(message, dict)  # `checked` refuses anything else
    metadata: MessageMetadata = {**msg["metadata"], "seq": seq, "first_seq": first_seq}
    metadata.setdefault("timestamp", now_iso())
    created_at = _epoch(message.get("created_at"))
    updated_at = max(_epoch(message.get("updated_at"), created_at), created_at)
    conn.execute(
        "INSERT INTO messages (session_id, conv_id, msg_id, msg_type, status, actions,"
        " agents, content, metadata, seq, first_seq, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            msg["session_id"],
            msg["conv_id"],
            msg["msg_id"],
            msg["msg_type"],
            msg["status"],
            dumps(msg["actions"], "actions"),
            dumps(msg["agents"], "agents"),
            dumps(msg["content"], "content"),
            dumps(metadata, "metadata"),
            seq,
            first_seq,
            created_at,
            updated_at,
        ),
    )
    conn.execute(
        "UPDATE sessions SET last_seq = max(last_seq, ?) WHERE session_id = ?",
        (seq, msg["session_id"]),
    )
    stored = get(conn, msg["session_id"], msg["msg_id"])
    assert stored is not None
    return stored


def _epoch(value: object, default: int | None = None) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, float) and value >= 0:
        return int(value)
    return now_epoch() if default is None else default


@dataclass(frozen=True)
class AddedTurn:
    """What storing a turn's input did."""

    input: Message
    """The input as stored (for a re-send: as it was stored the first time)."""
    pending: Message | None
    """The pending reply as stored; None when none was given or the input was a re-send."""
    created: bool
    """The input created its session."""
    duplicate: bool
    """The input was already stored (a re-send): nothing changed."""


def add_input(
    conn: sqlite3.Connection,
    message: Message,
    *,
    session_name: str,
    video_id: str | None,
    collection_id: str | None,
) -> tuple[Message, bool, bool]:
    """Create the session if new and store the input; a re-sent input changes nothing."""
    added = add_turn(
        conn, message, session_name=session_name, video_id=video_id, collection_id=collection_id
    )
    return added.input, added.created, added.duplicate


def add_turn(
    conn: sqlite3.Connection,
    message: Message,
    *,
    session_name: str,
    video_id: str | None,
    collection_id: str | None,
    pending_output: Message | None = None,
    about: About | None = None,
) -> AddedTurn:
    """`add_input` that also stores the turn's pending reply and answers both as stored."""
    # The chat path's one write of a turn: four statements where two `put`s take eight (the
    # input is known to be new, and one UPDATE takes both seqs and tells whether the session
    # exists), which is most of the store's time per turn.
    msg = checked({**message, "msg_type": "input", "status": "success", "actions": []})
    session_id, msg_id = msg["session_id"], msg["msg_id"]
    found = conn.execute(
        "SELECT conv_id FROM messages WHERE session_id = ? AND msg_id = ?", (session_id, msg_id)
    ).fetchone()
    if found is not None:
        if found[0] != msg["conv_id"]:
            raise DuplicateId(f"msg_id {msg_id!r} already belongs to another conversation")
        existing = get(conn, session_id, msg_id)
        assert existing is not None  # read in this transaction a statement ago
        return AddedTurn(existing, None, created=False, duplicate=True)
    reply = None if pending_output is None else checked({**pending_output, "status": "progress"})
    if reply is not None and (reply["session_id"], reply["conv_id"]) != (
        session_id,
        msg["conv_id"],
    ):
        raise InvalidPayload("a pending reply belongs to its input's session and conversation")
    now = now_epoch()
    count = 1 if reply is None else 2
    created = False
    try:
        seq = sessions.next_seq(conn, session_id, now, count=count)
        if about:
            sessions.set_about(conn, session_id, about)
    except SessionNotFound:
        created = True
        sessions.insert(
            conn,
            session_id=session_id,
            name=sessions.check_name(session_name),
            video_id=video_id,
            collection_id=collection_id,
        )
        seq = sessions.next_seq(conn, session_id, now, count=count)
    first = seq - count + 1
    stored = _write(conn, msg, first, now, None)
    turn_links.link_new_turn(conn, session_id, msg["conv_id"], first)
    pending = None
    if reply is not None:
        try:  # a fresh id from the handler: only a UNIQUE (session_id, msg_id) can refuse it
            pending = _write(conn, reply, seq, now, None)
        except sqlite3.IntegrityError:
            raise DuplicateId(f"msg_id {reply['msg_id']!r} is already used") from None
    return AddedTurn(stored, pending, created=created, duplicate=False)


def since(conn: sqlite3.Connection, session_id: str, seq: int) -> list[Message]:
    return fetch(conn, "WHERE session_id = ? AND seq > ? ORDER BY seq", (session_id, seq))


# PROTOCOL 8: a conversation is the shown path: deleted turns are left out always, the turns of
# branches not shown unless asked for (`all`).
# The text test first: most rows have neither key, and it spares them the JSON parse
# (bench/versions_bench.py: a whole 4,000-message chat read 1.32x the time of the unfiltered
# query with the parse alone, 0.9-1.2x with the text test first, on a loaded machine).
_SHOWN = (
    " AND (instr(metadata, '\"deleted\"') = 0 OR json_extract(metadata, '$.deleted') IS NULL)"
    " AND (? OR instr(metadata, '\"hidden\"') = 0"
    " OR json_extract(metadata, '$.hidden') IS NULL)"
)


def conversation(
    conn: sqlite3.Connection,
    session_id: str,
    limit: int | None,
    before: int | None,
    *,
    every_branch: bool = False,
) -> tuple[list[Message], bool]:
    """In first_seq order; with `limit`, the newest page before `before` (from an index)."""
    sessions.require(conn, session_id)
    bound = (1 << 62) if before is None else before
    if limit is None:
        where = f"WHERE session_id = ? AND first_seq < ?{_SHOWN} ORDER BY first_seq"
        return fetch(conn, where, (session_id, bound, every_branch)), False
    if limit < 1:
        raise InvalidPayload("limit must be at least 1")
    newest_first = fetch(
        conn,
        f"WHERE session_id = ? AND first_seq < ?{_SHOWN} ORDER BY first_seq DESC LIMIT ?",
        (session_id, bound, every_branch, limit + 1),
    )
    return newest_first[:limit][::-1], len(newest_first) > limit


def around(
    conn: sqlite3.Connection, session_id: str, msg_id: str, limit: int
) -> tuple[list[Message], bool, bool]:
    """⌊(limit-1)/2⌋ messages before `msg_id` and the rest from it on (a search hit's page)."""
    if limit < 1:
        raise InvalidPayload("limit must be at least 1")
    row = conn.execute(
        "SELECT first_seq FROM messages WHERE session_id = ? AND msg_id = ?", (session_id, msg_id)
    ).fetchone()
    if row is None:
        raise NotFound(f"no message {msg_id!r} in session {session_id!r}")
    older_count = (limit - 1) // 2
    newer_count = limit - older_count
    older = fetch(
        conn,
        f"WHERE session_id = ? AND first_seq < ?{_SHOWN} ORDER BY first_seq DESC LIMIT ?",
        (session_id, row[0], False, older_count + 1),
    )
    newer = fetch(
        conn,
        f"WHERE session_id = ? AND first_seq >= ?{_SHOWN} ORDER BY first_seq LIMIT ?",
        (session_id, row[0], False, newer_count + 1),
    )
    page = [*older[:older_count][::-1], *newer[:newer_count]]
    return page, len(older) > older_count, len(newer) > newer_count


INTERRUPTED = "Interrupted"


def sweep_interrupted(conn: sqlite3.Connection) -> list[Message]:
    """PROTOCOL section 4: every output still in progress becomes an error, as a new change."""
    # Without statistics the planner would rather walk messages_by_seq for the ORDER BY, which
    # reads every message; the partial index holds only the few still in progress.
    running = fetch(
        conn,
        "INDEXED BY messages_in_progress WHERE status = 'progress' AND msg_type = 'output'"
        " ORDER BY session_id, seq",
        (),
    )
    return [put(conn, interrupted(message)) for message in running]


def interrupted(message: Message) -> Message:
    content: list[ContentItem] = [
        {**item, "status": "error", "status_message": INTERRUPTED}
        if item.get("status") == "progress"
        else item
        for item in message["content"]
    ]
    if not content:
        content = [
            {
                "type": "text",
                "status": "error",
                "status_message": INTERRUPTED,
                "agent_name": "assistant",
                "text": "",
            }
        ]
    return {**message, "status": "error", "content": content}
