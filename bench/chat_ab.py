"""A/B of the chat server between two checkouts: the bench's `ours` server from each, in turns.

    .venv/bin/python bench/chat_ab.py OLD_TREE NEW_TREE [--rounds 4] [--clients 1] [--updates 2]

Make OLD_TREE with `git worktree add /tmp/old <commit>`. Each round starts each tree's
`chat_bench.py --serve-ours` pinned to CPU 0 (the order alternating), warms it up for a second
with the Node load generator on CPU 1, then drives it for 5 s and reads the server's CPU time
from /proc. It prints, per tree, the median over rounds of the turn p50 and of the server's CPU
per turn, then every round. Small changes drown in run-to-run noise on a shared machine:
compare medians over several rounds, and trust CPU per turn more than latency.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LOADGEN = ROOT / "bench" / "baselines" / "node" / "loadgen.js"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def drive(url: str, token: str, clients: int, seconds: int) -> dict[str, Any]:
    out = subprocess.run(
        ["taskset", "-c", "1", "node", str(LOADGEN), "--url", url, "--mode", "load",
         "--clients", str(clients), "--duration", str(seconds)],
        env={**os.environ, "BENCH_TOKEN": token}, capture_output=True, text=True, check=True,
        timeout=seconds + 60,
    ).stdout  # fmt: skip
    result: dict[str, Any] = json.loads(out.split("RESULT ", 1)[1])
    return result


def one_round(tree: Path, clients: int, updates: int, work: Path) -> tuple[float, float]:
    data = work / "data"
    shutil.rmtree(work, ignore_errors=True)
    server = subprocess.Popen(
        ["taskset", "-c", "0", sys.executable, str(tree / "bench" / "chat_bench.py"),
         "--serve-ours", "--updates", str(updates), "--data-dir", str(data)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        found = re.search(r"(http://127\.0\.0\.1:\d+)/#token=(\S+)", line)
        if found is None:
            raise RuntimeError(f"{tree}: no URL line, got {line!r}")
        url, token = found.groups()
        drive(url, token, clients, 1)  # warm-up
        before = cpu_seconds(server.pid)
        result = drive(url, token, clients, 5)
        spent = cpu_seconds(server.pid) - before
        finals = sorted(result["final_ms"])
        turns = int(result["turns_done"])
        return finals[len(finals) // 2], spent / turns * 1e6
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--updates", type=int, default=2)
    args = parser.parse_args()
    trees = {"old": args.old, "new": args.new}
    rows: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
    with tempfile.TemporaryDirectory(prefix="chat-ab-") as tmp:
        for index in range(args.rounds):
            order = list(trees.items()) if index % 2 == 0 else list(trees.items())[::-1]
            for name, tree in order:
                work = Path(tmp) / name
                rows[name].append(one_round(tree, args.clients, args.updates, work))
    for name, runs in rows.items():
        p50 = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        each = ", ".join(f"{a:.2f} ms/{b:.0f} µs" for a, b in runs)
        print(f"{name}: turn p50 {p50:.3f} ms, server CPU {cpu:.0f} µs per turn  ({each})")


if __name__ == "__main__":
    main()
