"""HTTP plumbing shared by the route modules: reading a JSON body and query integers, and the one
translation of errors to the wire.

Every failure becomes the envelope `{"ok": false, "error": {code, message}}` with the error's HTTP
status, here and nowhere else; messages are sanitized (no path, traceback or token). `Contained`,
the outermost layer of every HTTP request, sees that an unexpected error is answered and logged
once and never reaches uvicorn.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from director_desktop.asgi import ASGIApp, Message, Receive, Scope, Send
from director_desktop.errors import DirectorError, InvalidPayload, TooLarge
from director_desktop.protocol import http_error_body
from director_desktop.web.state import AppState

log = logging.getLogger(__name__)

MAX_JSON_BODY = 2 * 1024 * 1024  # /prefs allows 1 MiB serialized; leave room for escaping
HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}


def exception_handlers(state: AppState) -> dict[Any, Callable[..., Awaitable[Response]]]:
    async def director_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DirectorError)
        return error_response(state, exc, request.url.path)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = HTTP_CODES.get(exc.status_code, "http_error")
        error = DirectorError(str(exc.detail), code=code)
        error.http_status = exc.status_code
        return error_response(state, error, request.url.path)

    async def unexpected(request: Request, exc: Exception) -> Response:
        # Starlette re-raises it after this answer; `Contained` logs it, once.
        return unexpected_response(state, request.url.path)

    return {DirectorError: director_error, HTTPException: http_error, Exception: unexpected}


def unexpected_response(state: AppState, path: str) -> JSONResponse:
    """A bug's answer: `internal`, saying nothing of what went wrong (the log has it)."""
    return error_response(state, DirectorError("the server could not answer this request"), path)


class Contained:
    """Wraps the whole app: an exception in an HTTP request is logged once and never reaches
    uvicorn, unless an answer is half sent.

    Starlette answers an unexpected error (`unexpected` above) and then re-raises it. uvicorn then
    logs it a second time and closes the connection at once, so a client still sending its body
    (an upload, an archive to restore) sees the connection reset instead of the 500 it was sent.
    Here, instead:
    - no answer started (an error outside Starlette's routes): the `internal` envelope is sent;
    - the answer is complete: nothing more. uvicorn reads and drops the rest of the body, and the
      connection stays open for the next request;
    - half an answer is sent (a stream failed midway): the error goes on, and uvicorn closes the
      connection, so the client sees a truncated answer end instead of waiting for the rest.
    WebSocket and lifespan scopes pass through untouched: their servers handle their own ends.
    """

    def __init__(self, app: ASGIApp, answer: Callable[[str], Response]) -> None:
        self._app = app
        self._answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = complete = False

        async def tracked(message: Message) -> None:
            nonlocal started, complete
            kind = message["type"]
            if kind == "http.response.start":
                started = True
            elif kind == "http.response.pathsend" or (
                kind == "http.response.body" and not message.get("more_body", False)
            ):
                complete = True
            await send(message)

        try:
            await self._app(scope, receive, tracked)
        except Exception as exc:
            if started and not complete:
                raise
            log.error("request failed: %s %s", scope["method"], scope["path"], exc_info=exc)
            if not started:
                await self._answer(scope["path"])(scope, receive, send)


def error_response(state: AppState, error: DirectorError, path: str) -> JSONResponse:
    state.metrics.error(error.code)
    headers = {"www-authenticate": "Bearer"} if error.http_status == 401 else None
    body = http_error_body(error, path, secrets=state.secrets)
    return JSONResponse(body, status_code=error.http_status, headers=headers)


async def read_json(request: Request, limit: int = MAX_JSON_BODY) -> object:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise TooLarge(f"the request body is larger than {limit} bytes")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidPayload("the request body must be JSON") from None


def query_int(request: Request, name: str, *, minimum: int = 0) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise InvalidPayload(f"{name} must be an integer") from None
    if value < minimum:
        raise InvalidPayload(f"{name} must be at least {minimum}")
    return value


def api_key_in(body: Mapping[str, object]) -> str | None:
    """`api_key` absent: keep the stored key; a string: store it; "" or null: forget it."""
    if "api_key" not in body:
        return None
    key = body.get("api_key")
    if key is None:
        return ""
    if not isinstance(key, str) or len(key) > 4096:
        raise InvalidPayload("api_key must be a string")
    return key.strip()
