"""A/B of the chat server between two checkouts: the bench's `ours` server from each, in turns.

    .venv/bin/python bench/chat_ab.py OLD_TREE NEW_TREE [--rounds 4] [--clients 1] [--updates 2]

Make OLD_TREE with `git worktree add /tmp/old <commit>`. Each round starts each tree's
`chat_bench.py --serve-ours` pinned to CPU 0 (the order alternating), warms it up for a second
with the Node load generator on CPU 1, then drives it for 5 s and reads the server's CPU time
from /proc, all through chat_bench's own helpers. It prints, per tree, the median over rounds of
the turn p50 and of the server's CPU per turn, then every round. Small changes drown in
run-to-run noise on a shared machine: compare medians over several rounds, and trust CPU per
turn more than latency.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
from pathlib import Path

from chat_bench import (
    SERVER_CPU,
    URL_LINE,
    Options,
    cpu_seconds,
    percentile,
    pin,
    run_loadgen,
    spawn,
)

OPTIONS = Options(quick=False, pinned=True)  # the load generator on CPU 1, as in chat_bench


def one_round(tree: Path, clients: int, updates: int, work: Path) -> tuple[float, float]:
    """Turn p50 (ms) and server CPU per turn (us) of `tree`'s `ours` server under load."""
    # The venv's editable install points at this checkout: PYTHONPATH makes each tree's server
    # import its own `director_desktop`. `env` execs python, so the pid pinned below is the server.
    args = ["env", f"PYTHONPATH={tree}", sys.executable]
    args += [str(tree / "bench" / "chat_bench.py"), "--serve-ours"]
    args += ["--updates", str(updates), "--data-dir", str(work / "data")]
    server = spawn("ours", args, work, secrets.token_urlsafe(32), URL_LINE)
    try:
        pin(server.pid, SERVER_CPU)
        load = ("--clients", str(clients), "--duration")
        run_loadgen(server, "load", OPTIONS, *load, "1", timeout=60)  # warm-up
        before = cpu_seconds(server.pid)
        result = run_loadgen(server, "load", OPTIONS, *load, "5", timeout=120)
        spent = cpu_seconds(server.pid) - before
        return percentile(result["final_ms"], 50), spent / result["turns_done"] * 1e6
    finally:
        server.stop()


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
                work = Path(tmp) / f"{name}-{index}"
                work.mkdir()
                rows[name].append(one_round(tree, args.clients, args.updates, work))
    for name, runs in rows.items():
        p50 = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        each = ", ".join(f"{a:.2f} ms/{b:.0f} µs" for a, b in runs)
        print(f"{name}: turn p50 {p50:.3f} ms, server CPU {cpu:.0f} µs per turn  ({each})")


if __name__ == "__main__":
    main()
