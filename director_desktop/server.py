"""Server: uvicorn serving one ASGI app on a pre-bound loopback socket, in a worker thread.

The only uvicorn user. The socket is bound once (port 0 lets the OS pick; never probe-then-bind)
before the app is built, so the app's Host/Origin allow-lists know the real port. uvicorn runs in
a thread because pywebview must own the main thread; `log_config=None` because a windowed Windows
build has `sys.stdout = None` and uvicorn's default config would write to it. Imports only
`asgi` (the ASGI types) from the project.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvicorn

from director_desktop.asgi import ASGIApp

log = logging.getLogger(__name__)

T = TypeVar("T")

START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0
DRAIN_TIMEOUT = 1.0
GRACEFUL_SHUTDOWN = 2  # seconds; a long-polling client otherwise holds shutdown for 15-26 s


class ServerError(RuntimeError):
    """The server could not bind, start, or stop in time."""


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind and listen once; the OS picks the port when `port` is 0."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        if os.name != "nt":  # on Windows SO_REUSEADDR lets another process steal the port
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
        sock.set_inheritable(False)
    except OSError as exc:
        sock.close()
        raise ServerError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return sock


class _Uvicorn(uvicorn.Server):
    """uvicorn.Server that signals readiness through an event instead of being polled."""

    def __init__(self, config: uvicorn.Config, ready: threading.Event) -> None:
        super().__init__(config)
        self._ready = ready
        self.loop: asyncio.AbstractEventLoop | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        await super().startup(sockets)
        self._ready.set()


class Server:
    """One uvicorn server on one socket. `bind()` first, build the app with `.port`, then
    `start(app)`; `stop()` is idempotent and joins the thread."""

    def __init__(self, sock: socket.socket) -> None:
        self._socket = sock
        self.host, self.port = sock.getsockname()[:2]
        self._thread: threading.Thread | None = None
        self._uvicorn: _Uvicorn | None = None
        self._app: ASGIApp | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None

    @classmethod
    def bind(cls, host: str, port: int = 0) -> Server:
        return cls(bind_socket(host, port))

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, app: ASGIApp, *, timeout: float = START_TIMEOUT) -> None:
        """Serve `app` in a thread and return once it accepts connections (lifespan done)."""
        if self._thread is not None:
            raise ServerError("server already started")
        config = uvicorn.Config(
            app,
            log_config=None,
            access_log=False,  # request lines carry search text and signed URLs
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN,
            lifespan="on",
            loop="auto",  # uvloop where it exists (not on Windows), else asyncio
            http="auto",  # httptools where it exists, else h11
            ws="auto",  # websockets-sansio where installed; never a silent fall-back to polling
            # No permessage-deflate (socket.io's Node server has it off too): loopback frames
            # are small and compressing each cost ~40% more CPU per message, plus a zlib
            # context (~60 KiB) per connection.
            ws_per_message_deflate=False,
            server_header=False,
        )
        self._app = app
        self._uvicorn = _Uvicorn(config, self._ready)
        self._thread = threading.Thread(target=self._serve, name="director-server", daemon=True)
        self._thread.start()
        self._wait_ready(timeout)

    def _serve(self) -> None:
        assert self._uvicorn is not None
        try:
            self._uvicorn.run(sockets=[self._socket])
        except BaseException as exc:  # SystemExit on a failed lifespan startup, or a crash
            self._failure = exc
            log.error("server stopped: %s", type(exc).__name__)
        finally:
            self._socket.close()
            self._ready.set()  # wake `_wait_ready` at once when start-up failed

    def _wait_ready(self, timeout: float) -> None:
        assert self._uvicorn is not None
        settled = self._ready.wait(timeout)
        if settled and self._uvicorn.started and self._failure is None:
            return
        self.stop()
        if not settled:
            raise ServerError(f"server did not start within {timeout} s")
        raise ServerError("server failed to start; see the log")

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Ask uvicorn to finish (graceful for `GRACEFUL_SHUTDOWN` s), then join its thread."""
        if self._uvicorn is not None:
            self._drain()
            self._uvicorn.should_exit = True
        if self._thread is None:
            self._socket.close()
            return
        self._thread.join(timeout)
        if self._thread.is_alive() and self._uvicorn is not None:
            self._uvicorn.force_exit = True
            self._thread.join(timeout)
        if self._thread.is_alive():
            raise ServerError(f"server thread did not stop within {2 * timeout} s")

    def _drain(self) -> None:
        """Let the app end its long-lived connections first (`before_shutdown`, which the app of
        `asgi.ServedApp` has and a bare ASGI app may not), so a pending long poll does not hold
        shutdown for the whole graceful timeout."""
        drain = getattr(self._app, "before_shutdown", None)
        loop = self._uvicorn.loop if self._uvicorn is not None else None
        if drain is None or loop is None or not self.running or loop.is_closed():
            return
        try:
            asyncio.run_coroutine_threadsafe(drain(), loop).result(timeout=DRAIN_TIMEOUT)
        except Exception as exc:  # shutdown goes on; uvicorn's graceful timeout still bounds it
            log.warning("connections not drained: %s", type(exc).__name__)

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = START_TIMEOUT) -> T:
        """Run `coro` on the server's event loop from another thread and return its result (an
        app attached to `web.early.EarlyApp` after the server started)."""
        loop = self._uvicorn.loop if self._uvicorn is not None else None
        if loop is None or loop.is_closed() or not self.running:
            coro.close()
            raise ServerError("the server is not running")
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=timeout)

    @property
    def failure(self) -> BaseException | None:
        return self._failure
