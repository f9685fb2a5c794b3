"""What the Linux window does with GTK and WebKitGTK directly, where pywebview has no API:
menu accelerators, the page bridge's message handler, sending other origins to the browser,
titled dialogs, raising the window, reading its real geometry, and quitting on signals.

Every method but `call` runs on the GTK main thread; `call` schedules work there. From the
project it imports only the window's own `desktop`.
"""

from __future__ import annotations

import importlib
import logging
import signal
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from director_desktop.settings import WINDOW_AGENT
from director_desktop.window.desktop import Geometry, open_external

log = logging.getLogger(__name__)

# pywebview names a menu item's action `app._<Menu>_<Item>`, spaces as underscores.
ACCELERATORS = {
    "app._File_New_Session": ["<Primary>k"],
    "app._File_Quit": ["<Primary>q"],
    "app._Edit_Copy_Last_Reply": ["<Primary><Shift>c"],
}


class GtkShell:
    def __init__(
        self,
        window: Any,
        on_bridge_call: Callable[[str], None],
        on_quit_signal: Callable[[], None],
    ) -> None:
        self._window = window  # the pywebview Window; `.native` is the Gtk.ApplicationWindow
        self._on_bridge_call = on_bridge_call
        self._on_quit_signal = on_quit_signal

    @staticmethod
    def user_agent(version: str) -> str:
        """WebKit's own User-Agent plus `DirectorDesktop/<version>` (`settings.WINDOW_AGENT`):
        set before the window's first request, so the server knows its own window."""
        webkit: Any = importlib.import_module("gi.repository.WebKit2")  # the stubs lack it
        webkit_settings = webkit.Settings()
        webkit_settings.set_user_agent_with_application_details(WINDOW_AGENT, version)
        return str(webkit_settings.get_user_agent())

    @staticmethod
    def name_app(prgname: str, title: str) -> None:
        """Before GTK starts: the WM_CLASS a .desktop file's StartupWMClass matches."""
        from gi.repository import GLib

        GLib.set_prgname(prgname)
        GLib.set_application_name(title)

    def call(self, func: Callable[[], None]) -> None:
        """Run `func` on the GTK main thread (from any thread)."""
        from gi.repository import GLib

        def once() -> bool:
            try:
                func()
            except Exception:
                log.exception("GTK call failed")
            return False

        GLib.idle_add(once)

    def setup(self) -> None:
        """pywebview's MenuAction has no shortcut yet: bind the accelerators on the GTK app.
        Then the bridge's message handler, the link policy, and the quit signals."""
        app = self._window.native.get_application()
        for action, keys in ACCELERATORS.items():
            app.set_accels_for_action(action, keys)
        from webview.platforms.gtk import BrowserView

        browser = BrowserView.instances[self._window.uid]
        view = browser.webview
        manager = view.get_user_content_manager()
        # pywebview listens to every handler's messages; scope it to its own, `jsBridge`.
        manager.disconnect_by_func(browser.on_js_bridge_call)
        manager.connect("script-message-received::jsBridge", browser.on_js_bridge_call)
        manager.connect("script-message-received::director", self._bridge_message)
        manager.register_script_message_handler("director")
        view.connect("decide-policy", self._decide_policy)
        self._quit_on_signals()

    def _quit_on_signals(self) -> None:
        """SIGTERM (logout, `kill`) and SIGINT (Ctrl+C in a terminal) quit like File > Quit,
        minus the question. A Python signal handler would wait for the GTK loop to return."""
        from gi.repository import GLib

        def quit_now() -> bool:
            log.info("quitting on a signal")
            threading.Thread(target=self._on_quit_signal, daemon=True).start()
            return True

        for sig in (signal.SIGTERM, signal.SIGINT):
            GLib.unix_signal_add(GLib.PRIORITY_HIGH, sig, quit_now)

    def _bridge_message(self, _manager: Any, message: Any) -> None:
        raw = message.get_js_value().to_string()
        threading.Thread(target=self._on_bridge_call, args=(raw,), daemon=True).start()

    def _decide_policy(self, _view: Any, decision: Any, decision_type: Any) -> bool:
        """A link that would take the window to another origin opens in the system browser.
        (pywebview already does this for target=_blank; this covers plain links.)"""
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

    def copy_text(self, text: str) -> None:
        """Put `text` on the desktop's clipboard (from any thread; done on the GTK thread)."""

        def put() -> None:
            gtk: Any = importlib.import_module("gi.repository.Gtk")  # the stubs lack Clipboard
            gdk: Any = importlib.import_module("gi.repository.Gdk")
            gtk.Clipboard.get(gdk.SELECTION_CLIPBOARD).set_text(text, -1)

        self.call(put)

    def dialog(self, title: str, message: str, action: str | None) -> bool:
        """A modal message box, titled (pywebview's shows no title); with `action`, a question
        whose default is Cancel. True when the user chose `action`. Call from a worker thread."""
        done = threading.Event()
        chose = [False]

        def show() -> None:
            from gi.repository import Gtk

            kind = Gtk.MessageType.QUESTION if action else Gtk.MessageType.INFO
            box: Any = Gtk.MessageDialog(
                transient_for=self._window.native, modal=True, message_type=kind, text=title
            )
            box.format_secondary_text(message)
            if action:
                box.add_button("_Cancel", Gtk.ResponseType.CANCEL)
                box.add_button(f"_{action}", Gtk.ResponseType.OK)
                box.set_default_response(Gtk.ResponseType.CANCEL)
            else:
                box.add_button("_Close", Gtk.ResponseType.CLOSE)
            try:
                chose[0] = box.run() == Gtk.ResponseType.OK
            finally:
                box.destroy()
                done.set()

        self.call(show)
        done.wait()
        return chose[0]

    def geometry(self) -> Geometry:
        """The window's own size and position (pywebview reports the web view's allocation)."""
        native = self._window.native
        width, height = native.get_size()
        x, y = native.get_position()
        return Geometry(int(width), int(height), int(x), int(y))

    def present(self) -> None:
        import gi

        gi.require_version("GdkX11", "3.0")
        x11: Any = importlib.import_module("gi.repository.GdkX11")
        native = self._window.native
        native.deiconify()
        gdk_window = native.get_window()
        if gdk_window is not None and isinstance(gdk_window, x11.X11Window):
            # A fresh user timestamp, so the window manager's focus-stealing guard lets it through.
            native.present_with_time(x11.x11_get_server_time(gdk_window))
        else:
            native.present()
