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
`--runs`, which of the two goes first alternating. Target: frozen no slower than source (ratio
<= 1). Also printed: the CPU time the app's own process used until page ready, which moves far
less than wall time when other work shares the machine. The OS file cache is warm after the
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
sys.path.insert(0, str(ROOT))

from tests.xvfb import display_env, xvfb  # noqa: E402

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


def launch(command: list[str], env: dict[str, str], work: Path) -> tuple[float, float]:
    """Seconds from starting `command` to the app's "page ready after" log line, and the CPU
    seconds the app's own process (not WebKit's helper processes) had used by then."""
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
                return time.monotonic() - started, cpu_seconds(proc.pid)
            if proc.poll() is not None:
                raise SystemExit(f"{command[0]} exited with {proc.returncode} before page ready")
            time.sleep(0.005)  # polling the log file: the harness's own sampling interval
        raise SystemExit(f"{command[0]}: page not ready within {DEADLINE} s")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the measurement is over; WebKit's helpers too
        proc.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process, all its threads (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


def measure_start(runs: int) -> dict[str, list[tuple[float, float]]]:
    # No DIRECTOR_* variable of this shell reaches the measured launches.
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DIRECTOR_")}
    results: dict[str, list[tuple[float, float]]] = {"frozen": [], "source": []}
    commands = {"frozen": [str(EXECUTABLE)], "source": [sys.executable, "-m", "director_desktop"]}
    with xvfb() as display:
        env = display_env(display, clean)
        for run in range(runs):
            # Which goes first alternates, so neither always follows the other's page cache.
            for kind in ("frozen", "source") if run % 2 else ("source", "frozen"):
                with tempfile.TemporaryDirectory(prefix="package-bench-") as tmp:
                    results[kind].append(launch(commands[kind], env, Path(tmp)))
            (frozen, frozen_cpu), (source, source_cpu) = (
                results["frozen"][-1],
                results["source"][-1],
            )
            print(
                f"run {run + 1}: frozen {frozen:.3f} s ({frozen_cpu:.2f} s CPU), "
                f"source {source:.3f} s ({source_cpu:.2f} s CPU)"
            )
    return results


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

    results = measure_start(args.runs)
    wall = {kind: [w for w, _ in runs] for kind, runs in results.items()}
    cpu = {kind: [c for _, c in runs] for kind, runs in results.items()}
    median = {kind: statistics.median(values) for kind, values in wall.items()}
    cpu_median = {kind: statistics.median(values) for kind, values in cpu.items()}
    ratio = median["frozen"] / median["source"]
    cpu_ratio = cpu_median["frozen"] / cpu_median["source"]
    print()
    print(f"cold start, launch -> page ready ({args.runs} runs each, median)")
    for kind, label in (("frozen", "frozen (dist/director-desktop)"), ("source", "from source")):
        print(
            f"  {label:<32} {median[kind]:.3f} s  (min {min(wall[kind]):.3f}), "
            f"app process CPU {cpu_median[kind]:.2f} s"
        )
    verdict = "meets" if ratio <= 1.0 else "MISSES"
    print(f"  ratio frozen / source, wall      {ratio:.2f}x  ({verdict} <= 1)")
    print(
        f"  ratio frozen / source, CPU       {cpu_ratio:.2f}x  (steadier when the machine is busy)"
    )
    if args.json:
        figures = {
            "onedir_bytes": onedir,
            "deb_bytes": deb,
            "start_s": wall,
            "start_cpu_s": cpu,
            "median_s": median,
            "cpu_median_s": cpu_median,
            "ratio": ratio,
            "cpu_ratio": cpu_ratio,
        }
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
