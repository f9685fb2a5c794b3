"""`MediaLibrary` imports on a real store, real jobs and the real FFmpeg: a copy cancelled midway
(with a piece still being written) leaves no staging file, no asset folder and no row; a copy
that fails midway does the same; and the copy keeps every byte and hashes them in order
whatever sizes the pieces arrive in (the sink writes and hashes one piece while the next
arrives). The same over HTTP: tests/integration/test_jobs_api.py and test_media_faults.py."""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from store_support import new_store

from director_desktop.composition import index_on_import
from director_desktop.errors import Cancelled, DirectorError, TooLarge
from director_desktop.jobs import Jobs
from director_desktop.media.ffmpeg import Ffmpeg
from director_desktop.media.indexer import MediaIndexer
from director_desktop.media.library import MediaLibrary, UploadLimit
from director_desktop.protocol import JobInfo
from director_desktop.store import Store
from director_desktop.user_settings import UserSettings
from tests.fixtures.media import (
    LibraryWorld,
    MediaFiles,
    media_files_fixture,  # noqa: F401 (the fixture)
)

pytestmark = pytest.mark.anyio

DEADLINE = 15.0
MIB = 1024 * 1024


@dataclass
class World:
    data: Path
    store: Store
    jobs: Jobs
    library: MediaLibrary
    seen: list[JobInfo]

    def left(self) -> list[str]:
        """Everything under staging/ and media/."""
        found = []
        for folder in ("staging", "media"):
            root = self.data / folder
            if root.exists():
                found += [p.relative_to(self.data).as_posix() for p in root.rglob("*")]
        return sorted(found)

    async def rows(self) -> int:
        return (await self.store.media.totals()).count


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    data = tmp_path / "data"
    store = new_store(data)
    assert store.open().ok
    seen: list[JobInfo] = []

    async def notify(job: JobInfo) -> None:
        seen.append(job)

    jobs = Jobs(store, data / "staging", notify)
    library = MediaLibrary(
        store,
        jobs,
        Ffmpeg.locate({}),
        media_dir=data / "media",
        limit=UploadLimit(UserSettings(data / "settings.json")),
    )
    await jobs.open()
    await library.open()
    yield World(data, store, jobs, library, seen)
    await library.close()
    await jobs.close()
    store.close()


class Feed:
    """An upload's chunks: `first` bytes, then nothing more until `release` (or forever)."""

    def __init__(self, first: int, total: int) -> None:
        self.first, self.total = first, total
        self.release = asyncio.Event()
        self.fail: BaseException | None = None

    async def chunks(self) -> AsyncIterator[bytes]:
        piece, done = random.randbytes(256 * 1024), 0
        while done < self.total:
            if done >= self.first and not self.release.is_set():
                await self.release.wait()
                if self.fail is not None:
                    raise self.fail
            yield piece
            done += len(piece)


async def running_import(world: World, least: int) -> JobInfo:
    """The import job once at least `least` bytes are in its staging file."""
    async with asyncio.timeout(DEADLINE):
        while True:
            for job in await world.jobs.recent():
                staged = world.data / "staging" / job["id"] / "original"
                if job["status"] == "running" and staged.is_file() and _size(staged) >= least:
                    return job
            await asyncio.sleep(0.01)  # polling a readiness signal, with the deadline above


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:  # the job ended meanwhile
        return 0


async def test_a_cancel_mid_copy_leaves_nothing(world: World) -> None:
    feed = Feed(first=3 * MIB, total=64 * MIB)
    upload = asyncio.create_task(
        world.library.import_upload(
            feed.chunks(), name="big.mp4", collection_id="default", size=64 * MIB
        )
    )
    job = await running_import(world, MIB)
    assert (job["progress"] or 0) > 0

    cancelled = await world.jobs.cancel(job["id"])

    assert cancelled["status"] == "cancelled"
    with pytest.raises(Cancelled):
        await upload
    assert world.left() == []
    assert await world.rows() == 0
    assert world.seen[-1]["status"] == "cancelled"


async def test_the_client_going_away_mid_copy_cancels_and_leaves_nothing(world: World) -> None:
    feed = Feed(first=2 * MIB, total=64 * MIB)
    upload = asyncio.create_task(
        world.library.import_upload(
            feed.chunks(), name="big.mp4", collection_id="default", size=None
        )
    )
    job = await running_import(world, MIB)

    upload.cancel()  # what the web does when the request's client disconnects
    with pytest.raises(asyncio.CancelledError):
        await upload

    final = await world.jobs.cancel(job["id"])  # answers once the job has ended
    assert final["status"] == "cancelled"
    assert world.left() == []
    assert await world.rows() == 0


async def test_a_copy_failing_midway_leaves_nothing(world: World) -> None:
    # The source breaks off after 2 MiB (a download that fails, a reader that errs).
    feed = Feed(first=2 * MIB, total=64 * MIB)
    feed.fail = OSError("the source went away")
    upload = asyncio.create_task(
        world.library.import_upload(
            feed.chunks(), name="big.mp4", collection_id="default", size=64 * MIB
        )
    )
    job = await running_import(world, MIB)
    feed.release.set()

    with pytest.raises(DirectorError):
        await upload
    final = await world.jobs.get(job["id"])
    assert final["status"] == "error"
    assert world.left() == []
    assert await world.rows() == 0


async def test_the_upload_limit_stops_the_copy_midway(world: World) -> None:
    world.library.limit.set(3 * MIB)
    feed = Feed(first=64 * MIB, total=64 * MIB)
    with pytest.raises(TooLarge):
        await world.library.import_upload(
            feed.chunks(), name="big.mp4", collection_id="default", size=None
        )
    assert world.left() == []
    assert await world.rows() == 0


@pytest.mark.parametrize("pieces", ["tiny", "mixed", "large"])
async def test_every_byte_is_kept_and_hashed_in_order(
    world: World, media_files: MediaFiles, pieces: str
) -> None:
    # A real video padded past a few MiB (MP4 readers skip a trailing `free` box), cut into
    # pieces of the sizes a network delivers.
    clip = media_files.clip_mp4.read_bytes()
    pad = 5 * MIB + 12345
    content = clip + pad.to_bytes(4, "big") + b"free" + random.randbytes(pad - 8)
    chance = random.Random(pieces)
    sizes = {"tiny": (1, 4096), "mixed": (1, 3 * MIB), "large": (MIB, 8 * MIB)}[pieces]

    async def chunks() -> AsyncIterator[bytes]:
        at = 0
        while at < len(content):
            step = chance.randint(*sizes)
            yield content[at : at + step]
            at += step

    imported = await world.library.import_upload(
        chunks(), name="padded.mp4", collection_id="default", size=len(content)
    )

    assert imported.duplicate is False
    assert imported.asset.sha256 == hashlib.sha256(content).hexdigest()
    assert imported.asset.size == len(content)
    assert world.library.file_of(imported.asset).read_bytes() == content
    assert not list((world.data / "staging").iterdir())


# --- index at import (settings.json `media.index_on_import`) -----------------------------------
@pytest.fixture
async def library_world(tmp_path: Path) -> AsyncIterator[LibraryWorld]:
    opened = await LibraryWorld.open(tmp_path / "data")
    indexer = MediaIndexer(opened.store, opened.library)
    opened.library.attach_after_import(index_on_import(opened.library, indexer))
    yield opened
    await opened.close()


async def index_jobs(world: LibraryWorld) -> list[JobInfo]:
    return [j for j in await world.jobs.recent() if j["kind"] == "index"]


async def test_an_import_is_indexed_when_the_setting_is_on(
    library_world: LibraryWorld, media_files: MediaFiles
) -> None:
    library_world.library.limit.set_index_on_import(True)
    clip = await library_world.add(media_files.clip_mp4)
    [job] = await index_jobs(library_world)
    assert job["status"] in ("running", "done")
    async with asyncio.timeout(DEADLINE):
        while (await library_world.store.index.state(clip.id)).status != "indexed":  # noqa: ASYNC110
            await asyncio.sleep(0.05)  # polling the index state, with the deadline above
    await library_world.add(media_files.clip_mp4)  # a duplicate: no second job
    await library_world.add(media_files.still_png)  # an image: never indexed
    assert len(await index_jobs(library_world)) == 1


async def test_an_import_is_not_indexed_when_the_setting_is_off(
    library_world: LibraryWorld, media_files: MediaFiles
) -> None:
    assert library_world.library.limit.index_on_import() is False  # the default
    clip = await library_world.add(media_files.clip_mp4)
    assert await index_jobs(library_world) == []
    assert (await library_world.store.index.state(clip.id)).status == "not_indexed"
    assert (await library_world.library.status())["index_on_import"] is False


def test_the_two_media_settings_keep_each_other(tmp_path: Path) -> None:
    settings = UserSettings(tmp_path / "settings.json")
    limit = UploadLimit(settings)
    limit.set(1000)
    limit.set_index_on_import(True)
    assert (limit.get(), limit.index_on_import()) == (1000, True)
    limit.set(2000)
    assert (limit.get(), limit.index_on_import()) == (2000, True)
    limit.set_index_on_import(False)
    assert settings.get("media") == {"max_upload_bytes": 2000, "index_on_import": False}
    with pytest.raises(DirectorError):
        limit.set_index_on_import("yes")
