"""AppWindow: the one main window of a launch, a typed wrapper around pywebview.

Owns the window's life (start, navigate, close with confirm-on-close), its menu, the page calls
and the native bridge's dispatch. pywebview is imported lazily, after `prepare_environment`.
Imports the window's own modules and `settings`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from director_desktop import version
from director_desktop.settings import APP_NAME
from director_desktop.window.desktop import (
    DEFAULT_SIZE,
    ICON,
    MIN_SIZE,
    Geometry,
    WindowHooks,
    open_external,
)
from director_desktop.window.gtk import GtkShell
from director_desktop.window.page import (
    BRIDGE_JS,
    EDIT_LAST_JS,
    LAST_REPLY_JS,
    NEW_SESSION_JS,
    OPEN_SETTINGS_JS,
    READY_JS,
    SHORTCUTS_JS,
    STOP_REPLY_JS,
    TIMING_JS,
    PageError,
    unwrap,
    wrap,
)

log = logging.getLogger(__name__)


class AppWindow:
    """Create it, then `start()` on the main thread; `on_started` runs on a worker thread once
    the GUI loop is up, and `start()` returns when the window has closed."""

    def __init__(
        self,
        *,
        storage_dir: Path,
        loading_html: str,
        geometry: Geometry | None,
        hooks: WindowHooks,
        url: str | None = None,
    ) -> None:
        """`url`: the page to open at once instead of `loading_html` (the launcher's page, when
        its server is already listening: the page loads while the app is built)."""
        import webview

        self._webview: Any = webview
        self._hooks = hooks
        self._storage_dir = storage_dir
        self._close_approved = threading.Event()
        self._closed = threading.Event()
        self._shell: GtkShell | None = None
        self._geometry = geometry or Geometry(*DEFAULT_SIZE)
        self.url = url
        """The URL the window opened with (None: the loading page)."""
        window = webview.create_window(
            APP_NAME,
            url=url,
            html=loading_html if url is None else None,
            width=self._geometry.width,
            height=self._geometry.height,
            x=self._geometry.x,
            y=self._geometry.y,
            min_size=MIN_SIZE,
            background_color="#111827",
            text_select=True,
        )
        if window is None:
            raise RuntimeError("pywebview did not create a window")
        self._window: Any = window
        events = window.events
        events.closing += self._on_closing
        events.closed += self._closed.set
        events.loaded += self._on_loaded
        events.resized += self._on_resized
        events.moved += self._on_moved

    # --- lifecycle -------------------------------------------------------------------------

    def start(self, backend: str, on_started: Callable[[AppWindow], None]) -> None:
        """Run the GUI loop on this (main) thread until the window closes."""
        user_agent = None  # the engine's own elsewhere (no COOP cost measured there)
        if backend == "gtk":
            GtkShell.name_app("director-desktop", APP_NAME)
            self._shell = GtkShell(
                self._window, self._on_bridge_call, lambda: self.close(force=True)
            )
            user_agent = GtkShell.user_agent(version())
        self._storage_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._webview.start(
            func=self._started,
            args=(on_started,),
            gui=backend,
            private_mode=False,
            storage_path=str(self._storage_dir),
            menu=self._menu(),
            icon=str(ICON),
            user_agent=user_agent,
        )

    def _started(self, on_started: Callable[[AppWindow], None]) -> None:
        if self._shell is not None:
            self._shell.call(self._shell.setup)
        on_started(self)

    @property
    def geometry(self) -> Geometry:
        return self._geometry

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def navigate(self, url: str) -> None:
        # Let pywebview finish with the loading page first: its script injection runs in two
        # steps and fails noisily when the page changes between them.
        self._window.events.loaded.wait(5)
        self._window.load_url(url)
        self.url = url

    def show_html(self, html: str) -> None:
        self._window.load_html(html)

    def close(self, *, force: bool = False) -> None:
        """Close the window (Quit); asks first while a run is active unless `force`."""
        if force:
            self._close_approved.set()
        if not self._closed.is_set():
            self._window.destroy()

    def raise_and_focus(self) -> None:
        """Bring the window to the front with keyboard focus (a second launch asks for this)."""
        self._window.restore()
        self._window.show()
        if self._shell is not None:
            self._shell.call(self._shell.present)

    # --- the page --------------------------------------------------------------------------

    def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression in the page (see `page.py` for why not
        pywebview's evaluate_js)."""
        return unwrap(self._run_js(wrap(expression)))

    def _run_js(self, script: str, timeout: float = 30.0) -> Any:
        """pywebview's run_js waits for the GUI loop without a deadline, and never returns once
        the window has gone; a non-daemon thread stuck there would keep the process alive after
        Quit. So the call runs on a daemon thread and is abandoned when the window closes."""
        result: list[Any] = []
        done = threading.Event()

        def call() -> None:
            try:
                result.append(self._window.run_js(script))
            except Exception as exc:
                result.append(exc)
            finally:
                done.set()

        threading.Thread(target=call, name="run-js", daemon=True).start()
        deadline = time.monotonic() + timeout
        while not done.wait(0.05):
            if self._closed.is_set() or time.monotonic() > deadline:
                raise PageError("the page did not answer")
        if isinstance(result[0], Exception):
            raise PageError(str(result[0]))
        return result[0]

    def page_ready(self) -> bool:
        try:
            ready = self.evaluate(READY_JS) is True
            if ready and self._shell is not None:
                # The `loaded` handler that installs the bridge runs on its own thread and can
                # come after the page's ready flag: install it (idempotent) before anyone is told
                # the page is ready, so "ready" always includes `window.directorDesktop`.
                self.evaluate(BRIDGE_JS)
            return ready
        except PageError:  # the page is navigating; not ready yet
            return False

    def page_timing(self) -> dict[str, Any]:
        """The page's own timeline (`page.TIMING_JS`), for the start-up trace."""
        timing = self.evaluate(TIMING_JS)
        return timing if isinstance(timing, dict) else {}

    def wait_page_ready(self, timeout: float) -> bool:
        """Poll the page's ready flag (DESIGN: the page ready signal) until `timeout`."""
        deadline = time.monotonic() + timeout
        while not self._closed.is_set() and time.monotonic() < deadline:
            if self.page_ready():
                return True
            self._closed.wait(0.05)
        return False

    def new_session(self) -> None:
        """The menu's New Session: the same frontend action as the page's own Ctrl+K."""
        log.info("new session from the menu or its accelerator")
        self.evaluate(NEW_SESSION_JS)

    def copy_last_reply(self) -> None:
        """The menu's Copy Last Reply (and Ctrl+Shift+C, its accelerator): the reply's markdown
        onto the desktop clipboard, put there natively (the page may not write it unasked)."""
        log.info("copy last reply from the menu or its accelerator")
        text = self.evaluate(LAST_REPLY_JS)
        if isinstance(text, str) and text and self._shell is not None:
            self._shell.copy_text(text)

    def show_shortcuts(self) -> None:
        """Help > Keyboard Shortcuts: the page's sheet, as its `?` key opens it."""
        log.info("shortcuts sheet from the menu")
        self.evaluate(SHORTCUTS_JS)

    def choose_files(self, multiple: bool, file_types: tuple[str, ...]) -> list[str]:
        chosen = self._window.create_file_dialog(
            self._webview.FileDialog.OPEN, allow_multiple=multiple, file_types=file_types
        )
        return [str(p) for p in chosen or ()]

    # --- dialogs ---------------------------------------------------------------------------

    def confirm(self, title: str, message: str, action: str = "OK") -> bool:
        """Ask; True when the user chose `action`. Blocks the calling (worker) thread."""
        if self._shell is None:
            return bool(self._window.create_confirmation_dialog(title, message))
        return self._shell.dialog(title, message, action)

    def message(self, title: str, message: str) -> None:
        """An informational box with one button; blocks the calling (worker) thread."""
        if self._shell is None:
            self._window.create_confirmation_dialog(title, message)
        else:
            self._shell.dialog(title, message, None)

    # --- events ----------------------------------------------------------------------------

    def _on_closing(self) -> bool:
        """Runs on the GUI thread: never block it. The first close is cancelled and decided on
        a worker thread, which closes again once it is approved."""
        if self._shell is not None:  # on the GUI thread the native window may be read
            self._geometry = self._shell.geometry()
        if self._close_approved.is_set():
            return True
        threading.Thread(target=self._decide_close, name="close", daemon=True).start()
        return False

    def _decide_close(self) -> None:
        try:
            active = self._hooks.run_active()
        except Exception:
            log.exception("could not tell whether a run is active; closing")
            active = False
        if active and not self.confirm(
            f"Quit {APP_NAME}?",
            "A reply is still being written. If you quit now, it stops and is kept as it is.",
            "Quit",
        ):
            return
        self._close_approved.set()
        self._window.destroy()

    def _on_loaded(self) -> None:
        if self._shell is None:
            return
        try:
            self.evaluate(BRIDGE_JS)
        except PageError:
            log.debug("could not install window.directorDesktop", exc_info=True)

    def _on_bridge_call(self, raw: str) -> None:
        """A `window.directorDesktop` call, on a worker thread; answers through `_answer`."""
        try:
            call = json.loads(raw)
            call_id, method, args = int(call["id"]), str(call["method"]), call.get("args")
        except (ValueError, KeyError, TypeError):
            log.warning("malformed bridge call ignored")
            return
        ok, value = True, self._bridge_value(method, args)
        if isinstance(value, Exception):
            ok, value = False, str(value)
        answer = f"window.directorDesktop._answer({call_id}, {json.dumps(ok)}, {json.dumps(value)})"
        try:
            self.evaluate(answer)
        except PageError:
            log.debug("the page went away before the answer to %s", method)

    def _bridge_value(self, method: str, args: object) -> object:
        try:
            if method == "chooseFiles":
                opts = args if isinstance(args, dict) else {}
                types = tuple(str(t) for t in opts.get("file_types") or [] if isinstance(t, str))
                return self.choose_files(bool(opts.get("multiple")), types)
            if method == "openExternal":
                return open_external(str(args))
            return ValueError(f"unknown method {method!r}")
        except Exception as exc:
            log.exception("bridge call %s failed", method)
            return exc

    def _on_resized(self, width: int, height: int) -> None:
        if self._shell is not None:  # GTK reports the web view's allocation: read at close
            return
        g = self._geometry
        self._geometry = Geometry(int(width), int(height), g.x, g.y)

    def _on_moved(self, x: int, y: int) -> None:
        if self._shell is not None:
            return
        g = self._geometry
        self._geometry = Geometry(g.width, g.height, int(x), int(y))

    # --- menu ------------------------------------------------------------------------------

    def _menu(self) -> list[Any]:
        from webview.menu import Menu, MenuAction, MenuSeparator

        hooks = self._hooks

        def settings() -> None:
            if not self.evaluate(OPEN_SETTINGS_JS):
                self.message("Settings", hooks.settings_text())

        def about() -> None:
            self.message(f"About {APP_NAME}", hooks.about_text())

        return [
            Menu(
                "File",
                [
                    MenuAction("New Session", self.new_session),
                    MenuSeparator(),
                    MenuAction("Settings", settings),
                    MenuAction("Open Data Folder", hooks.open_data_folder),
                    MenuAction("Open Logs Folder", hooks.open_logs_folder),
                    MenuSeparator(),
                    MenuAction("Quit", self.close),
                ],
            ),
            Menu(
                "Edit",
                [
                    # Up and Esc stay the page's keys (an accelerator would take them from
                    # every text field); Ctrl+Shift+C is bound in gtk.ACCELERATORS.
                    MenuAction("Edit Last Message", lambda: self.evaluate(EDIT_LAST_JS)),
                    MenuAction("Stop Reply", lambda: self.evaluate(STOP_REPLY_JS)),
                    MenuAction("Copy Last Reply", self.copy_last_reply),
                ],
            ),
            Menu(
                "Help",
                [
                    MenuAction("Keyboard Shortcuts", self.show_shortcuts),
                    MenuAction("About", about),
                ],
            ),
        ]
