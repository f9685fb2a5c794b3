"""Bring a VideoDB Director `director.db` into the store: sessions, their order, messages, context.

Director's file is opened read-only and never changed. Its rows are loose (JSON columns may be
NULL or not JSON, ids may be anything, `conversations` has no order but its rowid), so every value
is coerced to the wire shape rather than refused: nothing the user wrote is dropped. Imports
`errors`, `protocol` and the store's own modules.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from director_desktop.errors import InvalidPayload
from director_desktop.protocol import (
    ID_PATTERN,
    STATUSES,
    ContentItem,
    Message,
    MessageMetadata,
)
from director_desktop.store import messages, sessions
from director_desktop.store.codec import dumps

NAME_CHARS = 60
_TABLES = {"sessions", "conversations"}


def import_director_db(conn: sqlite3.Connection, path: Path) -> list[str]:
    """Import every session of `path`; returns the new session ids, most recently updated first."""
    source = _open_source(path)
    try:
        rows = source.execute(
            "SELECT session_id, video_id, collection_id, created_at, updated_at, metadata"
            " FROM sessions ORDER BY updated_at, rowid"
        ).fetchall()
        orphans = source.execute(
            "SELECT DISTINCT session_id FROM conversations WHERE session_id NOT IN"
            " (SELECT session_id FROM sessions WHERE session_id IS NOT NULL) ORDER BY rowid"
        ).fetchall()
        rows += [(sid, None, None, None, None, None) for (sid,) in orphans]
        imported = [_import_session(conn, source, row, rank) for rank, row in enumerate(rows)]
    except sqlite3.DatabaseError as error:
        raise InvalidPayload(f"the Director database could not be read: {error}") from None
    finally:
        source.close()
    return list(reversed(imported))


def _open_source(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise InvalidPayload(f"no Director database at {path.name}")
    source = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        names = {r[0] for r in source.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError:
        source.close()
        raise InvalidPayload(f"{path.name} is not a SQLite database") from None
    if not names >= _TABLES:
        source.close()
        raise InvalidPayload(f"{path.name} is not a Director database (no sessions/conversations)")
    return source


def _import_session(
    conn: sqlite3.Connection, source: sqlite3.Connection, row: tuple[Any, ...], rank: int
) -> str:
    old_id, video_id, collection_id, created, updated, metadata = row
    items = source.execute(
        "SELECT conv_id, msg_id, msg_type, agents, actions, content, status, created_at,"
        " updated_at, metadata FROM conversations WHERE session_id IS ? ORDER BY rowid",
        (old_id,),
    ).fetchall()
    times = [t for t in (_epoch(i[7]) for i in items) if t is not None]
    created_at = _epoch(created) or (min(times) if times else _now())
    updated_at = _epoch(updated) or (max(times) if times else created_at)
    meta = _json(metadata)
    meta = meta if isinstance(meta, dict) else {}
    session_id = _fresh(conn, old_id)
    msgs = [_message(session_id, item) for item in items]
    sessions.insert(
        conn,
        session_id=session_id,
        name=_name(meta.get("name"), msgs),
        video_id=_str_or_none(video_id),
        collection_id=_str_or_none(collection_id),
        created_at=created_at,
        updated_at=updated_at,
        metadata={**meta, "imported_from": "director.db", "director_session_id": old_id},
    )
    # Sessions with one updated_at keep Director's row order.
    conn.execute(
        "UPDATE sessions SET touched = touched + ? WHERE session_id = ?", (rank, session_id)
    )
    seen: set[str] = set()
    for seq, message in enumerate(msgs, start=1):
        if message["msg_id"] in seen:  # Director's msg_id was global; keep both copies apart
            message["msg_id"] = str(uuid.uuid4())
        seen.add(message["msg_id"])
        messages.insert_restored(conn, message, seq=seq, first_seq=seq)
    _import_context(conn, source, old_id, session_id)
    return session_id


def _message(session_id: str, item: tuple[Any, ...]) -> Message:
    conv_id, msg_id, msg_type, agents, actions, content, status, created, updated, meta = item
    metadata = _json(meta)
    message: Message = {
        "session_id": session_id,
        "conv_id": _id_or_new(conv_id),
        "msg_id": _id_or_new(msg_id),
        "msg_type": msg_type if msg_type in ("input", "output") else "output",
        "status": status if status in STATUSES else ("success" if status is None else "error"),
        "actions": _strings(_json(actions)),
        "agents": _strings(_json(agents)),
        "content": _content(content),
        # Safe: an object; its `seq`, `first_seq` and `timestamp` are set below, and Director's
        # other keys ride along as a client's do (`MessageMetadata`).
        "metadata": cast(MessageMetadata, metadata if isinstance(metadata, dict) else {}),
        "created_at": _epoch(created) or _now(),
        "updated_at": _epoch(updated) or _epoch(created) or _now(),
    }
    message["metadata"].pop("seq", None)
    message["metadata"].pop("first_seq", None)
    message["metadata"]["timestamp"] = datetime.fromtimestamp(message["updated_at"], UTC).isoformat(
        timespec="milliseconds"
    )
    if message["status"] == "progress" and message["msg_type"] == "output":
        message = messages.interrupted(message)  # a run Director never finished
    return message


def _content(raw: object) -> list[ContentItem]:
    value = _json(raw)
    if value is None:
        return []
    if isinstance(value, str):
        return [{"type": "text", "text": value}]
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        return [{"type": "text", "text": json.dumps(value)}]
    return [
        # Safe: an object with a str `type` is a content item; one of a type this app does not
        # know passes through, as on the wire.
        cast(ContentItem, item)
        if isinstance(item, dict) and isinstance(item.get("type"), str)
        else {"type": "text", "text": item if isinstance(item, str) else json.dumps(item)}
        for item in value
    ]


def _import_context(
    conn: sqlite3.Connection, source: sqlite3.Connection, old_id: object, session_id: str
) -> None:
    names = {r[0] for r in source.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "context_messages" not in names:
        return
    row = source.execute(
        "SELECT context_data, updated_at FROM context_messages WHERE session_id IS ?", (old_id,)
    ).fetchone()
    if row is None or row[0] is None:
        return
    data = _json(row[0])
    context = data if isinstance(data, dict) else {"messages": data}
    conn.execute(
        "INSERT INTO contexts (session_id, context, updated_at) VALUES (?, ?, ?)",
        (session_id, dumps(context, "context"), _epoch(row[1]) or _now()),
    )


def _name(named: object, msgs: list[Message]) -> str:
    """Director's `metadata.name` (not yet checked) when usable, else the first input's text."""
    if isinstance(named, str) and named.strip():
        return named.strip()[: sessions.MAX_NAME]
    for message in msgs:
        if message["msg_type"] != "input":
            continue
        for item in message["content"]:
            text = item.get("text")
            if item.get("type") == "text" and isinstance(text, str) and text.strip():
                return " ".join(text.split())[:NAME_CHARS]
    return "Imported chat"


def _json(raw: object) -> Any:
    if raw is None or not isinstance(raw, str | bytes):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw if isinstance(raw, str) else raw.decode("utf-8", "replace")


def _strings(value: object) -> list[str]:
    if not isinstance(value, list):
        return []
    return [v if isinstance(v, str) else json.dumps(v) for v in value]


def _epoch(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    seconds = int(value)
    return seconds // 1000 if seconds > 100_000_000_000 else seconds  # milliseconds, by mistake


def _now() -> int:
    return int(datetime.now(UTC).timestamp())


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def _id_or_new(value: object) -> str:
    if isinstance(value, str) and ID_PATTERN.fullmatch(value):
        return value
    return str(uuid.uuid4())


def _fresh(conn: sqlite3.Connection, old_id: object) -> str:
    wanted = _id_or_new(old_id)
    return wanted if sessions.get(conn, wanted) is None else str(uuid.uuid4())
