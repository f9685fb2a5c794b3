"""What a GUI test does to the app: keys through xdotool, turns observed through REST."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from tests.gui.support import App, Display, wait_until

TURN_DEADLINE = 60.0
EXIT_DEADLINE = 3.0  # the promise: closing the window ends the process within 3 s


def focus(display: Display, window: str) -> None:
    display.xdotool("windowactivate", "--sync", window)
    display.xdotool("windowfocus", "--sync", window)


def press(display: Display, window: str, keys: str) -> None:
    """ENVIRONMENT.md's recipe: focus the window, then send the keys to whatever has focus."""
    focus(display, window)
    display.xdotool("key", "--clearmodifiers", keys)


def type_text(display: Display, window: str, text: str) -> None:
    focus(display, window)
    display.xdotool("type", "--clearmodifiers", "--delay", "5", text)


def current_session(app: App) -> str | None:
    value = app.get("/prefs").get("current_session")
    return str(value) if value else None


def finished_turn(app: App, session_id: str, text: str) -> dict[str, Any] | None:
    """The session's stored output for the input `text`, once it is no longer in progress."""
    with app.client() as client:
        answer = client.get(f"/session/{session_id}")
    if answer.status_code == 404:
        return None
    answer.raise_for_status()
    conversation = answer.json()["conversation"]
    inputs = [m for m in conversation if m["msg_type"] == "input" and text in str(m["content"])]
    if not inputs:
        return None
    outputs = [
        m
        for m in conversation
        if m["msg_type"] == "output" and m["conv_id"] == inputs[0]["conv_id"]
    ]
    if not outputs or outputs[-1]["status"] == "progress":
        return None
    return dict(outputs[-1])


def ctrl_k_new_session(app: App, window: str) -> str:
    before = current_session(app)
    press(app.display, window, "ctrl+k")
    return str(
        wait_until(
            "Ctrl+K to make a new session current",
            lambda: (s := current_session(app)) and s != before and s,
            20,
        )
    )


def send_turn(app: App, window: str, text: str) -> tuple[str, dict[str, Any]]:
    """Ctrl+K, type into the focused composer, Enter; the stored reply once it finished."""
    session_id = ctrl_k_new_session(app, window)
    type_text(app.display, window, text)
    press(app.display, window, "Return")
    output = wait_until(
        "the typed turn to finish", lambda: finished_turn(app, session_id, text), TURN_DEADLINE
    )
    return session_id, output


def database_ok(db_path: Path) -> list[Any]:
    connection = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return connection.execute("PRAGMA integrity_check").fetchall()
    finally:
        connection.close()
