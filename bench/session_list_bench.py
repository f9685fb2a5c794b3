"""The sessions list of a long history: one page against the whole list, in one run.

    .venv/bin/python bench/session_list_bench.py [--count 10000] [--page 100]

A store of `--count` sessions (one in a hundred pinned) on a real SQLite file, read through the
store's async API as `GET /session` does: the whole list (what Director's UI asks for, and what
the sidebar read before paging), the first page, and a page deep in the list (its cursor taken
by walking there), each also as the JSON the route sends. Prints the median of each and the
ratio whole / page, the baseline being the whole list read in this same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from director_desktop.store import Store, sessions
from director_desktop.store.connection import connect, transaction
from director_desktop.store.schema import migrate

RUNS = 15


def fill(path: Path, count: int) -> None:
    conn = connect(path, busy_timeout=5)
    migrate(conn)
    with transaction(conn):
        for i in range(count):
            sessions.insert(
                conn,
                session_id=f"s{i}",
                name=f"chat number {i} about something",
                created_at=1_700_000_000 + i,
                updated_at=1_700_000_000 + i,
                metadata={"named_by": "user"} if i % 3 == 0 else None,
            )
        conn.execute("UPDATE sessions SET pinned_at = 1700000000 WHERE id % 100 = 0")
    conn.close()


async def timed(call: Callable[[], Awaitable[Any]]) -> tuple[float, int]:
    """Median seconds of RUNS calls, and the bytes of the JSON the route would send."""
    times = []
    size = 0
    for _ in range(RUNS):
        started = time.perf_counter()
        answer = await call()
        size = len(json.dumps(answer, separators=(",", ":")))
        times.append(time.perf_counter() - started)
    return statistics.median(times), size


async def main(count: int, page: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="session-list-bench-"))
    try:
        fill(root / "director.sqlite3", count)
        store = Store(root / "director.sqlite3", backups_dir=root / "backups")
        assert store.open().ok
        cursor = None
        for _ in range(count // page - 1):  # walk to the last full page
            cursor = (await store.list_sessions_page(page, cursor)).next_cursor
        rows = [
            ("whole list (no parameters)", await timed(store.list_sessions)),
            (
                f"first page (limit={page})",
                await timed(
                    lambda: _sessions_of(store.list_sessions_page(page, None)),
                ),
            ),
            (
                f"page {count // page} (limit={page}, cursor)",
                await timed(lambda: _sessions_of(store.list_sessions_page(page, cursor))),
            ),
        ]
        store.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    base_time = rows[0][1][0]
    print(f"sessions list, {count:,} sessions ({count // 100} pinned), median of {RUNS}")
    print(f"{'read':<36} {'time':>10} {'JSON':>12} {'whole / this (time)':>22}")
    for name, (seconds, size) in rows:
        ratio = base_time / seconds if seconds else float("inf")
        print(f"{name:<36} {seconds * 1000:>8.2f}ms {size:>10,} B {ratio:>21.1f}x")


async def _sessions_of(page: Awaitable[sessions.SessionsPage]) -> list[Any]:
    return list((await page).sessions)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--page", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(main(args.count, args.page))
