"""Versions of a message and the branches they make (PROTOCOL section 8), and deleted turns.

The `messages` row of a message is the version shown; the versions not shown are kept, frozen, in
`message_versions` (the shown one's row there is refreshed whenever it stops being shown). Every
turn (a `conv_id`) records in `turns` the turn it followed and the version of that turn's reply it
followed, so the turns after a regenerated or edited turn form a branch: a turn is on the shown
path when the turn it followed is and shows the version it followed. Every change of what is shown
is an ordinary stored snapshot (`messages.put`, its own `seq`), so replay stays exact. Deleted
turns are `deleted_turns`' own.

Synchronous functions over the worker's connection; the caller holds the transaction.
Imports `errors`, `protocol` and the store's own `codec`, `messages` and `turn_links`.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import TypedDict, cast

from director_desktop.errors import InvalidPayload, NotFound
from director_desktop.protocol import ContentItem, Message, MessageMetadata, now_epoch
from director_desktop.store import messages, turn_links
from director_desktop.store.codec import dumps, loads

# The server's per-snapshot keys: never copied from one version into another.
_STAMPS = ("seq", "first_seq", "timestamp")


class KeptVersion(TypedDict):
    """A version of a message besides the one shown, as a session export carries it
    (docs/export-format.md, `versions`)."""

    msg_id: str
    version: int
    input_version: int | None
    """A reply's: the version of the input it answers; None for an input."""
    status: str
    actions: list[str]
    agents: list[str]
    content: list[ContentItem]
    metadata: MessageMetadata
    """As that version was last stored, without what belongs to the message (its stamps,
    visibility and version count)."""
    created_at: int


class TurnLink(TypedDict):
    """The turn a turn followed and the version of that turn's reply it followed (both None
    for the first turn): a `turns` row, as a session export carries it."""

    conv_id: str
    parent_conv_id: str | None
    parent_version: int | None


@dataclass(frozen=True)
class Revised:
    """What `new_version` stored, in `seq` order."""

    input: Message
    """The turn's input as shown now (a new version when edited, else unchanged)."""
    output: Message
    """The reply's new version, pending (`progress`)."""
    version: int
    """The new version's number: the input's when edited, else the reply's."""
    changed: list[Message]
    """Every stored change, in `seq` order (the edited input, the pending reply, then the later
    turns whose visibility changed)."""


def version_of(message: Message) -> tuple[int, int]:
    """`(version, versions)` of a message: (1, 1) until it has a second version."""
    meta = message["metadata"]
    return int(meta.get("version") or 1), int(meta.get("versions") or 1)


def with_meta(message: Message, **changes: object) -> Message:
    """`message` with metadata keys set (`None` removes one) and the server's stamps dropped."""
    meta = {k: v for k, v in message["metadata"].items() if k not in _STAMPS}
    for key, value in changes.items():
        if value is None:
            meta.pop(key, None)
        else:
            meta[key] = value
    return {**message, "metadata": cast(MessageMetadata, meta)}


# --- turns ---------------------------------------------------------------------------------


def turn_messages(conn: sqlite3.Connection, session_id: str, conv_id: str) -> list[Message]:
    return messages.fetch(
        conn, "WHERE session_id = ? AND conv_id = ? ORDER BY first_seq", (session_id, conv_id)
    )


def _turn(conn: sqlite3.Connection, session_id: str, conv_id: str) -> tuple[Message, Message]:
    """The turn's input and reply; `not_found` when either is missing or the turn is deleted."""
    found = turn_messages(conn, session_id, conv_id)
    inputs = [m for m in found if m["msg_type"] == "input"]
    if not inputs or inputs[0]["metadata"].get("deleted"):
        raise NotFound(f"no turn {conv_id!r} in session {session_id!r}")
    wanted = inputs[0]["metadata"].get("output_msg_id")
    outputs = [m for m in found if m["msg_type"] == "output"]
    output = next((m for m in outputs if m["msg_id"] == wanted), outputs[0] if outputs else None)
    if output is None:
        raise NotFound(f"turn {conv_id!r} has no reply")
    return inputs[0], output


def _on_path(conn: sqlite3.Connection, session_id: str) -> dict[str, bool]:
    """Each turn: whether it is on the shown path."""
    shown = {
        conv: int(version or 1)
        for conv, version in conn.execute(
            "SELECT conv_id, json_extract(metadata, '$.version') FROM messages"
            " WHERE session_id = ? AND msg_type = 'output'",
            (session_id,),
        )
    }
    links = conn.execute(
        "SELECT t.conv_id, t.parent_conv_id, t.parent_version FROM turns AS t"
        " LEFT JOIN (SELECT conv_id, min(first_seq) AS first FROM messages WHERE session_id = ?"
        " GROUP BY conv_id) AS m ON m.conv_id = t.conv_id WHERE t.session_id = ?"
        " ORDER BY m.first",
        (session_id, session_id),
    ).fetchall()
    on_path: dict[str, bool] = {}
    for conv, parent, parent_version in links:  # a turn comes after the turn it followed
        if parent is None or parent not in on_path:
            on_path[conv] = True
        else:
            on_path[conv] = on_path[parent] and shown.get(parent, 1) == parent_version
    return on_path


def refresh_visibility(conn: sqlite3.Connection, session_id: str) -> list[Message]:
    """Store a snapshot for every message whose turn left or joined the shown path."""
    on_path = _on_path(conn, session_id)
    changed: list[Message] = []
    for message in messages.fetch(conn, "WHERE session_id = ? ORDER BY first_seq", (session_id,)):
        meta = message["metadata"]
        if meta.get("purged"):
            continue
        hidden = not on_path.get(message["conv_id"], True)
        if bool(meta.get("hidden")) != hidden:
            changed.append(messages.put(conn, with_meta(message, hidden=True if hidden else None)))
    return changed


# --- versions ------------------------------------------------------------------------------


def _keep(conn: sqlite3.Connection, message: Message, input_version: int | None) -> None:
    """Write the shown version of `message` into `message_versions` (replacing a stale row)."""
    version, _ = version_of(message)
    # what belongs to the message, not to this version, is not kept with it
    shared = (*_STAMPS, "hidden", "deleted", "version", "versions")
    meta = {k: v for k, v in message["metadata"].items() if k not in shared}
    conn.execute(
        "INSERT OR REPLACE INTO message_versions (session_id, msg_id, version, input_version,"
        " status, actions, agents, content, metadata, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            message["session_id"],
            message["msg_id"],
            version,
            input_version,
            message["status"],
            dumps(message["actions"], "actions"),
            dumps(message["agents"], "agents"),
            dumps(message["content"], "content"),
            dumps(meta, "metadata"),
            message.get("updated_at", now_epoch()),
        ),
    )


def _kept(conn: sqlite3.Connection, shown: Message, version: int) -> Message:
    """Version `version` of `shown`'s message, as it will be shown: its kept snapshot with the
    shown message's ids, visibility flags and version count."""
    row = conn.execute(
        "SELECT status, actions, agents, content, metadata FROM message_versions"
        " WHERE session_id = ? AND msg_id = ? AND version = ?",
        (shown["session_id"], shown["msg_id"], version),
    ).fetchone()
    if row is None:
        raise NotFound(f"message {shown['msg_id']!r} has no version {version}")
    _, versions = version_of(shown)
    meta = {
        **loads(row[4]),
        "version": version,
        "versions": versions,
        "hidden": shown["metadata"].get("hidden"),
    }
    return {
        **shown,
        "status": row[0],
        "actions": loads(row[1]),
        "agents": loads(row[2]),
        "content": loads(row[3]),
        "metadata": cast(MessageMetadata, {k: v for k, v in meta.items() if v is not None}),
    }


def new_version(
    conn: sqlite3.Connection,
    session_id: str,
    conv_id: str,
    *,
    pending: Message,
    content: list[ContentItem] | None = None,
) -> Revised:
    """Regenerate (`content` None) or edit a turn: keep what is shown, store a new version of
    the reply (`pending`'s status, actions and content, under the reply's own `msg_id`) and,
    when edited, of the input; the later turns that followed the old reply are hidden."""
    turn_links.link_missing(conn, session_id)
    old_input, old_output = _turn(conn, session_id, conv_id)
    in_version, in_count = version_of(old_input)
    _, out_count = version_of(old_output)
    _keep(conn, old_output, in_version)
    changed: list[Message] = []
    shown_input = old_input
    if content is not None:
        _keep(conn, old_input, None)
        in_version = in_count + 1
        edited: Message = {**old_input, "content": content}
        shown_input = messages.put(conn, with_meta(edited, version=in_version, versions=in_version))
        changed.append(shown_input)
    reply: Message = {
        **old_output,
        "status": pending["status"],
        "actions": list(pending["actions"]),
        "agents": list(pending["agents"]),
        "content": list(pending["content"]),
        "metadata": cast(MessageMetadata, {"hidden": old_output["metadata"].get("hidden")}),
    }
    output = messages.put(conn, with_meta(reply, version=out_count + 1, versions=out_count + 1))
    changed.append(output)
    changed += refresh_visibility(conn, session_id)
    version = in_version if content is not None else out_count + 1
    return Revised(shown_input, output, version, changed)


def select_version(
    conn: sqlite3.Connection, session_id: str, msg_id: str, version: int
) -> tuple[Message, list[Message]]:
    """Show version `version` of a message (and the matching version of the other message of
    its turn); answers the message as shown and every stored change, in `seq` order."""
    message = messages.get(conn, session_id, msg_id)
    if message is None or message["metadata"].get("deleted"):
        raise NotFound(f"no message {msg_id!r} in session {session_id!r}")
    current, count = version_of(message)
    if not 1 <= version <= count:
        raise InvalidPayload(f"version must be between 1 and {count}")
    if version == current:
        return message, []
    turn_links.link_missing(conn, session_id)
    old_input, old_output = _turn(conn, session_id, message["conv_id"])
    in_version, _ = version_of(old_input)
    _keep(conn, old_input, None)
    _keep(conn, old_output, in_version)
    if message["msg_type"] == "input":
        target_in = version
        row = conn.execute(
            "SELECT max(version) FROM message_versions WHERE session_id = ? AND msg_id = ?"
            " AND input_version = ?",
            (session_id, old_output["msg_id"], version),
        ).fetchone()
        target_out = int(row[0]) if row and row[0] is not None else version_of(old_output)[0]
    else:
        target_out = version
        row = conn.execute(
            "SELECT input_version FROM message_versions WHERE session_id = ? AND msg_id = ?"
            " AND version = ?",
            (session_id, msg_id, version),
        ).fetchone()
        target_in = int(row[0]) if row and row[0] is not None else in_version
    changed: list[Message] = []
    for shown, target in ((old_input, target_in), (old_output, target_out)):
        if version_of(shown)[0] != target:
            changed.append(messages.put(conn, _kept(conn, shown, target)))
    changed += refresh_visibility(conn, session_id)
    now_shown = next(m for m in reversed(changed) if m["msg_id"] == msg_id)
    return now_shown, changed


# --- export and import ---------------------------------------------------------------------


def export_tree(
    conn: sqlite3.Connection, session_id: str
) -> tuple[list[KeptVersion], list[TurnLink]]:
    """The versions not shown and the turn links of a session, for a JSON export."""
    turn_links.link_missing(conn, session_id)
    kept: list[KeptVersion] = [
        {
            "msg_id": row[0],
            "version": row[1],
            "input_version": row[2],
            "status": row[3],
            "actions": loads(row[4]),
            "agents": loads(row[5]),
            "content": loads(row[6]),
            "metadata": loads(row[7]),
            "created_at": row[8],
        }
        for row in conn.execute(
            "SELECT v.msg_id, v.version, v.input_version, v.status, v.actions, v.agents,"
            " v.content, v.metadata, v.created_at FROM message_versions AS v"
            " JOIN messages AS m ON m.session_id = v.session_id AND m.msg_id = v.msg_id"
            " WHERE v.session_id = ? AND json_extract(m.metadata, '$.deleted') IS NULL"
            # the shown version's own row is only a stale copy of the message: left out
            " AND v.version != coalesce(json_extract(m.metadata, '$.version'), 1)"
            " ORDER BY m.first_seq, v.version",
            (session_id,),
        )
    ]
    links: list[TurnLink] = [
        {"conv_id": row[0], "parent_conv_id": row[1], "parent_version": row[2]}
        for row in conn.execute(
            "SELECT conv_id, parent_conv_id, parent_version FROM turns"
            " WHERE session_id = ? AND deleted_at IS NULL ORDER BY conv_id",
            (session_id,),
        )
    ]
    return kept, links


def import_tree(conn: sqlite3.Connection, session_id: str, kept: object, links: object) -> None:
    """Restore an export's versions and turn links into the (new) session `session_id`."""
    if not isinstance(kept, list) or not isinstance(links, list):
        raise InvalidPayload("the export's versions and turns must be lists")
    for link in links:
        if not isinstance(link, dict) or not isinstance(link.get("conv_id"), str):
            raise InvalidPayload("each of the export's turns needs a conv_id")
        conn.execute(
            "INSERT INTO turns (session_id, conv_id, parent_conv_id, parent_version)"
            " VALUES (?, ?, ?, ?)",
            (session_id, link["conv_id"], link.get("parent_conv_id"), link.get("parent_version")),
        )
    for item in kept:
        if not isinstance(item, dict):
            raise InvalidPayload("each of the export's versions must be an object")
        shown = messages.get(conn, session_id, str(item.get("msg_id")))
        version = item.get("version")
        if shown is None or not isinstance(version, int) or version < 1:
            raise InvalidPayload("a version names a message of the export and a number")
        checked = messages.checked(
            {**shown, **{k: item.get(k) for k in ("status", "actions", "agents", "content")}}
        )
        meta = item.get("metadata")
        created = _int_or_none(item.get("created_at"))
        restored: Message = {
            **checked,
            "metadata": cast(MessageMetadata, {**(meta if isinstance(meta, dict) else {})}),
            "updated_at": now_epoch() if created is None else created,
        }
        _keep(conn, with_meta(restored, version=version), _int_or_none(item.get("input_version")))


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
