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

from director_desktop.errors import Cancelled, DirectorError, TooLarge
from director_desktop.jobs import Jobs
from director_desktop.media.ffmpeg import Ffmpeg
from director_desktop.media.library import MediaLibrary, UploadLimit
from director_desktop.protocol import JobInfo
from director_desktop.store import Store
from director_desktop.user_settings import UserSettings
from tests.fixtures.media import (
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
