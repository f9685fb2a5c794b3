"""The command line: arguments → Settings → the window (launcher) or the headless server.

Settings are built here once and handed to the composition root, which builds every other part
once. The launcher is imported lazily: the window's libraries load only when a window is wanted.
"""

from __future__ import annotations

import argparse
import importlib
import multiprocessing
import sys
from collections.abc import Sequence
from pathlib import Path

from director_desktop import version
from director_desktop.composition import Composition
from director_desktop.settings import LOOPBACK, Settings, build_settings


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0-65535, not {port}")
    return port


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="director-desktop",
        description="Director Desktop: the Director chat experience, offline, on this computer.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    p.add_argument(
        "--headless",
        action="store_true",
        help="serve without a window and print the URL to open (for machines with no screen)",
    )
    p.add_argument("--port", type=port_number, default=0, help="port to listen on (default: any)")
    p.add_argument("--data-dir", type=Path, help="where chats and models live")
    p.add_argument("--log-dir", type=Path, help="where log files go")
    p.add_argument("--token", help="the access token (default: a fresh random one each launch)")
    p.add_argument(
        "--host",
        default=LOOPBACK,
        help="address to listen on (default 127.0.0.1; any other is reachable from the network)",
    )
    p.add_argument("--smoke-test", action="store_true", help=argparse.SUPPRESS)
    return p


def settings_from(args: argparse.Namespace) -> Settings:
    if args.token is not None and len(args.token) < 16:
        parser().error("--token must be at least 16 characters")
    return build_settings(
        data_dir=args.data_dir,
        log_dir=args.log_dir,
        host=args.host,
        port=args.port,
        token=args.token,
        headless=args.headless,
        smoke_test=args.smoke_test,
    )


def main(argv: Sequence[str] | None = None) -> int:
    # First of all: in a frozen build a multiprocessing child re-runs this entry point, and must
    # turn into the child here instead of starting a second app.
    multiprocessing.freeze_support()
    args = parser().parse_args(argv)
    settings = settings_from(args)
    composition = Composition(settings)
    if settings.headless:
        return _headless(composition)
    try:
        launcher = importlib.import_module("director_desktop.launcher")
    except ImportError as exc:  # a build without the window's libraries still serves the UI
        missing = exc.name or "a library"
        if settings.smoke_test:  # the smoke test is about the window: serving forever is a hang
            print(f"smoke test failed: {missing} cannot be imported", file=sys.stderr, flush=True)
            return 1
        print(
            f"The desktop window is not available ({missing} cannot be imported); "
            "serving headless instead.",
            file=sys.stderr,
            flush=True,
        )
        return _headless(composition)
    return int(launcher.run(composition))


def _headless(composition: Composition) -> int:
    from director_desktop import headless

    return headless.run(composition.settings, composition.app)
