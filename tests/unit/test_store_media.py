"""`store.media` on a real SQLite file: collections (the default one's rules), assets, the dedupe
key, listing newest first with search and keyset paging (stable while imports land), totals."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from store_support import new_store

from director_desktop.errors import (
    Conflict,
    DuplicateId,
    InvalidId,
    InvalidPayload,
    NotFound,
    StoreClosed,
)
from director_desktop.store import (
    DEFAULT_COLLECTION,
    AssetRecord,
    CollectionRecord,
    Store,
    new_media_id,
)

pytestmark = pytest.mark.anyio

NOW = 1_800_000_000


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = new_store(tmp_path / "data")
    assert store.open().ok
    yield store
    store.close()


def asset(name: str = "clip.mp4", **fields: Any) -> AssetRecord:
    """An asset as an import makes it; its bytes are its name unless `sha256` is given."""
    asset_id = fields.pop("id", new_media_id())
    values: dict[str, Any] = {
        "id": asset_id,
        "collection_id": DEFAULT_COLLECTION,
        "kind": "video",
        "name": name,
        "sha256": hashlib.sha256(name.encode()).hexdigest(),
        "size": 1000,
        "owned": True,
        "path": f"{asset_id}/original.mp4",
        "mime": "video/mp4",
    }
    return AssetRecord(**{**values, **fields})


async def insert(store: Store, record: AssetRecord) -> AssetRecord:
    stored, created = await store.media.insert(record)
    assert created
    return stored


# --- collections --------------------------------------------------------------------------------
async def test_the_default_collection_exists_from_the_first_open_and_is_listed_first(
    store: Store,
) -> None:
    collections = await store.media.collections()
    assert [c.id for c in collections] == ["default"]
    assert collections[0].name == "Default Collection"
    made = [await store.media.create_collection(f"c{n}", f"about {n}") for n in range(3)]
    listed = await store.media.collections()
    assert listed[0].id == "default"
    assert listed[1:] == made  # then in the order they were made
    assert await store.media.collection("default") == collections[0]
    assert await store.media.collection(made[1].id) == made[1]
    assert await store.media.collection("nope") is None


async def test_the_default_collection_cannot_be_deleted(store: Store) -> None:
    with pytest.raises(Conflict) as info:
        await store.media.delete_collection(DEFAULT_COLLECTION)
    assert info.value.http_status == 409
    assert await store.media.collection(DEFAULT_COLLECTION) is not None


async def test_a_collection_is_deleted_only_when_empty(store: Store) -> None:
    travel = await store.media.create_collection("Travel")
    held = await insert(store, asset(collection_id=travel.id))
    with pytest.raises(Conflict) as info:
        await store.media.delete_collection(travel.id)
    assert "non-zero videos/audios/images" in info.value.message
    assert await store.media.collection(travel.id) == travel
    assert await store.media.delete(held.id) == held
    await store.media.delete_collection(travel.id)
    assert await store.media.collection(travel.id) is None
    with pytest.raises(NotFound):
        await store.media.delete_collection(travel.id)


@pytest.mark.parametrize(("name", "description"), [("", ""), ("  ", ""), ("x" * 201, ""), (3, "")])
async def test_a_collection_needs_a_name_of_1_to_200_characters(
    store: Store, name: Any, description: str
) -> None:
    with pytest.raises(InvalidPayload):
        await store.media.create_collection(name, description)
    assert len(await store.media.collections()) == 1


async def test_a_collection_keeps_unicode_and_an_empty_description(store: Store) -> None:
    made = await store.media.create_collection("Été ✈ 東京", "")
    assert made == CollectionRecord(made.id, "Été ✈ 東京", "", made.created_at)
    assert await store.media.collection(made.id) == made


# --- assets -------------------------------------------------------------------------------------
async def test_an_asset_is_stored_and_read_back_whole(store: Store) -> None:
    record = asset(
        "Launch day.mp4",
        description="the rocket",
        length=12.5,
        probe={"width": 1280, "height": 720, "audio_tracks": [{"codec": "aac"}]},
        thumbnail="t/thumbnail.jpg",
        owned=False,
        path="/home/someone/Videos/Launch day.mp4",
    )
    assert await store.media.insert(record) == (record, True)
    assert await store.media.get(record.id) == record
    assert await store.media.get("nope") is None


async def test_the_same_bytes_in_one_collection_answer_the_existing_asset(store: Store) -> None:
    first = await insert(store, asset("a.mp4", sha256="ab" * 32))
    again, created = await store.media.insert(asset("b.mp4", sha256="ab" * 32))
    assert (again, created) == (first, False)
    assert await store.media.by_sha256(DEFAULT_COLLECTION, "ab" * 32) == first
    # Another collection is another library: the same bytes make a new asset there.
    other = await store.media.create_collection("Other")
    there = await insert(store, asset("a.mp4", sha256="ab" * 32, collection_id=other.id))
    assert there.id != first.id
    assert await store.media.by_sha256(other.id, "ab" * 32) == there
    assert await store.media.by_sha256(DEFAULT_COLLECTION, "cd" * 32) is None
    assert (await store.media.totals()).count == 2


async def test_an_asset_id_is_used_once(store: Store) -> None:
    first = await insert(store, asset("a.mp4"))
    with pytest.raises(DuplicateId):
        await store.media.insert(replace(asset("b.mp4"), id=first.id))


async def test_an_asset_of_an_unknown_collection_is_refused(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.media.insert(asset(collection_id="gone"))
    assert (await store.media.totals()).count == 0


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "text"},
        {"name": ""},
        {"sha256": "ABC"},
        {"length": -1.0},
        {"length": float("nan")},
        {"mime": ""},
        {"probe": {"x": object()}},
    ],
)
async def test_a_malformed_asset_is_refused_and_nothing_is_written(
    store: Store, bad: dict[str, Any]
) -> None:
    with pytest.raises(InvalidPayload):
        await store.media.insert(asset(**bad))
    assert (await store.media.totals()).count == 0


async def test_an_asset_id_is_checked(store: Store) -> None:
    with pytest.raises(InvalidId):
        await store.media.insert(replace(asset(), id="no spaces"))


async def test_an_asset_is_updated_key_by_key(store: Store) -> None:
    record = await insert(store, asset("a.mp4", thumbnail="old.jpg"))
    updated = await store.media.update(
        record.id, playable="p/playable.mp4", probe={"fps": 25.0}, length=3.5
    )
    assert updated == replace(record, playable="p/playable.mp4", probe={"fps": 25.0}, length=3.5)
    renamed = await store.media.update(
        record.id, name="Renamed.mp4", description="new", thumbnail=None
    )
    assert renamed == replace(updated, name="Renamed.mp4", description="new", thumbnail=None)
    assert await store.media.get(record.id) == renamed
    assert await store.media.update(record.id) == renamed  # nothing to change
    with pytest.raises(NotFound):
        await store.media.update("gone", name="x")
    with pytest.raises(InvalidPayload):
        await store.media.update(record.id, **{"sha256": "cd" * 32})  # type: ignore[misc]
    with pytest.raises(InvalidPayload):
        await store.media.update(record.id, name="")
    assert await store.media.get(record.id) == renamed


async def test_delete_answers_the_row_once(store: Store) -> None:
    record = await insert(store, asset())
    assert await store.media.delete(record.id) == record
    assert await store.media.delete(record.id) is None
    assert await store.media.get(record.id) is None
    # Its bytes may come again.
    assert (await store.media.insert(replace(record, id=new_media_id())))[1]


async def test_totals_count_each_kind_and_the_bytes_the_library_holds(store: Store) -> None:
    travel = await store.media.create_collection("Travel")
    await insert(store, asset("v.mp4", size=100))
    await insert(store, asset("a.wav", kind="audio", size=20, owned=False, path="/a.wav"))
    await insert(store, asset("i.png", kind="image", size=3, collection_id=travel.id))
    whole = await store.media.totals()
    assert (whole.videos, whole.audios, whole.images, whole.count) == (1, 1, 1, 3)
    assert (whole.size, whole.owned_size) == (123, 103)
    one = await store.media.totals(travel.id)
    assert (one.count, one.images, one.size) == (1, 1, 3)
    empty = await store.media.totals("nope")
    assert (empty.count, empty.size, empty.owned_size) == (0, 0, 0)


# --- listing ------------------------------------------------------------------------------------
async def test_assets_list_newest_first_by_kind_and_by_name_in_any_case(store: Store) -> None:
    records = [
        asset("Été à Paris.mp4", created_at=NOW),
        asset("ÉTÉ notes.wav", kind="audio", created_at=NOW + 1),
        asset("100%_done.png", kind="image", created_at=NOW + 2),
        asset("winter.mp4", created_at=NOW + 3),
    ]
    for record in records:
        await insert(store, record)
    page = await store.media.assets(DEFAULT_COLLECTION)
    assert [a.name for a in page.assets] == [r.name for r in reversed(records)]
    assert page.next_cursor is None
    videos = await store.media.assets(DEFAULT_COLLECTION, kind="video")
    assert [a.name for a in videos.assets] == ["winter.mp4", "Été à Paris.mp4"]
    found = await store.media.assets(DEFAULT_COLLECTION, q="été")
    assert [a.name for a in found.assets] == ["ÉTÉ notes.wav", "Été à Paris.mp4"]
    both = await store.media.assets(DEFAULT_COLLECTION, kind="audio", q="ÉtÉ")
    assert [a.name for a in both.assets] == ["ÉTÉ notes.wav"]
    # `q` is text, not a pattern: % and _ match only themselves.
    assert [a.name for a in (await store.media.assets("default", q="%_")).assets] == [
        "100%_done.png"
    ]
    assert (await store.media.assets("default", q="_x%")).assets == []


async def test_listing_an_unknown_collection_or_with_bad_arguments_is_refused(
    store: Store,
) -> None:
    with pytest.raises(NotFound):
        await store.media.assets("nope")
    for bad in ({"limit": 0}, {"cursor": "yesterday"}, {"cursor": "12"}, {"kind": "text"}):
        with pytest.raises(InvalidPayload):
            await store.media.assets(DEFAULT_COLLECTION, **bad)


async def test_pages_follow_each_other_on_created_at_then_id(store: Store) -> None:
    # Many assets in the same second: the id breaks the tie, so no page repeats or skips one.
    records = [asset(f"{n}.mp4", created_at=NOW + n // 5) for n in range(23)]
    for record in records:
        await insert(store, record)
    seen: list[AssetRecord] = []
    cursor = None
    while True:
        page = await store.media.assets(DEFAULT_COLLECTION, limit=4, cursor=cursor)
        assert len(page.assets) <= 4
        seen += page.assets
        cursor = page.next_cursor
        if cursor is None:
            break
    expected = sorted(records, key=lambda r: (r.created_at, r.id), reverse=True)
    assert seen == expected
    # A page that ends exactly at the end says so.
    exact = await store.media.assets(DEFAULT_COLLECTION, limit=23)
    assert (len(exact.assets), exact.next_cursor) == (23, None)


async def test_paging_is_stable_while_imports_land(store: Store) -> None:
    """A UI pages through the collection while new assets are inserted: every asset that was
    there when paging began shows exactly once, in order, and nothing is shown twice."""
    before = [asset(f"old-{n}.mp4", created_at=NOW + n // 7) for n in range(60)]
    for record in before:
        await insert(store, record)
    pages_done = asyncio.Event()

    async def imports() -> list[AssetRecord]:
        landed = []
        n = 0
        while not pages_done.is_set():
            # Now, and in the seconds the existing ones have (a referenced file's own time).
            created_at = NOW + (n % 9) if n % 2 else None
            extra = {} if created_at is None else {"created_at": created_at}
            landed.append(await insert(store, asset(f"new-{n}.mp4", **extra)))
            n += 1
            await asyncio.sleep(0)
        return landed

    async def pages() -> list[AssetRecord]:
        seen: list[AssetRecord] = []
        cursor = None
        try:
            while True:
                page = await store.media.assets(DEFAULT_COLLECTION, limit=5, cursor=cursor)
                seen += page.assets
                cursor = page.next_cursor
                if cursor is None:
                    return seen
                await asyncio.sleep(0)
        finally:
            pages_done.set()

    landed, seen = await asyncio.gather(imports(), pages())
    assert len(landed) > 5  # imports did land between the pages
    ids = [a.id for a in seen]
    assert len(ids) == len(set(ids)), "an asset was shown twice"
    old = [a for a in seen if a.name.startswith("old-")]
    assert old == sorted(before, key=lambda r: (r.created_at, r.id), reverse=True)
    keys = [(a.created_at, a.id) for a in seen]
    assert keys == sorted(keys, reverse=True)


async def test_asset_ids_sort_by_creation_time(store: Store) -> None:
    made = []
    for _ in range(5):
        made.append(new_media_id())
        await asyncio.sleep(0.002)
    assert made == sorted(made)
    assert all(uuid.UUID(i).version == 7 for i in made)
    # So the assets of one second still list newest first.
    for n, asset_id in enumerate(made):
        await insert(store, replace(asset(f"{n}.mp4", created_at=NOW), id=asset_id))
    listed = await store.media.assets(DEFAULT_COLLECTION)
    assert [a.id for a in listed.assets] == list(reversed(made))


async def test_a_closed_store_refuses_media_calls(tmp_path: Path) -> None:
    store = new_store(tmp_path / "data")
    store.open()
    store.close()
    with pytest.raises(StoreClosed):
        await store.media.collections()
    with pytest.raises(StoreClosed):
        await store.media.insert(asset())
