"""Launcher: the life of one desktop launch, from double-click to exit.

Owns the process lifecycle: console streams of a windowed build, logging, the single-instance
lock, the server thread, the window (or the default browser when no window can open), and an
orderly shutdown. Every part it serves comes from the composition root (`Composition`): the
app for the bound port, and the user's settings file the window keeps its geometry in.
"""

from __future__ import annotations

import base64
import html
import io
import json
import logging
import os
import signal
import sys
import threading
import time
import webbrowser
from collections.abc import Callable
from pathlib import Path
from typing import Any

from director_desktop import logs, version
from director_desktop.asgi import Scope, ServedApp
from director_desktop.composition import Composition
from director_desktop.instance import InstanceLock, ask_running_instance
from director_desktop.metrics import loaded_packages
from director_desktop.server import Server, ServerError
from director_desktop.settings import APP_NAME
from director_desktop.smoke import SmokeTest
from director_desktop.web.early import EarlyApp, frontend_dir
from director_desktop.web.guard import from_app_window
from director_desktop.window import (
    ICON,
    AppWindow,
    Geometry,
    WindowHooks,
    gui_backend,
    open_path,
    prepare_environment,
)

log = logging.getLogger(__name__)

ASSETS = Path(__file__).resolve().parent / "assets"
PAGE_READY_TIMEOUT = 60.0
SERVER_START_TIMEOUT = 30.0
BUILD_WAIT_TIMEOUT = 5.0  # the app is built by then even if the window never asks for its page


class LogStream(io.TextIOBase):
    """Stands in for `sys.stdout`/`sys.stderr` when a windowed build has none: whole lines go to
    the log file, so a stray print() neither crashes the app nor disappears."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self._log = logging.getLogger(name)
        self._buffer = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._buffer += text
        *lines, self._buffer = self._buffer.split("\n")
        for line in lines:
            self._emit(line)
        return len(text)

    def flush(self) -> None:
        self._emit(self._buffer)
        self._buffer = ""

    def _emit(self, line: str) -> None:
        # With no handler yet, logging's last resort writes to sys.stderr, i.e. back here.
        if line.strip() and logging.getLogger().handlers:
            self._log.warning("%s", line)


def fill_missing_streams() -> None:
    if sys.stdout is None:
        sys.stdout = LogStream("stdout")
    if sys.stderr is None:
        sys.stderr = LogStream("stderr")


def page_html(title: str, detail: str, *, error: bool = False, extra: str = "") -> str:
    """The local loading page, or the start-up failure page, as one self-contained document."""
    template = (ASSETS / "loading.html").read_text(encoding="utf-8")
    icon = "data:image/png;base64," + base64.b64encode(ICON.read_bytes()).decode("ascii")
    values = {
        "state": "error" if error else "loading",
        "icon": icon,
        "title": html.escape(title),
        "detail": html.escape(detail),
        "extra": extra,
    }
    for key, value in values.items():
        template = template.replace("{{" + key + "}}", value)
    return template


class StartupTrace:
    """Where a launch's start-up time goes: seconds since the launch began at each step, up to
    the page's ready flag, logged once with the page's own timeline (bench/README.md reads it)."""

    def __init__(self) -> None:
        self._started = time.monotonic()
        self._epoch = time.time()
        self.marks: dict[str, float] = {}
        age = process_age()
        if age is not None:  # the interpreter and the imports before the launch
            self.marks["process_start"] = -round(age, 3)

    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def mark(self, step: str) -> None:
        self.marks.setdefault(step, round(self.elapsed(), 3))

    def add_page(self, timing: dict[str, Any]) -> None:
        """The page's times (ms since its own time origin) on the launch's clock."""
        origin = float(timing.get("origin", 0)) / 1000 - self._epoch

        def at(ms: object) -> float:
            return round(origin + float(str(ms)) / 1000, 3)

        self.marks["page_navigation_start"] = at(0)
        self.marks["page_response"] = at(timing.get("response", 0))
        for name, ms in dict(timing.get("paint") or {}).items():
            self.marks[f"page_{name}"] = at(ms)
        self.marks["page_dom_ready"] = at(timing.get("dom", 0))
        for path, start, end in timing.get("requests") or []:  # a path asked twice: the first
            self.marks.setdefault(f"request {path}", at(start))
            self.marks.setdefault(f"response {path}", at(end))
        for name, ms in timing.get("marks") or []:
            if str(name).startswith("director:"):
                self.marks[f"page_{str(name).removeprefix('director:')}"] = at(ms)

    def epoch(self, step: str) -> float | None:
        """When `step` happened, in seconds since the epoch (the clock other processes share)."""
        at = self.marks.get(step)
        return None if at is None else round(self._epoch + at, 4)


def process_age() -> float | None:
    """Seconds since this process started (Linux), to put the imports before the launch on the
    trace; None elsewhere."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(0.0, uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError, AttributeError):
        return None


class Launch:
    """One launch that holds the instance lock: serves, shows, and shuts down."""

    def __init__(self, composition: Composition, lock: InstanceLock) -> None:
        self.settings = composition.settings
        self.lock = lock
        self.composition = composition
        self.server: Server | None = None
        self.app: ServedApp | None = None
        self.exit_code = 0
        self.user_settings = composition.user_settings
        self._server_ready = threading.Event()
        self._server_error: BaseException | None = None
        self._build_now = threading.Event()
        self.trace = StartupTrace()

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.port}"

    @property
    def page_url(self) -> str:
        return f"{self.base_url}/#token={self.settings.token}"

    # --- server ----------------------------------------------------------------------------

    def start_server_async(self) -> None:
        """Bind now, so the window can open the page's URL at once; on a worker thread, serve
        the page's files (`EarlyApp`) straight away and build the app meanwhile."""
        try:
            self.server = Server.bind(self.settings.host, self.settings.port)
        except ServerError as exc:
            log.error("the server could not start: %s", exc)
            self._server_error = exc
            self._server_ready.set()
            return
        threading.Thread(target=self._start_server, name="server-start", daemon=True).start()

    def _start_server(self) -> None:
        assert self.server is not None
        try:
            settings = self.settings
            early = EarlyApp(
                frontend_dir(),
                token=settings.token,
                port=self.server.port,
                extra_host=None if settings.is_loopback else settings.host,
                on_request=self._page_requested,
            )
            self.server.start(early, timeout=SERVER_START_TIMEOUT)
            self.trace.mark("page_served")
            # The build (~0.3 s of CPU, holding the GIL) waits for the page's first request.
            # Started at once, it slowed pywebview's and GTK's own start-up on the main thread
            # as much as it ran; started when the window was shown, it still delayed WebKit's
            # first navigation by ~0.3 s (its web and network processes start then, on the same
            # two cores). Once the page is asked for, it overlaps the page's download and parse.
            self._build_now.wait(BUILD_WAIT_TIMEOUT)
            self.trace.mark("build_started")
            try:
                app = self.composition.app(self.server.port)
            except BaseException:
                self.server.call(early.fail())
                raise
            self.trace.mark("app_built")
            self.server.call(early.attach(app), timeout=SERVER_START_TIMEOUT)
            self.app = app
            self.trace.mark("server_ready")
            log.info("serving at %s/", self.base_url, extra={"port": self.server.port})
        except BaseException as exc:
            log.exception("the server could not start")
            self._server_error = exc
        finally:
            self._server_ready.set()

    def _page_requested(self, scope: Scope) -> None:
        self.trace.mark("page_requested")
        log.debug(
            "first request", extra={"path": scope.get("path"), "window": from_app_window(scope)}
        )
        self.build_now()

    def build_now(self) -> None:
        """The page has been asked for, or no window will ask: build the app now."""
        self._build_now.set()

    def wait_server(self) -> BaseException | None:
        self._server_ready.wait()
        return self._server_error

    def run_active(self) -> bool:
        return self.app is not None and self.app.run_active()

    def stop_server(self) -> None:
        """Stops runs (stored as they are), the server, then the store, via the app's lifespan."""
        if self.server is not None:
            self.server.stop()
            log.info("server stopped")

    # --- window ----------------------------------------------------------------------------

    def run_window(self, backend: str, on_page: Callable[[AppWindow], int] | None) -> int:
        window = AppWindow(
            storage_dir=self.settings.webview_storage_dir,
            loading_html=page_html(f"Starting {APP_NAME}…", "Opening your chats."),
            # The socket listens already (`start_server_async`): the page loads while the app is
            # built, instead of after it. Only a failed bind leaves the loading page up.
            url=self.page_url if self.server is not None else None,
            geometry=Geometry.from_json(self.user_settings.get("window")),
            hooks=WindowHooks(
                run_active=self.run_active,
                open_data_folder=lambda: open_path(self.settings.data_dir),
                open_logs_folder=lambda: open_path(self.settings.log_dir),
                about_text=self.about_text,
                settings_text=self.settings_text,
            ),
        )
        self.trace.mark("window_created")
        self.lock.listen(window.raise_and_focus)
        window.start(backend, lambda w: self._on_window(w, on_page))
        self._remember_geometry(window.geometry)
        return self.exit_code

    def _on_window(self, window: AppWindow, on_page: Callable[[AppWindow], int] | None) -> None:
        """Runs on pywebview's worker thread once the window is up."""
        self.trace.mark("window_shown")
        error = self.wait_server()
        if error is not None:
            self.exit_code = 1
            if self.settings.smoke_test:
                print(f"smoke test failed: the server did not start: {error}", file=sys.stderr)
                window.close(force=True)
                return
            self._show_startup_failure(window, error)
            return
        if on_page is None and self.settings.smoke_test:
            on_page = SmokeTest(self.base_url, self.settings.token)
        if window.url != self.page_url:
            window.navigate(self.page_url)
            self.trace.mark("navigate")
        if window.wait_page_ready(PAGE_READY_TIMEOUT):
            self._report_ready(window)
        else:
            log.error("the page did not report ready within %s s", PAGE_READY_TIMEOUT)
        if on_page is not None:
            self.exit_code = on_page(window)
            window.close(force=True)

    def _report_ready(self, window: AppWindow) -> None:
        elapsed = self.trace.elapsed()
        self.trace.mark("page_ready")
        log.debug("modules at ready", extra={"modules": " ".join(loaded_packages())})
        try:
            self.trace.add_page(window.page_timing())
        except Exception:  # the trace is for reading, never a reason to fail a launch
            log.debug("no page timing", exc_info=True)
        marks = dict(sorted(self.trace.marks.items(), key=lambda mark: mark[1]))
        # `ready_epoch`: when the page itself set its flag (its `director:ready` mark), which the
        # poll above sees up to 50 ms later; bench/startup_bench.py times launches by it.
        log.info(
            "page ready after %.3f s",
            elapsed,
            extra={
                "startup_s": round(elapsed, 3),
                "trace": json.dumps(marks),
                "ready_epoch": self.trace.epoch("page_ready_flag"),
            },
        )

    def _show_startup_failure(self, window: AppWindow, error: BaseException) -> None:
        log_file = self.settings.log_dir / logs.LOG_NAME
        reason = str(error) or type(error).__name__
        window.show_html(
            page_html(
                f"{APP_NAME} could not start",
                reason,
                error=True,
                extra=f"<p>Details are in the log file:</p><code>{html.escape(str(log_file))}</code>",  # noqa: E501
            )
        )
        window.message(
            f"{APP_NAME} could not start",
            f"{reason}\n\nDetails are in the log file:\n{log_file}",
        )

    def _remember_geometry(self, geometry: Geometry) -> None:
        try:
            self.user_settings.update(window=geometry.to_json())
        except Exception:
            log.exception("could not remember the window geometry")

    def about_text(self) -> str:
        return (
            f"Version {version()}\n\nThe VideoDB Director chat experience, on this computer.\n\n"
            f"Data: {self.settings.data_dir}\nLogs: {self.settings.log_dir}"
        )

    def settings_text(self) -> str:
        s = self.settings
        return (
            f"Models: put a GGUF file in {s.models_dir} to run it on this computer, or connect "
            "an OpenAI-compatible server (Ollama, LM Studio, llama.cpp's server, vLLM).\n\n"
            f"Your choices are kept in {s.user_settings_path}.\nChats: {s.db_path}"
        )

    # --- browser fallback ------------------------------------------------------------------

    def run_in_browser(self) -> int:
        """No window can open here (no display, no WebKitGTK): serve and use the default browser."""
        self.build_now()
        error = self.wait_server()
        if error is not None:
            print(f"{APP_NAME} could not start: {error}", file=sys.stderr)
            return 1
        stop = threading.Event()
        self.lock.listen(lambda: _open_browser(self.page_url))
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        opened = webbrowser.open(self.page_url)
        print(
            f"No window could be opened here, so {APP_NAME} "
            f"{'opened in your default browser' if opened else 'is serving'} at {self.page_url}\n"
            "Keep this running while you use it; press Ctrl+C to quit.",
            file=sys.stderr,
            flush=True,
        )
        log.warning("no GUI backend: serving for the default browser", extra={"opened": opened})
        stop.wait()
        return 0


def run(composition: Composition, on_page: Callable[[AppWindow], int] | None = None) -> int:
    """Launch the desktop app; returns the process exit code. `on_page` (the smoke test) runs
    once the page is ready and its result is the exit code."""
    settings = composition.settings
    fill_missing_streams()
    # The lock comes before logging: configuring the log rolls the file over, which must never
    # happen under a running first instance.
    lock = InstanceLock.acquire(settings.lock_path)
    if lock is None:
        answered = ask_running_instance(settings.lock_path)
        if answered is False:
            print(f"{APP_NAME} is already running but does not answer.", file=sys.stderr)
            return 1
        if answered is True:
            return 0  # the running instance raised its window
        lock = answered  # it quit meanwhile: this launch is the first now
    with lock:
        setup = logs.configure(settings.log_dir, secrets=[settings.token], level=settings.log_level)
        try:
            return _run_locked(composition, lock, on_page)
        finally:
            log.info("exit")
            setup.close()


def _run_locked(
    composition: Composition, lock: InstanceLock, on_page: Callable[[AppWindow], int] | None
) -> int:
    settings = composition.settings
    launch = Launch(composition, lock)
    log.info(
        "launch",
        extra={"version": version(), "data_dir": str(settings.data_dir), "pid": os.getpid()},
    )
    launch.start_server_async()
    prepare_environment(settings.env)
    try:
        backend = gui_backend(settings.env)
        if backend is not None:
            try:
                return launch.run_window(backend, on_page)
            except Exception:
                # pywebview raises when the backend cannot start after all (a broken GTK install).
                log.exception("the %s window could not start", backend)
                launch.build_now()
        if on_page is not None or settings.smoke_test:  # a smoke test is about the window
            print("smoke test failed: no window could be opened here", file=sys.stderr)
            return 2
        return launch.run_in_browser()
    finally:
        launch.build_now()  # a window closed before its page loaded must not hold the build back
        launch.wait_server()
        launch.stop_server()


def _open_browser(url: str) -> None:
    webbrowser.open(url)
