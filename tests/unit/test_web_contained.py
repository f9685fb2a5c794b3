"""`http.Contained`, the layer outside every HTTP request: what it does with an error depends on
how much of the answer was sent. Called as uvicorn calls it (scope, receive, send), around small
ASGI apps that fail at each point. Live: tests/integration/test_unexpected_errors.py.
"""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from starlette.responses import JSONResponse, Response

from director_desktop.asgi import Message, Receive, Scope, Send
from director_desktop.web.http import Contained


class Boom(Exception):
    pass


def answer(path: str) -> Response:
    return JSONResponse({"ok": False, "error": {"code": "internal", "path": path}}, 500)


def call(app: Contained, scope_type: str = "http") -> list[Message]:
    sent: list[Message] = []
    scope: Scope = {"type": scope_type, "method": "PUT", "path": "/upload", "headers": []}

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


async def fails_before_answering(scope: Scope, receive: Receive, send: Send) -> None:
    raise Boom("no answer yet")


async def fails_after_answering(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 500, "headers": []})
    await send({"type": "http.response.body", "body": b"answered"})
    raise Boom("re-raised after the answer, as Starlette does")


async def fails_midway(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"half", "more_body": True})
    raise Boom("the stream broke")


def errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_no_answer_yet_sends_the_internal_envelope_and_logs_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sent = call(Contained(fails_before_answering, answer))
    assert sent[0]["type"] == "http.response.start"
    assert sent[0]["status"] == 500
    assert json.loads(sent[1]["body"]) == {
        "ok": False,
        "error": {"code": "internal", "path": "/upload"},
    }
    [logged] = errors(caplog)
    assert "PUT /upload" in logged.getMessage()
    assert logged.exc_info is not None
    assert isinstance(logged.exc_info[1], Boom)


def test_a_complete_answer_stands_and_the_error_stops_here(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sent = call(Contained(fails_after_answering, answer))  # raises nothing
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[1]["body"] == b"answered"  # the answer given, not a second one
    assert len(errors(caplog)) == 1


def test_half_an_answer_lets_the_error_through_so_the_server_ends_the_connection(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with pytest.raises(Boom):
        call(Contained(fails_midway, answer))
    assert errors(caplog) == []  # uvicorn logs what it is handed: once


def test_other_scopes_pass_through_untouched() -> None:
    with pytest.raises(Boom):
        call(Contained(fails_before_answering, answer), scope_type="websocket")
