"""Desktop integration that needs no window: remembered geometry, the hooks the launcher gives
the window, which GUI backend can start here, and handing paths and links to the system.
Imports `settings` from the project; GTK only to probe for it.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import webbrowser
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from director_desktop.settings import APP_NAME

log = logging.getLogger(__name__)

ICON = Path(__file__).resolve().parents[1] / "assets" / "icon.png"
DEFAULT_SIZE = (1180, 800)
MIN_SIZE = (640, 480)


@dataclass(frozen=True)
class Geometry:
    """Window size and position as remembered in settings.json under `window`."""

    width: int
    height: int
    x: int | None = None
    y: int | None = None

    @classmethod
    def from_json(cls, value: object) -> Geometry | None:
        if not isinstance(value, dict):
            return None
        try:
            width, height = int(value["width"]), int(value["height"])
            x = None if value.get("x") is None else int(value["x"])
            y = None if value.get("y") is None else int(value["y"])
        except (KeyError, TypeError, ValueError):
            return None
        if width < MIN_SIZE[0] or height < MIN_SIZE[1] or width > 20000 or height > 20000:
            return None
        return cls(width, height, x, y)

    def to_json(self) -> dict[str, int | None]:
        return {"width": self.width, "height": self.height, "x": self.x, "y": self.y}


@dataclass
class WindowHooks:
    """What the window asks of the launcher; every callback runs on a worker thread."""

    run_active: Callable[[], bool] = lambda: False
    open_data_folder: Callable[[], None] = lambda: None
    open_logs_folder: Callable[[], None] = lambda: None
    about_text: Callable[[], str] = lambda: APP_NAME
    settings_text: Callable[[], str] = lambda: APP_NAME


def prepare_environment(env: Mapping[str, str]) -> None:
    """Set what WebKitGTK reads before it starts. `env` is Settings.env (the only reader of
    os.environ); this writes the process environment, which WebKit's child processes inherit."""
    if sys.platform.startswith("linux") and "WEBKIT_DISABLE_DMABUF_RENDERER" not in env:
        # Blank or crashing windows on many GPU/driver combinations (and under Xvfb) otherwise.
        os.environ["WEBKIT_DISABLE_DMABUF_RENDERER"] = "1"


def gui_backend(env: Mapping[str, str]) -> str | None:
    """The pywebview backend to use here, or None when no window can be shown."""
    if sys.platform == "win32":
        return "edgechromium"
    if sys.platform == "darwin":
        return "cocoa"
    if not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        return None
    try:
        import gi

        gi.require_version("Gtk", "3.0")
        gi.require_version("WebKit2", "4.1")
        from gi.repository import Gtk

        # PyGObject answers (ok, argv) although the stubs say bool.
        answer: Any = Gtk.init_check()
        ok = bool(answer[0] if isinstance(answer, tuple) else answer)
    except (ImportError, ValueError) as exc:
        log.warning("GTK WebKit2 4.1 is not available: %s", exc)
        return None
    return "gtk" if ok else None


def open_path(path: Path) -> None:
    """Show a folder in the system file manager."""
    path.mkdir(parents=True, exist_ok=True)
    if sys.platform == "win32":
        os.startfile(path)  # type: ignore[attr-defined,unused-ignore]  # noqa: S606
        return
    opener = "open" if sys.platform == "darwin" else "xdg-open"
    try:
        subprocess.Popen([opener, str(path)], start_new_session=True)
    except OSError as exc:
        log.warning("could not open %s with %s: %s", path, opener, exc)


def open_external(url: str) -> bool:
    """Open a link to another origin in the system browser; only web and mail links."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "mailto"):
        return False
    if parts.scheme.startswith("http") and parts.hostname in ("127.0.0.1", "localhost"):
        return False
    return webbrowser.open(url, new=2)
