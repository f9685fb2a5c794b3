"""TurnRevisions (PROTOCOL section 8) over a real store: every change is published after it is
stored; a turn being written is not deleted or switched; a deletion is purged once its undo window
has passed, by the timer, and `close()` leaves no timer or task behind."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from store_support import input_message, new_store, output_message, pending_output

from director_desktop.engine.revisions import TurnRevisions
from director_desktop.errors import Conflict, UndoExpired
from director_desktop.protocol import Message
from director_desktop.store import Store

pytestmark = pytest.mark.anyio
S = "s1"


class Published:
    """Records what is published, as the web's publisher would send it."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def message(self, message: Message) -> None:
        self.messages.append(message)

    async def sessions_changed(self) -> None:
        pass


async def one_turn(store: Store, conv: str) -> None:
    await store.add_turn(
        input_message(S, "walrus", msg_id=f"in-{conv}", conv_id=conv),
        session_name="chat",
        pending_output=pending_output(S, conv, f"out-{conv}"),
    )
    await store.put_message(output_message(S, conv, "answer", msg_id=f"out-{conv}"))


async def test_a_deletion_is_purged_when_its_undo_window_ends(tmp_path: Path) -> None:
    store = new_store(tmp_path / "data")
    store.open()
    published = Published()
    revisions = TurnRevisions(store, published, lambda *_: False, undo_seconds=0)
    try:
        await one_turn(store, "t1")
        deleted = await revisions.delete_turn(S, "t1")
        assert published.messages == deleted  # stored, then published, in seq order
        async with asyncio.timeout(15):  # the timer fires one second past the window
            await revisions.purged.wait()
        purged = await store.get_message(S, "in-t1")
        assert purged is not None
        assert (purged["content"], purged["metadata"].get("purged")) == ([], True)
        with pytest.raises(UndoExpired):
            await revisions.restore_turn(S, "t1")
    finally:
        await revisions.close()
        store.close()


async def test_close_cancels_the_purges_not_yet_due(tmp_path: Path) -> None:
    store = new_store(tmp_path / "data")
    store.open()
    revisions = TurnRevisions(store, Published(), lambda *_: False, undo_seconds=300)
    await one_turn(store, "t1")
    await revisions.delete_turn(S, "t1")
    await revisions.close()
    restored = await revisions.restore_turn(S, "t1")  # the purge never ran: still restorable
    assert [m["msg_id"] for m in restored] == ["in-t1", "out-t1"]
    store.close()


async def test_a_turn_being_written_is_neither_deleted_nor_switched(tmp_path: Path) -> None:
    store = new_store(tmp_path / "data")
    store.open()
    published = Published()
    revisions = TurnRevisions(store, published, lambda _sid, _conv: True)
    try:
        await one_turn(store, "t1")
        last = await store.last_seq(S)
        with pytest.raises(Conflict):
            await revisions.delete_turn(S, "t1")
        with pytest.raises(Conflict):
            await revisions.select_version(S, "out-t1", 1)
        assert await store.last_seq(S) == last
        assert published.messages == []
    finally:
        await revisions.close()
        store.close()
