"""The web app: `create_app(settings, store, engine)` wires the REST routes, the static bundle, the
Socket.IO `/chat` namespace and the guard into one ASGI app.

A composition root (with cli/launcher): it builds the TurnRunner, Metrics and Signer and hands
them to the routes. The store is opened and the engine started in the Starlette lifespan and both
are closed there, so the headless server, the window and the tests share one path. The Host guard
wraps the outermost app, so it covers `/socket.io/` too. Imports engine, store, metrics, settings.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson
import socketio
from engineio.packet import MESSAGE as ENGINEIO_MESSAGE
from engineio.packet import Packet as EngineIOPacket
from socketio.packet import ACK, BINARY_ACK, BINARY_EVENT, EVENT, Packet
from starlette.applications import Starlette
from starlette.routing import Route

from director_desktop.engine.agents import AgentRegistry, default_registry
from director_desktop.engine.assistant import DEFAULT_PACE, BuiltinAssistant
from director_desktop.engine.base import Engine
from director_desktop.engine.router import build_model_router
from director_desktop.engine.turns import TurnRunner
from director_desktop.errors import DirectorError
from director_desktop.metrics import Metrics
from director_desktop.protocol import MAX_SOCKET_PAYLOAD_BYTES, JSONDict
from director_desktop.settings import Settings
from director_desktop.store import Store
from director_desktop.user_settings import UserSettings
from director_desktop.web import chat, model_settings, rest, static
from director_desktop.web.guard import (
    ASGIApp,
    Guard,
    Receive,
    Scope,
    Send,
    Signer,
    app_origins,
    sign_media_urls,
)

log = logging.getLogger(__name__)

NAMESPACE = "/chat"


def _text_only(payload: JSONDict) -> bool:
    """A chat message whose content items are all text: media paths live in other items."""
    content = payload.get("content")
    return (
        isinstance(content, list)
        and "msg_id" in payload
        and all(isinstance(item, dict) and item.get("type") == "text" for item in content)
    )


class WireJSON:
    """The JSON module of every Socket.IO packet: orjson writes a streamed snapshot ~8x faster
    than the json module, and what it declines (an integer beyond 64 bits, a non-str key,
    bytes) goes to the json module, exactly as before. Incoming packets are read by the json
    module: they are small, and it keeps every integer exact."""

    @staticmethod
    def dumps(value: object, **options: Any) -> str:
        try:
            return orjson.dumps(value).decode()
        except TypeError:
            return json.dumps(value, **options)

    loads = staticmethod(json.loads)


class JSONPacket(Packet):  # type: ignore[misc]  # python-socketio ships no types
    """python-socketio's packet without the binary scan on every packet. The stock
    `data_is_binary` walks each payload recursively, building lists at every level (~22 us per
    streamed snapshot, on every emit and ack), to find bytes the app never sends. Here a packet
    is taken for JSON and encoded as such; only if JSON refuses it (`TypeError`: bytes, or
    anything else JSON cannot hold) is it scanned, and bytes then still go out as a binary
    packet, exactly as with the stock class."""

    packet_type: int
    data: Any
    json = WireJSON

    @classmethod
    def data_is_binary(cls, data: object) -> bool:
        return False  # decided in `encode`, where a payload with bytes fails to encode as JSON

    def encode(self) -> Any:
        try:
            return super().encode()
        except TypeError:
            binary = {EVENT: BINARY_EVENT, ACK: BINARY_ACK}.get(self.packet_type)
            if binary is None or not has_binary(self.data):
                raise
            self.packet_type = binary
            return super().encode()


def has_binary(data: object) -> bool:
    """Whether a payload holds bytes anywhere (python-socketio's test, iterative)."""
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, bytes | bytearray):
            return True
    return False


class RoomManager(socketio.AsyncManager):  # type: ignore[misc]  # python-socketio ships no types
    """python-socketio's manager, sending an event meant for one socket (a session's room is
    most often one window) without a task of its own: the stock `emit` creates one task per
    recipient and waits on them, ~10% of the event loop's busy time when streaming. Anything
    else (several recipients, a callback) goes the stock way. Like the stock tasks, a failed
    send is not raised to the emitter: the message is stored, and `reconnect` delivers it."""

    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str,
        room: Any = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: Any = None,
        **kwargs: Any,
    ) -> None:
        target = to or room
        if callback is None and namespace in self.rooms and skip_sid is None:
            recipients = list(self.get_participants(namespace, target))
            if len(recipients) == 1:
                args = list(data) if isinstance(data, tuple) else [] if data is None else [data]
                packet = self.server.packet_class(EVENT, namespace=namespace, data=[event, *args])
                encoded = packet.encode()
                for part in encoded if isinstance(encoded, list) else [encoded]:
                    try:
                        await self.server._send_eio_packet(
                            recipients[0][1], EngineIOPacket(ENGINEIO_MESSAGE, part)
                        )
                    except Exception as error:  # as the stock task would, not raised
                        log.debug("emit to one socket failed: %s", type(error).__name__)
                return
            if not recipients:
                return
        await super().emit(
            event,
            data,
            namespace,
            room=room,
            skip_sid=skip_sid,
            callback=callback,
            to=to,
            **kwargs,
        )


@dataclass
class AppState:
    """Everything a route or event handler needs; one per app, no globals."""

    settings: Settings
    store: Store
    engine: Engine
    agents: AgentRegistry
    metrics: Metrics
    signer: Signer
    sio: socketio.AsyncServer
    handler: TurnRunner = field(init=False)
    store_error: DirectorError | None = None

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.settings.token,)

    def sign(self, payload: JSONDict) -> JSONDict:
        """`payload` with its media paths signed. A message whose content is all text (every
        streamed snapshot of a reply) has none to sign: it goes out as is, without the copy."""
        if _text_only(payload):
            return payload
        signed: JSONDict = sign_media_urls(payload, self.signer)
        return signed

    async def publish(self, event: str, payload: JSONDict, room: str | None) -> None:
        """The handler's Publisher: sign media paths afresh, then emit on `/chat`."""
        await self.sio.emit(event, self.sign(payload), room=room, namespace=NAMESPACE)

    async def broadcast_update(self, update: str, **extra: object) -> None:
        await self.handler.emit(
            "event", {"event_type": "update_data", "update": update, **extra}, None
        )


def frontend_dir() -> Path:
    """The built Vue bundle: beside the package from source, in `_MEIPASS` when frozen."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "frontend_dist"
    return Path(__file__).resolve().parents[2] / "frontend_dist"


class DirectorApp:
    """The ASGI app (guard outermost) plus what its owner may ask of it."""

    def __init__(self, asgi: ASGIApp, state: AppState, routes: list[tuple[str, set[str]]]) -> None:
        self._asgi = asgi
        self.state = state
        self.routes = routes
        """Every HTTP route as (path template, methods): tests walk them all."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._asgi(scope, receive, send)

    async def before_shutdown(self) -> None:
        """Close every Socket.IO connection (server.py calls this before stopping uvicorn): a
        pending long poll would otherwise hold shutdown for the whole graceful timeout."""
        await self.state.sio.shutdown()
        if self.state.sio.eio.sockets:  # engine.io's disconnect-all fails on an empty set
            await self.state.sio.eio.disconnect()

    def run_active(self) -> bool:
        """A reply is being written (the window asks before closing)."""
        return bool(self.state.handler.running)


def default_engine(settings: Settings, store: Store, agents: AgentRegistry) -> Engine:
    """The engine a launch uses. `DIRECTOR_ASSISTANT_PACE` (seconds between streamed pieces)
    slows the built-in assistant down for tests that must catch a run mid-stream."""
    pace = settings.env.get("DIRECTOR_ASSISTANT_PACE")
    assistant = BuiltinAssistant(
        store,
        agents,
        models_dir=settings.models_dir,
        pace=float(pace) if pace else DEFAULT_PACE,
    )
    # The ModelRouter answers with the model chosen in settings.json, else with this assistant.
    user_settings = UserSettings(settings.user_settings_path)
    return build_model_router(settings, store, agents, user_settings, assistant=assistant)


def compose(settings: Settings, port: int | None = None) -> DirectorApp:
    """Build the store, agents and engine for a launch and the app serving them on `port`."""
    if port is not None:
        settings = replace(settings, port=port)
    store = Store(settings.db_path, backups_dir=settings.backups_dir)
    agents = default_registry()
    return create_app(settings, store, default_engine(settings, store, agents), agents=agents)


def create_app(
    settings: Settings,
    store: Store,
    engine: Engine,
    *,
    agents: AgentRegistry | None = None,
    metrics: Metrics | None = None,
    bundle_dir: Path | None = None,
) -> DirectorApp:
    """The whole app for `settings.port` (already bound: the allow-lists need the real port)."""
    if settings.port <= 0:
        raise ValueError("create_app needs the bound port; bind the server socket first")
    metrics = metrics or Metrics()
    sio = socketio.AsyncServer(
        async_mode="asgi",
        cors_allowed_origins=app_origins(settings.port),
        max_http_buffer_size=MAX_SOCKET_PAYLOAD_BYTES,
        namespaces=[NAMESPACE],
        serializer=JSONPacket,
        client_manager=RoomManager(),
        logger=False,
        engineio_logger=False,
    )
    state = AppState(
        settings, store, engine, agents or default_registry(), metrics, Signer(settings.token), sio
    )
    state.handler = TurnRunner(
        store, engine, state.publish, metrics=metrics, secrets=state.secrets
    )
    chat.register(sio, state, NAMESPACE)
    starlette = Starlette(
        routes=[
            *rest.routes(state),
            *model_settings.routes(state),
            *static.routes(bundle_dir or frontend_dir()),
        ],
        exception_handlers=rest.exception_handlers(state),
        lifespan=_lifespan(state),
    )
    inner = socketio.ASGIApp(sio, other_asgi_app=starlette, socketio_path="socket.io")
    guard = Guard(
        inner,
        token=settings.token,
        port=settings.port,
        extra_host=None if settings.is_loopback else settings.host,
        on_refused=metrics.error,
    )
    routes = [(r.path, set(r.methods or ())) for r in starlette.routes if isinstance(r, Route)]
    return DirectorApp(guard, state, routes)


def _lifespan(state: AppState) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        try:
            health = await asyncio.to_thread(state.store.open)
            log.info("store open", extra={"ok": health.ok, "swept": health.swept})
        except DirectorError as exc:  # the UI shows it (health, /config/check); we keep serving
            state.store_error = exc
            log.error("store did not open", extra={"code": exc.code})
        try:
            await state.engine.start()
        except Exception as exc:  # a broken model setup must not keep the window from opening
            log.error("engine did not start", exc_info=exc)
        try:
            yield
        finally:
            await state.handler.close()
            await state.engine.close()
            await asyncio.to_thread(state.store.close)
            log.info("app closed")

    return lifespan
