"""The web app: `create_app(settings, store, engine, agents)` wires the REST routes, the static
bundle, the Socket.IO `/chat` namespace and the guard into one ASGI app.

It builds the parts that deliver through the web (the Socket.IO server, Publisher, Signer and
the TurnRunner) around what the composition root hands in, and attaches the jobs and the media
library to the Publisher. The store is opened and the engine started in the Starlette
lifespan and both are closed there, so the headless server, the window and the tests share one
path. The Host guard wraps the whole app, so it covers `/socket.io/` too; only `http.Contained`
is outside it, so that no request's error reaches uvicorn.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import socketio
from starlette.applications import Starlette
from starlette.routing import Route

from director_desktop.asgi import ASGIApp, Receive, Scope, Send
from director_desktop.engine.agents import AgentRegistry
from director_desktop.engine.base import Engine
from director_desktop.engine.turns import TurnRunner
from director_desktop.errors import DirectorError
from director_desktop.media.library import MediaLibrary
from director_desktop.metrics import Metrics
from director_desktop.settings import Settings
from director_desktop.store import Store
from director_desktop.web import (
    backup_routes,
    chat,
    http,
    jobs_routes,
    media_routes,
    model_params,
    model_settings,
    rest,
    speech_settings,
    static,
)
from director_desktop.web.early import frontend_dir
from director_desktop.web.guard import Guard, Signer, app_origins
from director_desktop.web.publisher import Publisher
from director_desktop.web.state import AppState
from director_desktop.web.wire import socket_server

log = logging.getLogger(__name__)


class DirectorApp:
    """The ASGI app (errors contained, then the guard) plus what its owner may ask of it."""

    def __init__(
        self,
        asgi: ASGIApp,
        state: AppState,
        sio: socketio.AsyncServer,
        routes: list[tuple[str, set[str]]],
        events: list[str],
    ) -> None:
        self._asgi = asgi
        self._sio = sio
        self.state = state
        self.routes = routes
        """Every HTTP route as (path template, methods): tests and docs walk them all."""
        self.events = events
        """Every Socket.IO event handled on `/chat`."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._asgi(scope, receive, send)

    async def before_shutdown(self) -> None:
        """Close every Socket.IO connection (server.py calls this before stopping uvicorn): a
        pending long poll would otherwise hold shutdown for the whole graceful timeout."""
        await self._sio.shutdown()
        if self._sio.eio.sockets:  # engine.io's disconnect-all fails on an empty set
            await self._sio.eio.disconnect()

    def run_active(self) -> bool:
        """A reply is being written (the window asks before closing)."""
        return bool(self.state.turns.running)


def create_app(
    settings: Settings,
    store: Store,
    engine: Engine,
    agents: AgentRegistry,
    library: MediaLibrary,
    *,
    metrics: Metrics | None = None,
    bundle_dir: Path | None = None,
) -> DirectorApp:
    """The whole app for `settings.port` (already bound: the allow-lists need the real port)."""
    if settings.port <= 0:
        raise ValueError("create_app needs the bound port; bind the server socket first")
    metrics = metrics or Metrics()
    sio = socket_server(app_origins(settings.port))
    signer = Signer(settings.token)
    publisher = Publisher(sio, signer, metrics)
    secrets = (settings.token,)
    turns = TurnRunner(store, engine, publisher, metrics=metrics, secrets=secrets)
    library.jobs.attach(publisher.job)
    library.attach(publisher.update)
    state = AppState(
        settings, store, engine, agents, metrics, signer, publisher, turns, library.jobs, library
    )
    events = chat.register(sio, state)
    starlette = Starlette(
        routes=[
            *rest.routes(state),
            *model_settings.routes(state),
            *model_params.routes(state),
            *speech_settings.routes(state),
            *media_routes.routes(state),
            *jobs_routes.routes(state),
            *backup_routes.routes(state),
            *static.routes(bundle_dir or frontend_dir()),
        ],
        exception_handlers=http.exception_handlers(state),
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
    contained = http.Contained(guard, lambda path: http.unexpected_response(state, path))
    routes = [(r.path, set(r.methods or ())) for r in starlette.routes if isinstance(r, Route)]
    return DirectorApp(contained, state, sio, routes, events)


def _lifespan(state: AppState) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        try:
            health = await asyncio.to_thread(state.store.open)
            log.info("store open", extra={"ok": health.ok, "swept": health.swept})
        except DirectorError as exc:  # the UI shows it (health, /config/check); we keep serving
            state.store_error = exc
            log.error("store did not open", extra={"code": exc.code})
        if state.store_error is None:
            await state.jobs.open()
            await state.library.open()
        try:
            await state.engine.start()
        except Exception as exc:  # a broken model setup must not keep the window from opening
            log.error("engine did not start", exc_info=exc)
        try:
            yield
        finally:
            await state.background.aclose()
            await state.library.close()
            await state.jobs.close()
            await state.turns.close()
            await state.engine.close()
            await asyncio.to_thread(state.store.close)
            log.info("app closed")

    return lifespan
