"""Every read the chat path makes is answered from an index, checked with EXPLAIN QUERY PLAN.

Timings are for bench/store_bench.py; this pins the reason they hold: no query the store runs for
a page, a replay, a list or the crash sweep walks a whole table or sorts it.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from store_support import input_message, output_message

from director_desktop.store import messages, search, sessions
from director_desktop.store.connection import connect, transaction
from director_desktop.store.schema import migrate

# A SCAN of a table (by rowid or along an index) reads all of it. Two are by design: the sweep walks
# the partial index of messages still in progress, and the list walks sessions in display order.
# The store never runs ANALYZE, so these plans are the ones made without statistics.
FULL_WALK = re.compile(
    r"^SCAN (messages|sessions|m|s)\b(?!.*USING INDEX (messages_in_progress|sessions_listing))"
    r"|USE TEMP B-TREE FOR ORDER BY"
)


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    conn = connect(tmp_path / "director.sqlite3", busy_timeout=5)
    migrate(conn)
    with transaction(conn):
        for sid in ("a", "b"):
            first = input_message(sid, f"hello {sid}", msg_id=f"{sid}-in")
            messages.add_input(conn, first, session_name=sid, video_id=None, collection_id=None)
            for n in range(20):
                messages.put(conn, output_message(sid, f"c{n}", f"answer {n}", msg_id=f"o{n}"))
        messages.put(conn, output_message("a", "c99", "running", status="progress"))
    yield conn
    conn.close()


def plans_of(conn: sqlite3.Connection, call: Callable[[], object]) -> list[tuple[str, str]]:
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        call()
    finally:
        conn.set_trace_callback(None)
    found = []
    for sql in statements:
        if not sql.lstrip().upper().startswith("SELECT"):
            continue
        for row in conn.execute("EXPLAIN QUERY PLAN " + sql):
            found.append((sql, str(row[3])))
    return found


CALLS: dict[str, Callable[[sqlite3.Connection], object]] = {
    "newest page": lambda c: messages.conversation(c, "a", 10, None),
    "page before": lambda c: messages.conversation(c, "a", 10, 12),
    "whole conversation": lambda c: messages.conversation(c, "a", None, None),
    "around a message": lambda c: messages.around(c, "a", "o10", 5),
    "replay since a seq": lambda c: messages.since(c, "a", 15),
    "one message": lambda c: messages.get(c, "a", "o3"),
    "last seq": lambda c: sessions.last_seq(c, "a"),
    "list sessions": lambda c: sessions.list_all(c, 50),
    "first page of sessions": lambda c: sessions.list_page(c, 50, None),
    "a page in the pinned ones": lambda c: sessions.list_page(c, 50, "0.1795600000.1.1"),
    "a page in the rest": lambda c: sessions.list_page(c, 50, "1.1795600000.1.1"),
    "crash sweep": messages.sweep_interrupted,
    "search": lambda c: search.search(c, "answer", 10),
}


def test_the_check_catches_a_walk(conn: sqlite3.Connection) -> None:
    plans = plans_of(
        conn,
        lambda: conn.execute(
            "SELECT * FROM messages WHERE status = 'progress' ORDER BY session_id, seq"
        ).fetchall(),
    )
    assert any(FULL_WALK.search(detail) for _, detail in plans), plans


@pytest.mark.parametrize("name", list(CALLS))
def test_reads_come_from_an_index(conn: sqlite3.Connection, name: str) -> None:
    with transaction(conn):
        plans = plans_of(conn, lambda: CALLS[name](conn))
    assert plans, "the call ran no SELECT"
    walks = [(sql, detail) for sql, detail in plans if FULL_WALK.search(detail)]
    assert not walks, f"{name} walks a table: {walks}"
