"""The real desktop app (cli's factory, the launcher, the window) with one addition for
test_bridge.py: once the page is ready, it calls the page's `window.directorDesktop` the way the
UI would and prints what came back, one JSON line per call, then quits.

    python tests/gui/bridge_app.py DATA_DIR FILE_TO_CHOOSE

The file chooser that `chooseFiles` opens is a real GTK dialog; this script answers it with
xdotool (type the path, Enter), as a user would with the keyboard.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from director_desktop import launcher
from director_desktop.composition import Composition
from director_desktop.settings import build_settings
from director_desktop.window import AppWindow

CALL = (
    "(() => {{ window.__answer = undefined; window.directorDesktop.{call}"
    ".then(v => window.__answer = {{ok: true, value: v}}, e => window.__answer = {{ok: false,"
    " value: String(e)}}); return true; }})()"
)


def chooser() -> str | None:
    found = subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--name", "^Open file$"],
        capture_output=True,
        text=True,
    ).stdout.split()
    return found[0] if found else None


def gone(timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if chooser() is None:
            return True
        time.sleep(0.05)
    return False


def pick_in_chooser(path: Path) -> None:
    """Answer GTK's file chooser from the keyboard: Ctrl+L, the path, Enter. The location field
    completes asynchronously and may swallow an Enter that arrives mid-completion, so Enter is
    pressed again while the chooser is still open (each time waiting for it to close)."""
    dialog = None
    deadline = time.monotonic() + 30
    while dialog is None and time.monotonic() < deadline:
        dialog = chooser()
        time.sleep(0.05)
    if dialog is None:
        raise SystemExit("the file chooser did not open")
    subprocess.run(["xdotool", "windowfocus", "--sync", dialog], check=True)
    subprocess.run(["xdotool", "key", "ctrl+l"], check=True)
    subprocess.run(["xdotool", "type", "--delay", "5", str(path)], check=True)
    for _ in range(5):
        subprocess.run(["xdotool", "key", "Return"], check=True)
        if gone(2):
            return
    raise SystemExit("the file chooser did not accept the path")


def answer(window: AppWindow, call: str, then: Callable[[], None] | None = None) -> object:
    window.evaluate(CALL.format(call=call))
    if then is not None:
        then()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        got = window.evaluate("window.__answer")
        if got is not None:
            return got
        time.sleep(0.05)
    raise SystemExit(f"no answer to {call}")


def on_page(window: AppWindow) -> int:
    chosen = Path(sys.argv[2])
    results = {
        "bridge": window.evaluate("typeof window.directorDesktop"),
        "external": answer(window, "openExternal('https://example.org/docs')"),
        "not_web": answer(window, "openExternal('file:///etc/passwd')"),
        "choose": answer(window, "chooseFiles({multiple: false})", lambda: pick_in_chooser(chosen)),
    }
    print(json.dumps(results), flush=True)
    return 0


def main() -> int:
    data_dir = Path(sys.argv[1])
    settings = build_settings(data_dir=data_dir, log_dir=data_dir / "logs")
    return launcher.run(Composition(settings), on_page)


if __name__ == "__main__":
    sys.exit(main())
