"""Input validation (PROTOCOL section 2 and 3): what a client may send, checked and made whole.

Pure functions over parsed JSON. The parser is the one place that fills an id the client left
out, so everything past it holds complete ids.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final, TypedDict, cast

from director_desktop.errors import InvalidId, InvalidPayload, TooLarge
from director_desktop.protocol.types import ContentItem, JSONDict

ID_PATTERN: Final = re.compile(r"[A-Za-z0-9._:-]{1,128}")
MAX_TEXT_BYTES: Final = 256 * 1024
# engine.io's max_http_buffer_size: an oversized input is answered, not dropped.
MAX_SOCKET_PAYLOAD_BYTES: Final = 8 * 1024 * 1024
STATUSES: Final = frozenset(
    {"progress", "success", "error", "not_generated", "overlimit", "sessionlimit"}
)


def new_id() -> str:
    return str(uuid.uuid4())


def now_epoch() -> int:
    return int(datetime.now(UTC).timestamp())


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def check_id(value: object, name: str) -> str:
    """An id from a client: a string of `[A-Za-z0-9._:-]{1,128}`, else `invalid_id`."""
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        raise InvalidId(f"{name} must be 1-128 characters of letters, digits, '.', '_', ':' or '-'")
    return value


def _optional_id(payload: JSONDict, name: str) -> str | None:
    value = payload.get(name)
    return None if value is None else check_id(value, name)


class About(TypedDict, total=False):
    """The media a turn is about, for the keys its input carried (`null` clears one): the
    session keeps the last ones it was given (PROTOCOL 6)."""

    collection_id: str | None
    video_id: str | None


@dataclass(frozen=True)
class ChatInput:
    """A validated `chat` payload (PROTOCOL section 2), its ids filled: the parser is the one
    place that makes a fresh uuid4 for an id the client left out (never a clock-like id)."""

    content: list[ContentItem]
    session_id: str
    conv_id: str
    msg_id: str
    agents: list[str] = field(default_factory=list)
    collection_id: str | None = None
    video_id: str | None = None
    metadata: JSONDict = field(default_factory=dict)
    about: About = field(default_factory=lambda: About())
    """`collection_id`/`video_id` as the client sent them; a key it left out is absent."""

    @property
    def text(self) -> str:
        """All text items joined: what the user typed."""
        return "\n".join(item["text"] for item in self.content if item.get("type") == "text")


def _require_object(payload: object, what: str) -> JSONDict:
    if not isinstance(payload, dict):
        raise InvalidPayload(f"{what} must be a JSON object")
    return payload


def _check_content(content: object) -> list[ContentItem]:
    if not isinstance(content, list) or not content:
        raise InvalidPayload("content must be a non-empty list of content items")
    text_bytes = 0
    items: list[ContentItem] = []
    for index, item in enumerate(content):
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise InvalidPayload(f"content[{index}] must be an object with a string 'type'")
        if item["type"] == "text":
            if not isinstance(item.get("text"), str):
                raise InvalidPayload(f"content[{index}] is a text item without a string 'text'")
            text_bytes += len(item["text"].encode("utf-8", "surrogatepass"))
        # Checked: a string `type`, and a string `text` for text items; other keys ride along.
        items.append(cast(ContentItem, dict(item)))
    if text_bytes > MAX_TEXT_BYTES:
        raise TooLarge(f"message text is {text_bytes} bytes; the limit is {MAX_TEXT_BYTES}")
    return items


def _check_agents(agents: object) -> list[str]:
    if agents is None:
        return []
    if not isinstance(agents, list) or not all(isinstance(a, str) for a in agents):
        raise InvalidPayload("agents must be a list of strings")
    return list(agents)


def parse_chat_input(payload: object) -> ChatInput:
    """Validate a client's `chat` payload; unknown top-level keys are ignored, not stored."""
    data = _require_object(payload, "chat payload")
    msg_type = data.get("msg_type", "input")
    if msg_type not in (None, "input"):
        raise InvalidPayload("msg_type must be 'input'")
    metadata = data.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise InvalidPayload("metadata must be an object")
    for key in ("seq", "first_seq", "timestamp"):
        metadata.pop(key, None)
    return ChatInput(
        content=_check_content(data.get("content")),
        session_id=_optional_id(data, "session_id") or new_id(),
        conv_id=_optional_id(data, "conv_id") or new_id(),
        msg_id=_optional_id(data, "msg_id") or new_id(),
        agents=_check_agents(data.get("agents")),
        collection_id=_optional_id(data, "collection_id"),
        video_id=_optional_id(data, "video_id"),
        about=_about(data),
        metadata=dict(metadata),
    )


def _about(data: JSONDict) -> About:
    about = About()
    if "collection_id" in data:
        about["collection_id"] = _optional_id(data, "collection_id")
    if "video_id" in data:
        about["video_id"] = _optional_id(data, "video_id")
    return about


def parse_reconnect(payload: object) -> tuple[str, int]:
    data = _require_object(payload, "reconnect payload")
    session_id = check_id(data.get("session_id"), "session_id")
    since = data.get("since_seq")
    if since is None:
        return session_id, 0
    if isinstance(since, bool) or not isinstance(since, int) or since < 0:
        raise InvalidPayload("since_seq must be an integer >= 0")
    return session_id, since


def parse_stop(payload: object) -> tuple[str, str]:
    data = _require_object(payload, "stop payload")
    return check_id(data.get("session_id"), "session_id"), check_id(data.get("conv_id"), "conv_id")


def parse_regenerate(payload: object) -> tuple[str, str]:
    """`regenerate {session_id, conv_id}` (PROTOCOL 8)."""
    data = _require_object(payload, "regenerate payload")
    return check_id(data.get("session_id"), "session_id"), check_id(data.get("conv_id"), "conv_id")


def parse_edit(payload: object) -> tuple[str, str, list[ContentItem]]:
    """`edit {session_id, conv_id, content}`: the content is checked as a `chat`'s is."""
    data = _require_object(payload, "edit payload")
    session_id = check_id(data.get("session_id"), "session_id")
    conv_id = check_id(data.get("conv_id"), "conv_id")
    return session_id, conv_id, _check_content(data.get("content"))


def parse_select_version(payload: object) -> tuple[str, str, int]:
    """`select_version {session_id, msg_id, version}`: version a positive integer."""
    data = _require_object(payload, "select_version payload")
    session_id = check_id(data.get("session_id"), "session_id")
    msg_id = check_id(data.get("msg_id"), "msg_id")
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidPayload("version must be an integer >= 1")
    return session_id, msg_id, version
