"""The real desktop app (cli's factory, the launcher, the window) with one addition for
test_export.py: once the page is ready, it exports a chat from the chat's menu the way a user
would (the menu button, then "Export as Markdown"), and prints, as one JSON line, the files that
then appeared in the Downloads folder, then quits.

    python tests/gui/export_app.py DATA_DIR DOWNLOADS_DIR

DATA_DIR holds one chat, made by the test beforehand with the store.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from director_desktop import launcher
from director_desktop.composition import Composition
from director_desktop.settings import build_settings
from director_desktop.window import AppWindow

CLICK = (
    "(() => {{ const b = document.querySelector({selector}); if (!b) return false;"
    " b.click(); return true; }})()"
)


def click(window: AppWindow, selector: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if window.evaluate(CLICK.format(selector=json.dumps(selector))):
            return
        time.sleep(0.05)
    raise SystemExit(f"nothing to click at {selector}")


def on_page(window: AppWindow) -> int:
    downloads = Path(sys.argv[2])
    click(window, "[data-testid=sessions] [data-testid=session-menu]")
    window.evaluate(
        "(() => { const item = [...document.querySelectorAll('[role=menuitem]')]"
        ".find((b) => b.textContent.includes('Export as Markdown')); item.click(); return true })()"
    )
    deadline = time.monotonic() + 30
    found: list[str] = []
    while time.monotonic() < deadline:
        # Done once the file is there with its bytes (never read half-written).
        found = sorted(p.name for p in downloads.glob("*.md") if p.stat().st_size > 0)
        if found:
            break
        time.sleep(0.1)
    texts = {name: (downloads / name).read_text(encoding="utf-8") for name in found}
    print(json.dumps({"files": found, "texts": texts}), flush=True)
    return 0


def main() -> int:
    data_dir = Path(sys.argv[1])
    settings = build_settings(data_dir=data_dir, log_dir=data_dir / "logs")
    return launcher.run(Composition(settings), on_page)


if __name__ == "__main__":
    sys.exit(main())
