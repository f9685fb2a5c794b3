"""Headless: the server without a window (PROTOCOL section 1), for machines with no screen and
for tests, benchmarks and browser clients.

Prints exactly one flushed line, `Director Desktop at http://127.0.0.1:<port>/#token=<token>`, once
the server accepts connections; SIGINT or SIGTERM shut it down gracefully with exit code 0.
The app is built by the factory the composition root hands in.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

from director_desktop import logs
from director_desktop.asgi import AppFactory
from director_desktop.metrics import loaded_packages
from director_desktop.server import Server, ServerError
from director_desktop.settings import Settings

log = logging.getLogger(__name__)

WAIT_SLICE = 0.5  # how often the main thread wakes to let Python run signal handlers (Windows)


def url_line(settings: Settings, port: int) -> str:
    wildcard = settings.host in ("0.0.0.0", "::")  # noqa: S104 - naming it, not binding it
    shown = "127.0.0.1" if settings.is_loopback or wildcard else settings.host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"Director Desktop at http://{shown}:{port}/#token={settings.token}"


def run(settings: Settings, factory: AppFactory) -> int:
    setup = logs.configure(settings.log_dir, secrets=[settings.token], level=settings.log_level)
    try:
        return _serve(settings, factory)
    finally:
        setup.close()


def _serve(settings: Settings, factory: AppFactory) -> int:
    if not settings.is_loopback:
        warn_not_loopback(settings.host)
    try:
        server = Server.bind(settings.host, settings.port)
    except ServerError as exc:
        _say(f"Director Desktop could not start: {exc}")
        return 1
    stop = threading.Event()
    restore = _on_signals(lambda: stop.set())
    try:
        server.start(factory(server.port))
    except ServerError as exc:
        restore()
        _say(f"Director Desktop could not start: {exc}")
        return 1
    log.info("serving headless", extra={"port": server.port})
    log.debug("modules at ready", extra={"modules": " ".join(loaded_packages())})
    if sys.stdout is not None:
        print(url_line(settings, server.port), flush=True)
    try:
        while not stop.wait(WAIT_SLICE):
            if not server.running:  # the server died under us
                log.error("server thread ended unexpectedly")
                return 1
        log.info("stopping on signal")
    finally:
        restore()
        server.stop()
    return 0


def _on_signals(handler: Callable[[], None]) -> Callable[[], None]:
    """Route SIGINT/SIGTERM to `handler`; returns a function restoring the previous handlers."""

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        handler()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore


def warn_not_loopback(host: str) -> None:
    message = (
        f"warning: listening on {host}, not loopback: anyone on the network who learns the "
        "token can use this app"
    )
    log.warning("listening on a non-loopback address", extra={"host": host})
    _say(message)


def _say(text: str) -> None:
    if sys.stderr is not None:
        print(text, file=sys.stderr, flush=True)
