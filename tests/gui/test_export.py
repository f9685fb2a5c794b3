"""Export from a chat's menu in the real window: the page hands the file to the web view's
download, which saves it in the user's Downloads folder (HOME and its user-dirs.dirs are the
test's own)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from director_desktop.store import Store
from tests.gui.support import ROOT, Display

pytestmark = pytest.mark.gui


async def one_chat(data_dir: Path) -> str:
    store = Store(data_dir / "director.sqlite3", backups_dir=data_dir / "backups")
    assert store.open().ok
    try:
        message = {
            "session_id": "launch-notes",
            "conv_id": "c1",
            "msg_id": "m1",
            "msg_type": "input",
            "agents": [],
            "content": [{"type": "text", "text": "Which clips show the launch?"}],
            "metadata": {},
        }
        await store.add_input(message, session_name="Launch notes")
    finally:
        store.close()
    return "launch-notes"


def test_export_as_markdown_saves_the_chat_in_downloads(display: Display, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    session_id = asyncio.run(one_chat(data_dir))
    home = tmp_path / "home"
    downloads = home / "Downloads"
    downloads.mkdir(parents=True)
    (home / ".config").mkdir()
    (home / ".config" / "user-dirs.dirs").write_text('XDG_DOWNLOAD_DIR="$HOME/Downloads"\n')
    env = {
        **display.env,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "DIRECTOR_LOG_DIR": str(tmp_path / "logs"),
    }
    done = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "gui" / "export_app.py"), str(data_dir),
         str(downloads)],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout.strip().splitlines()[-1])
    name = f"director-chat-{session_id}.md"
    assert results["files"] == [name]
    text = results["texts"][name]
    assert text.startswith("# Launch notes\n")
    assert "Which clips show the launch?" in text
