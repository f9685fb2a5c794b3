"""Which turn a turn followed: the `turns` rows that make branches (PROTOCOL section 8).

Kept apart from `versions` because `messages.add_turn` links every new turn, and `versions`
builds on `messages`. Synchronous functions over the worker's connection; the caller holds the
transaction. Imports nothing from the project.
"""

from __future__ import annotations

import sqlite3


def link_new_turn(conn: sqlite3.Connection, session_id: str, conv_id: str, before: int) -> None:
    """Record a new turn as following the last turn shown before `first_seq` `before`."""
    parent: tuple[str, int] | None = None
    # Newest first from the order index; the first shown message names the turn followed, and
    # its reply is almost always among the next rows (it was stored right after its input).
    rows = conn.execute(
        "SELECT conv_id, msg_type, json_extract(metadata, '$.version') FROM messages"
        " WHERE session_id = ? AND first_seq < ? AND conv_id != ?"
        " AND json_extract(metadata, '$.hidden') IS NULL"
        " AND json_extract(metadata, '$.deleted') IS NULL ORDER BY first_seq DESC LIMIT 8",
        (session_id, before, conv_id),
    ).fetchall()
    for row_conv, msg_type, version in rows:
        if parent is None:
            parent = (row_conv, 1)
        if row_conv == parent[0] and msg_type == "output":
            parent = (row_conv, int(version or 1))
            break
    conn.execute(
        "INSERT OR IGNORE INTO turns (session_id, conv_id, parent_conv_id, parent_version)"
        " VALUES (?, ?, ?, ?)",
        (session_id, conv_id, *(parent or (None, None))),
    )


def link_missing(conn: sqlite3.Connection, session_id: str) -> None:
    """Give turns stored before versions existed (or imported) a row: each follows the turn
    before it, at the version it shows, which is how they were shown."""
    rows = conn.execute(
        "SELECT m.conv_id, min(m.first_seq), t.conv_id IS NOT NULL,"
        " max(CASE WHEN m.msg_type = 'output' THEN json_extract(m.metadata, '$.version') END)"
        " FROM messages AS m LEFT JOIN turns AS t"
        " ON t.session_id = m.session_id AND t.conv_id = m.conv_id"
        " WHERE m.session_id = ? GROUP BY m.conv_id ORDER BY 2",
        (session_id,),
    ).fetchall()
    previous: tuple[str, int] | None = None
    for conv_id, _first, linked, version in rows:
        if not linked:
            conn.execute(
                "INSERT INTO turns (session_id, conv_id, parent_conv_id, parent_version)"
                " VALUES (?, ?, ?, ?)",
                (session_id, conv_id, *(previous or (None, None))),
            )
        previous = (conv_id, int(version or 1))
