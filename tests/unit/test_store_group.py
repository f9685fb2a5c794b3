"""Group commit on the store's worker: appends queued together commit in one transaction, yet
each gets its own result or error, a failing one changes nothing and takes no other down, and
no caller hears of a write before it is committed (visible to another connection)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from store_support import input_message, new_store, output_message

from director_desktop.errors import DuplicateId, InvalidPayload
from director_desktop.store import Store

pytestmark = pytest.mark.anyio


def grouped_store(data_dir: Path) -> tuple[Store, list[int]]:
    """A real store whose group commits are counted (wrapped before `open` hands it over)."""
    store = new_store(data_dir)
    sizes: list[int] = []
    group = store._group_on_worker

    def counting(bodies: list[Callable[[], object]]) -> Any:
        sizes.append(len(bodies))
        return group(bodies)

    store._group_on_worker = counting  # type: ignore[method-assign,unused-ignore]
    store.open()
    return store, sizes


async def hold_worker(store: Store) -> tuple[threading.Event, asyncio.Future[None]]:
    """Keep the worker busy until the event is set, so the next writes queue up behind it."""
    release, started = threading.Event(), threading.Event()

    def wait(_conn: sqlite3.Connection) -> None:
        started.set()
        release.wait(15)

    held = asyncio.ensure_future(store._run(wait))
    assert await asyncio.to_thread(started.wait, 15)
    return release, held


def committed(db: Path, session_id: str, msg_id: str) -> int | None:
    """The message's seq as another connection sees it: only committed rows are visible."""
    conn = sqlite3.connect(db)
    try:
        row = conn.execute(
            "SELECT seq FROM messages WHERE session_id = ? AND msg_id = ?", (session_id, msg_id)
        ).fetchone()
    finally:
        conn.close()
    return None if row is None else int(row[0])


async def test_queued_writes_commit_together_and_each_gets_its_own_answer(
    tmp_path: Path,
) -> None:
    store, sizes = grouped_store(tmp_path)
    try:
        first, _, _ = await store.add_input(input_message("s1", "hi"), session_name="hi")
        outs = [output_message("s1", first["conv_id"], f"answer {i}") for i in range(6)]
        bad_payload = {**outs[2], "status": "nonsense"}
        reused_id = {**outs[4], "msg_id": first["msg_id"]}  # an input's id in another conv
        reused_id["conv_id"] = "another-conv"
        writes = [outs[0], outs[1], bad_payload, outs[3], reused_id, outs[5]]

        release, held = await hold_worker(store)
        seen: dict[int, int | None] = {}

        async def put(index: int, message: Any) -> Any:
            stored = await store.put_message(message)
            # the caller may emit now: another connection must already see the row
            seen[index] = committed(store.path, "s1", message["msg_id"])
            return stored

        tasks = [asyncio.ensure_future(put(i, m)) for i, m in enumerate(writes)]
        await asyncio.sleep(0)  # one turn of the loop: each put runs up to its submit
        assert _queued(store) == len(writes)
        release.set()
        await held
        results = await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        store.close()

    assert max(sizes, default=0) == len(writes)  # they really were one group
    assert isinstance(results[2], InvalidPayload)
    assert isinstance(results[4], DuplicateId)
    good: list[Any] = [r for i, r in enumerate(results) if i not in (2, 4)]
    assert [r["metadata"]["seq"] for r in good] == [2, 3, 4, 5]  # seq only for what was stored
    assert [seen[i] for i in (0, 1, 3, 5)] == [2, 3, 4, 5]
    store = new_store(tmp_path)
    store.open()
    try:
        for stored in good:
            assert await store.get_message("s1", stored["msg_id"]) == stored
        assert await store.get_message("s1", bad_payload["msg_id"]) is None
        again = await store.get_message("s1", first["msg_id"])
        assert again is not None
        assert again["conv_id"] == first["conv_id"]  # the refused write changed nothing
        assert await store.last_seq("s1") == 5
    finally:
        store.close()


def _queued(store: Store) -> int:
    worker = store._worker
    assert worker is not None
    return worker._jobs.qsize()
