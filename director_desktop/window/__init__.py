"""Window: the native pywebview window, its menu and accelerators, and the page's native side.

The only user of `webview` (and of GTK's `gi`, for what pywebview does not cover on Linux). The
modules: `desktop` (geometry, hooks, backend probe, system handoffs), `page` (the JavaScript the
app runs in the page), `gtk` (Linux specifics), `app_window` (the window itself). The window
imports only `settings` from the rest of the project.
"""

from __future__ import annotations

from director_desktop.window.app_window import AppWindow
from director_desktop.window.desktop import (
    DEFAULT_SIZE,
    ICON,
    MIN_SIZE,
    Geometry,
    WindowHooks,
    gui_backend,
    open_external,
    open_path,
    prepare_environment,
)
from director_desktop.window.page import PageError

__all__ = [
    "DEFAULT_SIZE",
    "ICON",
    "MIN_SIZE",
    "AppWindow",
    "Geometry",
    "PageError",
    "WindowHooks",
    "gui_backend",
    "open_external",
    "open_path",
    "prepare_environment",
]
