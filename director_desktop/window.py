"""Window: the native pywebview window, its menu and accelerators, and the JS bridge.

The only user of `webview` (and of GTK's `gi`, for what pywebview does not cover on Linux: menu
accelerators, raising the window, message boxes). Everything here is typed; pywebview's untyped
objects stay inside. `webview` is imported lazily, after `prepare_environment` has set the
variables WebKit reads. Imports only `settings`/`user_settings` from the project.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import webbrowser
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from director_desktop.settings import APP_NAME

log = logging.getLogger(__name__)

ICON = Path(__file__).resolve().parent / "assets" / "icon.png"
DEFAULT_SIZE = (1180, 800)
MIN_SIZE = (640, 480)
NEW_SESSION_JS = "window.director && window.director.newSession && window.director.newSession()"
# True when the page has a settings view to show.
OPEN_SETTINGS_JS = (
    "!!(window.director && window.director.openSettings && (window.director.openSettings(), true))"
)
READY_JS = "document.documentElement.dataset.ready === '1'"
# `window.directorDesktop` in the page: the native side of the UI. Calls are posted to the
# `director` message handler; answers come back through `_answer`. Not pywebview's js_api: it
# builds functions with `new Function` and answers with eval(), which the app's strict
# Content-Security-Policy (script-src 'self') forbids, and rightly so.
BRIDGE_JS = r"""
(() => {
  if (window.directorDesktop) return true;
  const pending = new Map();
  let next = 1;
  const call = (method, args) => new Promise((resolve, reject) => {
    const id = next++;
    pending.set(id, {resolve, reject});
    window.webkit.messageHandlers.director.postMessage(JSON.stringify({id, method, args}));
  });
  window.directorDesktop = {
    chooseFiles: (options) => call('chooseFiles', options || {}),
    openExternal: (url) => call('openExternal', String(url)),
    _answer: (id, ok, value) => {
      const p = pending.get(id); pending.delete(id);
      if (p) (ok ? p.resolve : p.reject)(value);
    },
  };
  return true;
})()
"""


class PageError(RuntimeError):
    """A script in the page failed, or the page did not answer."""


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


class AppWindow:
    """One main window. Create it, then `start()` on the main thread; `on_started` runs on a
    worker thread once the GUI loop is up, and `start()` returns when the window has closed."""

    def __init__(
        self,
        *,
        storage_dir: Path,
        loading_html: str,
        geometry: Geometry | None,
        hooks: WindowHooks,
    ) -> None:
        import webview

        self._webview: Any = webview
        self._hooks = hooks
        self._storage_dir = storage_dir
        self._close_approved = threading.Event()
        self._closed = threading.Event()
        self._gtk = False
        size = geometry or Geometry(*DEFAULT_SIZE)
        self._geometry = size
        window = webview.create_window(
            APP_NAME,
            html=loading_html,
            width=size.width,
            height=size.height,
            x=size.x,
            y=size.y,
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
        self._gtk = backend == "gtk"
        if self._gtk:
            from gi.repository import GLib

            # Before GTK starts: the WM_CLASS a .desktop file's StartupWMClass matches.
            GLib.set_prgname("director-desktop")
            GLib.set_application_name(APP_NAME)
        self._storage_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._webview.start(
            func=self._started,
            args=(on_started,),
            gui=backend,
            private_mode=False,
            storage_path=str(self._storage_dir),
            menu=self._menu(),
            icon=str(ICON),
        )

    def _started(self, on_started: Callable[[AppWindow], None]) -> None:
        if self._gtk:
            self._gtk_call(self._gtk_setup)
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

    def show_html(self, html: str) -> None:
        self._window.load_html(html)

    def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression in the page. Not pywebview's evaluate_js:
        it wraps the script in eval(), which the app's Content-Security-Policy forbids; a
        script the browser engine runs for its embedder is not subject to the page's CSP."""
        body = expression.strip().rstrip(";")
        wrapped = (
            "JSON.stringify((function(){try{return {ok:true,value:(" + body + ")}}"
            "catch(e){return {ok:false,error:String(e)}}})())"
        )
        raw = self._run_js(wrapped)
        if not isinstance(raw, str):
            raise PageError(f"no answer from the page ({raw!r})")
        answer = json.loads(raw)
        if not answer.get("ok"):
            raise PageError(str(answer.get("error")))
        return answer.get("value")

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
        deadline = _monotonic() + timeout
        while not done.wait(0.05):
            if self._closed.is_set() or _monotonic() > deadline:
                raise PageError("the page did not answer")
        if isinstance(result[0], Exception):
            raise PageError(str(result[0]))
        return result[0]

    def page_ready(self) -> bool:
        try:
            return self.evaluate(READY_JS) is True
        except Exception:  # the page is navigating; not ready yet
            return False

    def wait_page_ready(self, timeout: float) -> bool:
        """Poll the page's ready flag (DESIGN: the page ready signal) until `timeout`."""
        deadline = _monotonic() + timeout
        while not self._closed.is_set() and _monotonic() < deadline:
            if self.page_ready():
                return True
            self._closed.wait(0.05)
        return False

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
        if self._gtk:
            self._gtk_call(self._gtk_present)

    # --- page actions ----------------------------------------------------------------------

    def new_session(self) -> None:
        """The menu's New Session: the same frontend action as the page's own Ctrl+K."""
        log.info("new session from the menu or its accelerator")
        self.evaluate(NEW_SESSION_JS)

    def choose_files(self, multiple: bool, file_types: tuple[str, ...]) -> list[str]:
        chosen = self._window.create_file_dialog(
            self._webview.FileDialog.OPEN, allow_multiple=multiple, file_types=file_types
        )
        return [str(p) for p in chosen or ()]

    def confirm(self, title: str, message: str, action: str = "OK") -> bool:
        """Ask; True when the user chose `action`. Blocks the calling (worker) thread."""
        if not self._gtk:
            return bool(self._window.create_confirmation_dialog(title, message))
        return self._gtk_dialog(title, message, action) == "action"

    def _gtk_dialog(self, title: str, message: str, action: str | None) -> str:
        """A modal GTK message box (pywebview's shows no title and focuses OK/Cancel oddly)."""
        done = threading.Event()
        answer = ["close"]

        def show() -> None:
            from gi.repository import Gtk

            kind = Gtk.MessageType.QUESTION if action else Gtk.MessageType.INFO
            dialog: Any = Gtk.MessageDialog(
                transient_for=self._window.native, modal=True, message_type=kind, text=title
            )
            dialog.format_secondary_text(message)
            if action:
                dialog.add_button("_Cancel", Gtk.ResponseType.CANCEL)
                dialog.add_button(f"_{action}", Gtk.ResponseType.OK)
                dialog.set_default_response(Gtk.ResponseType.CANCEL)
            else:
                dialog.add_button("_Close", Gtk.ResponseType.CLOSE)
            try:
                if dialog.run() == Gtk.ResponseType.OK:
                    answer[0] = "action"
            finally:
                dialog.destroy()
                done.set()

        self._gtk_call(show)
        done.wait()
        return answer[0]

    def message(self, title: str, message: str) -> None:
        """An informational box with one button; blocks the calling (worker) thread."""
        if not self._gtk:
            self.confirm(title, message)
            return
        self._gtk_dialog(title, message, None)

    # --- events ----------------------------------------------------------------------------

    def _on_closing(self) -> bool:
        """Runs on the GUI thread: never block it. The first close is cancelled and decided on
        a worker thread, which closes again once it is approved."""
        if self._gtk:  # the GUI thread may read the native window; its size excludes no menu
            self._geometry = self._gtk_geometry()
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
        if not self._gtk:
            return
        try:
            self.evaluate(BRIDGE_JS)
        except Exception:
            log.debug("could not install window.directorDesktop", exc_info=True)

    def _on_bridge_call(self, raw: str) -> None:
        """A `window.directorDesktop` call, on a worker thread; answers through `_answer`."""
        try:
            call = json.loads(raw)
            call_id, method, args = int(call["id"]), str(call["method"]), call.get("args")
        except (ValueError, KeyError, TypeError):
            log.warning("malformed bridge call ignored")
            return
        ok, value = True, cast(object, None)
        try:
            if method == "chooseFiles":
                opts = args if isinstance(args, dict) else {}
                types = tuple(str(t) for t in opts.get("file_types") or [] if isinstance(t, str))
                value = self.choose_files(bool(opts.get("multiple")), types)
            elif method == "openExternal":
                value = open_external(str(args))
            else:
                ok, value = False, f"unknown method {method!r}"
        except Exception as exc:
            log.exception("bridge call %s failed", method)
            ok, value = False, str(exc)
        answer = f"window.directorDesktop._answer({call_id}, {json.dumps(ok)}, {json.dumps(value)})"
        try:
            self.evaluate(answer)
        except PageError:
            log.debug("the page went away before the answer to %s", method)

    def _on_resized(self, width: int, height: int) -> None:
        if self._gtk:  # GTK reports the web view's allocation, not the window's size
            return
        g = self._geometry
        self._geometry = Geometry(int(width), int(height), g.x, g.y)

    def _on_moved(self, x: int, y: int) -> None:
        if self._gtk:
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
            Menu("Help", [MenuAction("About", about)]),
        ]

    # --- GTK specifics (Linux) -------------------------------------------------------------

    def _gtk_call(self, func: Callable[[], None]) -> None:
        from gi.repository import GLib

        def once() -> bool:
            try:
                func()
            except Exception:
                log.exception("GTK call failed")
            return False

        GLib.idle_add(once)

    def _gtk_setup(self) -> None:
        """pywebview's MenuAction has no shortcut yet: bind the accelerators on the GTK app.
        Its action names are `app._<Menu>_<Item>` with spaces as underscores. Then the bridge's
        message handler and the policy sending other origins to the system browser."""
        app = self._window.native.get_application()
        app.set_accels_for_action("app._File_New_Session", ["<Primary>k"])
        app.set_accels_for_action("app._File_Quit", ["<Primary>q"])
        from webview.platforms.gtk import BrowserView

        browser = BrowserView.instances[self._window.uid]
        view = browser.webview
        manager = view.get_user_content_manager()
        # pywebview listens to every handler's messages; scope it to its own, `jsBridge`.
        manager.disconnect_by_func(browser.on_js_bridge_call)
        manager.connect("script-message-received::jsBridge", browser.on_js_bridge_call)
        manager.connect("script-message-received::director", self._gtk_bridge_message)
        manager.register_script_message_handler("director")
        view.connect("decide-policy", self._gtk_decide_policy)
        self._gtk_quit_on_signals()

    def _gtk_quit_on_signals(self) -> None:
        """SIGTERM (logout, `kill`) and SIGINT (Ctrl+C in a terminal) quit like File > Quit, minus
        the question. A Python signal handler would wait for the GTK loop to return."""
        if sys.platform == "win32":
            return
        import signal

        from gi.repository import GLib

        def quit_now() -> bool:
            log.info("quitting on a signal")
            threading.Thread(target=self.close, kwargs={"force": True}, daemon=True).start()
            return True

        for sig in (signal.SIGTERM, signal.SIGINT):
            GLib.unix_signal_add(GLib.PRIORITY_HIGH, sig, quit_now)

    def _gtk_bridge_message(self, _manager: Any, message: Any) -> None:
        raw = message.get_js_value().to_string()
        threading.Thread(target=self._on_bridge_call, args=(raw,), daemon=True).start()

    def _gtk_decide_policy(self, _view: Any, decision: Any, decision_type: Any) -> bool:
        """A link that would take the window to another origin opens in the system browser.
        (pywebview already does this for target=_blank; this covers plain links.)"""
        import importlib

        webkit: Any = importlib.import_module("gi.repository.WebKit2")  # the stubs lack it
        if decision_type != webkit.PolicyDecisionType.NAVIGATION_ACTION:
            return False
        action = decision.get_navigation_action()
        if not action.is_user_gesture():
            return False  # the app's own navigation (load_url, redirects)
        url = action.get_request().get_uri()
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.hostname in ("127.0.0.1", "localhost"):
            return False
        decision.ignore()
        if not open_external(url):
            log.info("blocked a navigation to a %s: link", parts.scheme)
        return True

    def _gtk_geometry(self) -> Geometry:
        native = self._window.native
        width, height = native.get_size()
        x, y = native.get_position()
        return Geometry(int(width), int(height), int(x), int(y))

    def _gtk_present(self) -> None:
        import gi

        gi.require_version("GdkX11", "3.0")
        from gi.repository import GdkX11

        x11: Any = GdkX11
        native = self._window.native
        native.deiconify()
        gdk_window = native.get_window()
        if gdk_window is not None and isinstance(gdk_window, x11.X11Window):
            # A fresh user timestamp, so the window manager's focus-stealing guard lets it through.
            native.present_with_time(x11.x11_get_server_time(gdk_window))
        else:
            native.present()


def _monotonic() -> float:
    import time

    return time.monotonic()
