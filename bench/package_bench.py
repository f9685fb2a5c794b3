"""The packaged app: bundle sizes, and frozen cold start against the same app from source.

    .venv/bin/python bench/package_bench.py [--runs 7] [--build] [--json out.json]

Sizes: the PyInstaller onedir (`dist/director-desktop/`, built from `director.spec` when missing
or with `--build`) with its five largest parts, and the `.deb` that `build/linux/build-deb.sh`
makes from it (into a temporary folder). Target: the `.deb` under 120 MB.

Cold start: launch -> page ready in the real window under a private Xvfb, for the frozen
executable and for `python -m director_desktop` from this checkout, alternating so that a change
in machine load affects both. Each launch is a new process with a fresh data dir (a new database,
migrated on open); it ends when the app logs "page ready after" (the page set
`document.documentElement.dataset.ready = "1"`: socket connected, first view rendered). Median of
`--runs`. Target: frozen no slower than source (ratio <= 1). The OS file cache is warm after the
first run: "cold" means a new process and a new data dir, not a cold disk.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ONEDIR = ROOT / "dist" / "director-desktop"
EXECUTABLE = ONEDIR / "director-desktop"
DEADLINE = 90.0
DEB_TARGET_MB = 120.0
MB = 1_000_000
MIB = 1 << 20


def build_onedir() -> None:
    subprocess.run(
        [sys.executable, "-m", "PyInstaller", "director.spec", "--noconfirm",
         "--distpath", "dist", "--workpath", ".pyinstaller", "--log-level", "WARN"],
        cwd=ROOT, check=True,
    )  # fmt: skip


def size_of(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def build_deb(outdir: Path) -> Path:
    done = subprocess.run(
        [str(ROOT / "build" / "linux" / "build-deb.sh"), str(ONEDIR), str(outdir)],
        cwd=ROOT, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return Path(done.stdout.strip().splitlines()[-1])


def start_display() -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    read_fd, write_fd = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        number = pipe.readline().decode().strip()
    if not number.isdigit():
        raise SystemExit("Xvfb did not start")
    env = {
        k: v
        for k, v in os.environ.items()
        if k != "WAYLAND_DISPLAY" and not k.startswith("DIRECTOR_")
    }
    env["DISPLAY"] = f":{number}"
    return xvfb, env


def launch(command: list[str], env: dict[str, str], work: Path) -> float:
    """Seconds from starting `command` to the app's "page ready after" log line."""
    data, logs = work / "data", work / "logs"
    log = logs / "director-desktop.log"
    started = time.monotonic()
    proc = subprocess.Popen(
        [*command, "--data-dir", str(data), "--log-dir", str(logs),
         f"--token={secrets.token_urlsafe(32)}"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = started + DEADLINE
        while time.monotonic() < deadline:
            if page_ready(log):
                return time.monotonic() - started
            if proc.poll() is not None:
                raise SystemExit(f"{command[0]} exited with {proc.returncode} before page ready")
            time.sleep(0.005)  # polling the log file: the harness's own sampling interval
        raise SystemExit(f"{command[0]}: page not ready within {DEADLINE} s")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the measurement is over; WebKit's helpers too
        proc.wait()


def page_ready(log: Path) -> bool:
    try:
        lines = log.read_text(encoding="utf-8").splitlines()
    except OSError:
        return False
    for line in lines:
        try:
            if str(json.loads(line).get("message", "")).startswith("page ready after"):
                return True
        except ValueError:
            continue
    return False


def measure_start(runs: int) -> tuple[list[float], list[float]]:
    xvfb, env = start_display()
    frozen: list[float] = []
    source: list[float] = []
    try:
        for run in range(runs):
            with tempfile.TemporaryDirectory(prefix="package-bench-") as tmp:
                source.append(launch([sys.executable, "-m", "director_desktop"], env, Path(tmp)))
            with tempfile.TemporaryDirectory(prefix="package-bench-") as tmp:
                frozen.append(launch([str(EXECUTABLE)], env, Path(tmp)))
            print(f"run {run + 1}: frozen {frozen[-1]:.3f} s, source {source[-1]:.3f} s")
    finally:
        xvfb.terminate()
        xvfb.wait()
    return frozen, source


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--build", action="store_true", help="rebuild dist/director-desktop first")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    if args.build or not EXECUTABLE.exists():
        build_onedir()

    onedir = size_of(ONEDIR)
    parts = sorted(((size_of(p), p.name) for p in (ONEDIR / "_internal").iterdir()), reverse=True)
    with tempfile.TemporaryDirectory(prefix="package-bench-deb-") as tmp:
        deb = size_of(build_deb(Path(tmp)))
    print(f"onedir dist/director-desktop   {onedir / MIB:7.1f} MiB")
    for size, name in parts[:5]:
        print(f"  {name:<28} {size / MIB:7.1f} MiB")
    verdict = "meets" if deb / MB < DEB_TARGET_MB else "MISSES"
    print(
        f".deb                           {deb / MB:7.1f} MB  ({verdict} < {DEB_TARGET_MB:.0f} MB)"
    )
    print()

    frozen, source = measure_start(args.runs)
    frozen_median, source_median = statistics.median(frozen), statistics.median(source)
    ratio = frozen_median / source_median
    print()
    print(f"cold start, launch -> page ready ({args.runs} runs each, median)")
    print(f"  frozen (dist/director-desktop)   {frozen_median:.3f} s  (min {min(frozen):.3f})")
    print(f"  from source (python -m)          {source_median:.3f} s  (min {min(source):.3f})")
    verdict = "meets" if ratio <= 1.0 else "MISSES"
    print(f"  ratio frozen / source            {ratio:.2f}x  ({verdict} <= 1)")
    if args.json:
        figures = {
            "onedir_bytes": onedir,
            "deb_bytes": deb,
            "frozen_start_s": frozen,
            "source_start_s": source,
            "frozen_median_s": frozen_median,
            "source_median_s": source_median,
            "ratio": ratio,
        }
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
