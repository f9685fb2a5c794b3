"""The session listing on a real SQLite file: pinned first, then by activity, whole or in keyset
pages that stay stable while sessions are made, deleted, pinned and written to between pages."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from store_support import input_message, new_store, output_message

from director_desktop.errors import InvalidPayload, SessionNotFound
from director_desktop.store import Store

pytestmark = pytest.mark.anyio


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = new_store(tmp_path / "data")
    health = store.open()
    assert health.ok, health.message
    yield store
    store.close()


async def make(store: Store, session_id: str) -> None:
    _, created, _ = await store.add_input(
        input_message(session_id, f"chat {session_id}"), session_name=session_id
    )
    assert created


async def ids(store: Store) -> list[str]:
    return [s["session_id"] for s in await store.list_sessions()]


async def walk(store: Store, limit: int) -> list[list[str]]:
    """Every page from the first, by following each page's cursor."""
    pages: list[list[str]] = []
    cursor = None
    while True:
        page = await store.list_sessions_page(limit, cursor)
        pages.append([s["session_id"] for s in page.sessions])
        if page.next_cursor is None:
            return pages
        assert len(page.sessions) == limit  # only the last page is short
        cursor = page.next_cursor


async def test_pinned_sessions_list_first_then_by_activity(store: Store) -> None:
    for n in range(6):
        await make(store, f"s{n}")
    assert await ids(store) == ["s5", "s4", "s3", "s2", "s1", "s0"]
    pinned = await store.pin_session("s1", True)
    assert pinned["pinned_at"] is not None
    await store.pin_session("s4", True)
    # Within each group, the order of activity; a pin is not activity.
    assert await ids(store) == ["s4", "s1", "s5", "s3", "s2", "s0"]
    assert (await store.get_session("s1")) == pinned
    await store.put_message(output_message("s1", "c-late", "written to"))
    assert await ids(store) == ["s1", "s4", "s5", "s3", "s2", "s0"]
    # Pinning again keeps when it was pinned; unpinning puts it back by its activity.
    assert (await store.pin_session("s1", True))["pinned_at"] == pinned["pinned_at"]
    unpinned = await store.pin_session("s1", False)
    assert unpinned["pinned_at"] is None
    assert unpinned["updated_at"] == (await store.get_session("s1") or {}).get("updated_at")
    assert await ids(store) == ["s4", "s1", "s5", "s3", "s2", "s0"]
    assert [s["session_id"] for s in await store.list_sessions(limit=2)] == ["s4", "s1"]


async def test_pinning_an_unknown_session_is_not_found_and_changes_nothing(store: Store) -> None:
    await make(store, "s0")
    with pytest.raises(SessionNotFound):
        await store.pin_session("nope", True)
    assert [s["pinned_at"] for s in await store.list_sessions()] == [None]


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 100])
async def test_pages_walk_the_whole_list_in_its_order(store: Store, limit: int) -> None:
    for n in range(9):
        await make(store, f"s{n}")
    for sid in ("s0", "s6", "s3"):
        await store.pin_session(sid, True)
    whole = await ids(store)
    assert whole[:3] == ["s6", "s3", "s0"]
    pages = await walk(store, limit)
    assert [sid for page in pages for sid in page] == whole
    assert len(pages) == max(1, -(-len(whole) // limit))


async def test_ties_of_time_are_broken_the_same_way_on_every_page(
    store: Store, tmp_path: Path
) -> None:
    """Imported sessions share one clock value: the row id orders them, so none is lost."""
    for n in range(5):
        await store.import_session(
            {
                "format": "director-desktop/session",
                "version": 1,
                "session": {"session_id": f"i{n}", "name": f"imported {n}", "updated_at": 1000},
                "messages": [],
            }
        )
    conn = sqlite3.connect(tmp_path / "data" / "director.sqlite3")
    touched = {r[0] for r in conn.execute("SELECT touched FROM sessions")}
    conn.close()
    assert len(touched) == 1  # the tie this test is about
    whole = await ids(store)
    assert sorted(whole) == [f"i{n}" for n in range(5)]
    assert [sid for page in await walk(store, 1) for sid in page] == whole


async def test_sessions_made_while_paging_never_shift_a_page(store: Store) -> None:
    for n in range(30):
        await make(store, f"old{n}")
    before = await ids(store)
    seen: list[str] = []
    made = 0
    cursor = None
    while True:
        page = await store.list_sessions_page(4, cursor)
        seen += [s["session_id"] for s in page.sessions]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
        for _ in range(3):  # between every two pages, more sessions than a page holds
            await make(store, f"new{made}")
            made += 1
        await store.pin_session(f"new{made - 1}", True)
    # Every session that was there is seen once, in its order; new ones (pinned or not) list
    # above the cursor, and a window hears of them in `update_data`.
    assert seen == before
    assert made == 21
    assert len(await ids(store)) == 51


async def test_deletes_between_pages_skip_nothing_else(store: Store) -> None:
    for n in range(10):
        await make(store, f"s{n}")
    whole = await ids(store)  # s9 .. s0
    first = await store.list_sessions_page(3, None)
    assert [s["session_id"] for s in first.sessions] == whole[:3]
    # The cursor's own session, one of the next page and one far ahead go.
    for sid in (whole[2], whole[3], whole[8]):
        assert await store.delete_session(sid)
    rest: list[str] = []
    cursor = first.next_cursor
    while cursor is not None:
        page = await store.list_sessions_page(3, cursor)
        rest += [s["session_id"] for s in page.sessions]
        cursor = page.next_cursor
    assert rest == [sid for sid in whole[3:] if sid not in (whole[3], whole[8])]


async def test_pins_between_pages_move_only_the_session_pinned(store: Store) -> None:
    for n in range(8):
        await make(store, f"s{n}")
    await store.pin_session("s2", True)
    whole = await ids(store)
    assert whole == ["s2", "s7", "s6", "s5", "s4", "s3", "s1", "s0"]
    first = await store.list_sessions_page(3, None)
    assert [s["session_id"] for s in first.sessions] == ["s2", "s7", "s6"]
    # Between pages: s1 (ahead) is pinned, s2 (shown, pinned) is unpinned.
    await store.pin_session("s1", True)
    await store.pin_session("s2", False)
    rest: list[str] = []
    cursor = first.next_cursor
    while cursor is not None:
        page = await store.list_sessions_page(3, cursor)
        rest += [s["session_id"] for s in page.sessions]
        cursor = page.next_cursor
    # s1 moved above the cursor (the update tells windows); s2 now lists at its activity place,
    # after the cursor, so it shows again there; everything that stayed put shows once.
    assert rest == ["s5", "s4", "s3", "s2", "s0"]
    assert await ids(store) == ["s1", "s7", "s6", "s5", "s4", "s3", "s2", "s0"]


async def test_a_cursor_inside_the_pinned_group_continues_into_the_rest(store: Store) -> None:
    for n in range(6):
        await make(store, f"s{n}")
    for sid in ("s0", "s1", "s2"):
        await store.pin_session(sid, True)
    first = await store.list_sessions_page(2, None)
    assert [s["pinned_at"] is not None for s in first.sessions] == [True, True]
    second = await store.list_sessions_page(2, first.next_cursor)
    assert [s["session_id"] for s in second.sessions] == ["s0", "s5"]
    third = await store.list_sessions_page(2, second.next_cursor)
    assert [s["session_id"] for s in third.sessions] == ["s4", "s3"]
    assert third.next_cursor is None


@pytest.mark.parametrize(
    "cursor",
    ["", "x", "2.1.1.1", "1.1.1", "1.1.1.1.1", "1.-1.1.1", "1.a.1.1", "1.1.1.1 ", "0." + "9" * 19],
)
async def test_a_cursor_this_server_did_not_give_is_invalid(store: Store, cursor: str) -> None:
    await make(store, "s0")
    with pytest.raises(InvalidPayload, match="cursor"):
        await store.list_sessions_page(5, cursor)
    assert await ids(store) == ["s0"]


@pytest.mark.parametrize("limit", [0, -1])
async def test_a_limit_under_one_is_invalid(store: Store, limit: int) -> None:
    with pytest.raises(InvalidPayload, match="limit"):
        await store.list_sessions_page(limit, None)


async def test_an_empty_store_is_one_empty_page(store: Store) -> None:
    page = await store.list_sessions_page(10, None)
    assert (page.sessions, page.next_cursor) == ([], None)
