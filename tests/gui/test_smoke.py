"""`director-desktop --smoke-test`, as CI and the frozen build run it: the real window, one chat
turn through the UI's own path, the reply in the page and in the store, exit 0; non-zero with a
reason on stderr otherwise."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.gui.support import ROOT, Display

pytestmark = pytest.mark.gui

DEADLINE = 120.0


def smoke(display: Display, data_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**display.env, "DIRECTOR_LOG_DIR": str(data_dir / "logs")}
    return subprocess.run(
        [sys.executable, "-m", "director_desktop", "--smoke-test", "--data-dir", str(data_dir),
         *extra],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=DEADLINE,
    )  # fmt: skip


def test_the_smoke_test_sends_a_turn_and_exits_0(display: Display, tmp_path: Path) -> None:
    done = smoke(display, tmp_path / "data")
    assert done.returncode == 0, done.stderr
    assert "smoke test passed" in done.stderr
    connection = sqlite3.connect(f"file:{tmp_path / 'data' / 'director.sqlite3'}?mode=ro", uri=True)
    try:
        rows = connection.execute("SELECT msg_type, status FROM messages ORDER BY id").fetchall()
    finally:
        connection.close()
    assert ("input", "success") in rows
    assert ("output", "success") in rows


def test_a_failing_smoke_test_exits_non_zero_with_the_reason(
    display: Display, tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        done = smoke(display, tmp_path / "data", f"--port={taken.getsockname()[1]}")
    assert done.returncode != 0
    assert "smoke test failed: the server did not start" in done.stderr
    assert "Address already in use" in done.stderr
