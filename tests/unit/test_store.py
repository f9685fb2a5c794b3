"""The store's chat path on a real SQLite file: CRUD, ordering, seq, paging, prefs, sweep."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from store_support import input_message, new_store, output_message

from director_desktop.errors import (
    DirectorError,
    DuplicateId,
    InvalidPayload,
    NotFound,
    SessionNotFound,
    StoreClosed,
    TooLarge,
)
from director_desktop.store import Store
from director_desktop.store.schema import CURRENT_VERSION

pytestmark = pytest.mark.anyio


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def store(data_dir: Path) -> Iterator[Store]:
    store = new_store(data_dir)
    health = store.open()
    assert health.ok, health.message
    yield store
    store.close()


async def start_session(store: Store, session_id: str = "s1", text: str = "hello") -> dict:
    stored, created, duplicate = await store.add_input(
        input_message(session_id, text), session_name=text[:60]
    )
    assert (created, duplicate) == (True, False)
    return stored


def test_open_creates_a_private_dir_and_file_at_the_current_schema(data_dir: Path) -> None:
    store = new_store(data_dir)
    assert not data_dir.exists()  # __init__ does no I/O
    health = store.open()
    store.close()
    assert health.ok
    assert health.swept == 0
    assert health.recovered_from is None
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((data_dir / "director.sqlite3").stat().st_mode) == 0o600
    (data_dir / "director.sqlite3").chmod(0o644)  # as if copied in by hand
    again = new_store(data_dir)
    again.open()
    again.close()
    assert stat.S_IMODE((data_dir / "director.sqlite3").stat().st_mode) == 0o600
    conn = sqlite3.connect(data_dir / "director.sqlite3")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == CURRENT_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


async def test_add_input_creates_the_session_and_stores_what_get_message_returns(
    store: Store,
) -> None:
    message = input_message("s1", "Find the goal", agents=["search"], sender="user")
    stored, created, duplicate = await store.add_input(
        message, session_name="Find the goal", video_id="v1", collection_id="c1"
    )
    assert (created, duplicate) == (True, False)
    assert stored == await store.get_message("s1", message["msg_id"])
    assert "sender" not in stored  # unknown top-level keys are not stored
    assert stored["status"] == "success"
    assert stored["actions"] == []
    assert stored["metadata"]["seq"] == 1
    assert stored["metadata"]["first_seq"] == 1
    assert "+00:00" in stored["metadata"]["timestamp"]
    session = await store.get_session("s1")
    assert session is not None
    assert set(session) == {
        "session_id",
        "name",
        "video_id",
        "collection_id",
        "created_at",
        "updated_at",
        "metadata",
        "pinned_at",
    }
    assert (session["name"], session["video_id"], session["collection_id"]) == (
        "Find the goal",
        "v1",
        "c1",
    )


async def test_a_resent_input_is_idempotent_and_a_reused_msg_id_is_refused(store: Store) -> None:
    first = await start_session(store)
    again, created, duplicate = await store.add_input(
        {**first, "content": [{"type": "text", "text": "changed"}]}, session_name="x"
    )
    assert (again, created, duplicate) == (first, False, True)
    assert await store.last_seq("s1") == 1
    with pytest.raises(DuplicateId):
        await store.add_input({**first, "conv_id": "other"}, session_name="x")
    with pytest.raises(DuplicateId):
        await store.put_message({**first, "conv_id": "other"})
    assert await store.get_message("s1", first["msg_id"]) == first


async def test_put_message_takes_the_next_seq_and_keeps_first_seq_and_created_at(
    store: Store,
) -> None:
    first = await start_session(store)
    out = output_message("s1", first["conv_id"], "Work", status="progress")
    progress = await store.put_message(out)
    done = await store.put_message({**out, "status": "success"})
    assert progress["metadata"]["seq"] == 2
    assert progress["metadata"]["first_seq"] == 2
    assert done["metadata"]["seq"] == 3
    assert done["metadata"]["first_seq"] == 2
    assert done["created_at"] == progress["created_at"]
    assert done == await store.get_message("s1", out["msg_id"])
    assert await store.last_seq("s1") == 3
    assert await store.last_seq("unknown") == 0


async def test_put_message_answers_what_get_message_returns_and_shares_nothing(
    store: Store,
) -> None:
    first = await start_session(store)
    out = output_message("s1", first["conv_id"], "Work", status="progress")
    out["content"].append({"type": "video", "video": {"tags": ["a"], "size": 1.5, "n": None}})
    out["metadata"] = {"nested": {"list": [1, True, "x"]}}
    stored = await store.put_message(out)
    out["content"][1]["video"]["tags"].append("b")  # the caller goes on changing its copy
    out["metadata"]["nested"]["list"].clear()
    assert stored == await store.get_message("s1", out["msg_id"])
    # what JSON changes on the way (a tuple, a non-str key) is answered as it was stored
    odd = {**out, "content": [{"type": "x", "pair": (1, 2), "by_id": {7: "seven"}}]}
    stored = await store.put_message(odd)
    assert stored["content"] == [{"type": "x", "pair": [1, 2], "by_id": {"7": "seven"}}]
    assert stored == await store.get_message("s1", out["msg_id"])


async def test_bad_messages_are_refused_and_change_nothing(store: Store) -> None:
    first = await start_session(store)
    with pytest.raises(SessionNotFound):
        await store.put_message(output_message("nope", "c", "x"))
    bad = [
        {**first, "msg_id": "has space"},
        {**first, "msg_id": "m2", "msg_type": "other"},
        {**first, "msg_id": "m2", "status": "weird"},
        {**first, "msg_id": "m2", "content": "not a list"},
        {**first, "msg_id": "m2", "metadata": {"x": float("nan")}},
        {**first, "msg_id": "m2", "content": [{"type": "text", "text": object()}]},
    ]
    for message in bad:
        with pytest.raises(DirectorError) as info:
            await store.put_message(message)
        assert getattr(info.value, "code", None) in ("invalid_payload", "invalid_id")
    assert await store.last_seq("s1") == 1
    assert [m["msg_id"] for m in (await store.conversation("s1"))[0]] == [first["msg_id"]]


async def test_sessions_are_listed_by_last_update_and_updated_at_moves_with_messages(
    data_dir: Path,
) -> None:
    store = new_store(data_dir)
    store.open()
    for sid in ("a", "b", "c"):
        await start_session(store, sid, f"chat {sid}")
    assert [s["session_id"] for s in await store.list_sessions()] == ["c", "b", "a"]
    assert [s["session_id"] for s in await store.list_sessions(limit=2)] == ["c", "b"]
    store.close()
    # Age session "a" by a day, as if it were old, then write to it.
    conn = sqlite3.connect(data_dir / "director.sqlite3")
    with conn:
        conn.execute("UPDATE sessions SET updated_at = updated_at - 86400 WHERE session_id = 'a'")
    conn.close()
    store = new_store(data_dir)
    store.open()
    old = await store.get_session("a")
    assert old is not None
    await store.put_message(output_message("a", "c1", "new"))
    new = await store.get_session("a")
    assert new is not None
    assert new["updated_at"] >= old["updated_at"] + 86400
    assert [s["session_id"] for s in await store.list_sessions()] == ["a", "c", "b"]
    store.close()


async def test_rename_and_delete(store: Store) -> None:
    first = await start_session(store, "s1", "words about rockets")
    await store.set_context("s1", {"messages": [{"role": "user", "content": "x"}]})
    await store.patch_prefs({"drafts": {"s1": "unsent"}})
    renamed = await store.rename_session("s1", "Rockets")
    assert renamed["name"] == "Rockets"
    assert renamed == await store.get_session("s1")
    with pytest.raises(InvalidPayload):
        await store.rename_session("s1", "")
    with pytest.raises(InvalidPayload):
        await store.rename_session("s1", "x" * 201)
    with pytest.raises(SessionNotFound):
        await store.rename_session("nope", "x")
    assert await store.delete_session("s1") is True
    assert await store.delete_session("s1") is False
    assert await store.get_session("s1") is None
    assert await store.get_message("s1", first["msg_id"]) is None
    assert await store.get_context("s1") is None
    assert await store.search("rockets") == []
    assert (await store.get_prefs())["drafts"] == {}


async def test_messages_since_returns_the_latest_snapshot_of_what_changed(store: Store) -> None:
    first = await start_session(store)
    out = output_message("s1", first["conv_id"], "a", status="progress")
    await store.put_message(out)  # seq 2
    await store.put_message({**out, "content": [{"type": "text", "text": "ab"}]})  # seq 3
    second = input_message("s1", "next", conv_id="c2")
    await store.put_message(second)  # seq 4
    assert [m["metadata"]["seq"] for m in await store.messages_since("s1", 0)] == [1, 3, 4]
    since_one = await store.messages_since("s1", 1)
    assert [m["msg_id"] for m in since_one] == [out["msg_id"], second["msg_id"]]
    assert since_one[0]["content"][0]["text"] == "ab"
    assert await store.messages_since("s1", 4) == []


async def test_seq_is_strictly_increasing_under_concurrent_writers(data_dir: Path) -> None:
    # Two stores on one file are two connections, as two processes would be.
    first, second = new_store(data_dir), new_store(data_dir)
    first.open()
    second.open()
    await start_session(first)
    outs = [output_message("s1", f"c{i}", f"text {i}") for i in range(40)]

    async def writer(store: Store, batch: list[dict]) -> list[int]:
        seqs = []
        for message in batch:
            for status in ("progress", "success"):
                stored = await store.put_message({**message, "status": status})
                seqs.append(stored["metadata"]["seq"])
        return seqs

    results = await asyncio.gather(
        *(writer(store, outs[i::4]) for i, store in enumerate([first, second, first, second]))
    )
    for seqs in results:
        assert seqs == sorted(seqs)
        assert len(set(seqs)) == len(seqs)
    every = sorted(s for seqs in results for s in seqs)
    assert every == list(range(2, 2 + 80))
    assert await first.last_seq("s1") == 81
    first.close()
    second.close()


async def test_conversation_is_in_first_seq_order_and_pages_from_the_newest(store: Store) -> None:
    first = await start_session(store)
    ids = [first["msg_id"]]
    for i in range(9):
        stored = await store.put_message(output_message("s1", f"c{i}", f"m{i}"))
        ids.append(stored["msg_id"])
    # Updating the first message later does not move it.
    await store.put_message({**first, "content": [{"type": "text", "text": "edited"}]})
    whole, has_more = await store.conversation("s1")
    assert [m["msg_id"] for m in whole] == ids
    assert has_more is False
    page, has_more = await store.conversation("s1", limit=4)
    assert [m["msg_id"] for m in page] == ids[-4:]
    assert has_more is True
    before = page[0]["metadata"]["first_seq"]
    older, has_more = await store.conversation("s1", limit=4, before=before)
    assert [m["msg_id"] for m in older] == ids[2:6]
    assert has_more is True
    oldest, has_more = await store.conversation(
        "s1", limit=4, before=older[0]["metadata"]["first_seq"]
    )
    assert [m["msg_id"] for m in oldest] == ids[:2]
    assert has_more is False
    with pytest.raises(SessionNotFound):
        await store.conversation("nope")


async def test_conversation_around_a_message(store: Store) -> None:
    first = await start_session(store)
    ids = [first["msg_id"]]
    for i in range(9):
        ids.append((await store.put_message(output_message("s1", f"c{i}", f"m{i}")))["msg_id"])
    page, has_more, has_newer = await store.conversation_around("s1", ids[5], 5)
    assert [m["msg_id"] for m in page] == ids[3:8]
    assert (has_more, has_newer) == (True, True)
    page, has_more, has_newer = await store.conversation_around("s1", ids[0], 4)
    assert [m["msg_id"] for m in page] == ids[0:3]
    assert (has_more, has_newer) == (False, True)
    page, has_more, has_newer = await store.conversation_around("s1", ids[9], 3)
    assert [m["msg_id"] for m in page] == ids[8:]
    assert (has_more, has_newer) == (True, False)
    with pytest.raises(NotFound):
        await store.conversation_around("s1", "unknown", 5)


async def test_prefs_merge_known_keys_and_drafts_per_session(store: Store) -> None:
    assert await store.get_prefs() == {
        "current_session": None,
        "drafts": {},
        "theme": "system",
        "sidebar_collapsed": False,
    }
    await store.patch_prefs({"theme": "dark", "drafts": {"a": "one"}})
    await store.patch_prefs({"drafts": {"b": "two"}, "current_session": "a"})
    prefs = await store.patch_prefs({"drafts": {"a": None}, "theme": None})
    assert prefs == await store.get_prefs()
    assert prefs == {
        "current_session": "a",
        "drafts": {"b": "two"},
        "theme": "system",
        "sidebar_collapsed": False,
    }
    for bad in (
        {"colour": "red"},
        {"theme": "pink"},
        {"drafts": {"b": 3}},
        {"sidebar_collapsed": 1},
    ):
        with pytest.raises(InvalidPayload):
            await store.patch_prefs(bad)
    with pytest.raises(TooLarge):
        await store.patch_prefs({"drafts": {"c": "x" * (1024 * 1024)}, "theme": "light"})
    assert await store.get_prefs() == prefs


async def test_search_finds_names_and_text_and_never_fails_on_syntax(store: Store) -> None:
    first = await start_session(store, "s1", "Goals of the match")
    out = output_message("s1", first["conv_id"], "The striker scored twice in the final minutes")
    await store.put_message(out)
    await start_session(store, "s2", "Cooking pasta")
    hits = await store.search("match")
    # The name first, then the first message, whose text the name was made from.
    assert hits == [
        {
            "session_id": "s1",
            "name": "Goals of the match",
            "msg_id": None,
            "snippet": "Goals of the **match**",
        },
        {
            "session_id": "s1",
            "name": "Goals of the match",
            "msg_id": first["msg_id"],
            "snippet": "Goals of the **match**",
        },
    ]
    hits = await store.search("striker final")
    assert [(h["session_id"], h["msg_id"]) for h in hits] == [("s1", out["msg_id"])]
    assert "**striker**" in hits[0]["snippet"]
    assert "**final**" in hits[0]["snippet"]
    assert [h["session_id"] for h in await store.search("scor")] == [
        "s1"
    ]  # prefix of the last word
    for nasty in ('"', "AND", "(striker", "NEAR(a b)", "*", "a OR", "col:x", "'; DROP TABLE x"):
        await store.search(nasty)  # no FTS5 syntax error reaches the caller
    await store.put_message({**out, "content": [{"type": "text", "text": "rewritten"}]})
    assert await store.search("striker") == []
    assert [h["msg_id"] for h in await store.search("rewritten")] == [out["msg_id"]]
    assert await store.search("   ") == []


async def test_context_per_session(store: Store) -> None:
    await start_session(store)
    assert await store.get_context("s1") is None
    await store.set_context("s1", {"messages": [1, 2]})
    await store.set_context("s1", {"messages": [1, 2, 3]})
    assert await store.get_context("s1") == {"messages": [1, 2, 3]}
    with pytest.raises(SessionNotFound):
        await store.set_context("nope", {})


async def test_crash_sweep_marks_outputs_in_progress_interrupted(data_dir: Path) -> None:
    store = new_store(data_dir)
    store.open()
    first = await start_session(store)
    running = output_message("s1", first["conv_id"], "half", status="progress")
    running["content"].append({"type": "video", "status": "success", "video": {"id": "v"}})
    empty = {**output_message("s1", "c2", "", status="progress"), "content": []}
    await store.put_message(running)
    await store.put_message(empty)
    done = await store.put_message(output_message("s1", "c3", "done"))
    store.close()  # as if the process died mid-run: the outputs stay in progress on disk

    store = new_store(data_dir)
    assert store.open().swept == 2
    swept = await store.get_message("s1", running["msg_id"])
    assert swept is not None
    assert swept["status"] == "error"
    assert swept["content"][0]["status"] == "error"
    assert swept["content"][0]["status_message"] == "Interrupted"
    assert swept["content"][0]["text"] == "half"
    assert swept["content"][1]["status"] == "success"  # finished items are kept as they were
    assert swept["metadata"]["seq"] > done["metadata"]["seq"]  # a stored change with its own seq
    filled = await store.get_message("s1", empty["msg_id"])
    assert filled is not None
    assert filled["content"] == [
        {
            "type": "text",
            "status": "error",
            "status_message": "Interrupted",
            "agent_name": "assistant",
            "text": "",
        }
    ]
    assert await store.get_message("s1", done["msg_id"]) == done
    assert await store.sweep_interrupted() == []
    store.close()


async def test_an_input_stored_with_its_pending_reply_is_never_left_unanswered(
    data_dir: Path,
) -> None:
    store = new_store(data_dir)
    store.open()
    message = input_message("s1", "hello")
    pending = {**output_message("s1", message["conv_id"], "", status="progress"), "content": []}
    added = await store.add_turn(message, session_name="hello", pending_output=pending)
    stored = added.input
    assert added.created
    reply = await store.get_message("s1", pending["msg_id"])
    assert reply is not None
    assert reply["status"] == "progress"
    assert reply["metadata"]["seq"] == stored["metadata"]["seq"] + 1  # the same transaction
    store.close()  # the process dies before the run stores anything

    store = new_store(data_dir)
    assert store.open().swept == 1
    swept = await store.get_message("s1", pending["msg_id"])
    assert swept is not None
    assert swept["status"] == "error"
    assert swept["content"][0]["status_message"] == "Interrupted"
    store.close()


async def test_add_turn_answers_the_pending_reply_as_stored(store: Store) -> None:
    message = input_message("s1", "hello")
    pending = {**output_message("s1", message["conv_id"], "", status="progress"), "content": []}
    added = await store.add_turn(message, session_name="hello", pending_output=pending)
    stored, reply = added.input, added.pending
    assert (added.created, added.duplicate) == (True, False)
    assert stored == await store.get_message("s1", message["msg_id"])
    assert reply is not None
    assert reply == await store.get_message("s1", pending["msg_id"])
    assert reply["metadata"]["seq"] == stored["metadata"]["seq"] + 1

    again = await store.add_turn(
        message, session_name="hello", pending_output={**pending, "msg_id": "other"}
    )
    assert (again.input, again.pending, again.created, again.duplicate) == (
        stored,
        None,
        False,
        True,
    )
    assert await store.get_message("s1", "other") is None  # a re-send stores nothing


async def test_add_turn_refuses_a_bad_pending_reply_and_stores_nothing(store: Store) -> None:
    await start_session(store)
    before = await store.conversation("s1")
    last = await store.last_seq("s1")
    message = input_message("s1", "second")
    pending = {**output_message("s1", message["conv_id"], "", status="progress"), "content": []}
    elsewhere = {**pending, "conv_id": "another-conversation"}
    with pytest.raises(InvalidPayload):
        await store.add_turn(message, session_name="x", pending_output=elsewhere)
    taken = {**pending, "msg_id": before[0][0]["msg_id"]}  # the first input's id
    with pytest.raises(DuplicateId):
        await store.add_turn(message, session_name="x", pending_output=taken)
    # Neither the input nor a seq was kept: the transaction was undone whole.
    assert await store.conversation("s1") == before
    assert await store.last_seq("s1") == last
    assert await store.get_message("s1", message["msg_id"]) is None


async def test_close_is_idempotent_and_use_after_close_raises(data_dir: Path) -> None:
    store = new_store(data_dir)
    with pytest.raises(StoreClosed):
        await store.list_sessions()  # not opened yet
    before = set(threading.enumerate())
    store.open()
    assert [t.name for t in set(threading.enumerate()) - before] == ["director-store"]
    store.close()
    store.close()
    assert set(threading.enumerate()) - before == set()  # the worker thread is gone
    with pytest.raises(StoreClosed):
        await store.list_sessions()
    with pytest.raises(StoreClosed):
        store.open()


async def test_new_text_is_indexed_for_search_in_batches_when_the_store_is_idle(
    data_dir: Path,
) -> None:
    store = new_store(data_dir)
    store.open()
    for n in range(5):
        await start_session(store, f"s{n}", f"topic number {n}")
    db = sqlite3.connect(data_dir / "director.sqlite3")
    deadline = time.monotonic() + 30
    # Readiness signal: the queue of unindexed messages empties without any search asking.
    while db.execute("SELECT count(*) FROM fts_pending").fetchone()[0]:
        assert time.monotonic() < deadline, "the idle worker never indexed the new text"
        await asyncio.sleep(0.05)
    indexed = db.execute("SELECT count(*) FROM message_fts").fetchone()[0]
    db.close()
    assert indexed == 5
    assert len(await store.search("topic")) == 10  # 5 names + 5 messages
    store.close()


async def test_message_hits_come_newest_first_and_short_words_are_not_prefixes(
    store: Store,
) -> None:
    first = await start_session(store, "s1", "a chat")
    ids = []
    for n in range(5):
        out = output_message("s1", first["conv_id"], f"comet sighting number {n}")
        ids.append((await store.put_message(out))["msg_id"])
    hits = await store.search("comet", limit=3)
    assert [h["msg_id"] for h in hits] == ids[::-1][:3]
    assert await store.search("co") == []  # two letters: the word "co", not every co… word
    assert len(await store.search("com")) == 5
