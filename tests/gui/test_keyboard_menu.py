"""The keyboard shortcuts in the desktop window's native menu: Ctrl+Shift+C (Edit > Copy Last
Reply's accelerator) puts the last reply's markdown on the desktop clipboard, read back by
another X client; Help > Keyboard Shortcuts opens the page's sheet. The real app under Xvfb,
keys from xdotool."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gui.actions import TURN_DEADLINE, current_session, finished_turn, press, type_text
from tests.gui.support import App, Display, launch, wait_until

pytestmark = pytest.mark.gui

READ_CLIPBOARD = (
    "import gi; gi.require_version('Gtk', '3.0'); gi.require_version('Gdk', '3.0');"
    "from gi.repository import Gdk, Gtk;"
    "print(Gtk.Clipboard.get(Gdk.SELECTION_CLIPBOARD).wait_for_text() or '', end='')"
)


@pytest.fixture(scope="module")
def running(display: Display, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    app = launch(display, tmp_path_factory.mktemp("gui-keys") / "data")
    try:
        app.wait_log("page ready after")
        yield app
    finally:
        if app.process.poll() is None:
            os.killpg(app.process.pid, signal.SIGKILL)
            app.process.wait(timeout=10)


def clipboard(display: Display) -> str:
    """The desktop clipboard's text, as another X client (a fresh GTK process) reads it."""
    done = subprocess.run(
        [sys.executable, "-c", READ_CLIPBOARD],
        env={**os.environ, **display.env},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return done.stdout


def test_ctrl_shift_c_copies_the_last_reply_to_the_desktop_clipboard(
    running: App, artifacts_dir: Path
) -> None:
    window = running.window_id()
    type_text(running.display, window, "copy me please")
    press(running.display, window, "Return")
    session = wait_until("a session for the turn", lambda: current_session(running), 20)
    reply = wait_until(
        "the reply to finish",
        lambda: finished_turn(running, str(session), "copy me please"),
        TURN_DEADLINE,
    )
    texts = [i["text"] for i in reply["content"] if i.get("type") == "text" and i.get("text")]
    press(running.display, window, "ctrl+shift+c")
    running.wait_log("copy last reply from the menu or its accelerator", 10)
    expected = "\n\n".join(texts)
    assert expected
    copied = wait_until(
        "the clipboard to hold the reply",
        lambda: (text := clipboard(running.display)) == expected and text,
        15,
    )
    assert copied == expected


def test_help_keyboard_shortcuts_opens_the_sheet(running: App) -> None:
    window = running.window_id()
    press(running.display, window, "F10")  # File
    running.display.xdotool("key", "--clearmodifiers", "Right", "Right")  # Edit, then Help
    running.display.xdotool("key", "--clearmodifiers", "Down", "Return")  # its first item
    running.wait_log("shortcuts sheet from the menu", 10)
