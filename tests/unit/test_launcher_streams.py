"""A windowed build (PyInstaller `console=False`, pythonw) starts with `sys.stdout` and
`sys.stderr` set to None. Anything that writes to them (uvicorn's default log config, a print)
would crash the app at start-up; this is the start-up path under exactly those conditions."""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from director_desktop import logs
from director_desktop.composition import Composition
from director_desktop.launcher import LogStream, fill_missing_streams
from director_desktop.server import Server
from director_desktop.settings import build_settings


@contextlib.contextmanager
def no_console() -> Iterator[None]:
    """Inside the test body: pytest's capture re-installs its own streams between phases."""
    saved = sys.stdout, sys.stderr
    sys.stdout = None  # type: ignore[assignment]
    sys.stderr = None  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def test_the_server_starts_and_stops_without_stdout_or_stderr(tmp_path: Path) -> None:
    with no_console():
        _serve_once(tmp_path)


def _serve_once(tmp_path: Path) -> None:
    settings = build_settings(
        data_dir=tmp_path / "data", log_dir=tmp_path / "logs", environ={}, token="t" * 32
    )
    threads_before = set(threading.enumerate())
    server = Server.bind(settings.host, 0)
    try:
        server.start(Composition(settings).app(server.port))
        request = urllib.request.Request(
            f"http://127.0.0.1:{server.port}/health",
            headers={"Authorization": f"Bearer {settings.token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200
            assert json.loads(answer.read())["status"] == "ok"
    finally:
        server.stop()
    assert server.failure is None
    assert not server.running
    assert sys.stdout is None, "nothing may put a console back behind the app's back"
    leaked = [t for t in set(threading.enumerate()) - threads_before if t.is_alive()]
    assert not leaked, f"threads left running: {leaked}"


def test_missing_streams_are_replaced_by_the_log_file(tmp_path: Path) -> None:
    with no_console():
        fill_missing_streams()
        assert isinstance(sys.stdout, LogStream)
        assert isinstance(sys.stderr, LogStream)
        setup = logs.configure(tmp_path / "logs")
        try:
            print("a stray print from a library", flush=True)
            print("half a line", end="", file=sys.stderr)
            sys.stderr.flush()
        finally:
            setup.close()
    records = [json.loads(line) for line in setup.path.read_text().splitlines()]
    assert {"logger": "stdout", "message": "a stray print from a library"} in [
        {"logger": r["logger"], "message": r["message"]} for r in records
    ]
    assert any(r["logger"] == "stderr" and r["message"] == "half a line" for r in records)


def test_a_print_before_logging_is_configured_is_dropped_not_fatal() -> None:
    with no_console():
        fill_missing_streams()
        print("too early for the log file")  # must neither raise nor recurse
        assert isinstance(sys.stdout, LogStream)
