"""The guard as a plain ASGI app: Host, Origin, token and signed URLs, and the headers it adds."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from director_desktop.settings import WINDOW_AGENT
from director_desktop.web.guard import Guard, Signer, content_security_policy, sign_media_urls

PORT = 43210
TOKEN = "unit-test-token-0123456789"


async def inner(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain")],
        }
    )
    await send({"type": "http.response.body", "body": b"inner"})


def call(path: str, headers: dict[str, str], query: str = "") -> tuple[int, dict[str, str], bytes]:
    guard = Guard(inner, token=TOKEN, port=PORT)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "path": path,
        "query_string": query.encode(),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    asyncio.run(guard(scope, receive, send))
    start, body = sent[0], b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body


HOST = {"Host": f"127.0.0.1:{PORT}"}
AUTH = {**HOST, "Authorization": f"Bearer {TOKEN}"}


def test_token_and_static_paths() -> None:
    assert call("/session", AUTH)[0] == 200
    assert call("/session", {**HOST, "Authorization": f"bearer {TOKEN}"})[0] == 200
    status, headers, body = call("/session", HOST)
    assert status == 401
    assert headers["www-authenticate"] == "Bearer"
    assert json.loads(body)["error"]["code"] == "unauthorized"
    for path in ("/", "/index.html", "/favicon.ico", "/assets/app.js", "/socket.io/"):
        assert call(path, HOST)[0] == 200, path


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 400, "bad_host"),
        ({"Host": "evil.example"}, 400, "bad_host"),
        ({"Host": f"127.0.0.1:{PORT + 1}"}, 400, "bad_host"),
        ({**AUTH, "Origin": "http://evil.example"}, 403, "bad_origin"),
        ({**AUTH, "Origin": "null"}, 403, "bad_origin"),
        ({**AUTH, "Origin": f"http://localhost:{PORT}/"}, 403, "bad_origin"),
    ],
)
def test_host_and_origin(headers: dict[str, str], status: int, code: str) -> None:
    got, _, body = call("/session", headers)
    assert got == status
    assert json.loads(body)["error"]["code"] == code


def test_security_headers_on_every_response() -> None:
    for headers in (AUTH, HOST, {"Host": "evil.example"}):
        _, got, _ = call("/session", headers)
        assert got["content-security-policy"] == content_security_policy(PORT)
        assert got["x-content-type-options"] == "nosniff"


BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/605.1.15 (KHTML, like Gecko) Safari/605.1.15"


def test_opener_policy_goes_to_browsers_not_to_the_apps_window() -> None:
    """COOP isolates the page from other origins' windows; the app's own window holds none, and
    WebKit pays a second web process for it at each launch (see the guard's docstring)."""
    _, browser, _ = call("/", {**HOST, "User-Agent": BROWSER})
    assert browser["cross-origin-opener-policy"] == "same-origin"
    window_agent = f"{BROWSER} {WINDOW_AGENT}/0.1.0"
    _, window, _ = call("/", {**HOST, "User-Agent": window_agent})
    assert "cross-origin-opener-policy" not in window
    assert window["content-security-policy"] == content_security_policy(PORT)  # the rest stays
    for spoof in (f"{WINDOW_AGENT}/1", f"{BROWSER} Not{WINDOW_AGENT}/1"):  # the mark, exactly
        _, got, _ = call("/", {**HOST, "User-Agent": spoof})
        assert got["cross-origin-opener-policy"] == "same-origin", spoof


def test_signed_urls() -> None:
    signer = Signer(TOKEN)
    url = signer.sign("/media/a1")
    path, query = url.split("?")
    assert call(path, HOST, query)[0] == 200
    assert call(path, HOST)[0] == 401
    assert call("/media/a2", HOST, query)[0] == 401
    assert call("/session", HOST, query)[0] == 401
    assert Signer("another-launch-token").verify(path, query.removeprefix("sig=")) is False
    expired = signer.sign("/media/a1", now=0)
    assert signer.verify("/media/a1", expired.split("sig=")[1]) is False
    assert signer.verify("/media/a1", "garbage") is False


def test_messages_are_signed_at_delivery_not_changed() -> None:
    message = {
        "content": [
            {"type": "video", "video": {"stream_url": "/media/v1", "name": "/media/v1 is mine"}}
        ]
    }
    signed = sign_media_urls(message, Signer(TOKEN))
    assert signed["content"][0]["video"]["stream_url"].startswith("/media/v1?sig=")
    assert message["content"][0]["video"]["stream_url"] == "/media/v1"


def test_csp_allows_only_the_app() -> None:
    csp = content_security_policy(PORT)
    assert "'unsafe-inline'" not in csp
    assert "'unsafe-eval'" not in csp
    assert "http:" not in csp
    assert f"connect-src 'self' ws://127.0.0.1:{PORT} ws://localhost:{PORT}" in csp
