"""The session store against VideoDB Director's SQLite pattern, side by side in one run.

    .venv/bin/python bench/store_bench.py [--quick]

Director's pattern (its `sqlite_db.py`, reproduced here with its own DDL): a new connection for
every operation, the default rollback journal and synchronous=FULL, `INSERT OR REPLACE` plus
commit per message, no index but the primary keys, no pagination and no full-text search (a
`LIKE` scan is what it would take). This store: one WAL connection on its worker thread behind the
async API the server calls (on uvloop, the server's event loop), a seq and FTS5 update in every
append, pages read from an index.

Prints one table: the median time of each operation for both, and the ratio (Director / store).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from director_desktop.store import Store, messages, sessions
from director_desktop.store.connection import connect, transaction
from director_desktop.store.schema import migrate

DIRECTOR_DDL = """
CREATE TABLE IF NOT EXISTS sessions (session_id TEXT PRIMARY KEY, video_id TEXT,
    collection_id TEXT, created_at INTEGER, updated_at INTEGER, metadata JSON);
CREATE TABLE IF NOT EXISTS conversations (session_id TEXT, conv_id TEXT, msg_id TEXT PRIMARY KEY,
    msg_type TEXT, agents JSON, actions JSON, content JSON, status TEXT, created_at INTEGER,
    updated_at INTEGER, metadata JSON);
CREATE TABLE IF NOT EXISTS context_messages (session_id TEXT PRIMARY KEY, context_data JSON,
    created_at INTEGER, updated_at INTEGER, metadata JSON);
"""

WORDS = [f"{a}{b}" for a in ("ka", "lo", "mi", "ne", "su", "ta", "vo", "ri") for b in range(250)]


def text_of(rng: random.Random, n: int = 30) -> str:
    # "note" is in every message: the worst case of a search, a word that matches everything.
    return "note " + " ".join(rng.choice(WORDS) for _ in range(n))


def message(session_id: str, rng: random.Random, n: int) -> dict[str, Any]:
    kind = "input" if n % 2 == 0 else "output"
    return {
        "session_id": session_id,
        "conv_id": f"conv-{n // 2}",
        "msg_id": f"{kind}-{n}-{uuid.uuid4().hex[:8]}",
        "msg_type": kind,
        "status": "success",
        "actions": [] if kind == "input" else ["Reasoning the message..."],
        "agents": [],
        "content": [
            {"type": "text", "status": "success", "agent_name": "assistant", "text": text_of(rng)}
        ],
        "metadata": {},
    }


# --- Director's pattern ---------------------------------------------------------------------


class DirectorPattern:
    def __init__(self, path: Path) -> None:
        self.path = path
        conn = sqlite3.connect(path)
        conn.executescript(DIRECTOR_DDL)
        conn.close()

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path)

    def add_or_update_msg(self, m: dict[str, Any]) -> None:
        conn = self._connect()
        now = int(time.time())
        conn.execute(
            "INSERT OR REPLACE INTO conversations (session_id, conv_id, msg_id, msg_type, agents,"
            " actions, content, status, created_at, updated_at, metadata)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (m["session_id"], m["conv_id"], m["msg_id"], m["msg_type"], json.dumps(m["agents"]),
             json.dumps(m["actions"]), json.dumps(m["content"]), m["status"], now, now,
             json.dumps(m["metadata"])),
        )  # fmt: skip
        conn.commit()
        conn.close()

    def bulk(self, rows: list[dict[str, Any]]) -> None:
        conn = self._connect()
        conn.executemany(
            "INSERT INTO conversations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(m["session_id"], m["conv_id"], m["msg_id"], m["msg_type"], json.dumps(m["agents"]),
              json.dumps(m["actions"]), json.dumps(m["content"]), m["status"], i, i,
              json.dumps(m["metadata"])) for i, m in enumerate(rows)],
        )  # fmt: skip
        conn.commit()
        conn.close()

    def add_sessions(self, count: int) -> None:
        conn = self._connect()
        conn.executemany(
            "INSERT INTO sessions VALUES (?, NULL, NULL, ?, ?, '{}')",
            [(f"s{i}", i, i) for i in range(count)],
        )
        conn.commit()
        conn.close()

    def _rows(self, sql: str, args: tuple[Any, ...]) -> list[dict[str, Any]]:
        conn = self._connect()
        conn.row_factory = sqlite3.Row
        rows = conn.execute(sql, args).fetchall()
        conn.close()
        out = []
        for row in rows:
            item = dict(row)
            for key in ("agents", "actions", "content", "metadata"):
                item[key] = json.loads(item[key]) if item[key] else None
            out.append(item)
        return out

    def conversation(self, session_id: str) -> list[dict[str, Any]]:
        return self._rows("SELECT * FROM conversations WHERE session_id = ?", (session_id,))

    def newest(self, session_id: str, limit: int) -> list[dict[str, Any]]:
        return self._rows(
            "SELECT * FROM conversations WHERE session_id = ? ORDER BY created_at DESC LIMIT ?",
            (session_id, limit),
        )

    def sessions(self) -> list[dict[str, Any]]:
        conn = self._connect()
        conn.row_factory = sqlite3.Row
        rows = conn.execute("SELECT * FROM sessions ORDER BY updated_at DESC").fetchall()
        conn.close()
        return [{**dict(r), "metadata": json.loads(r["metadata"] or "{}")} for r in rows]

    def search(self, word: str) -> list[tuple[str, str]]:
        conn = self._connect()
        rows = conn.execute(
            "SELECT session_id, msg_id FROM conversations WHERE content LIKE ? LIMIT 50",
            (f"%{word}%",),
        ).fetchall()
        conn.close()
        return rows


# --- this store -----------------------------------------------------------------------------


def bulk_store(path: Path, plan: Callable[[sqlite3.Connection], None]) -> None:
    """Fill a store file through the store's own write functions, in one transaction."""
    path.parent.mkdir(parents=True)
    conn = connect(path, busy_timeout=5)
    migrate(conn)
    with transaction(conn):
        plan(conn)
    conn.close()


Timing = tuple[float, float]
"""(median wall time, median CPU time of this process, all threads), in seconds."""


def median_of(walls: list[float], cpus: list[float]) -> Timing:
    return statistics.median(walls), statistics.median(cpus)


def timed(fn: Callable[[], object], repeat: int) -> Timing:
    walls, cpus = [], []
    for _ in range(repeat):
        cpu, wall = time.process_time(), time.perf_counter()
        fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return median_of(walls, cpus)


async def atimed(fn: Callable[[], Awaitable[object]], repeat: int) -> Timing:
    walls, cpus = [], []
    for _ in range(repeat):
        cpu, wall = time.process_time(), time.perf_counter()
        await fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return median_of(walls, cpus)


def fmt(seconds: float) -> str:
    if seconds < 0.99995e-3:
        return f"{seconds * 1e6:8.1f} µs"
    if seconds < 0.999995:
        return f"{seconds * 1e3:8.2f} ms"
    return f"{seconds:8.2f} s "


def ratio(director: float, ours: float) -> str:
    """How many times faster this store is (below 1: slower), to two significant digits."""
    times = director / max(ours, 1e-9)
    return f"{times:.1f}x" if times >= 10 else f"{times:.2g}x"


class Bench:
    def __init__(self, root: Path, quick: bool) -> None:
        self.root = root
        self.quick = quick
        self.rng = random.Random(7)
        self.rows: list[tuple[str, Timing, Timing, str]] = []

    def add(self, name: str, director: Timing, ours: Timing, target: str = "") -> None:
        self.rows.append((name, director, ours, target))
        print(f"  measured {name}", file=sys.stderr, flush=True)

    def store(self, name: str) -> Store:
        return Store(self.root / name / "director.sqlite3", backups_dir=self.root / name / "b")

    async def appends(self) -> None:
        # Director's pattern waits on the disk for every message: fewer samples give its median.
        director = DirectorPattern(self.root / "append-director.db")
        theirs = iter([message("s1", self.rng, n) for n in range(300)])
        d = timed(lambda: director.add_or_update_msg(next(theirs)), 300)
        count = 500 if self.quick else 3000
        msgs = [message("s1", self.rng, n) for n in range(count)]
        store = self.store("append")
        store.open()
        await store.add_input(msgs[0], session_name="bench")
        ours = iter(msgs[1:])
        cpu, wall = time.process_time(), time.perf_counter()
        s = await atimed(lambda: store.put_message(next(ours)), count - 1)
        await store.search("ka1")  # the indexing the appends queued, so the mean includes it
        mean = (
            (time.perf_counter() - wall) / (count - 1),
            (time.process_time() - cpu) / (count - 1),
        )
        store.close()
        self.add("append one message (median)", d, s, "≥30x faster")
        self.add("  mean, incl. the batched FTS indexing", d, mean)
        self.add("  the store's work alone (no thread hop)", d, self._append_core(count))
        self.add("  floor: bare INSERT+COMMIT (the prototype)", d, self._append_bare(count))
        self.add("  per message, 32 writers at once", d, await self._appends_at_once())
        store = self.store("hop")
        store.open()
        hop = await atimed(lambda: store.last_seq("s1"), count)
        store.close()
        self.add("  floor: store-thread round trip (one read)", d, hop)

    async def _appends_at_once(self, writers: int = 32, rounds: int = 40) -> Timing:
        """What an append costs when many chats stream at once: `writers` sessions each append
        one message at the same moment, and the store commits what is queued together."""
        store = self.store("at-once")
        store.open()
        for w in range(writers):
            await store.add_input(message(f"w{w}", self.rng, 0), session_name=f"writer {w}")
        batches = [
            [message(f"w{w}", self.rng, n) for w in range(writers)] for n in range(1, rounds + 1)
        ]
        walls, cpus = [], []
        for batch in batches:
            cpu, wall = time.process_time(), time.perf_counter()
            await asyncio.gather(*(store.put_message(m) for m in batch))
            walls.append((time.perf_counter() - wall) / writers)
            cpus.append((time.process_time() - cpu) / writers)
        store.close()
        return median_of(walls, cpus)

    def _append_bare(self, count: int) -> Timing:
        """The floor: one WAL connection, one table without an index, one INSERT per commit."""
        path = self.root / "append-bare.db"
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("CREATE TABLE m (session_id, msg_id, content, metadata)")
        msgs = iter([message("s1", self.rng, n) for n in range(count)])

        def append() -> None:
            m = next(msgs)
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "INSERT INTO m VALUES (?, ?, ?, ?)",
                (m["session_id"], m["msg_id"], json.dumps(m["content"]), "{}"),
            )
            conn.execute("COMMIT")

        bare = timed(append, count)
        conn.close()
        return bare

    def _append_core(self, count: int) -> Timing:
        """The same appends as the worker thread runs them, without the hop from the event loop."""
        path = self.root / "append-core" / "director.sqlite3"
        bulk_store(path, lambda conn: sessions.insert(conn, session_id="s1", name="core"))
        conn = connect(path, busy_timeout=5)
        msgs = iter([message("s1", self.rng, n) for n in range(count)])

        def append() -> None:
            with transaction(conn):
                messages.put(conn, next(msgs))

        core = timed(append, count)
        conn.close()
        return core

    async def sessions_of(self, size: int, repeat: int) -> None:
        msgs = [message("big", self.rng, n) for n in range(size)]
        director = DirectorPattern(self.root / f"load{size}-director.db")
        director.bulk(msgs)
        director.add_sessions(1)

        def plan(conn: sqlite3.Connection) -> None:
            sessions.insert(conn, session_id="big", name="big")
            for m in msgs:
                messages.put(conn, m)

        bulk_store(self.root / f"load{size}" / "director.sqlite3", plan)
        store = self.store(f"load{size}")
        store.open()
        newest_d = timed(lambda: director.newest("big", 50), max(repeat, 5))
        newest_s = await atimed(lambda: store.conversation("big", limit=50), 200)
        target = "< 1 ms" if size >= 100_000 else ""
        self.add(f"newest 50 of a {size:,}-message session", newest_d, newest_s, target)
        whole_d = timed(lambda: director.conversation("big"), repeat)
        whole_s = await atimed(lambda: store.conversation("big"), repeat)
        target = "< 1 s" if size >= 100_000 else ""
        self.add(f"whole {size:,}-message session", whole_d, whole_s, target)
        if size >= 100_000:
            await self.search(director, store)
        store.close()

    async def search(self, director: DirectorPattern, store: Store) -> None:
        words = [self.rng.choice(WORDS) for _ in range(20)]
        it = iter(words * 10)
        d = timed(lambda: director.search(next(it)), 20)
        it2 = iter(words * 10)
        await store.search(words[0])  # index what the bulk load queued; not part of a search
        s = await atimed(lambda: store.search(next(it2)), 20)
        self.add("search 100,000 messages (a rare word)", d, s, "< 50 ms")
        d = timed(lambda: director.search("note"), 20)
        s = await atimed(lambda: store.search("note"), 20)
        self.add("search 100,000 messages (a word in all)", d, s, "< 50 ms")

    async def list_sessions(self) -> None:
        count = 10_000
        director = DirectorPattern(self.root / "list-director.db")
        director.add_sessions(count)

        def plan(conn: sqlite3.Connection) -> None:
            for i in range(count):
                sessions.insert(
                    conn, session_id=f"s{i}", name=f"chat {i}", created_at=i, updated_at=i
                )

        bulk_store(self.root / "list" / "director.sqlite3", plan)
        store = self.store("list")
        store.open()
        d = timed(director.sessions, 20)
        s = await atimed(store.list_sessions, 20)
        store.close()
        self.add("list 10,000 sessions", d, s, "< 20 ms")

    def table(self) -> str:
        lines = [
            f"{'':<44} {'--- wall time (median) ---':^36}  {'--- CPU time ---':^34}",
            f"{'operation':<44} {'Director':>12} {'this store':>12} {'ratio':>9}  "
            f"{'Director':>12} {'this store':>12} {'ratio':>8}  target",
            "-" * 132,
        ]
        for name, d, s, target in self.rows:
            lines.append(
                f"{name:<44} {fmt(d[0]):>12} {fmt(s[0]):>12} {ratio(d[0], s[0]):>9}  "
                f"{fmt(d[1]):>12} {fmt(s[1]):>12} {ratio(d[1], s[1]):>8}  {target}"
            )
        return "\n".join(lines)


async def main(quick: bool) -> None:
    loop = type(asyncio.get_running_loop()).__module__.split(".")[0]
    root = Path(tempfile.mkdtemp(prefix="store-bench-"))
    started = time.perf_counter()
    try:
        bench = Bench(root, quick)
        await bench.appends()
        await bench.sessions_of(1_000, 20)
        await bench.sessions_of(10_000 if quick else 100_000, 3)
        await bench.list_sessions()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"SQLite {sqlite3.sqlite_version}, Python {sys.version.split()[0]}, files in {root.parent},"
        f" event loop {loop}"
    )
    print(f"{os.cpu_count()} CPUs, load average {load}: other work on the machine slows both sides")
    print(bench.table())
    print(f"total {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    quick = parser.parse_args().quick
    try:  # the event loop the app's server runs on (uvicorn's loop="auto"), where it exists
        import uvloop
    except ImportError:  # Windows: asyncio's own loop, as the app's server then uses
        asyncio.run(main(quick))
    else:
        uvloop.run(main(quick))
