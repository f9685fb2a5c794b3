"""Versions of a message, branches and deleted turns in the store (PROTOCOL section 8): every
version kept, the shown path, search over every version, delete/restore/purge, export v2 and v1."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from store_support import input_message, new_store, output_message, pending_output

from director_desktop.errors import InvalidPayload, NotFound, UndoExpired
from director_desktop.store import Store

pytestmark = pytest.mark.anyio
S = "s1"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = new_store(tmp_path / "data")
    store.open()
    yield store
    store.close()


async def turn(store: Store, conv: str, question: str, answer: str) -> None:
    """A turn as the chat path stores it: input and pending reply together, then the answer."""
    out_id = f"out-{conv}"
    await store.add_turn(
        input_message(
            S, question, msg_id=f"in-{conv}", conv_id=conv, metadata={"output_msg_id": out_id}
        ),
        session_name="chat",
        pending_output=pending_output(S, conv, out_id),
    )
    await store.put_message(output_message(S, conv, answer, msg_id=out_id))


async def answer(store: Store, conv: str, text: str) -> None:
    """Finish the pending version of a turn's reply, as a run's final snapshot does."""
    shown = await store.get_message(S, f"out-{conv}")
    assert shown is not None
    done = output_message(S, conv, text, msg_id=f"out-{conv}")
    await store.put_message({**done, "metadata": shown["metadata"]})


async def shown_ids(store: Store, **kw: Any) -> list[str]:
    page, _ = await store.conversation(S, **kw)
    return [m["msg_id"] for m in page]


def text(message: dict[str, Any]) -> str:
    return "".join(i.get("text", "") for i in message["content"] if i.get("type") == "text")


async def branched(store: Store) -> None:
    """t1 regenerated (v2 shown); t2 followed v1 (hidden); t3 follows v2."""
    await turn(store, "t1", "tell me about otters", "otters v1")
    await turn(store, "t2", "and their tails", "tails")
    await store.new_version(S, "t1", pending=pending_output(S, "t1", "x"))
    await answer(store, "t1", "otters v2")
    await turn(store, "t3", "and their whiskers", "whiskers")


async def test_regenerate_keeps_every_version_and_hides_the_turns_after_it(store: Store) -> None:
    await turn(store, "t1", "tell me about otters", "otters v1")
    await turn(store, "t2", "and their tails", "tails")
    revised = await store.new_version(S, "t1", pending=pending_output(S, "t1", "ignored"))
    assert revised.output["msg_id"] == "out-t1"  # a message keeps its msg_id for every version
    assert revised.output["status"] == "progress"
    assert (revised.output["metadata"]["version"], revised.output["metadata"]["versions"]) == (2, 2)
    assert revised.version == 2
    assert "version" not in revised.input["metadata"]  # the input has one version still
    seqs = [m["metadata"]["seq"] for m in revised.changed]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == len(seqs)
    assert [m["msg_id"] for m in revised.changed] == ["out-t1", "in-t2", "out-t2"]
    assert all(m["metadata"]["hidden"] for m in revised.changed[1:])
    assert await shown_ids(store) == ["in-t1", "out-t1"]
    assert await shown_ids(store, every_branch=True) == ["in-t1", "out-t1", "in-t2", "out-t2"]

    await answer(store, "t1", "otters v2")
    old, changed = await store.select_version(S, "out-t1", 1)
    assert text(old) == "otters v1"
    assert (old["metadata"]["version"], old["metadata"]["versions"]) == (1, 2)
    assert [m["msg_id"] for m in changed] == ["out-t1", "in-t2", "out-t2"]
    assert await shown_ids(store) == ["in-t1", "out-t1", "in-t2", "out-t2"]
    new, _ = await store.select_version(S, "out-t1", 2)
    assert text(new) == "otters v2"  # the version left is kept as it was last stored


async def test_a_turn_sent_after_a_switch_follows_the_version_shown(store: Store) -> None:
    await branched(store)
    assert await shown_ids(store) == ["in-t1", "out-t1", "in-t3", "out-t3"]
    await store.select_version(S, "out-t1", 1)
    assert await shown_ids(store) == ["in-t1", "out-t1", "in-t2", "out-t2"]
    await store.select_version(S, "out-t1", 2)
    assert await shown_ids(store) == ["in-t1", "out-t1", "in-t3", "out-t3"]


async def test_edit_makes_versions_of_the_input_and_its_reply(store: Store) -> None:
    await turn(store, "t1", "otters please", "otters")
    edited = [{"type": "text", "text": "beavers please"}]
    revised = await store.new_version(S, "t1", pending=pending_output(S, "t1", "x"), content=edited)
    assert revised.version == 2
    assert revised.input["content"] == edited
    assert revised.input["metadata"]["version"] == 2
    await answer(store, "t1", "beavers")
    await store.new_version(S, "t1", pending=pending_output(S, "t1", "x"))  # regenerate: reply v3
    await answer(store, "t1", "beavers again")

    # showing input version 1 shows the reply to it; input version 2, its newest reply
    _, changed = await store.select_version(S, "in-t1", 1)
    reply = next(m for m in changed if m["msg_id"] == "out-t1")
    assert text(reply) == "otters"
    assert reply["metadata"]["version"] == 1
    _, changed = await store.select_version(S, "in-t1", 2)
    reply = next(m for m in changed if m["msg_id"] == "out-t1")
    assert (text(reply), reply["metadata"]["version"]) == ("beavers again", 3)
    # and a reply's version brings back the input it answers
    _, changed = await store.select_version(S, "out-t1", 1)
    assert text(next(m for m in changed if m["msg_id"] == "in-t1")) == "otters please"


async def test_search_finds_every_version(store: Store) -> None:
    await turn(store, "t1", "otters please", "platypus facts")
    edited = [{"type": "text", "text": "beavers please"}]
    await store.new_version(S, "t1", pending=pending_output(S, "t1", "x"), content=edited)
    await answer(store, "t1", "dam facts")
    assert [h["msg_id"] for h in await store.search("otters")] == ["in-t1"]
    assert [h["msg_id"] for h in await store.search("beavers")] == ["in-t1"]
    assert [h["msg_id"] for h in await store.search("platypus")] == ["out-t1"]
    assert [h["msg_id"] for h in await store.search("dam")] == ["out-t1"]


async def test_bad_version_requests_change_nothing(store: Store) -> None:
    await turn(store, "t1", "otters", "otters")
    last = await store.last_seq(S)
    with pytest.raises(InvalidPayload):
        await store.select_version(S, "out-t1", 2)
    with pytest.raises(NotFound):
        await store.select_version(S, "nope", 1)
    with pytest.raises(NotFound):
        await store.new_version(S, "nope", pending=pending_output(S, "nope", "x"))
    assert await store.last_seq(S) == last


async def test_delete_restore_and_purge(store: Store, tmp_path: Path) -> None:
    await turn(store, "t1", "otters", "otters")
    await turn(store, "t2", "walrus question", "walrus answer")
    await turn(store, "t3", "seals", "seals")
    deleted = await store.delete_turn(S, "t2")
    assert [m["msg_id"] for m in deleted] == ["in-t2", "out-t2"]
    assert all(m["metadata"]["deleted"] for m in deleted)
    assert await shown_ids(store) == ["in-t1", "out-t1", "in-t3", "out-t3"]
    assert await store.search("walrus") == []
    with pytest.raises(NotFound):
        await store.delete_turn(S, "t2")  # already deleted

    restored = await store.restore_turn(S, "t2", window=300)
    assert [m["msg_id"] for m in restored] == ["in-t2", "out-t2"]
    assert not any("deleted" in m["metadata"] for m in restored)
    assert await shown_ids(store) == ["in-t1", "out-t1", "in-t2", "out-t2", "in-t3", "out-t3"]
    with pytest.raises(NotFound):
        await store.restore_turn(S, "t2", window=300)  # not deleted

    await store.delete_turn(S, "t2")
    seq_of_delete = await store.last_seq(S)
    with pytest.raises(UndoExpired):
        await store.restore_turn(S, "t2", window=-1)  # the window has passed
    assert await store.purge_deleted() == 1
    # A tombstone: no text left, still deleted, under the seq of its deletion, so a client
    # replaying from before it still learns it is gone.
    since = await store.messages_since(S, seq_of_delete - 2)
    assert [(m["msg_id"], m["content"], m["metadata"]["deleted"]) for m in since] == [
        ("in-t2", [], True),
        ("out-t2", [], True),
    ]
    assert await store.search("walrus") == []
    with pytest.raises(UndoExpired):
        await store.restore_turn(S, "t2", window=300)
    # t3 followed t2: it now follows t1, and stays on the shown path through later switches
    await store.new_version(S, "t1", pending=pending_output(S, "t1", "x"))
    assert await shown_ids(store) == ["in-t1", "out-t1"]
    await store.select_version(S, "out-t1", 1)
    assert await shown_ids(store) == ["in-t1", "out-t1", "in-t3", "out-t3"]


async def test_deleted_turns_are_purged_at_the_next_start(tmp_path: Path) -> None:
    store = new_store(tmp_path / "data")
    store.open()
    await turn(store, "t1", "walrus", "walrus")
    await store.delete_turn(S, "t1")
    store.close()
    again = new_store(tmp_path / "data")
    again.open()
    try:
        message = await again.get_message(S, "in-t1")
        assert message is not None
        assert (message["content"], message["metadata"].get("purged")) == ([], True)
        with pytest.raises(UndoExpired):
            await again.restore_turn(S, "t1", window=300)
    finally:
        again.close()


async def test_a_branched_chat_round_trips_through_json(store: Store, tmp_path: Path) -> None:
    await branched(store)
    edited = [{"type": "text", "text": "whiskers, edited"}]
    await store.new_version(S, "t3", pending=pending_output(S, "t3", "x"), content=edited)
    await answer(store, "t3", "whiskers again")
    exported = await store.export_session(S)
    assert exported["version"] == 2
    assert [m["msg_id"] for m in exported["messages"]] == [
        *["in-t1", "out-t1", "in-t2", "out-t2", "in-t3", "out-t3"]
    ]
    assert {(v["msg_id"], v["version"]) for v in exported["versions"]} == {
        ("out-t1", 1),
        ("in-t3", 1),
        ("out-t3", 1),
    }
    other = new_store(tmp_path / "other")
    other.open()
    try:
        assert await other.import_session(json.loads(json.dumps(exported))) == S
        again = await other.export_session(S)
        assert {**again, "exported_at": None} == {**exported, "exported_at": None}
        # the imported tree behaves as the original does
        first, _ = await other.select_version(S, "out-t1", 1)
        assert text(first) == "otters v1"
        page, _ = await other.conversation(S)
        assert [m["msg_id"] for m in page] == ["in-t1", "out-t1", "in-t2", "out-t2"]
    finally:
        other.close()


async def test_a_version_1_export_still_imports_and_takes_versions(store: Store) -> None:
    await turn(store, "t1", "otters", "otters")
    await turn(store, "t2", "seals", "seals")
    v2 = await store.export_session(S)
    v1 = {k: v for k, v in v2.items() if k not in ("versions", "turns")} | {"version": 1}
    new_id = await store.import_session(v1)
    assert new_id != S
    page, _ = await store.conversation(new_id)
    assert [m["msg_id"] for m in page] == ["in-t1", "out-t1", "in-t2", "out-t2"]
    revised = await store.new_version(new_id, "t1", pending=pending_output(new_id, "t1", "x"))
    assert [m["msg_id"] for m in revised.changed] == ["out-t1", "in-t2", "out-t2"]


async def test_deleting_a_session_deletes_its_versions_and_links(
    store: Store, tmp_path: Path
) -> None:
    await branched(store)
    assert await store.delete_session(S)
    store.close()
    conn = sqlite3.connect(tmp_path / "data" / "director.sqlite3")
    try:
        for table in ("message_versions", "turns", "messages"):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table
    finally:
        conn.close()
