"""The desktop app as a user meets it, one launch looked at by several tests: the real app
(`python -m director_desktop`) with its real GTK window under Xvfb + openbox, driven by keys from
xdotool, observed through the window system, the app's log and its REST API.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.gui.actions import (
    TURN_DEADLINE,
    ctrl_k_new_session,
    current_session,
    finished_turn,
    press,
    type_text,
)
from tests.gui.support import TITLE, App, Display, launch, wait_until

pytestmark = pytest.mark.gui


# --- one app for the tests that only look at it ---------------------------------------------


@pytest.fixture(scope="module")
def running(display: Display, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    app = launch(display, tmp_path_factory.mktemp("gui") / "data")
    try:
        app.wait_log("page ready after")
        yield app
    finally:
        if app.process.poll() is None:
            os.killpg(app.process.pid, signal.SIGKILL)
            app.process.wait(timeout=10)


def test_the_window_maps_with_its_title_and_icon(running: App) -> None:
    window = running.window_id()
    assert running.display.map_state(window) == "IsViewable"
    assert running.display.xdotool("getwindowname", window) == TITLE
    icon = running.display.xprop(window, "_NET_WM_ICON")
    assert "_NET_WM_ICON(CARDINAL)" in icon, icon


def test_the_page_reports_ready(running: App) -> None:
    record = running.wait_log("page ready after")
    # The launcher logs this once the page set document.documentElement.dataset.ready = "1".
    assert 0 < float(record["startup_s"]) < 60
    assert running.get("/health")["status"] == "ok"


def test_ctrl_k_makes_a_new_session_current_with_focus_in_the_composer(
    running: App, artifacts_dir: Path
) -> None:
    window = running.window_id()
    first = ctrl_k_new_session(running, window)
    second = ctrl_k_new_session(running, window)
    assert first != second
    # Focus is in the composer: keys typed next land there and Enter sends them as a turn of
    # the session Ctrl+K made current.
    text = "Hello from the GUI test"
    type_text(running.display, window, text)
    press(running.display, window, "Return")
    output = wait_until(
        "the typed turn to finish", lambda: finished_turn(running, second, text), TURN_DEADLINE
    )
    assert output["status"] == "success"
    assert current_session(running) == second
    running.display.screenshot(artifacts_dir / "gui-chat-turn.png")


def test_a_screenshot_of_the_window_is_kept(running: App, artifacts_dir: Path) -> None:
    shot = running.display.screenshot(artifacts_dir / "gui-window.png")
    with Image.open(shot) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None
    assert len(colours) > 50, "the screenshot is (nearly) blank"


def test_the_file_menu_new_session_makes_a_new_session_current(running: App) -> None:
    window = running.window_id()
    before = current_session(running)
    press(running.display, window, "F10")  # GTK opens the menu bar's first menu, File
    running.display.xdotool("key", "--clearmodifiers", "Down", "Return")  # its first item
    after = wait_until(
        "File > New Session to make a new session current",
        lambda: (s := current_session(running)) and s != before and s,
        20,
    )
    assert after != before
    running.wait_log("new session from the menu or its accelerator", 5)
