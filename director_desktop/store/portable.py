"""Moving sessions in and out: versioned JSON and Markdown export, JSON and director.db import.

The JSON format is documented in docs/export-format.md. Imports never overwrite: a session id that
already exists gets a fresh one. Synchronous functions over the worker's connection; the caller
holds the transaction. Imports `errors`, `protocol` and the store's own modules.
"""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime
from typing import Any, Final, Literal, TypedDict, TypeGuard

from director_desktop.errors import DirectorError, InvalidPayload
from director_desktop.protocol import (
    ID_PATTERN,
    ContentItem,
    JSONDict,
    Message,
    Session,
    now_iso,
)
from director_desktop.store import messages, sessions, versions
from director_desktop.store.codec import dumps, loads
from director_desktop.store.sessions import SessionContext
from director_desktop.store.versions import KeptVersion, TurnLink

FORMAT: Final = "director-desktop/session"
VERSION: Final = 2
READABLE: Final = (1, 2)
"""Versions `import_session` reads: 1 (no message versions, a linear chat) and 2."""


class SessionExport(TypedDict):
    """A session export, version 2 (docs/export-format.md): the file `import_session` reads."""

    format: Literal["director-desktop/session"]
    version: Literal[2]
    exported_at: str
    session: Session
    messages: list[Message]
    """Every message as shown, the turns of branches not shown included (`metadata.hidden`)."""
    versions: list[KeptVersion]
    """The versions of messages kept besides the one shown (PROTOCOL 8)."""
    turns: list[TurnLink]
    """Per turn, the turn and the reply version it followed: the branches."""
    context: SessionContext | None
    """The engine's context of the session (`Store.get_context`)."""


def export_session(conn: sqlite3.Connection, session_id: str) -> SessionExport:
    session = sessions.require(conn, session_id)
    conversation, _ = messages.conversation(conn, session_id, None, None, every_branch=True)
    row = conn.execute("SELECT context FROM contexts WHERE session_id = ?", (session_id,))
    context = row.fetchone()
    kept, links = versions.export_tree(conn, session_id)
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": now_iso(),
        "session": session,
        "messages": conversation,
        "versions": kept,
        "turns": links,
        "context": None if context is None else loads(context[0]),
    }


def import_session(conn: sqlite3.Connection, data: object) -> str:
    """Restore an export as a new session; returns its id (fresh when the old one is taken)."""
    doc = _checked_export(data)
    session = doc["session"]
    session_id = _free_session_id(conn, session.get("session_id"))
    sessions.insert(
        conn,
        session_id=session_id,
        name=sessions.check_name(session.get("name")),
        video_id=_optional_str(session.get("video_id"), "session.video_id"),
        collection_id=_optional_str(session.get("collection_id"), "session.collection_id"),
        created_at=_int(session.get("created_at"), "session.created_at"),
        updated_at=_int(session.get("updated_at"), "session.updated_at"),
        metadata=_object(session.get("metadata"), "session.metadata"),
    )
    numbered = _numbering(doc["messages"])
    for message, (seq, first_seq) in zip(doc["messages"], numbered, strict=True):
        _restore(conn, {**message, "session_id": session_id}, seq, first_seq)
    if doc["version"] >= 2:
        versions.import_tree(conn, session_id, doc.get("versions", []), doc.get("turns", []))
    if doc.get("context") is not None:
        _set_context(conn, session_id, _object(doc["context"], "context"))
    return session_id


def _checked_export(data: object) -> JSONDict:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InvalidPayload(f"not a Director Desktop session export (format {FORMAT!r})")
    version = data.get("version")
    if isinstance(version, bool) or version not in READABLE:
        raise InvalidPayload(f"export format version {version!r} is not supported (1 or 2)")
    if not isinstance(data.get("session"), dict):
        raise InvalidPayload("the export has no session object")
    items = data.get("messages")
    if not isinstance(items, list) or not all(isinstance(m, dict) for m in items):
        raise InvalidPayload("the export's messages must be a list of objects")
    ids = [m.get("msg_id") for m in items]
    if len(set(map(str, ids))) != len(ids):
        raise InvalidPayload("the export has two messages with one msg_id")
    return data


def _numbering(items: list[JSONDict]) -> list[tuple[int, int]]:
    """The exported seq and first_seq when they are consistent, else 1..n in list order."""
    pairs: list[tuple[int, int]] = []
    for message in items:
        meta = message.get("metadata")
        seq, first = (meta.get("seq"), meta.get("first_seq")) if isinstance(meta, dict) else (0, 0)
        if not (_is_int(seq) and _is_int(first) and 0 < int(first) <= int(seq)):
            return [(n, n) for n in range(1, len(items) + 1)]
        pairs.append((int(seq), int(first)))
    if len({s for s, _ in pairs}) == len({f for _, f in pairs}) == len(pairs):
        return pairs
    return [(n, n) for n in range(1, len(items) + 1)]


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _restore(conn: sqlite3.Connection, message: JSONDict, seq: int, first_seq: int) -> None:
    try:
        messages.insert_restored(conn, message, seq=seq, first_seq=first_seq)
    except DirectorError as error:
        raise InvalidPayload(f"message {message.get('msg_id')!r}: {error.message}") from None


def _set_context(conn: sqlite3.Connection, session_id: str, context: JSONDict) -> None:
    conn.execute(
        "INSERT INTO contexts (session_id, context, updated_at) VALUES (?, ?, ?)",
        (session_id, dumps(context, "context"), int(datetime.now(UTC).timestamp())),
    )


def _free_session_id(conn: sqlite3.Connection, wanted: object) -> str:
    free = isinstance(wanted, str) and ID_PATTERN.fullmatch(wanted)
    if free and sessions.get(conn, str(wanted)) is None:
        return str(wanted)
    return str(uuid.uuid4())


def _optional_str(value: object, what: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise InvalidPayload(f"{what} must be a string or null")


def _int(value: object, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise InvalidPayload(f"{what} must be epoch seconds")


def _object(value: object, what: str) -> JSONDict:
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    raise InvalidPayload(f"{what} must be an object")


# --- Markdown -------------------------------------------------------------------------------


def export_markdown(conn: sqlite3.Connection, session_id: str) -> str:
    session = sessions.require(conn, session_id)
    conversation, _ = messages.conversation(conn, session_id, None, None)
    lines = [
        f"# {_one_line(session['name'])}",
        "",
        f"_Exported from Director Desktop on {now_iso()} · session `{session_id}`_",
        "",
    ]
    for message in conversation:
        who = "You" if message["msg_type"] == "input" else "Director"
        lines += [f"## {who} · {_when(message['created_at'])}", ""]
        lines += [_item_markdown(item) for item in message["content"]]
        if message["status"] not in ("success", "progress") or not message["content"]:
            lines.append(f"_({message['status']})_")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _when(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _item_markdown(item: ContentItem) -> str:
    kind = item.get("type")
    if kind == "text":
        return str(item.get("text", "")) + "\n"
    payload: Any = item.get(str(kind), {})
    if kind == "video" and isinstance(payload, dict):
        return f"[video: {_one_line(str(payload.get('name') or payload.get('id')))}]\n"
    if kind == "image" and isinstance(payload, dict):
        return f"[image: {_one_line(str(payload.get('name') or payload.get('id')))}]\n"
    if kind == "videos" and isinstance(payload, list):
        names = ", ".join(_one_line(str(v.get("name") or v.get("id"))) for v in payload)
        return f"[videos: {names}]\n"
    if kind == "search_results" and isinstance(payload, list):
        return f"[search results: {len(payload)} videos]\n"
    return f"[{kind}]\n"
