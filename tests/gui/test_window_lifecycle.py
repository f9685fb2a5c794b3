"""The desktop app's life: quitting, remembering its size, a second launch, and a crash. Each
test launches the real app (`python -m director_desktop`) in its own data dir under Xvfb +
openbox, and drives it with xdotool and the window manager.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.gui.actions import (
    EXIT_DEADLINE,
    ctrl_k_new_session,
    database_ok,
    finished_turn,
    press,
    send_turn,
    type_text,
)
from tests.gui.support import App, alive, descendants, wait_until

pytestmark = pytest.mark.gui


def test_closing_the_window_exits_0_within_3_s_with_an_intact_database(
    apps: Callable[..., App], tmp_path: Path
) -> None:
    app = apps(tmp_path / "data")
    app.wait_log("page ready after")
    window = app.window_id()
    send_turn(app, window, "A turn before closing")
    children = descendants(app.process.pid)
    assert children, "expected WebKit's helper processes under the app"
    press(app.display, window, "alt+F4")  # openbox closes the focused window (WM_DELETE_WINDOW)
    started = time.monotonic()
    code = app.wait_exit(10)
    took = time.monotonic() - started
    assert code == 0
    assert took < EXIT_DEADLINE, f"exit took {took:.2f} s"
    wait_until("no process of the app to survive it", lambda: not any(map(alive, children)), 5)
    assert database_ok(app.data_dir / "director.sqlite3") == [("ok",)]
    assert not (app.data_dir / "director.sqlite3-wal").exists() or (
        (app.data_dir / "director.sqlite3-wal").stat().st_size == 0
    ), "the store was not checkpointed and closed"


def test_the_window_size_and_position_are_remembered_between_launches(
    apps: Callable[..., App], tmp_path: Path
) -> None:
    app = apps(tmp_path / "data")
    app.wait_log("page ready after")
    window = app.window_id()
    app.display.xdotool("windowsize", "--sync", window, "900", "640")
    app.display.xdotool("windowmove", "--sync", window, "120", "90")
    moved = app.display.xdotool("getwindowgeometry", window)
    press(app.display, window, "ctrl+q")
    assert app.wait_exit(10) == 0
    again = apps(tmp_path / "data")
    window = again.window_id()
    geometry = again.display.xdotool("getwindowgeometry", window)
    assert "Geometry: 900x640" in geometry, geometry
    position = next(line for line in moved.splitlines() if "Position" in line)
    assert position in geometry, f"moved to {position.strip()}, reopened at {geometry}"


def test_a_second_launch_raises_the_first_window_and_exits_0(
    apps: Callable[..., App], tmp_path: Path
) -> None:
    first = apps(tmp_path / "data")
    first.wait_log("page ready after")
    window = first.window_id()
    first.display.xdotool("windowminimize", "--sync", window)
    wait_until(
        "the first window to be minimized",
        lambda: first.display.map_state(window) != "IsViewable",
        10,
    )
    second = apps(tmp_path / "data")
    assert second.wait_exit(20) == 0
    wait_until(
        "the first window to be shown", lambda: first.display.map_state(window) == "IsViewable", 10
    )
    wait_until("the first window to be active", lambda: first.display.active_window() == window, 10)
    first.wait_log("a second launch asked to raise the window")
    serving = [r for r in first.log_records() if str(r.get("message")).startswith("serving at")]
    assert len(serving) == 1, "the second launch must not start a server"
    assert first.process.poll() is None


def test_closing_during_a_reply_asks_then_stops_and_stores_the_run(
    apps: Callable[..., App], tmp_path: Path
) -> None:
    app = apps(tmp_path / "data", env={"DIRECTOR_ASSISTANT_PACE": "0.5"})
    app.wait_log("page ready after")
    window = app.window_id()
    session_id = ctrl_k_new_session(app, window)
    type_text(app.display, window, "Write slowly")
    press(app.display, window, "Return")
    app.wait_log("input stored", 20)
    press(app.display, window, "alt+F4")
    dialog = wait_until("the quit confirmation", lambda: app.other_window(window), 20)
    press(app.display, dialog, "Escape")  # Cancel: the app keeps running
    wait_until("the dialog to close", lambda: not app.other_window(window), 10)
    assert app.process.poll() is None
    press(app.display, window, "alt+F4")
    dialog = wait_until("the quit confirmation again", lambda: app.other_window(window), 20)
    press(app.display, dialog, "alt+q")  # the dialog's "_Quit" button
    assert app.wait_exit(10) == 0
    conversation = database_rows(app.data_dir / "director.sqlite3", session_id)
    assert conversation, "the turn was not stored"
    assert "progress" not in conversation, conversation


def database_rows(db_path: Path, session_id: str) -> list[str]:
    connection = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        rows = connection.execute(
            "SELECT status FROM messages WHERE session_id = ? AND msg_type = 'output'",
            (session_id,),
        ).fetchall()
    finally:
        connection.close()
    return [str(r[0]) for r in rows]


def test_a_launch_after_kill_9_recovers_without_a_prompt(
    apps: Callable[..., App], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    crashed = apps(data, env={"DIRECTOR_ASSISTANT_PACE": "0.5"})
    crashed.wait_log("page ready after")
    window = crashed.window_id()
    session_id = ctrl_k_new_session(crashed, window)
    type_text(crashed.display, window, "Interrupted by a crash")
    press(crashed.display, window, "Return")
    wait_until("the reply to be in progress", lambda: reply_in_progress(crashed, session_id), 20)
    os.kill(crashed.process.pid, signal.SIGKILL)
    crashed.process.wait(timeout=10)
    assert (data / "director.lock").exists()

    app = apps(data)
    record = app.wait_log("page ready after")
    assert record
    windows = app.windows()
    assert len(windows) == 1, f"expected only the main window, no prompt: {windows}"
    output = wait_until(
        "the interrupted turn to be settled",
        lambda: finished_turn(app, session_id, "Interrupted by a crash"),
        10,
    )
    assert output["status"] == "error"
    assert "Interrupted" in str(output["content"])


def test_sigterm_quits_like_quit(apps: Callable[..., App], tmp_path: Path) -> None:
    app = apps(tmp_path / "data")
    app.wait_log("page ready after")
    children = descendants(app.process.pid)
    app.process.send_signal(signal.SIGTERM)
    assert app.wait_exit(EXIT_DEADLINE) == 0
    app.wait_log("server stopped", 1)
    wait_until("no process of the app to survive it", lambda: not any(map(alive, children)), 5)


def test_a_failed_start_shows_a_dialog_naming_the_log_file(
    apps: Callable[..., App], tmp_path: Path, artifacts_dir: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        app = apps(tmp_path / "data", f"--port={port}")
        main = app.window_id()
        dialog = wait_until("the start-up failure dialog", lambda: app.other_window(main), 30)
        app.display.screenshot(artifacts_dir / "gui-startup-failure-dialog.png")
        app.wait_log("the server could not start", 5)
        press(app.display, dialog, "Escape")
        wait_until("the dialog to close", lambda: not app.other_window(main), 10)
        app.display.screenshot(artifacts_dir / "gui-startup-failure-page.png")
        assert app.process.poll() is None, "the window stays, showing what went wrong"
        press(app.display, main, "ctrl+q")
        assert app.wait_exit(10) == 1


def reply_in_progress(app: App, session_id: str) -> bool:
    """The run's output is stored and still streaming (what a crash interrupts)."""
    with app.client() as client:
        answer = client.get(f"/session/{session_id}")
    if answer.status_code != 200:
        return False
    return any(
        m["msg_type"] == "output" and m["status"] == "progress"
        for m in answer.json()["conversation"]
    )
