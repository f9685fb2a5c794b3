"""Deleting a turn with undo (PROTOCOL section 8): its messages get a stored snapshot with
`metadata.deleted`, a restore within the undo window stores them again without it, and after the
window (or at the next start) they are purged to tombstones.

Synchronous functions over the worker's connection; the caller holds the transaction.
Imports `errors`, `protocol` and the store's own `messages`, `turn_links` and `versions`.
"""

from __future__ import annotations

import sqlite3

from director_desktop.errors import NotFound, UndoExpired
from director_desktop.protocol import Message, now_epoch
from director_desktop.store import messages, turn_links
from director_desktop.store.versions import turn_messages, with_meta

UNDO_SECONDS = 300
"""How long a deleted turn can be restored; after that (or at the next start) it is purged."""


def delete_turn(
    conn: sqlite3.Connection, session_id: str, conv_id: str, *, now: int | None = None
) -> list[Message]:
    """Mark a turn's messages deleted (a stored snapshot each); restorable for `UNDO_SECONDS`."""
    found = [
        m for m in turn_messages(conn, session_id, conv_id) if not m["metadata"].get("deleted")
    ]
    if not found:
        raise NotFound(f"no turn {conv_id!r} in session {session_id!r}")
    turn_links.link_missing(conn, session_id)
    conn.execute(
        "UPDATE turns SET deleted_at = ? WHERE session_id = ? AND conv_id = ?",
        (now_epoch() if now is None else now, session_id, conv_id),
    )
    return [messages.put(conn, with_meta(m, deleted=True)) for m in found]


def restore_turn(
    conn: sqlite3.Connection,
    session_id: str,
    conv_id: str,
    *,
    now: int | None = None,
    window: int = UNDO_SECONDS,
) -> list[Message]:
    """Bring a deleted turn back within the undo window (`undo_expired` after it)."""
    row = conn.execute(
        "SELECT deleted_at, purged FROM turns WHERE session_id = ? AND conv_id = ?",
        (session_id, conv_id),
    ).fetchone()
    if row is None or row[0] is None:
        raise NotFound(f"turn {conv_id!r} of session {session_id!r} is not deleted")
    if row[1] or (now_epoch() if now is None else now) - int(row[0]) > window:
        raise UndoExpired("the undo window of this deletion has passed")
    conn.execute(
        "UPDATE turns SET deleted_at = NULL WHERE session_id = ? AND conv_id = ?",
        (session_id, conv_id),
    )
    found = turn_messages(conn, session_id, conv_id)
    return [messages.put(conn, with_meta(m, deleted=None)) for m in found]


def purge_deleted(conn: sqlite3.Connection, *, deleted_before: int | None = None) -> int:
    """Purge turns deleted before `deleted_before` (None: every deleted turn, as at start-up).

    A purged message stays as a tombstone (`deleted` and `purged`, no content, its last `seq`
    kept), so a client replaying from an old `seq` still learns it is gone. The turns that
    followed it now follow the turn it followed. Answers how many turns were purged."""
    bound = (1 << 62) if deleted_before is None else deleted_before
    doomed = conn.execute(
        "SELECT session_id, conv_id, parent_conv_id, parent_version FROM turns"
        " WHERE deleted_at IS NOT NULL AND purged = 0 AND deleted_at < ?",
        (bound,),
    ).fetchall()
    for session_id, conv_id, parent, parent_version in doomed:
        conn.execute(
            "UPDATE turns SET parent_conv_id = ?, parent_version = ?"
            " WHERE session_id = ? AND parent_conv_id = ?",
            (parent, parent_version, session_id, conv_id),
        )
        conn.execute(
            "DELETE FROM message_versions WHERE session_id = ? AND msg_id IN"
            " (SELECT msg_id FROM messages WHERE session_id = ? AND conv_id = ?)",
            (session_id, session_id, conv_id),
        )
        conn.execute(
            "UPDATE messages SET content = '[]', actions = '[]', agents = '[]',"
            " metadata = json_object('seq', seq, 'first_seq', first_seq,"
            " 'timestamp', json_extract(metadata, '$.timestamp'),"
            " 'deleted', json('true'), 'purged', json('true'))"
            " WHERE session_id = ? AND conv_id = ?",
            (session_id, conv_id),
        )
        conn.execute(
            "UPDATE turns SET purged = 1, parent_conv_id = NULL, parent_version = NULL"
            " WHERE session_id = ? AND conv_id = ?",
            (session_id, conv_id),
        )
    return len(doomed)
