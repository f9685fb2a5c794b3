"""HTTP plumbing shared by the route modules: reading a JSON body and query integers, and the one
translation of errors to the wire.

Every failure becomes the envelope `{"ok": false, "error": {code, message}}` with the error's HTTP
status, here and nowhere else; messages are sanitized (no path, traceback or token).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

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
        log.error("request failed", exc_info=exc)
        error = DirectorError("the server could not answer this request")
        return error_response(state, error, request.url.path)

    return {DirectorError: director_error, HTTPException: http_error, Exception: unexpected}


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
