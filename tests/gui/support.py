"""The GUI tier's helpers and fixtures: the real app (`python -m director_desktop`) in a
subprocess, its real GTK window on a virtual X display, keys sent with xdotool, and a window
manager (openbox) for raise/close.

Each test module gets its own Xvfb (tests/xvfb.py: `-displayfd`, the display number is the
readiness signal) and openbox. Every wait has a deadline and a readiness signal: the window
appearing (`xdotool search --sync`), a line in the app's log, an HTTP answer. Nothing sleeps to
let a race settle. Every process a test starts is gone when it ends.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.xvfb import display_env, terminate, xvfb

ROOT = Path(__file__).resolve().parents[2]
START_DEADLINE = 60.0
TITLE = "Director Desktop"


@dataclass
class Display:
    name: str
    env: dict[str, str]

    def xdotool(self, *args: str, timeout: float = 20.0) -> str:
        end = time.monotonic() + timeout
        while True:
            done = subprocess.run(
                ["xdotool", *args],
                env=self.env,
                capture_output=True,
                text=True,
                timeout=max(end - time.monotonic(), 1.0),
            )
            if done.returncode == 0:
                return done.stdout.strip()
            # `search` walks every window on the display; one that is destroyed mid-walk (GTK's
            # short-lived helper windows at start-up) makes X answer BadWindow and xdotool give
            # up. The search itself is a pure query, so it is asked again, within the deadline.
            vanished = args[0] == "search" and "BadWindow" in done.stderr
            if not vanished or time.monotonic() >= end:
                raise AssertionError(f"xdotool {' '.join(args)} failed: {done.stderr.strip()}")

    def active_window(self) -> str | None:
        done = subprocess.run(
            ["xdotool", "getactivewindow"], env=self.env, capture_output=True, text=True, timeout=10
        )
        return done.stdout.strip() if done.returncode == 0 else None

    def map_state(self, window: str) -> str:
        out = subprocess.run(
            ["xwininfo", "-id", window], env=self.env, capture_output=True, text=True, timeout=10
        ).stdout
        for line in out.splitlines():
            if "Map State:" in line:
                return line.split(":", 1)[1].strip()
        return "unknown"

    def xprop(self, window: str, prop: str) -> str:
        target = ["-root"] if window == "root" else ["-id", window]
        return subprocess.run(
            ["xprop", *target, prop], env=self.env, capture_output=True, text=True, timeout=10
        ).stdout

    def windows_of(self, pid: int) -> list[str]:
        """The top-level windows the window manager manages for `pid` (main window, dialogs)."""
        listed = self.xprop("root", "_NET_CLIENT_LIST")
        ids = [part.strip() for part in listed.split("#", 1)[-1].split(",") if part.strip()]
        return [str(int(w, 16)) for w in ids if f"= {pid}" in self.xprop(w, "_NET_WM_PID")]

    def screenshot(self, path: Path) -> Path:
        subprocess.run(
            ["import", "-window", "root", str(path)], env=self.env, check=True, timeout=30
        )
        return path


def wait_until(what: str, check: Callable[[], Any], deadline: float, interval: float = 0.05) -> Any:
    """Poll `check` until it answers something truthy, failing with `what` after `deadline` s."""
    end = time.monotonic() + deadline
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {deadline} s waiting for {what}")
        time.sleep(interval)


@pytest.fixture(scope="module")
def display() -> Iterator[Display]:
    """A private X display (Xvfb) with openbox managing windows, for one test module."""
    if shutil.which("Xvfb") is None:
        pytest.skip("gui tier needs Xvfb")
    with xvfb() as name:
        env = display_env(name)
        disp = Display(name, env)
        wm: subprocess.Popen[bytes] | None = None
        try:
            if shutil.which("openbox"):
                wm = subprocess.Popen(
                    ["openbox", "--sm-disable"],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                )
                wm_proc = wm

                def managing() -> bool:
                    if wm_proc.poll() is not None:
                        err = wm_proc.stderr.read().decode() if wm_proc.stderr else ""
                        raise AssertionError(f"openbox exited with {wm_proc.returncode}: {err}")
                    # openbox manages the screen once it sets _NET_SUPPORTING_WM_CHECK on the root.
                    return _wm_running(env)

                wait_until("openbox to manage the screen", managing, 20)
            yield disp
        finally:
            if wm is not None:
                terminate(wm)
                if wm.stderr is not None:
                    wm.stderr.close()


def _wm_running(env: dict[str, str]) -> bool:
    out = subprocess.run(
        ["xprop", "-root", "_NET_SUPPORTING_WM_CHECK"], env=env, capture_output=True, text=True
    ).stdout
    return "window id" in out


@dataclass
class App:
    """One launch of the real app in its own data dir."""

    data_dir: Path
    token: str
    process: subprocess.Popen[bytes]
    display: Display
    log_path: Path
    started: float = field(default_factory=time.monotonic)
    _base_url: str | None = None

    def log_records(self) -> list[dict[str, Any]]:
        try:
            lines = self.log_path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        records: list[dict[str, Any]] = []
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("message") == "launch":
                # The file may still hold an earlier launch's lines: keep this process's only.
                records = []
                if record.get("pid") != self.process.pid:
                    continue
            records.append(record)
        if records and records[0].get("pid") != self.process.pid:
            return []
        return records

    def wait_log(self, message_prefix: str, deadline: float = START_DEADLINE) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            exited = self.process.poll() is not None  # before reading: no line can be missed
            for record in self.log_records():
                if str(record.get("message", "")).startswith(message_prefix):
                    return record
            if exited:
                log = self.log_path.read_text() if self.log_path.exists() else ""
                raise AssertionError(
                    f"app exited with {self.process.returncode} before logging "
                    f"{message_prefix!r}; log:\n{log}"
                )
            return None

        return wait_until(f"log line {message_prefix!r}", found, deadline)

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            record = self.wait_log("serving at ")
            self._base_url = f"http://127.0.0.1:{record['port']}"
        return self._base_url

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=10,
        )

    def get(self, path: str) -> Any:
        with self.client() as client:
            answer = client.get(path)
        answer.raise_for_status()
        return answer.json()

    def windows(self) -> list[str]:
        """The app's visible top-level windows (the main window, plus any dialog)."""
        return self.display.windows_of(self.process.pid)

    def other_window(self, main: str) -> str | None:
        others = [w for w in self.windows() if w != main]
        return others[0] if others else None

    def window_id(self, deadline: float = START_DEADLINE) -> str:
        out = self.display.xdotool(
            "search",
            "--sync",
            "--onlyvisible",
            "--pid",
            str(self.process.pid),
            "--name",
            TITLE,
            timeout=deadline,
        )
        return out.splitlines()[0]

    def wait_exit(self, deadline: float) -> int:
        try:
            return self.process.wait(timeout=deadline)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"app did not exit within {deadline} s") from None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


def launch(
    display: Display,
    data_dir: Path,
    *extra: str,
    token: str | None = None,
    env: dict[str, str] | None = None,
) -> App:
    token = token or secrets.token_urlsafe(32)
    env = {**display.env, **(env or {})}
    env["DIRECTOR_LOG_DIR"] = str(data_dir / "logs")
    env.pop("DIRECTOR_DATA_DIR", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "director_desktop",
            "--data-dir",
            str(data_dir),
            f"--token={token}",  # a token may start with "-"
            *extra,
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    return App(data_dir, token, process, display, data_dir / "logs" / "director-desktop.log")


def descendants(pid: int) -> set[int]:
    """Every process below `pid` (WebKit's web and network processes, a model server...)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def apps(display: Display) -> Iterator[Callable[..., App]]:
    """Launch apps; whatever is still running at the end is killed, with its process group."""
    started: list[App] = []

    def start(
        data_dir: Path, *extra: str, token: str | None = None, env: dict[str, str] | None = None
    ) -> App:
        app = launch(display, data_dir, *extra, token=token, env=env)
        started.append(app)
        return app

    yield start
    for app in started:
        if app.process.poll() is None:
            os.killpg(app.process.pid, signal.SIGKILL)
            app.process.wait(timeout=10)
