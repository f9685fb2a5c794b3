"""When no window can open (no display), the launcher serves the same UI and opens it in the
default browser instead of crashing, says so, keeps serving, and still quits cleanly. The real
app in a subprocess; the "browser" is a script named by $BROWSER (what Python's webbrowser
module honours) that records the URL it was asked to open."""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 30.0

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="no-display fallback on Linux")


def fake_browser(tmp_path: Path) -> tuple[Path, Path]:
    opened = tmp_path / "opened.txt"
    script = tmp_path / "browser.sh"
    script.write_text(f'#!/bin/sh\necho "$1" >> "{opened}"\n')
    script.chmod(0o755)
    return script, opened


def start(tmp_path: Path, browser: Path, token: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(BROWSER=f"{browser} %s", DIRECTOR_LOG_DIR=str(tmp_path / "logs"))
    return subprocess.Popen(
        [sys.executable, "-m", "director_desktop", "--data-dir", str(tmp_path / "data"),
         f"--token={token}"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def read_line(proc: subprocess.Popen[str]) -> str:
    """The app's line saying where it serves (flushed once serving; EOF if it died)."""
    assert proc.stderr is not None
    while line := proc.stderr.readline():
        if "No window could be opened" in line:
            return line
    raise AssertionError(f"app exited with {proc.wait()} before saying where it serves")


def wait_for_lines(path: Path, count: int) -> list[str]:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if path.exists() and len(lines := path.read_text().split()) >= count:
            return lines
        time.sleep(0.05)
    raise AssertionError(f"the browser was not asked {count} time(s)")


def test_with_no_display_the_ui_opens_in_the_default_browser(tmp_path: Path) -> None:
    browser, opened = fake_browser(tmp_path)
    token = secrets.token_urlsafe(32)
    app = start(tmp_path, browser, token)
    try:
        line = read_line(app)
        match = re.search(
            r"opened in your default browser at (http://127\.0\.0\.1:\d+)/#token=", line
        )
        assert match, line
        base = match.group(1)
        assert wait_for_lines(opened, 1) == [f"{base}/#token={token}"]
        health = httpx.get(f"{base}/health", headers={"Authorization": f"Bearer {token}"})
        assert health.status_code == 200

        # A second launch on the same data dir opens the running UI again instead of serving.
        second = start(tmp_path, browser, secrets.token_urlsafe(32))
        assert second.wait(timeout=DEADLINE) == 0
        assert second.stderr is not None
        second.stderr.close()
        assert wait_for_lines(opened, 2)[1] == f"{base}/#token={token}"

        app.send_signal(signal.SIGTERM)
        assert app.wait(timeout=3) == 0
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
        if app.stderr is not None:
            app.stderr.close()
