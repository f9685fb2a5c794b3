"""Answers (PROTOCOL section 3 and 5): sanitized error texts, the ack and error envelopes, the
seed's error response, and content items the server makes.
"""

from __future__ import annotations

import re
from typing import Final

from director_desktop.errors import DirectorError
from director_desktop.protocol.inputs import new_id, now_iso
from director_desktop.protocol.types import (
    ChatAck,
    ContentItem,
    DirectorErrorEnvelope,
    ErrorEnvelope,
    ErrorResponse,
    OkEnvelope,
    ReconnectAck,
    SelectVersionAck,
    StopAck,
    VersionAck,
)

MAX_ERROR_MESSAGE: Final = 500


# A path starts where a word does not go on: "videos/audios/images" is words, "/home/me/x" and
# "C:\Users\me" are paths.
_PATHLIKE = re.compile(r"(?<!\w)(?:[A-Za-z]:)?(?:[\\/][\w.\-~ ]+){2,}[\\/]?")
_TRACEBACK = re.compile(r"Traceback \(most recent call last\).*", re.DOTALL)


def sanitize(text: str, *, secrets: tuple[str, ...] = ()) -> str:
    """Make text safe to show a client: no traceback, file system path or secret; <= 500 chars."""
    clean = _TRACEBACK.sub("", text)
    for secret in secrets:
        if secret:
            clean = clean.replace(secret, "[redacted]")
    clean = _PATHLIKE.sub("[path]", clean).strip()
    if len(clean) > MAX_ERROR_MESSAGE:
        clean = clean[: MAX_ERROR_MESSAGE - 1] + "…"
    return clean


def ack_ok(data: ChatAck | ReconnectAck | StopAck | VersionAck | SelectVersionAck) -> OkEnvelope:
    return {"ok": True, "data": data}


def error_envelope(error: DirectorError, *, secrets: tuple[str, ...] = ()) -> ErrorEnvelope:
    """The one error shape of acks and HTTP bodies: `{"ok": false, "error": {code, message}}`."""
    return {
        "ok": False,
        "error": {"code": error.code, "message": sanitize(error.message, secrets=secrets)},
    }


DIRECTOR_PREFIX: Final = "/videodb/"


def http_error_body(
    error: DirectorError, path: str, *, secrets: tuple[str, ...] = ()
) -> ErrorEnvelope | DirectorErrorEnvelope:
    """The envelope; on Director's `/videodb/...` routes with a top-level `message` as well,
    because Director's UI reads that key."""
    envelope = error_envelope(error, secrets=secrets)
    if not path.startswith(DIRECTOR_PREFIX):
        return envelope
    return {**envelope, "message": envelope["error"]["message"]}


def error_response(
    error: DirectorError,
    *,
    session_id: str | None,
    conv_id: str | None,
    secrets: tuple[str, ...] = (),
) -> ErrorResponse:
    """The seed's `chat` error response (PROTOCOL section 3): never stored, always a new msg_id."""
    return {
        "status": "error",
        "message": "Error in chat handler: " + sanitize(error.message, secrets=secrets),
        "session_id": session_id,
        "conv_id": conv_id,
        "msg_id": new_id(),
        "msg_type": "output",
        "content": [],
        "metadata": {"timestamp": now_iso(), "error_type": error.code},
    }


def text_item(
    text: str,
    *,
    status: str = "success",
    agent_name: str | None = "assistant",
    status_message: str | None = None,
) -> ContentItem:
    return {
        "type": "text",
        "status": status,
        "status_message": status_message,
        "agent_name": agent_name,
        "text": text,
    }
