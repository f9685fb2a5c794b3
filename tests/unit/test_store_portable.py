"""Export and import: the versioned JSON round trip, Markdown, and Director's director.db."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from store_support import input_message, new_store, output_message

from director_desktop.errors import InvalidPayload, SessionNotFound
from director_desktop.store import Store
from tests.fixtures.director_db import DIRECTOR_DDL, add_director_message

pytestmark = pytest.mark.anyio


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = new_store(tmp_path / "data")
    store.open()
    yield store
    store.close()


async def chat(store: Store, session_id: str = "s1") -> None:
    first = input_message(session_id, "Show me the launch", agents=["search"])
    await store.add_input(first, session_name="Show me the launch", video_id="v1")
    out = output_message(session_id, first["conv_id"], "Here it is: **launch**", status="progress")
    out["content"].append(
        {"type": "video", "status": "success", "video": {"id": "m1", "name": "launch.mp4"}}
    )
    await store.put_message(out)
    await store.put_message({**out, "status": "success"})
    await store.put_message(input_message(session_id, "Thanks ✓ — ünïcode"))
    await store.set_context(session_id, {"messages": [{"role": "user", "content": "hi"}]})


def without_time(export: dict) -> dict:
    return {k: v for k, v in export.items() if k != "exported_at"}


async def test_json_export_round_trips_into_another_store(store: Store, tmp_path: Path) -> None:
    await chat(store)
    exported = await store.export_session("s1")
    assert exported["format"] == "director-desktop/session"
    assert exported["version"] == 2
    text = json.dumps(exported)  # what travels is JSON text

    other = new_store(tmp_path / "other")
    other.open()
    new_id = await other.import_session(json.loads(text))
    assert new_id == "s1"  # free in that store, so kept
    assert without_time(await other.export_session("s1")) == without_time(exported)
    assert await other.list_sessions() == [exported["session"]]
    assert await other.last_seq("s1") == await store.last_seq("s1")
    assert [h["msg_id"] for h in await other.search("launch")] == [
        h["msg_id"] for h in await store.search("launch")
    ]
    other.close()


async def test_import_never_overwrites_an_existing_session(store: Store) -> None:
    await chat(store)
    before = await store.export_session("s1")
    new_id = await store.import_session(before)
    assert new_id != "s1"
    assert without_time(await store.export_session("s1")) == without_time(before)
    copy = await store.export_session(new_id)
    assert [m["msg_id"] for m in copy["messages"]] == [m["msg_id"] for m in before["messages"]]
    assert {m["session_id"] for m in copy["messages"]} == {new_id}
    assert [m["content"] for m in copy["messages"]] == [m["content"] for m in before["messages"]]


async def test_bad_imports_are_refused_whole(store: Store) -> None:
    await chat(store)
    good = await store.export_session("s1")
    broken_message = json.loads(json.dumps(good))
    broken_message["session"]["session_id"] = "fresh"
    broken_message["messages"][-1]["msg_type"] = "sideways"  # the last one: earlier ones went in
    duplicate = json.loads(json.dumps(good))
    duplicate["messages"].append(duplicate["messages"][0])
    for bad in (
        None,
        [],
        {"format": "something else"},
        {**good, "version": 3},
        {**good, "messages": "nope"},
        {**good, "session": {**good["session"], "name": ""}},
        broken_message,
        duplicate,
    ):
        with pytest.raises(InvalidPayload):
            await store.import_session(bad)
    assert [s["session_id"] for s in await store.list_sessions()] == ["s1"]
    assert await store.get_session("fresh") is None


async def test_markdown_export(store: Store) -> None:
    await chat(store)
    markdown = await store.export_markdown("s1")
    assert markdown.startswith("# Show me the launch\n")
    assert markdown.count("## You ·") == 2
    assert markdown.count("## Director ·") == 1
    assert "Here it is: **launch**" in markdown
    assert "[video: launch.mp4]" in markdown
    assert "Thanks ✓ — ünïcode" in markdown
    with pytest.raises(SessionNotFound):
        await store.export_markdown("nope")


def build_director_db(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(DIRECTOR_DDL)

    def msg(sid: str, msg_id: str, kind: str, text: str, when: int, status: str = "success"):
        add_director_message(
            conn,
            sid,
            msg_id,
            kind,
            text,
            when,
            status=status,
            agents=["search"],
            actions=["Ran"],
            metadata={"note": msg_id},
        )

    conn.execute(
        "INSERT INTO sessions VALUES ('old', NULL, 'c1', 1000, 1000, ?)",
        (json.dumps({"name": "The old one"}),),
    )
    conn.execute("INSERT INTO sessions VALUES ('new', 'v9', 'c1', 2000, 3000, NULL)")
    conn.execute("INSERT INTO sessions VALUES ('mid', NULL, NULL, 1500, 2000, '{}')")
    # Rows of a session are not in time order in the file: rowid is the only order.
    msg("new", "n1", "input", "what is in the keynote video", 2000)
    msg("old", "o1", "input", "first question", 1000)
    msg("new", "n2", "output", "a keynote about launches", 2001)
    msg("old", "o2", "output", "an answer that never finished", 1001, status="progress")
    msg("mid", "m1", "input", "middle chat", 1500)
    conn.execute(
        "INSERT INTO conversations (session_id, msg_id, msg_type, content) VALUES"
        " ('new', 'n3', 'output', 'not json at all')"
    )
    conn.execute(
        "INSERT INTO context_messages VALUES ('new', ?, 2000, 3000, NULL)",
        (json.dumps([{"role": "system", "content": "be brief"}]),),
    )
    conn.commit()
    conn.close()


async def test_director_db_import_keeps_sessions_order_and_messages(
    store: Store, tmp_path: Path
) -> None:
    director = tmp_path / "director.db"
    build_director_db(director)
    digest = hashlib.sha256(director.read_bytes()).hexdigest()

    imported = await store.import_director_db(director)
    assert imported == ["new", "mid", "old"]
    sessions = await store.list_sessions()
    assert [s["session_id"] for s in sessions] == ["new", "mid", "old"]
    assert [s["updated_at"] for s in sessions] == [3000, 2000, 1000]
    assert [s["name"] for s in sessions] == [
        "what is in the keynote video",
        "middle chat",
        "The old one",
    ]
    assert sessions[0]["video_id"] == "v9"
    assert sessions[0]["collection_id"] == "c1"

    new, _ = await store.conversation("new")
    assert [m["msg_id"] for m in new] == ["n1", "n2", "n3"]
    assert [m["metadata"]["seq"] for m in new] == [1, 2, 3]
    assert new[1]["content"][0]["text"] == "a keynote about launches"
    assert new[1]["agents"] == ["search"]
    assert new[1]["actions"] == ["Ran"]
    assert new[1]["metadata"]["note"] == "n2"
    assert new[1]["created_at"] == 2001
    assert new[2]["content"] == [{"type": "text", "text": "not json at all"}]  # kept, not dropped
    old, _ = await store.conversation("old")
    assert old[1]["status"] == "error"  # Director's stuck run no longer locks the session
    assert old[1]["content"][0]["status_message"] == "Interrupted"
    assert await store.get_context("new") == {
        "messages": [{"role": "system", "content": "be brief"}]
    }
    assert [h["session_id"] for h in await store.search("keynote")] == ["new", "new", "new"]

    again = await store.import_director_db(director)  # a second import never overwrites
    assert set(again).isdisjoint(imported)
    assert len(await store.list_sessions()) == 6
    assert hashlib.sha256(director.read_bytes()).hexdigest() == digest  # Director's file untouched


async def test_director_import_refuses_what_is_not_a_director_db(
    store: Store, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    for path in (junk, other, tmp_path / "missing.db"):
        with pytest.raises(InvalidPayload):
            await store.import_director_db(path)
    assert await store.list_sessions() == []
