"""Cold start of the desktop app, from source: launch → page ready, median of several runs.

    .venv/bin/python bench/startup_bench.py [--runs 7]

Runs under its own Xvfb (no window manager needed). Each run starts a new process in a fresh
data dir (a new database, migrated on open) and ends when the page reports ready
(`document.documentElement.dataset.ready = "1"`, which the Vue app sets once its socket is
connected and the first view rendered); the app logs that moment and the harness sees the line.

Baseline, measured the same way in the same run: the floor any pywebview app pays here, a bare
`webview.create_window` + `webview.start(gui="gtk")` process showing a page that sets the same
flag at once. The ratio says what the app adds on top of the toolkit (imports, the server and
store, the loading page, the Vue bundle, the socket handshake). Launches of the two kinds
alternate, so a change in machine load affects both. The OS file cache is warm after the first
run ("cold" means a new process and a new data dir, not a cold disk).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.xvfb import display_env, xvfb  # noqa: E402

DEADLINE = 60.0

FLOOR_APP = """
import sys, time, webview
page = (
    "<!doctype html><title>floor</title>"
    "<script>document.documentElement.dataset.ready='1'</script>"
)
window = webview.create_window("floor", html=page)
def watch():
    while window.evaluate_js("document.documentElement.dataset.ready") != "1":
        time.sleep(0.005)
    print("ready", flush=True)
webview.start(watch, gui="gtk", private_mode=False, storage_path=sys.argv[1])
"""


def wait_for(what: str, check: Callable[[], bool], proc: subprocess.Popen[bytes]) -> float:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if check():
            return time.monotonic()
        if proc.poll() is not None:
            raise SystemExit(f"{what}: the process exited with {proc.returncode}")
        time.sleep(0.005)
    raise SystemExit(f"{what}: not ready within {DEADLINE} s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)  # the measurement is over; WebKit's helpers too
    proc.wait()


def launch_app(env: dict[str, str], work: Path) -> float:
    data = work / "data"
    log = data / "logs" / "director-desktop.log"
    run_env = {**env, "DIRECTOR_LOG_DIR": str(log.parent)}
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "director_desktop", "--data-dir", str(data),
         f"--token={secrets.token_urlsafe(32)}"],
        env=run_env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip

    def ready() -> bool:
        try:
            return any(
                json.loads(line).get("message", "").startswith("page ready after")
                for line in log.read_text(encoding="utf-8").splitlines()
            )
        except (OSError, ValueError):
            return False

    try:
        return wait_for("director-desktop", ready, proc) - started
    finally:
        stop(proc)


def launch_floor(env: dict[str, str], work: Path) -> float:
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-c", FLOOR_APP, str(work / "webview")],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    assert proc.stdout is not None
    os.set_blocking(proc.stdout.fileno(), False)
    seen = b""

    def ready() -> bool:
        nonlocal seen
        chunk = proc.stdout.read() if proc.stdout else None
        seen += chunk or b""
        return b"ready" in seen

    try:
        return wait_for("bare pywebview", ready, proc) - started
    finally:
        stop(proc)
        proc.stdout.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    ours: list[float] = []
    floor: list[float] = []
    with xvfb() as display:
        env = display_env(display)
        for run in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="startup-bench-") as tmp:
                floor.append(launch_floor(env, Path(tmp)))
            with tempfile.TemporaryDirectory(prefix="startup-bench-") as tmp:
                ours.append(launch_app(env, Path(tmp)))
            print(f"run {run + 1}: app {ours[-1]:.3f} s, bare pywebview {floor[-1]:.3f} s")
    app_median, floor_median = statistics.median(ours), statistics.median(floor)
    print()
    print(f"cold start, launch -> page ready ({args.runs} runs, median)")
    print(f"  director-desktop (from source)  {app_median:.3f} s  (min {min(ours):.3f})")
    print(f"  bare pywebview window (floor)   {floor_median:.3f} s  (min {min(floor):.3f})")
    print(f"  ratio app / floor               {app_median / floor_median:.2f}x")
    print(f"  added by the app                {app_median - floor_median:+.3f} s")


if __name__ == "__main__":
    main()
