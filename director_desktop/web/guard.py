"""Guard: who may talk to the server (PROTOCOL section 1), as one ASGI middleware wrapping the
outermost app, so it covers `/socket.io/` as well as the REST routes and the static bundle.

- Host (lower-cased, port included) must be `127.0.0.1:<port>` or `localhost:<port>` (DNS
  rebinding); else 400 `bad_host`.
- Origin, when present, must be one of the two app origins; else 403 `bad_origin`.
- Every HTTP route but the static bundle and `/socket.io/` needs `Authorization: Bearer <token>`
  (compared in constant time), or, on media paths a page loads without headers, a `?sig=` made by
  `Signer`; else 401 `unauthorized` with `WWW-Authenticate: Bearer`. The socket's token is checked
  by the `/chat` connect handler.
- Security headers, including a Content-Security-Policy allowing only the app's own origin, on
  every HTTP response. `Cross-Origin-Opener-Policy` goes to browsers only, not to the app's own
  window (its User-Agent names `settings.WINDOW_AGENT`): COOP isolates the page from windows of
  other origins, and that window never holds one (links open in the system browser), while
  WebKit answers COOP on a window's first page by starting a second web process and moving the
  page to it: a bare pywebview window loading a page over HTTP was ready in 0.52-0.87 s without
  the header and 1.05-1.14 s with it (same run, bench/README.md).

Imports protocol, errors and settings only; speaks raw ASGI so it needs no framework.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from director_desktop.asgi import ASGIApp, Message, Receive, Scope, Send
from director_desktop.errors import BadHost, BadOrigin, DirectorError, Unauthorized
from director_desktop.protocol import http_error_body
from director_desktop.settings import WINDOW_AGENT

STATIC_PATHS = frozenset({"/", "/index.html", "/favicon.ico"})
STATIC_PREFIXES = ("/assets/",)
SOCKET_PREFIX = "/socket.io/"
SIGNED_PREFIXES = ("/media/",)
"""Paths a page fetches without a header (`<video src>`, `<img src>`): they accept `?sig=`."""
SIGNATURE_LIFETIME = 12 * 3600


def app_origins(port: int) -> list[str]:
    """The two origins the app is served from: Socket.IO's `cors_allowed_origins` too."""
    return [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]


def allowed_hosts(port: int, extra_host: str | None = None) -> frozenset[str]:
    hosts = {f"127.0.0.1:{port}", f"localhost:{port}"}
    if extra_host:  # an explicit non-loopback --host (it warned at start)
        hosts.add(f"{extra_host.lower()}:{port}")
    return frozenset(hosts)


def token_matches(token: str, candidate: object) -> bool:
    return isinstance(candidate, str) and hmac.compare_digest(
        candidate.encode("utf-8", "surrogatepass"), token.encode("utf-8")
    )


def content_security_policy(port: int) -> str:
    sockets = " ".join(f"ws://{host}:{port}" for host in ("127.0.0.1", "localhost"))
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data: blob:",
            "media-src 'self' blob:",
            "font-src 'self' data:",
            f"connect-src 'self' {sockets}",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


COOP = "cross-origin-opener-policy"
WINDOW_MARK = f" {WINDOW_AGENT}/"


def security_headers(port: int) -> list[tuple[bytes, bytes]]:
    headers = {
        "content-security-policy": content_security_policy(port),
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "no-referrer",
        COOP: "same-origin",
        "cross-origin-resource-policy": "same-origin",
        "permissions-policy": "camera=(), microphone=(), geolocation=()",
    }
    return [(k.encode(), v.encode()) for k, v in headers.items()]


class Signer:
    """`?sig=<expiry>.<hex>` for URLs the page cannot add a header to: HMAC-SHA256 of
    `"<path>\\n<expiry>"` keyed with the launch token. Made at delivery, never stored."""

    def __init__(self, token: str, *, lifetime: int = SIGNATURE_LIFETIME) -> None:
        self._key = token.encode("utf-8")
        self._lifetime = lifetime

    def _digest(self, path: str, expiry: int) -> str:
        return hmac.new(self._key, f"{path}\n{expiry}".encode(), hashlib.sha256).hexdigest()

    def sign(self, path: str, *, now: float | None = None) -> str:
        """`path` with its signature appended (keeps an existing query string)."""
        expiry = int(now if now is not None else time.time()) + self._lifetime
        separator = "&" if "?" in path else "?"
        return f"{path}{separator}sig={expiry}.{self._digest(path.split('?')[0], expiry)}"

    def verify(self, path: str, sig: str, *, now: float | None = None) -> bool:
        expiry_text, _, digest = sig.partition(".")
        if not expiry_text.isdigit() or not digest:
            return False
        expiry = int(expiry_text)
        if expiry < (now if now is not None else time.time()):
            return False
        return hmac.compare_digest(digest, self._digest(path, expiry))


def sign_media_urls(value: Any, signer: Signer) -> Any:
    """A copy of a message with every plain media path (`/media/...`) in its strings signed."""
    if isinstance(value, dict):
        return {key: sign_media_urls(item, signer) for key, item in value.items()}
    if isinstance(value, list):
        return [sign_media_urls(item, signer) for item in value]
    if isinstance(value, str) and value.startswith(SIGNED_PREFIXES) and "sig=" not in value:
        return signer.sign(value)
    return value


class Guard:
    """The outermost ASGI app: checks Host, Origin and the token, adds security headers."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str,
        port: int,
        extra_host: str | None = None,
        on_refused: Callable[[str], None] | None = None,
    ) -> None:
        self._app = app
        self._token = token
        self._hosts = allowed_hosts(port, extra_host)
        self._origins = frozenset(app_origins(port))
        self._signer = Signer(token)
        self._headers = security_headers(port)
        self._window_headers = [(k, v) for k, v in self._headers if k != COOP.encode()]
        self._on_refused = on_refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self._app(scope, receive, send)  # lifespan
            return
        headers = _headers(scope)
        try:
            self._check(scope, headers)
        except DirectorError as error:
            if self._on_refused is not None:
                self._on_refused(error.code)
            await self._refuse(scope, receive, send, error)
            return
        if scope["type"] == "websocket":
            # The wrapper only touches `http.response.start`, which a websocket never sends:
            # wrapping its `send` would cost a call per frame for nothing.
            await self._app(scope, receive, send)
            return
        extra = self._window_headers if _from_window(headers) else self._headers
        await self._app(scope, receive, self._with_headers(send, extra))

    def _check(self, scope: Scope, headers: dict[str, str]) -> None:
        if headers.get("host", "").lower() not in self._hosts:
            raise BadHost("the Host header must name this app's loopback address")
        origin = headers.get("origin")
        if origin is not None and origin not in self._origins:
            raise BadOrigin("requests from other origins are not allowed")
        if scope["type"] == "http" and self._needs_token(scope["path"]):
            self._check_token(scope, headers)

    @staticmethod
    def _needs_token(path: str) -> bool:
        return not (
            path in STATIC_PATHS
            or path.startswith(STATIC_PREFIXES)
            or path.startswith(SOCKET_PREFIX)
        )

    def _check_token(self, scope: Scope, headers: dict[str, str]) -> None:
        scheme, _, credentials = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token_matches(self._token, credentials.strip()):
            return
        path: str = scope["path"]
        if path.startswith(SIGNED_PREFIXES):
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            sig = query.get("sig", [""])[-1]
            if sig and self._signer.verify(path, sig):
                return
        raise Unauthorized("a valid launch token is required")

    @staticmethod
    def _with_headers(send: Send, security: list[tuple[bytes, bytes]]) -> Send:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in security if k not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        return send_with_headers

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, error: DirectorError
    ) -> None:
        body = json.dumps(http_error_body(error, str(scope.get("path", "")))).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        if isinstance(error, Unauthorized):
            headers.append((b"www-authenticate", b"Bearer"))
        headers += self._headers
        if scope["type"] == "http":
            prefix = "http.response"
        elif "websocket.http.response" in scope.get("extensions", {}):
            prefix = "websocket.http.response"  # answer the upgrade with our status and envelope
        else:  # no denial-response extension: closing before accepting answers HTTP 403
            await send({"type": "websocket.close", "code": 1008})
            return
        await send({"type": f"{prefix}.start", "status": error.http_status, "headers": headers})
        await send({"type": f"{prefix}.body", "body": body})


def from_app_window(scope: Scope) -> bool:
    """Whether the request comes from the app's own window (its User-Agent says so)."""
    return _from_window(_headers(scope))


def _from_window(headers: dict[str, str]) -> bool:
    return WINDOW_MARK in headers.get("user-agent", "")


def _headers(scope: Scope) -> dict[str, str]:
    return {
        name.decode("latin-1").lower(): value.decode("latin-1")
        for name, value in scope.get("headers", [])
    }
