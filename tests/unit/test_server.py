"""server.py: a pre-bound loopback socket, clean start and stop, and a windowed build's
`sys.stdout = None` does not matter (uvicorn runs with log_config=None)."""

from __future__ import annotations

import socket
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from director_desktop.composition import Composition
from director_desktop.server import Server, ServerError
from director_desktop.settings import build_settings


def test_start_and_stop_with_no_stdout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(sys, "stdout", None)
    monkeypatch.setattr(sys, "stderr", None)
    settings = build_settings(data_dir=tmp_path / "data", log_dir=tmp_path / "logs", environ={})
    server = Server.bind("127.0.0.1", 0)
    assert server.port > 0
    server.start(Composition(settings).app(server.port))
    try:
        assert server.running
        response = httpx.get(
            f"http://127.0.0.1:{server.port}/health",
            headers={"Authorization": f"Bearer {settings.token}"},
            timeout=10,
        )
        assert response.json()["status"] == "ok"
    finally:
        server.stop()
    assert not server.running
    assert [r.message for r in caplog.records if r.name == "director_desktop.server"] == []
    assert "director-server" not in [t.name for t in threading.enumerate()]
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{server.port}/", timeout=2)


def test_a_taken_port_is_a_clear_error() -> None:
    first = Server.bind("127.0.0.1", 0)
    try:
        with pytest.raises(ServerError, match="cannot listen"):
            Server.bind("127.0.0.1", first.port)
    finally:
        first.stop()


def test_a_failing_startup_is_reported_at_once(tmp_path: Path) -> None:
    # A data dir that is a file: the store cannot open; the app still serves and says so.
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    settings = build_settings(data_dir=blocked, log_dir=tmp_path / "logs", environ={})
    server = Server.bind("127.0.0.1", 0)
    server.start(Composition(settings).app(server.port))
    try:
        headers = {"Authorization": f"Bearer {settings.token}"}
        base = f"http://127.0.0.1:{server.port}"
        assert httpx.get(f"{base}/config/check", headers=headers).json()["db_configured"] is False
        assert httpx.get(f"{base}/health", headers=headers).json()["db"] == "error"
    finally:
        server.stop()


def test_stop_without_start_closes_the_socket() -> None:
    server = Server.bind("127.0.0.1", 0)
    server.stop()
    rebound = Server.bind("127.0.0.1", server.port)  # the port is free again
    rebound.stop()


def test_websockets_are_not_compressed() -> None:
    # permessage-deflate costs CPU on every frame of a loopback socket for nothing: a client
    # that offers it must not get it.
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": 1000})

    server = Server.bind("127.0.0.1", 0)
    server.start(app)
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
            conn.sendall(
                b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                b"Sec-WebSocket-Version: 13\r\n"
                b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
            )
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(4096)
                assert chunk, head
                head += chunk
    finally:
        server.stop()
    status, *lines = head.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
    assert status.startswith("HTTP/1.1 101")
    assert not [line for line in lines if line.lower().startswith("sec-websocket-extensions")]
