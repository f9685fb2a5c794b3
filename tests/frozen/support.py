"""Helpers of the frozen tier: building `director.spec`, a fresh user's environment, running the
frozen app's `--smoke-test` while watching for its window, and `--headless` launches.

Every wait has a deadline and a readiness signal (the printed URL line, the window mapped on
the display, the process exiting); nothing sleeps to let a race settle.
"""

from __future__ import annotations

import hashlib
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist"
WORK = ROOT / ".pyinstaller"
ONEDIR = DIST / "director-desktop"
EXECUTABLE = ONEDIR / "director-desktop"
STAMP = WORK / "inputs.sha256"
APP_NAME = "Director Desktop"
BUILD_TIMEOUT = 900.0
SMOKE_TIMEOUT = 240.0
START_DEADLINE = 60.0

# What a build depends on, besides the installed distributions (hashed by name and version).
INPUT_GLOBS = (
    "director.spec",
    "build/pyinstaller_entry.py",
    "pyproject.toml",
    "requirements/*.txt",
    "director_desktop/**/*",
    "frontend_dist/**/*",
)


def build_inputs_digest() -> str:
    digest = hashlib.sha256()
    for pattern in INPUT_GLOBS:
        for path in sorted(ROOT.glob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(ROOT)).encode())
                digest.update(path.read_bytes())
    for dist_info in sorted(Path(sys.prefix).glob("lib/python*/site-packages/*.dist-info")):
        digest.update(dist_info.name.encode())
    return digest.hexdigest()


def build_frozen_app(*, reuse: bool) -> Path:
    """`pyinstaller director.spec` into dist/; with `reuse`, skipped when nothing it reads changed
    since the last build made here."""
    digest = build_inputs_digest()
    if reuse and EXECUTABLE.exists() and STAMP.exists() and STAMP.read_text() == digest:
        return EXECUTABLE
    WORK.mkdir(exist_ok=True)
    STAMP.unlink(missing_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "PyInstaller", "director.spec", "--noconfirm",
         "--distpath", str(DIST), "--workpath", str(WORK), "--log-level", "WARN"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.fail(f"pyinstaller director.spec failed ({done.returncode}):\n{done.stderr[-4000:]}")
    assert EXECUTABLE.exists(), f"the build made no {EXECUTABLE}"
    STAMP.write_text(digest)
    return EXECUTABLE


def build_deb(onedir: Path) -> Path:
    done = subprocess.run(
        [str(ROOT / "build" / "linux" / "build-deb.sh"), str(onedir), str(DIST)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )
    if done.returncode != 0:
        pytest.fail(f"build-deb.sh failed ({done.returncode}):\n{done.stderr[-4000:]}")
    deb = Path(done.stdout.strip().splitlines()[-1])
    assert deb.is_file(), deb
    assert deb.name.endswith("_amd64.deb"), deb
    return deb


@dataclass
class FreshUser:
    """A user who never ran the app: an empty HOME, no XDG_* but a private runtime dir."""

    home: Path
    env: dict[str, str]

    @property
    def data_dir(self) -> Path:
        return self.home / ".local" / "share" / APP_NAME

    @property
    def log_dir(self) -> Path:
        return self.home / ".local" / "state" / APP_NAME / "log"


def fresh_user_env(root: Path, display: str) -> FreshUser:
    home = root / "home"
    home.mkdir()
    runtime = root / "run"
    runtime.mkdir(mode=0o700)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("XDG_", "DIRECTOR_", "WAYLAND_", "DBUS_"))
        and key not in ("HOME", "XAUTHORITY", "DISPLAY", "PYTHONPATH", "VIRTUAL_ENV")
    }
    env.update(HOME=str(home), XDG_RUNTIME_DIR=str(runtime), DISPLAY=display)
    return FreshUser(home, env)


@dataclass
class Finished:
    returncode: int
    stdout: str
    stderr: str


def run_smoke_test(command: list[str], user: FreshUser, timeout: float = SMOKE_TIMEOUT) -> Finished:
    """Run `command --smoke-test`; meanwhile xdotool waits on the display for the app's window to
    be mapped. Fails when the window never showed or the run overstays `timeout`."""
    app = subprocess.Popen(
        [*command, "--smoke-test"],
        env=user.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    watcher = subprocess.Popen(
        ["xdotool", "search", "--sync", "--onlyvisible", "--name", APP_NAME],
        env=user.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        stdout, stderr = app.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(app.pid, signal.SIGKILL)
        stdout, stderr = app.communicate()
        pytest.fail(f"the smoke test did not finish within {timeout} s:\n{stderr[-4000:]}")
    finally:
        window_seen = watcher.poll() == 0
        if watcher.poll() is None:
            watcher.kill()
        watcher.wait()
    assert window_seen, f"no visible {APP_NAME!r} window was mapped; stderr:\n{stderr[-4000:]}"
    return Finished(app.returncode, stdout, stderr)


@dataclass
class Headless:
    """One `--headless` launch and the URL it printed."""

    process: subprocess.Popen[str]
    url: str

    @property
    def base_url(self) -> str:
        return self.url.split("/#", 1)[0]

    @property
    def token(self) -> str:
        return self.url.split("/#token=", 1)[1]

    def request(
        self, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: object
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        return httpx.request(method, self.base_url + path, headers=headers, timeout=60, **kwargs)  # type: ignore[arg-type]

    def get(self, path: str) -> object:
        answer = self.request("GET", path)
        assert answer.status_code == 200, (path, answer.status_code, answer.text)
        return answer.json()

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, then the exit code; a process that ignores it is killed and the test fails."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.communicate()
            pytest.fail(f"the app did not exit within {timeout} s of SIGTERM")
        return self.process.returncode

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.communicate()


def first_line(process: subprocess.Popen[str], deadline: float) -> str:
    """The first stdout line of `process`; fails with its stderr if it exits or stays silent."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        end = time.monotonic() + deadline
        while (left := end - time.monotonic()) > 0:
            if selector.select(timeout=left):
                line = process.stdout.readline()
                if line:
                    return line.strip()
                break  # EOF: stdout closed without a line
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    _, err = process.communicate()
    raise AssertionError(f"no URL line within {deadline} s (exit {process.returncode}):\n{err}")


def start_headless(command: list[str], user: FreshUser, data_dir: Path) -> Headless:
    process = subprocess.Popen(
        [*command, "--headless", "--data-dir", str(data_dir)],
        env=user.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    line = first_line(process, START_DEADLINE)
    prefix = f"{APP_NAME} at http://127.0.0.1:"
    assert line.startswith(prefix), line
    assert "/#token=" in line, line
    return Headless(process, line.removeprefix(f"{APP_NAME} at "))


# PyInstaller's multiprocessing runtime hook (`freeze_support()`, which `cli.main` calls first)
# runs the code of `<exe> <interpreter flags> -c "from multiprocessing.resource_tracker import
# main..."` itself, in the frozen interpreter, when the flags are the frozen interpreter's own:
# that is how a frozen app starts multiprocessing's resource tracker. The tests use it to run a
# script inside the bundle. These are the flags PyInstaller's bootloader gives that interpreter
# (`subprocess._args_from_interpreter_flags()` inside it: no bytecode written, no site, isolated).
IN_BUNDLE_FLAGS = ("-B", "-S", "-I")
IN_BUNDLE_CODE = (
    "from multiprocessing.resource_tracker import main; import runpy, sys; "
    "sys.argv = sys.argv[sys.argv.index('-c') + 2:]; "
    "runpy.run_path(sys.argv[0], run_name='__main__')"
)


def run_in_bundle(
    executable: Path, script: Path, *args: str, env: dict[str, str], timeout: float = 300.0
) -> dict[str, Any]:
    """Run `script` (plain Python that imports only what the bundle holds) in the frozen app's own
    interpreter; answers the JSON object it prints last."""
    done = subprocess.run(
        [str(executable), *IN_BUNDLE_FLAGS, "-c", IN_BUNDLE_CODE, str(script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if "usage: director-desktop" in done.stderr:
        pytest.fail(
            f"the frozen app did not run the script: PyInstaller's multiprocessing hook no longer "
            f"takes {' '.join(IN_BUNDLE_FLAGS)} -c (its interpreter flags changed?)"
        )
    assert done.returncode == 0, (
        f"{script.name} {args} failed ({done.returncode}):\n{done.stderr[-4000:]}"
    )
    lines = done.stdout.strip().splitlines()
    assert lines, f"{script.name} printed nothing; stderr:\n{done.stderr[-4000:]}"
    answer = json.loads(lines[-1])
    assert isinstance(answer, dict), answer
    return answer


def bundled_ffmpeg(frozen_app: Path) -> Path:
    """The one ffmpeg imageio-ffmpeg carries, inside the onedir."""
    found = sorted(
        (frozen_app.parent / "_internal" / "imageio_ffmpeg" / "binaries").glob("ffmpeg*")
    )
    assert len(found) == 1, f"expected one bundled ffmpeg, found {found}"
    return found[0]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree(path: Path) -> dict[str, tuple[int, int]]:
    """Every file under `path` with its size and mtime: proof that nothing was written there."""
    return {
        str(p.relative_to(path)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in path.rglob("*")
        if p.is_file()
    }
