"""EarlyApp: the page's files served from the moment the socket listens, the rest held until
the app is built.

Building the whole app (the store, the engine, the media library and ~0.3-1 s of their imports)
is most of a launch. The window need not wait for it to load the page: `EarlyApp` answers the
static bundle (`/`, `/index.html`, `/favicon.ico`, `/assets/<file>`) at once, behind the same
Guard, so WebKit fetches and runs the Vue bundle while the app is built on another thread. Every
other request (REST, `/socket.io/`) waits until `attach()` hands in the built app, whose
lifespan `EarlyApp` then runs as uvicorn would, and goes to it; after that every request does.
If the app cannot be built (`fail()`), held and later requests are answered 500 `internal`.

Imports the guard, the ASGI types and errors; no framework, so it costs nothing to import.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from director_desktop.asgi import ASGIApp, Message, Receive, Scope, Send, ServedApp
from director_desktop.errors import DirectorError
from director_desktop.protocol import http_error_body
from director_desktop.web.guard import Guard

log = logging.getLogger(__name__)

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".ico": "image/x-icon",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".woff2": "font/woff2",
}


def frontend_dir() -> Path:
    """The built Vue bundle: beside the package from source, in `_MEIPASS` when frozen."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "frontend_dist"
    return Path(__file__).resolve().parents[2] / "frontend_dist"


class BundleFiles:
    """The static bundle as raw ASGI: whole files, GET and HEAD, nothing else (the full app's
    `web/static.py` serves ranges and validators once it is attached)."""

    def __init__(self, bundle: Path) -> None:
        self._bundle = bundle
        self._assets = bundle / "assets"

    def file_for(self, path: str) -> Path | None:
        """The bundle file a path names, or None when it is not one (or not there)."""
        if path in ("/", "/index.html"):
            found = self._bundle / "index.html"
        elif path == "/favicon.ico":
            found = self._bundle / "favicon.ico"
        elif path.startswith("/assets/"):
            name = path.removeprefix("/assets/")
            if not name or "/" in name or "\\" in name or name.startswith("."):
                return None  # one plain file name: nothing outside the assets folder
            found = self._assets / name
        else:
            return None
        return found if found.is_file() else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self.file_for(scope["path"])
        if found is None or scope["method"] not in ("GET", "HEAD"):
            raise LookupError(scope["path"])  # the caller only sends what `file_for` accepts
        body = await asyncio.to_thread(found.read_bytes)
        cache = "no-cache" if found.name == "index.html" else "public, max-age=31536000"
        content_type = CONTENT_TYPES.get(found.suffix, "application/octet-stream")
        headers = [
            (b"content-type", content_type.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", cache.encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
        )


class Lifespan:
    """Runs an ASGI app's lifespan as uvicorn does: `startup()`, later `shutdown()`."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._outbox: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def startup(self) -> None:
        scope: Scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}

        async def run() -> None:
            await self._app(scope, self._inbox.get, self._outbox.put)

        self._task = asyncio.create_task(run())
        await self._inbox.put({"type": "lifespan.startup"})
        answer = await self._answer()
        if answer["type"] != "lifespan.startup.complete":
            raise RuntimeError(answer.get("message") or "the app's start-up failed")

    async def shutdown(self) -> None:
        if self._task is None or self._task.done():
            return
        await self._inbox.put({"type": "lifespan.shutdown"})
        answer = await self._answer()
        if answer["type"] != "lifespan.shutdown.complete":
            log.error("the app's shutdown failed: %s", answer.get("message", ""))
        await self._task

    async def _answer(self) -> Message:
        assert self._task is not None
        reply = asyncio.ensure_future(self._outbox.get())
        done, _ = await asyncio.wait({reply, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if reply in done:
            return reply.result()
        reply.cancel()
        self._task.result()  # raises what ended the lifespan, if anything did
        raise RuntimeError("the app's lifespan ended without answering")


class EarlyApp:
    """The ASGI app a windowed launch serves from its first moment (see the module docstring).
    `attach()` and `fail()` run on the server's event loop (`Server.call`)."""

    def __init__(
        self,
        bundle: Path,
        *,
        token: str,
        port: int,
        extra_host: str | None = None,
        on_request: Callable[[Scope], None] | None = None,
    ) -> None:
        """`on_request`: called once, with the first request (on the event loop's thread)."""
        self._on_request = on_request
        self._files = BundleFiles(bundle)
        self._early = Guard(self._files, token=token, port=port, extra_host=extra_host)
        self._app: ServedApp | None = None
        self._lifespan: Lifespan | None = None
        self._settled: asyncio.Event | None = None  # made on the loop, at the first request
        self._failed = False

    @property
    def app(self) -> ServedApp | None:
        """The attached app, once its start-up is done."""
        return self._app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._own_lifespan(receive, send)
            return
        on_request = self._on_request
        if on_request is not None:  # the first request: the page is on its way
            self._on_request = None
            on_request(scope)
        app = self._app
        if app is None and not self._failed and self._is_file(scope):
            await self._early(scope, receive, send)
            return
        if app is None and not self._failed:
            await self._settled_event().wait()
            app = self._app
        if app is None:
            await self._refuse(scope, send)
            return
        await app(scope, receive, send)

    async def attach(self, app: ServedApp) -> None:
        """Start `app` (its lifespan), then let every request through to it."""
        lifespan = Lifespan(app)
        try:
            await lifespan.startup()
        except BaseException:
            await self.fail()
            raise
        self._lifespan, self._app = lifespan, app
        self._settled_event().set()

    async def fail(self) -> None:
        """The app could not be built: answer what waits, and all that comes, with an error."""
        self._failed = True
        self._settled_event().set()

    async def before_shutdown(self) -> None:
        if self._app is not None:
            await self._app.before_shutdown()

    def run_active(self) -> bool:
        return self._app is not None and self._app.run_active()

    def _settled_event(self) -> asyncio.Event:
        if self._settled is None:
            self._settled = asyncio.Event()
        return self._settled

    def _is_file(self, scope: Scope) -> bool:
        return (
            scope["type"] == "http"
            and scope["method"] in ("GET", "HEAD")
            and self._files.file_for(scope["path"]) is not None
        )

    async def _own_lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._lifespan is not None:
                    await self._lifespan.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _refuse(self, scope: Scope, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1011})
            return
        error = DirectorError("the app could not start; see the log", code="internal")
        body = json.dumps(http_error_body(error, str(scope.get("path", "")))).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 500, "headers": headers})
        await send({"type": "http.response.body", "body": body})
