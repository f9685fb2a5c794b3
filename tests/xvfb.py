"""A private X display for the tiers that show a real window (gui, frozen) and the benches that
time one: Xvfb started with `-displayfd`, so the display number it writes once it accepts
clients is the readiness signal (no polling, no sleep), and stopped with a deadline
(`terminate`, also for a window manager started on it).

Shared by tests/gui/support.py, tests/frozen/conftest.py, bench/startup_bench.py and
bench/package_bench.py. Imports only the standard library.

    with xvfb() as display:          # ":N"
        env = display_env(display)   # os.environ pointed at it
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

SCREEN = "1280x800x24"


@contextmanager
def xvfb(screen: str = SCREEN) -> Iterator[str]:
    """Start Xvfb, yield its display name (":N") once it accepts clients, stop it on exit."""
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", screen, "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        with os.fdopen(read_fd, "rb") as pipe:
            number = pipe.readline().decode().strip()  # Xvfb writes it once it accepts clients
        assert number.isdigit(), f"Xvfb did not report a display (exit {server.poll()})"
        yield f":{number}"
    finally:
        terminate(server)


def terminate(proc: subprocess.Popen[bytes], deadline: float = 10.0) -> None:
    """SIGTERM a process started for the display (Xvfb, a window manager); SIGKILL it if it is
    still there after `deadline` s. Returns once it has exited."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=deadline)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def display_env(display: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """`base` (default: this process's environment) with DISPLAY set to `display`, and no
    Wayland display or X authority file that would send a toolkit elsewhere (this Xvfb has no
    access control)."""
    env = {
        k: v
        for k, v in (os.environ if base is None else base).items()
        if k not in ("WAYLAND_DISPLAY", "XAUTHORITY")
    }
    env["DISPLAY"] = display
    return env
