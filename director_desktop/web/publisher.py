"""Publisher: delivery of stored changes to the windows on `/chat`.

Web owns rooms and delivery: a session's messages go to the room of that session, list changes
(`update_data`) to every socket. Media paths are signed afresh here, at delivery, never stored
(PROTOCOL section 1). An emit that raises is retried 3 times (50/100/200 ms), then counted and
logged; a window that missed it gets it from `reconnect`, because everything is stored first.
The engine sees this class only through its `engine.base.Publisher` protocol.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TypeVar, cast

import socketio

from director_desktop.metrics import Metrics
from director_desktop.protocol import (
    ErrorResponse,
    JobEvent,
    JobInfo,
    Message,
    SessionPage,
    UpdateEvent,
)
from director_desktop.web.guard import Signer, sign_media_urls
from director_desktop.web.wire import NAMESPACE

log = logging.getLogger(__name__)

EMIT_BACKOFF = (0.05, 0.1, 0.2)

Payload = TypeVar("Payload", Message, SessionPage)
"""What may carry media paths to sign: a message, a session with its conversation."""


def room_of(session_id: str) -> str:
    return f"session:{session_id}"


def text_only(payload: Mapping[str, object]) -> bool:
    """A chat message whose content items are all text: media paths live in other items."""
    content = payload.get("content")
    return (
        isinstance(content, list)
        and "msg_id" in payload
        and all(isinstance(item, dict) and item.get("type") == "text" for item in content)
    )


class Publisher:
    def __init__(self, sio: socketio.AsyncServer, signer: Signer, metrics: Metrics) -> None:
        self._sio = sio
        self._signer = signer
        self._metrics = metrics

    def sign(self, payload: Payload) -> Payload:
        """`payload` with its media paths signed. A message whose content is all text (every
        streamed snapshot of a reply) has none to sign: it goes out as is, without the copy."""
        if text_only(payload):
            return payload
        # A copy of the same shape: only strings starting with `/media/` changed.
        return cast(Payload, sign_media_urls(payload, self._signer))

    async def join(self, sid: str, session_id: str) -> None:
        """From now on this socket gets every change of the session."""
        await self._sio.enter_room(sid, room_of(session_id), namespace=NAMESPACE)

    # --- the engine's Publisher protocol -------------------------------------------------------
    async def message(self, message: Message) -> None:
        await self._emit("chat", self.sign(message), room_of(message["session_id"]))

    async def sessions_changed(self) -> None:
        await self.update({"event_type": "update_data", "update": "sessions"})

    # --- web's own deliveries ------------------------------------------------------------------
    async def update(self, event: UpdateEvent) -> None:
        """`update_data` to every window: a list the UI shows has changed."""
        await self._emit("event", event, None)

    async def job(self, job: JobInfo) -> None:
        """A job changed (the jobs room throttles progress to ~4 a second): to every window."""
        event: JobEvent = {"event_type": "job", "job": job}
        await self._emit("event", event, None)

    async def replay(self, sid: str, message: Message) -> None:
        """A stored message to one socket only (`reconnect`). Not retried: a socket that has
        gone is the next `reconnect`'s job."""
        await self._sio.emit("chat", self.sign(message), to=sid, namespace=NAMESPACE)

    async def refuse(self, sid: str, response: ErrorResponse) -> None:
        """A refused input's error response, to the sending socket only (it has no media)."""
        await self._sio.emit("chat", response, to=sid, namespace=NAMESPACE)

    async def _emit(
        self, event: str, payload: Message | UpdateEvent | JobEvent, room: str | None
    ) -> bool:
        for attempt, pause in enumerate((*EMIT_BACKOFF, None)):
            try:
                await self._sio.emit(event, payload, room=room, namespace=NAMESPACE)
                return True
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if pause is None:
                    self._metrics.emit_failure()
                    log.error("emit failed", extra={"event": event, "error": type(exc).__name__})
                    return False
                self._metrics.emit_retry()
                log.warning("emit retry", extra={"event": event, "attempt": attempt + 1})
                await asyncio.sleep(pause)
        return False  # pragma: no cover - the loop always returns
