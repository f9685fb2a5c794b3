"""The Socket.IO `/chat` namespace (PROTOCOL sections 3 and 8): connect, chat, reconnect, stop,
regenerate, edit, select_version, disconnect.

Every handler answers with an ack envelope and never lets an exception escape (python-socketio
would only log it): this module is the one place socket errors are translated to the wire. A
refused `chat` also gets the seed's error response, to the sending socket only. Runs belong to
the TurnRunner, keyed by session and conversation; a socket only joins rooms. Imports engine
(via AppState), protocol, errors.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import socketio

from director_desktop.engine.turns import TurnRunner
from director_desktop.errors import DirectorError, InvalidPayload, NotFound
from director_desktop.protocol import (
    ID_PATTERN,
    ChatAck,
    ErrorEnvelope,
    OkEnvelope,
    ReconnectAck,
    SelectVersionAck,
    StopAck,
    VersionAck,
    ack_ok,
    error_envelope,
    error_response,
    parse_chat_input,
    parse_edit,
    parse_reconnect,
    parse_regenerate,
    parse_select_version,
    parse_stop,
)
from director_desktop.web.guard import token_matches
from director_desktop.web.state import AppState
from director_desktop.web.wire import NAMESPACE

log = logging.getLogger(__name__)

Ack = ChatAck | ReconnectAck | StopAck | VersionAck | SelectVersionAck
EventHandler = Callable[[str, tuple[Any, ...]], Awaitable[Ack]]


def register(sio: socketio.AsyncServer, state: AppState) -> list[str]:
    """Bind the `/chat` events; answers their names (the documentation test reads them)."""
    events = ChatEvents(state)
    handlers: dict[str, Callable[..., Awaitable[object]]] = {
        "connect": events.connect,
        "disconnect": events.disconnect,
        "chat": events.acked(events.chat),
        "reconnect": events.acked(events.reconnect),
        "stop": events.acked(events.stop),
        "regenerate": events.acked(events.regenerate),
        "edit": events.acked(events.edit),
        "select_version": events.acked(events.select_version),
    }
    for name, handler in handlers.items():
        sio.on(name, handler, namespace=NAMESPACE)
    return list(handlers)


def _single_payload(args: tuple[Any, ...]) -> object:
    """Socket.IO events may carry any number of arguments; ours take exactly one."""
    if len(args) != 1:
        raise InvalidPayload("the event takes exactly one JSON object")
    return args[0]


class ChatEvents:
    def __init__(self, state: AppState) -> None:
        self._state = state
        self._publisher = state.publisher

    @property
    def _turns(self) -> TurnRunner:
        return self._state.turns

    def acked(self, handle: EventHandler) -> Callable[..., Awaitable[OkEnvelope | ErrorEnvelope]]:
        """Wrap an event so it always acks: `{ok: true, data}` or the error envelope."""

        async def event(sid: str, *args: Any) -> OkEnvelope | ErrorEnvelope:
            try:
                return ack_ok(await handle(sid, args))
            except DirectorError as error:
                return self._error(error)
            except Exception as exc:
                log.error("socket event failed", exc_info=exc)
                return self._error(DirectorError("the server could not handle this event"))

        return event

    def _error(self, error: DirectorError) -> ErrorEnvelope:
        self._state.metrics.error(error.code)
        return error_envelope(error, secrets=self._state.secrets)

    # --- events --------------------------------------------------------------------------------
    async def connect(self, sid: str, _environ: Mapping[str, object], auth: object = None) -> None:
        token = auth.get("token") if isinstance(auth, dict) else None
        if not token_matches(self._state.settings.token, token):
            self._state.metrics.error("unauthorized")
            raise socketio.exceptions.ConnectionRefusedError("unauthorized")
        self._state.metrics.connected()

    async def disconnect(self, sid: str, *_reason: object) -> None:
        # Leaving rooms is python-socketio's job on disconnect; runs are never cancelled here.
        self._state.metrics.disconnected()

    async def chat(self, sid: str, args: tuple[Any, ...]) -> ChatAck:
        payload = args[0] if args else None
        try:
            chat = parse_chat_input(_single_payload(args))
            # Join first, so this socket sees its own input and every snapshot of the run.
            await self._publisher.join(sid, chat.session_id)
            return await self._turns.submit(chat)
        except DirectorError as error:
            await self._send_error_response(sid, error, *_echo_ids(payload))
            raise

    async def _send_error_response(
        self, sid: str, error: DirectorError, session_id: str | None, conv_id: str | None
    ) -> None:
        response = error_response(
            error, session_id=session_id, conv_id=conv_id, secrets=self._state.secrets
        )
        try:
            await self._publisher.refuse(sid, response)
        except Exception as exc:  # the ack still carries the error
            log.warning("error response not sent", extra={"error": type(exc).__name__})

    async def reconnect(self, sid: str, args: tuple[Any, ...]) -> ReconnectAck:
        session_id, since_seq = parse_reconnect(_single_payload(args))
        await self._publisher.join(sid, session_id)
        if await self._state.store.get_session(session_id) is None:
            raise NotFound("no such session (a new chat has no messages yet)")
        missed = await self._state.store.messages_since(session_id, since_seq)
        last_seq = 0
        for message in missed:
            await self._publisher.replay(sid, message)
            last_seq = max(last_seq, message["metadata"].get("seq", 0))
        last_seq = max(last_seq, await self._state.store.last_seq(session_id))
        return {"last_seq": last_seq, "running": self._turns.is_running(session_id)}

    async def stop(self, _sid: str, args: tuple[Any, ...]) -> StopAck:
        session_id, conv_id = parse_stop(_single_payload(args))
        return {"stopped": await self._turns.stop(session_id, conv_id)}

    # --- versions (PROTOCOL 8) -----------------------------------------------------------------
    async def regenerate(self, sid: str, args: tuple[Any, ...]) -> VersionAck:
        session_id, conv_id = parse_regenerate(_single_payload(args))
        await self._publisher.join(sid, session_id)
        return await self._turns.revise(session_id, conv_id)

    async def edit(self, sid: str, args: tuple[Any, ...]) -> VersionAck:
        session_id, conv_id, content = parse_edit(_single_payload(args))
        await self._publisher.join(sid, session_id)
        return await self._turns.revise(session_id, conv_id, content)

    async def select_version(self, sid: str, args: tuple[Any, ...]) -> SelectVersionAck:
        session_id, msg_id, version = parse_select_version(_single_payload(args))
        await self._publisher.join(sid, session_id)
        return await self._turns.revisions.select_version(session_id, msg_id, version)


def _echo_ids(payload: object) -> tuple[str | None, str | None]:
    """The ids to echo in an error response: those the client sent that were valid, else None."""
    if not isinstance(payload, dict):
        return None, None

    def valid(value: object) -> str | None:
        return value if isinstance(value, str) and ID_PATTERN.fullmatch(value) else None

    return valid(payload.get("session_id")), valid(payload.get("conv_id"))
