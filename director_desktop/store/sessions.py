"""Session rows: create, read, list (pinned first, then by last update; whole or in pages), rename,
pin, delete (messages go with them).

Synchronous functions over the worker's connection; the caller holds the transaction.
Imports `errors`, `protocol` and the store's own `codec`.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from typing import Any, Final, TypedDict

from director_desktop.errors import InvalidPayload, SessionNotFound
from director_desktop.protocol import JSONDict, Session, check_id, now_epoch
from director_desktop.protocol.inputs import About
from director_desktop.store.codec import dumps, loads, no_cycle_collection, now_micros

SESSION_COLUMNS = (
    "session_id, name, video_id, collection_id, created_at, updated_at, metadata, pinned_at"
)
MAX_NAME = 200
# Within each group (pinned, then the rest) sessions list by last activity; `touched` breaks ties
# of `updated_at` (seconds) and the row id ties of `touched` (imported sessions share a clock),
# so the order is total and a cursor names one place in it. The `sessions_listing` index.
_ACTIVITY: Final = "updated_at DESC, touched DESC, id DESC"
_CURSOR: Final = re.compile(r"([01])\.([0-9]{1,18})\.([0-9]{1,18})\.([0-9]{1,18})")


class FocusIds(TypedDict):
    collection_id: str | None
    video_id: str | None


class SessionContext(TypedDict, total=False):
    """A session's engine context (its `contexts` row): what the engine keeps between turns,
    exported with the chat. One imported from elsewhere may hold other keys (a director.db's
    `messages`) and values of any type, so a reader checks a value's type."""

    media: FocusIds
    """The collection and video a turn last named (`engine/agents/focus.py`)."""
    system_prompt: str
    """The chat's own system prompt (`PUT /session/{id}/system_prompt`); absent: the default."""


@dataclass(frozen=True)
class SessionsPage:
    sessions: list[Session]
    next_cursor: str | None
    """Pass it back as `cursor` for the page after this one; None on the last page."""


def row_to_session(row: tuple[Any, ...]) -> Session:
    return {
        "session_id": row[0],
        "name": row[1],
        "video_id": row[2],
        "collection_id": row[3],
        "created_at": row[4],
        "updated_at": row[5],
        "metadata": loads(str(row[6])),
        "pinned_at": row[7],
    }


def check_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise InvalidPayload(f"a session name is 1-{MAX_NAME} characters")
    return name


def get(conn: sqlite3.Connection, session_id: str) -> Session | None:
    row = conn.execute(
        f"SELECT {SESSION_COLUMNS} FROM sessions WHERE session_id = ?",  # noqa: S608 (constant)
        (session_id,),
    ).fetchone()
    return None if row is None else row_to_session(row)


def require(conn: sqlite3.Connection, session_id: str) -> Session:
    session = get(conn, session_id)
    if session is None:
        raise SessionNotFound(f"no session {session_id!r}")
    return session


def insert(
    conn: sqlite3.Connection,
    *,
    session_id: str,
    name: str,
    video_id: str | None = None,
    collection_id: str | None = None,
    created_at: int | None = None,
    updated_at: int | None = None,
    metadata: JSONDict | None = None,
) -> None:
    check_id(session_id, "session_id")
    now = now_epoch()
    created = now if created_at is None else created_at
    updated = created if updated_at is None else updated_at
    conn.execute(
        "INSERT INTO sessions (session_id, name, video_id, collection_id, created_at,"
        " updated_at, touched, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            session_id,
            name,
            video_id,
            collection_id,
            created,
            updated,
            # A session made now sorts by the microsecond clock; an imported one by its own time.
            now_micros() if updated_at is None else updated * 1_000_000,
            dumps(metadata or {}, "session metadata"),
        ),
    )


def list_all(conn: sqlite3.Connection, limit: int | None) -> list[Session]:
    """Every session (or the first `limit`) in listing order: pinned first, then by activity."""
    with no_cycle_collection():  # the fetch too: 10,000 row tuples are allocations as well
        rows = conn.execute(
            f"SELECT {SESSION_COLUMNS} FROM sessions"  # noqa: S608 (constant column list)
            f" ORDER BY pinned_at IS NULL, {_ACTIVITY} LIMIT ?",
            (-1 if limit is None else max(limit, 0),),
        ).fetchall()
        return _sessions(rows)


def list_page(conn: sqlite3.Connection, limit: int, cursor: str | None) -> SessionsPage:
    """A page of the listing: `limit` sessions from just after `cursor` (the start without one).

    Keyset paging: the cursor is the sort key of the last session shown, not an offset, so
    sessions made, deleted, pinned or moved by activity between two pages never shift the next
    one: nothing that stayed put is skipped or shown twice (what moved, every window already
    hears of in an update). Each group is read by its own query so that both walk the index.
    """
    if limit < 1:
        raise InvalidPayload("limit must be at least 1")
    start = None if cursor is None else _parse_cursor(cursor)
    rows: list[tuple[Any, ...]] = []
    for unpinned in (0, 1):
        wanted = limit + 1 - len(rows)  # one more than asked: is there a next page?
        if wanted <= 0 or (start is not None and unpinned < start[0]):
            continue
        sql = (
            f"SELECT {SESSION_COLUMNS}, touched, id FROM sessions"  # noqa: S608 (constants)
            " WHERE (pinned_at IS NULL) = ?"
        )
        args: list[object] = [unpinned]
        if start is not None and unpinned == start[0]:
            sql += " AND (updated_at, touched, id) < (?, ?, ?)"
            args += start[1:]
        rows += conn.execute(f"{sql} ORDER BY {_ACTIVITY} LIMIT ?", (*args, wanted)).fetchall()
    shown = rows[:limit]
    next_cursor = None
    if len(rows) > limit:  # the cursor is the last row's sort key: group, updated_at, touched, id
        *_, updated_at, _metadata, pinned_at, touched, row_id = shown[-1]
        next_cursor = f"{int(pinned_at is None)}.{updated_at}.{touched}.{row_id}"
    return SessionsPage(_sessions([row[:8] for row in shown]), next_cursor)


def _parse_cursor(cursor: str) -> tuple[int, int, int, int]:
    found = _CURSOR.fullmatch(cursor)
    if found is None:
        raise InvalidPayload("cursor is not one this server gave")
    group, updated_at, touched, row_id = (int(part) for part in found.groups())
    return group, updated_at, touched, row_id


def _sessions(rows: list[tuple[Any, ...]]) -> list[Session]:
    with no_cycle_collection():
        # `row_to_session` inlined: a call per row is a sixth of listing 10,000 sessions.
        return [
            {
                "session_id": session_id,
                "name": name,
                "video_id": video_id,
                "collection_id": collection_id,
                "created_at": created_at,
                "updated_at": updated_at,
                "metadata": {} if metadata == "{}" else loads(metadata),
                "pinned_at": pinned_at,
            }
            for (
                session_id,
                name,
                video_id,
                collection_id,
                created_at,
                updated_at,
                metadata,
                pinned_at,
            ) in rows
        ]


def rename(conn: sqlite3.Connection, session_id: str, name: str) -> Session:
    check_name(name)
    # A rename is not activity: the list keeps its order (updated_at moves with messages).
    # A rename is the user's: `named_by` keeps a model-made title from replacing it later.
    cursor = conn.execute(
        "UPDATE sessions SET name = ?, metadata = json_set(metadata, '$.named_by', 'user')"
        " WHERE session_id = ?",
        (name, session_id),
    )
    if cursor.rowcount == 0:
        raise SessionNotFound(f"no session {session_id!r}")
    return require(conn, session_id)


def name_by_model(conn: sqlite3.Connection, session_id: str, name: str) -> Session | None:
    """Give a session the title a model made, unless the user named it: answers the session
    renamed, or None when it is gone or the user's name stands. One statement, so a rename
    racing the model's title can never be overwritten."""
    check_name(name)
    cursor = conn.execute(
        "UPDATE sessions SET name = ?, metadata = json_set(metadata, '$.named_by', 'model')"
        " WHERE session_id = ? AND json_extract(metadata, '$.named_by') IS NOT 'user'",
        (name, session_id),
    )
    return require(conn, session_id) if cursor.rowcount else None


def set_pinned(conn: sqlite3.Connection, session_id: str, pinned: bool) -> Session:
    """Pin or unpin a session. Pinning a pinned one keeps when it was pinned; neither is
    activity, so `updated_at` stays."""
    cursor = conn.execute(
        "UPDATE sessions SET pinned_at = CASE WHEN ? THEN coalesce(pinned_at, ?) END"
        " WHERE session_id = ?",
        (pinned, now_epoch(), session_id),
    )
    if cursor.rowcount == 0:
        raise SessionNotFound(f"no session {session_id!r}")
    return require(conn, session_id)


def delete(conn: sqlite3.Connection, session_id: str) -> bool:
    return conn.execute("DELETE FROM sessions WHERE session_id = ?", (session_id,)).rowcount > 0


def next_seq(conn: sqlite3.Connection, session_id: str, now: int, *, count: int = 1) -> int:
    """Take the session's next `count` seqs (answering the last) and move its `updated_at`;
    SessionNotFound if it is unknown."""
    row = conn.execute(
        "UPDATE sessions SET last_seq = last_seq + ?, updated_at = ?, touched = ?"
        " WHERE session_id = ? RETURNING last_seq",
        (count, now, now_micros(), session_id),
    ).fetchone()
    if row is None:
        raise SessionNotFound(f"no session {session_id!r}")
    return int(row[0])


def set_about(conn: sqlite3.Connection, session_id: str, about: About) -> None:
    """Keep the video and collection a turn named (None clears one); keys it left out stay."""
    if "video_id" in about:
        conn.execute(
            "UPDATE sessions SET video_id = ? WHERE session_id = ?",
            (about["video_id"], session_id),
        )
    if "collection_id" in about:
        conn.execute(
            "UPDATE sessions SET collection_id = ? WHERE session_id = ?",
            (about["collection_id"], session_id),
        )


def last_seq(conn: sqlite3.Connection, session_id: str) -> int:
    row = conn.execute("SELECT last_seq FROM sessions WHERE session_id = ?", (session_id,))
    found = row.fetchone()
    return 0 if found is None else int(found[0])
