"""The page's native side, `window.directorDesktop`: the real window, the real GTK file chooser,
and links to other origins handed to the system browser (a script named by $BROWSER, which
Python's webbrowser module honours, records what it was asked to open)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.gui.support import ROOT, Display

pytestmark = pytest.mark.gui


def test_the_page_opens_files_natively_and_links_in_the_browser(
    display: Display, tmp_path: Path
) -> None:
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\necho "$1" >> "{opened}"\n')
    browser.chmod(0o755)
    chosen = tmp_path / "holiday video.mp4"
    chosen.write_bytes(b"not really a video")
    env = {**display.env, "BROWSER": f"{browser} %s", "DIRECTOR_LOG_DIR": str(tmp_path / "logs")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "gui" / "bridge_app.py"), str(tmp_path / "data"),
         str(chosen)],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert results["bridge"] == "object"
    assert results["external"] == {"ok": True, "value": True}
    assert results["not_web"] == {"ok": True, "value": False}
    assert opened.read_text().split() == ["https://example.org/docs"]
    assert results["choose"] == {"ok": True, "value": [str(chosen)]}
