"""What versions (PROTOCOL 8) cost the chat path, against the same work without them, in one run.

    .venv/bin/python bench/versions_bench.py [--quick]

- Reading a conversation now leaves out hidden and deleted turns (a JSON test per row): the whole
  10,000-message session and its newest page, against the same query without the test.
- Storing a turn now also links it to the turn it followed (`turns`): `add_turn`, against the two
  writes it made before (`messages.put` of the input and of the pending reply's shape).
- Regenerating a turn near the start of a long chat re-checks every later turn's visibility.

Prints the median of each and the ratio (with / without); close to 1.0x is the target.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from director_desktop.store import messages, sessions, versions
from director_desktop.store.connection import connect, transaction
from director_desktop.store.schema import migrate


def timed(fn: Callable[[], object], repeat: int) -> float:
    walls = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        walls.append(time.perf_counter() - start)
    return statistics.median(walls)


def fmt(seconds: float) -> str:
    return f"{seconds * 1e3:8.3f} ms"


def message(sid: str, conv: str, msg_id: str, kind: str, text: str) -> Any:
    return {
        "session_id": sid,
        "conv_id": conv,
        "msg_id": msg_id,
        "msg_type": kind,
        "status": "success" if kind == "input" else "progress",
        "actions": [],
        "agents": [],
        "content": [{"type": "text", "text": text}],
        "metadata": {},
    }


def fill(conn: sqlite3.Connection, sid: str, turns: int) -> None:
    with transaction(conn):
        for n in range(turns):
            messages.add_turn(
                conn,
                message(sid, f"c{n}", f"i{n}", "input", f"question {n} about otters"),
                session_name=sid,
                video_id=None,
                collection_id=None,
                pending_output=message(sid, f"c{n}", f"o{n}", "output", ""),
            )


def main(quick: bool) -> None:
    size = 2_000 if quick else 5_000  # turns: twice as many messages
    repeat = 5 if quick else 15
    with tempfile.TemporaryDirectory() as tmp:
        conn = connect(Path(tmp) / "bench.sqlite3", busy_timeout=5.0)
        migrate(conn)
        with transaction(conn):
            sessions.insert(conn, session_id="big", name="big")
            sessions.insert(conn, session_id="w", name="w")
        fill(conn, "big", size)
        rows: list[tuple[str, float, float]] = []

        old_where = "WHERE session_id = ? AND first_seq < ? ORDER BY first_seq"
        rows.append(
            (
                f"whole {2 * size:,}-message session",
                timed(lambda: messages.conversation(conn, "big", None, None), repeat),
                timed(lambda: messages.fetch(conn, old_where, ("big", 1 << 62)), repeat),
            )
        )
        page_where = "WHERE session_id = ? AND first_seq < ? ORDER BY first_seq DESC LIMIT 51"
        rows.append(
            (
                "newest 50 of it",
                timed(lambda: messages.conversation(conn, "big", 50, None), repeat * 20),
                timed(lambda: messages.fetch(conn, page_where, ("big", 1 << 62)), repeat * 20),
            )
        )

        def with_link() -> None:
            conv = str(uuid.uuid4())
            with transaction(conn):
                messages.add_turn(
                    conn,
                    message("w", conv, "i" + conv, "input", "hello"),
                    session_name="w",
                    video_id=None,
                    collection_id=None,
                    pending_output=message("w", conv, "o" + conv, "output", ""),
                )

        def without_link() -> None:
            conv = str(uuid.uuid4())
            with transaction(conn):
                messages.put(conn, message("w", conv, "i" + conv, "input", "hello"))
                messages.put(conn, message("w", conv, "o" + conv, "output", ""))

        rows.append(
            (
                "store a turn (input + pending reply)",
                timed(with_link, repeat * 40),
                timed(without_link, repeat * 40),
            )
        )

        def regenerate() -> None:
            with transaction(conn):
                versions.new_version(
                    conn, "big", "c1", pending=message("big", "c1", "", "output", "")
                )

        regen = timed(regenerate, 3)
        print(f"{'operation':<42}{'with':>12}{'without':>12}{'ratio':>9}")
        for name, with_, without in rows:
            print(f"{name:<42}{fmt(with_)}{fmt(without)}{with_ / without:8.2f}x")
        print(
            f"{'regenerate turn 2 of ' + format(size, ',') + ' (hides the rest)':<42}{fmt(regen)}"
        )
        conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    main(parser.parse_args().quick)
