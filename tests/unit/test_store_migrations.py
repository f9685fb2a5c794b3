"""Schema versions: every committed fixture upgrades with every row intact, backed up first."""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import asdict
from pathlib import Path

import pytest
from store_support import new_store, pending_output

from director_desktop.errors import StoreError
from director_desktop.store import backups, schema
from director_desktop.store.job_records import INTERRUPTED_MESSAGE

pytestmark = pytest.mark.anyio

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "store"
VERSIONS = list(range(1, schema.CURRENT_VERSION + 1))


def rows(path: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(path.as_uri() + "?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def tables(path: Path) -> set[str]:
    return {r[0] for r in rows(path, "SELECT name FROM sqlite_master WHERE type = 'table'")}


def media_and_job_rows(path: Path) -> dict[str, list[dict]]:
    """The rows of the v4 tables by column name (none in older fixtures)."""
    conn = sqlite3.connect(path.as_uri() + "?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        found = tables(path)
        return {
            table: [dict(r) for r in conn.execute(f"SELECT * FROM {table}")]
            if table in found
            else []
            for table in ("collections", "assets", "jobs")
        }
    finally:
        conn.close()


def decoded(row: dict, *, flags: tuple[str, ...], json_columns: tuple[str, ...]) -> dict:
    """A row as the store's record of it reads: flags as bools, JSON columns parsed."""
    return {
        key: bool(value)
        if key in flags
        else (json.loads(value) if key in json_columns and value is not None else value)
        for key, value in row.items()
    }


def install(version: int, data_dir: Path) -> Path:
    data_dir.mkdir(parents=True)
    target = data_dir / "director.sqlite3"
    shutil.copyfile(FIXTURES / f"v{version}.sqlite3", target)
    return target


def test_there_is_a_fixture_for_every_schema_version() -> None:
    assert sorted(p.name for p in FIXTURES.glob("v*.sqlite3")) == [
        f"v{v}.sqlite3" for v in VERSIONS
    ]
    for version in VERSIONS:
        assert rows(FIXTURES / f"v{version}.sqlite3", "PRAGMA user_version") == [(version,)]


@pytest.mark.parametrize("version", VERSIONS)
async def test_each_fixture_upgrades_with_every_row_intact(version: int, tmp_path: Path) -> None:
    path = install(version, tmp_path / "data")
    old_messages = rows(
        path,
        "SELECT session_id, conv_id, msg_id, msg_type, status, actions, agents, content, metadata,"
        " created_at, updated_at FROM messages ORDER BY session_id, first_seq",
    )
    old_sessions = rows(
        path, "SELECT session_id, name, video_id, collection_id, created_at, metadata FROM sessions"
    )
    old_context = rows(path, "SELECT session_id, context FROM contexts")

    store = new_store(tmp_path / "data")
    health = store.open()
    assert health.ok, health.message
    assert health.swept == 1  # the fixture's cut-off run
    assert rows(path, "PRAGMA user_version") == [(schema.CURRENT_VERSION,)]

    for row in old_messages:
        stored = await store.get_message(row[0], row[2])
        assert stored is not None
        expected = {
            "session_id": row[0],
            "conv_id": row[1],
            "msg_id": row[2],
            "msg_type": row[3],
            "status": row[4],
            "actions": json.loads(row[5]),
            "agents": json.loads(row[6]),
            "content": json.loads(row[7]),
            "metadata": json.loads(row[8]),
            "created_at": row[9],
            "updated_at": row[10],
        }
        if row[4] == "progress":  # swept at open: only status and seq moved
            assert stored["status"] == "error"
            assert stored["content"][0]["text"] == expected["content"][0]["text"]
            assert stored["metadata"]["kept"] == expected["metadata"]["kept"]
        else:
            assert stored == expected
    listed = {s["session_id"]: s for s in await store.list_sessions()}
    assert len(listed) == len(old_sessions)
    for sid, name, video_id, collection_id, created_at, metadata in old_sessions:
        session = listed[sid]
        assert (session["name"], session["video_id"], session["collection_id"]) == (
            name,
            video_id,
            collection_id,
        )
        assert session["created_at"] == created_at
        assert session["metadata"] == json.loads(metadata)
    for sid, context in old_context:
        assert await store.get_context(sid) == json.loads(context)
    prefs = await store.get_prefs()
    assert prefs["theme"] == "dark"
    assert prefs["drafts"] == {"s-cooking": "half a thought"}
    assert [h["msg_id"] for h in await store.search("answer 7")] == ["out-7"]
    assert [h["session_id"] for h in await store.search("ünïcode")] == ["s-cooking"]
    # The conversation still pages in order, and the seq counter continues.
    page, has_more = await store.conversation("s-rockets", limit=2)
    assert [m["msg_id"] for m in page] == ["in-11", "out-11"]
    assert has_more
    assert await store.last_seq("s-rockets") == 25  # 24 stores + the sweep
    store.close()
    indexes = {r[0] for r in rows(path, "SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "messages_in_progress" in indexes


@pytest.mark.parametrize("version", VERSIONS)
async def test_each_fixture_upgrades_with_its_media_and_jobs(version: int, tmp_path: Path) -> None:
    path = install(version, tmp_path / "data")
    old = media_and_job_rows(path)
    store = new_store(tmp_path / "data")
    assert store.open().ok
    try:
        collections = await store.media.collections()
        assert collections[0].id == "default"  # made by the migration, or kept
        assert [asdict(c) for c in collections[1:]] == [
            row for row in old["collections"] if row["id"] != "default"
        ]
        for row in old["assets"]:
            asset = await store.media.get(row["id"])
            assert asset is not None
            assert asdict(asset) == decoded(row, flags=("owned",), json_columns=("probe",))
        for row in old["jobs"]:
            job = await store.jobs.get(row["id"])
            assert job is not None
            json_columns = ("error", "result", "params")
            assert asdict(job) == decoded(row, flags=("resumable",), json_columns=json_columns)
        # The jobs' own start-up sweep, run by the jobs room: nothing is left running.
        swept = {job.id: job for job in await store.jobs.sweep()}
        cut = {row["id"] for row in old["jobs"] if row["status"] in ("queued", "running")}
        assert set(swept) == cut
        for job in swept.values():
            assert job.status == ("paused" if job.resumable else "error")
        assert all(job.status not in ("queued", "running") for job in await store.jobs.recent())
    finally:
        store.close()
    if version >= 4:  # what the fixture holds, so the checks above did check something
        assert [c.id for c in collections] == ["default", "c-travel"]
        assert len(old["assets"]) == 3
        assert swept["j-import"].error == {"code": "interrupted", "message": INTERRUPTED_MESSAGE}
        assert swept["j-download"].status == "paused"
        # Finished a week ago or more: dropped by the sweep.
        assert {r[0] for r in rows(path, "SELECT id FROM jobs")} == {
            "j-import",
            "j-download",
            "j-paused",
        }


def index_rows_of(path: Path) -> dict[str, list[tuple]]:
    """The rows of the v5 tables (none in older fixtures)."""
    found = tables(path)
    queries = {
        "index_state": "SELECT asset_id, status, job_id, indexed_at, summary FROM index_state",
        "index_scenes": "SELECT asset_id, idx, start, end, thumbnail FROM index_scenes",
        "index_lines": "SELECT id, asset_id, source, track, start, end, text, words"
        " FROM index_lines ORDER BY id",
        "index_vectors": "SELECT line_id, model, vector FROM index_vectors",
    }
    return {table: rows(path, sql) if table in found else [] for table, sql in queries.items()}


@pytest.mark.parametrize("version", VERSIONS)
async def test_each_fixture_upgrades_with_its_media_index(version: int, tmp_path: Path) -> None:
    path = install(version, tmp_path / "data")
    old = index_rows_of(path)
    store = new_store(tmp_path / "data")
    assert store.open().ok
    try:
        for asset_id, status, job_id, indexed_at, summary in old["index_state"]:
            state = await store.index.state(asset_id)
            if status == "indexing":  # its job died with the process: back to what it had
                assert state.status == ("indexed" if indexed_at else "not_indexed")
            else:
                assert (state.status, state.job_id, state.indexed_at) == (
                    status,
                    job_id,
                    indexed_at,
                )
                assert state.summary == json.loads(summary)
        for asset_id in {row[0] for row in old["index_scenes"]}:
            scenes = await store.index.scenes(asset_id)
            assert [(asset_id, s.idx, s.start, s.end, s.thumbnail) for s in scenes] == [
                row for row in old["index_scenes"] if row[0] == asset_id
            ]
        for line_id, asset_id, source, track, start, end, text, words in old["index_lines"]:
            stored = [
                line
                for line in await store.index.lines(asset_id, [source])
                if (line.track, line.start, line.end, line.text) == (track, start, end, text)
            ]
            assert len(stored) == 1
            got = [[w.start, w.end, w.text] for w in stored[0].words]
            assert got == (json.loads(words) if words else [])
            # Still found by the full-text index, at its line.
            hits = await store.index.search(text.split()[0], asset_id=asset_id)
            assert line_id in [hit.line_id for hit in hits]
    finally:
        store.close()
    assert index_rows_of(path)["index_vectors"] == old["index_vectors"]
    if version >= 5:  # what the fixture holds, so the checks above did check something
        assert len(old["index_lines"]) == 3
        assert len(old["index_scenes"]) == 2
        assert [r[0] for r in old["index_vectors"]] == [1]
        assert {r[0]: r[1] for r in old["index_state"]} == {
            "a-video": "indexed",
            "a-audio": "indexing",
        }
        # Deleting an asset deletes its index, FTS rows and vectors included.
        store = new_store(tmp_path / "data")
        assert store.open().ok
        try:
            await store.media.delete("a-video")
            assert (await store.index.state("a-video")).status == "not_indexed"
            assert await store.index.search("ignition liftoff launch") == []
        finally:
            store.close()
        assert all(not found for found in index_rows_of(path).values())
        conn = sqlite3.connect(path)  # the FTS index agrees with its table (raises if not)
        conn.execute("INSERT INTO index_lines_fts (index_lines_fts) VALUES ('integrity-check')")
        conn.close()


async def test_the_file_is_backed_up_before_a_migration(tmp_path: Path) -> None:
    install(1, tmp_path / "data")
    fixture_rows = rows(FIXTURES / "v1.sqlite3", "SELECT * FROM messages ORDER BY id")
    store = new_store(tmp_path / "data")
    store.open()
    store.close()
    found = backups.backups(tmp_path / "data" / "backups")
    suffix = f"-before-v{schema.CURRENT_VERSION}-from-v1.sqlite3"
    before = [p for p in found if p.name.endswith(suffix)]
    assert len(before) == 1
    assert rows(before[0], "PRAGMA user_version") == [(1,)]
    assert rows(before[0], "SELECT * FROM messages ORDER BY id") == fixture_rows
    assert rows(before[0], "PRAGMA journal_mode") == [("delete",)]  # one self-contained file
    assert any(p.name.endswith("-daily.sqlite3") for p in found)


async def test_a_current_file_is_not_backed_up_for_migration(tmp_path: Path) -> None:
    install(schema.CURRENT_VERSION, tmp_path / "data")
    store = new_store(tmp_path / "data")
    store.open()
    store.close()
    names = [p.name for p in backups.backups(tmp_path / "data" / "backups")]
    assert len(names) == 1
    assert names[0].endswith("-daily.sqlite3")


def test_a_failing_migration_leaves_the_previous_version_whole(tmp_path: Path) -> None:
    path = install(1, tmp_path / "data")
    conn = sqlite3.connect(path, isolation_level=None)

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half_done (x)")
        conn.execute("UPDATE messages SET status = 'mangled'")
        conn.execute("SELECT no_such_function()")  # fails after changing things

    with pytest.raises(sqlite3.OperationalError):
        schema.migrate(conn, migrations=[*schema.MIGRATIONS[:1], broken])
    conn.close()
    assert rows(path, "PRAGMA user_version") == [(1,)]
    assert rows(path, "SELECT name FROM sqlite_master WHERE name = 'half_done'") == []
    assert rows(path, "SELECT count(*) FROM messages WHERE status = 'mangled'") == [(0,)]


def test_a_file_from_a_newer_version_is_refused_untouched(tmp_path: Path) -> None:
    path = install(schema.CURRENT_VERSION, tmp_path / "data")
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {schema.CURRENT_VERSION + 1}")
    conn.close()
    before = path.read_bytes()
    store = new_store(tmp_path / "data")
    with pytest.raises(StoreError) as info:
        store.open()
    assert info.value.code == "store_too_new"
    assert path.read_bytes() == before


def test_one_daily_backup_and_only_the_newest_are_kept(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = new_store(data, keep_backups=3)
    store.open()
    store.close()
    store = new_store(data, keep_backups=3)
    store.open()  # same day: no second daily backup
    store.close()
    assert len(backups.backups(data / "backups")) == 1
    conn = sqlite3.connect(data / "director.sqlite3")
    made = [backups.take(conn, data / "backups", f"test{n}") for n in range(4)]
    conn.close()
    assert len(backups.backups(data / "backups")) == 5
    store = new_store(data, keep_backups=3)
    store.open()  # prunes to the newest 3
    store.close()
    assert backups.backups(data / "backups") == [made[3], made[2], made[1]]


@pytest.mark.parametrize("version", VERSIONS)
async def test_each_fixture_upgrades_with_its_pins_and_listing_order(
    version: int, tmp_path: Path
) -> None:
    path = install(version, tmp_path / "data")
    has_pins = "pinned_at" in {r[1] for r in rows(path, "PRAGMA table_info(sessions)")}
    pins = "pinned_at" if has_pins else "NULL"
    old_pins = dict(rows(path, f"SELECT session_id, {pins} FROM sessions"))
    store = new_store(tmp_path / "data")
    assert store.open().ok
    try:
        listed = [(s["session_id"], s["pinned_at"]) for s in await store.list_sessions()]
        paged: list[tuple[str, int | None]] = []
        cursor = None
        while True:
            page = await store.list_sessions_page(limit=1, cursor=cursor)
            paged += [(s["session_id"], s["pinned_at"]) for s in page.sessions]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    finally:
        store.close()
    assert dict(listed) == old_pins  # nothing was pinned before v6; v6's pins are kept
    # Both listings in the documented order (the sweep at open is activity, so it is read now).
    in_order = rows(
        path,
        "SELECT session_id, pinned_at FROM sessions"
        " ORDER BY pinned_at IS NULL, updated_at DESC, touched DESC, id DESC",
    )
    assert listed == paged == in_order
    indexes = {r[0] for r in rows(path, "SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "sessions_listing" in indexes
    assert "sessions_by_update" not in indexes
    if version >= 6:  # what the fixture holds: the least recently active session, pinned
        assert listed[0] == ("s-empty", 1795600600)
        unpinned = [sid for sid, pinned in listed if pinned is None and sid != "s-branch"]  # v7's
        assert unpinned == ["s-rockets", "s-cooking"]
    else:
        assert all(pinned is None for _, pinned in listed)


# --- v7: versions of a message and branches (issue 15) ---------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
async def test_each_fixture_upgrades_to_chats_that_take_versions(
    version: int, tmp_path: Path
) -> None:
    """Turns stored before v7 get their branch links when first needed: regenerating a middle
    turn hides the turns after it, and showing version 1 again brings them back as they were."""
    install(version, tmp_path / "data")
    store = new_store(tmp_path / "data")
    store.open()
    try:
        before = await store.get_message("s-rockets", "out-5")
        assert before is not None
        revised = await store.new_version(
            "s-rockets", "conv-5", pending=pending_output("s-rockets", "conv-5", "unused")
        )
        assert revised.output["msg_id"] == "out-5"
        assert (revised.output["metadata"]["version"], revised.version) == (2, 2)
        hidden = {m["msg_id"] for m in revised.changed if m["metadata"].get("hidden")}
        assert hidden == {f"{kind}-{n}" for kind in ("in", "out") for n in range(6, 12)}
        shown, _ = await store.conversation("s-rockets")
        assert [m["msg_id"] for m in shown][-2:] == ["in-5", "out-5"]

        again, changed = await store.select_version("s-rockets", "out-5", 1)
        assert again["content"] == before["content"]
        assert {m["msg_id"] for m in changed} == {"out-5"} | hidden
        shown, _ = await store.conversation("s-rockets")
        assert len(shown) == 24
        assert not any(m["metadata"].get("hidden") for m in shown)
    finally:
        store.close()


async def test_the_v7_fixture_keeps_its_versions_and_branches(tmp_path: Path) -> None:
    install(7, tmp_path / "data")
    store = new_store(tmp_path / "data")
    store.open()
    try:
        shown, _ = await store.conversation("s-branch")
        assert [m["msg_id"] for m in shown] == ["in-b1", "out-b1", "in-b3", "out-b3"]
        every, _ = await store.conversation("s-branch", every_branch=True)
        assert [m["msg_id"] for m in every if m["metadata"].get("hidden")] == ["in-b2", "out-b2"]
        # every version is found, the one shown and those kept
        assert [h["msg_id"] for h in await store.search("wombat version")] == ["in-b3"]
        assert {h["msg_id"] for h in await store.search("zebra answer")} == {"out-b1"}

        first, _ = await store.select_version("s-branch", "out-b1", 1)
        assert first["content"][0]["text"] == "first zebra answer"
        shown, _ = await store.conversation("s-branch")
        assert [m["msg_id"] for m in shown] == ["in-b1", "out-b1", "in-b2", "out-b2"]
        edited, _ = await store.select_version("s-branch", "in-b3", 1)
        assert edited["content"][0]["text"] == "wombat on version two"
        assert edited["metadata"]["hidden"] is True  # b3 is on the branch not shown
    finally:
        store.close()
