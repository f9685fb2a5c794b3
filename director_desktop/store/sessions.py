"""Session rows: create, read, list by last update, rename, delete (messages go with them).

Synchronous functions over the worker's connection; the caller holds the transaction.
Imports `errors`, `protocol` and the store's own `codec`.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from director_desktop.errors import InvalidPayload, SessionNotFound
from director_desktop.protocol import JSONDict, Session, check_id, now_epoch
from director_desktop.protocol.inputs import About
from director_desktop.store.codec import dumps, loads, no_cycle_collection, now_micros

SESSION_COLUMNS = "session_id, name, video_id, collection_id, created_at, updated_at, metadata"
MAX_NAME = 200


def row_to_session(row: tuple[Any, ...]) -> Session:
    return {
        "session_id": row[0],
        "name": row[1],
        "video_id": row[2],
        "collection_id": row[3],
        "created_at": row[4],
        "updated_at": row[5],
        "metadata": loads(str(row[6])),
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
    with no_cycle_collection():
        rows = conn.execute(
            f"SELECT {SESSION_COLUMNS} FROM sessions"  # noqa: S608 (constant column list)
            " ORDER BY updated_at DESC, touched DESC LIMIT ?",
            (-1 if limit is None else max(limit, 0),),
        ).fetchall()
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
            }
            for session_id, name, video_id, collection_id, created_at, updated_at, metadata in rows
        ]


def rename(conn: sqlite3.Connection, session_id: str, name: str) -> Session:
    check_name(name)
    # A rename is not activity: the list keeps its order (updated_at moves with messages).
    cursor = conn.execute("UPDATE sessions SET name = ? WHERE session_id = ?", (name, session_id))
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
