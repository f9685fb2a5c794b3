"""`Jobs` on a real store and real staging folders: the lifecycle (done, error with its code,
cancel mid-work leaving nothing, cancel idempotent), the progress throttle counted in the database
itself, pause and resume (and `not_resumable`), close, and the start-up sweep of what a previous
process left: `interrupted` or `paused` jobs and orphaned staging folders."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from mounts import tmpfs
from store_support import new_store

from director_desktop.errors import (
    Cancelled,
    DirectorError,
    Interrupted,
    InvalidPayload,
    NotFound,
    NotResumable,
)
from director_desktop.jobs import JobContext, Jobs
from director_desktop.protocol import JobInfo, JSONDict, now_epoch
from director_desktop.store import JobRecord, Store

pytestmark = pytest.mark.anyio

DEADLINE = 10.0


@dataclass
class Windows:
    """The `notify` the web would give: every job change it was told of, in order."""

    seen: list[JobInfo] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    fail: bool = False

    async def notify(self, job: JobInfo) -> None:
        self.seen.append(job)
        self.changed.set()
        if self.fail:
            raise RuntimeError("the socket went away")

    def of(self, job_id: str) -> list[JobInfo]:
        return [job for job in self.seen if job["id"] == job_id]

    async def wait_for(self, check: Callable[[], bool]) -> None:
        async with asyncio.timeout(DEADLINE):
            while not check():
                self.changed.clear()
                await self.changed.wait()


@dataclass
class World:
    data: Path
    store: Store
    jobs: Jobs
    windows: Windows

    @property
    def staging(self) -> Path:
        return self.data / "staging"

    async def restart(self) -> World:
        """Close everything as the app's shutdown does, and open it all again."""
        await self.jobs.close()
        self.store.close()
        return await open_world(self.data)


async def open_world(data: Path, **options: Any) -> World:
    store = new_store(data)
    assert store.open().ok
    windows = Windows()
    jobs = Jobs(store, data / "staging", windows.notify, **options)
    await jobs.open()
    return World(data, store, jobs, windows)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    opened = await open_world(tmp_path / "data")
    yield opened
    await opened.jobs.close()
    opened.store.close()


class Blocked:
    """Work that starts, writes into its staging folder, registers a cleanup, then waits."""

    def __init__(self, outside: Path | None = None) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.ctx: JobContext | None = None
        self.outside = outside
        self.cleaned: list[str] = []

    async def __call__(self, ctx: JobContext) -> JSONDict:
        self.ctx = ctx
        ctx.staging("part").write_bytes(b"half")
        if self.outside is not None:
            outside = self.outside
            outside.write_bytes(b"half-made, outside staging")
            ctx.on_cleanup(lambda: outside.unlink())
        ctx.on_cleanup(lambda: self.cleaned.append("sync"))
        ctx.on_cleanup(self._async_cleanup)
        self.started.set()
        await self.release.wait()
        return {"asset_id": "a1"}

    async def _async_cleanup(self) -> None:
        await asyncio.sleep(0)
        self.cleaned.append("async")


async def started(work: Blocked) -> None:
    async with asyncio.timeout(DEADLINE):
        await work.started.wait()


# --- the lifecycle ------------------------------------------------------------------------------
async def test_a_job_runs_to_done_stored_and_told(world: World) -> None:
    async def work(ctx: JobContext) -> JSONDict:
        ctx.progress(0.5, "half way")
        await asyncio.sleep(0)
        return {"asset_id": "a1", "duplicate": False}

    done = await world.jobs.run("import", "Importing clip.mp4", work, params={"name": "clip"})
    assert done["status"] == "done"
    assert done["result"] == {"asset_id": "a1", "duplicate": False}
    assert (done["progress"], done["error"]) == (1.0, None)
    assert done["finished_at"] is not None
    assert done["started_at"] <= done["finished_at"] <= now_epoch()
    stored = await world.store.jobs.get(done["id"])
    assert stored is not None
    assert stored.info() == done
    assert stored.params == {"name": "clip"}
    told = world.windows.of(done["id"])
    assert told[0]["status"] == "running"
    assert told[-1] == done
    assert await world.jobs.get(done["id"]) == done
    assert done in await world.jobs.recent()
    assert not (world.staging / done["id"]).exists()


async def test_start_answers_at_once_and_the_job_goes_on(world: World) -> None:
    work = Blocked()
    job = await world.jobs.start("import", "Importing", work)
    assert job["status"] == "running"
    assert job["finished_at"] is None
    stored = await world.store.jobs.get(job["id"])
    assert stored is not None
    assert stored.status == "running"  # stored before anyone is told of it
    await started(work)
    assert (await world.jobs.get(job["id"]))["status"] == "running"
    assert [j["id"] for j in await world.jobs.recent()] == [job["id"]]
    work.release.set()
    await world.windows.wait_for(lambda: world.windows.of(job["id"])[-1]["status"] == "done")


async def test_a_failing_job_stores_its_code_and_leaves_nothing(world: World) -> None:
    outside = world.data / "half-made.mp4"

    async def work(ctx: JobContext) -> JSONDict:
        ctx.staging("copy").write_bytes(b"partial")
        outside.write_bytes(b"x")
        ctx.on_cleanup(outside.unlink)
        raise DirectorError("the file is damaged at /home/someone/x.mp4", code="corrupt_media")

    with pytest.raises(DirectorError) as info:
        await world.jobs.run("import", "Importing x.mp4", work)
    assert info.value.code == "corrupt_media"
    job = world.windows.seen[-1]
    assert job["status"] == "error"
    assert job["error"] is not None
    assert job["error"]["code"] == "corrupt_media"
    assert "/home/someone" not in job["error"]["message"]  # sanitized like every wire error
    assert job["result"] is None
    stored = await world.store.jobs.get(job["id"])
    assert stored is not None
    assert stored.info() == job
    assert not outside.exists()
    assert not (world.staging / job["id"]).exists()


async def test_an_unexpected_failure_is_internal_and_logged(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    async def work(ctx: JobContext) -> JSONDict:
        raise ValueError("secret detail")

    with caplog.at_level(logging.ERROR), pytest.raises(DirectorError) as info:
        await world.jobs.run("index", "Indexing", work)
    assert info.value.code == "internal"
    job = world.windows.seen[-1]
    assert job["error"] is not None
    assert job["error"]["code"] == "internal"
    assert "secret detail" not in job["error"]["message"]
    assert "secret detail" in caplog.text


async def test_a_full_disk_the_work_did_not_translate_is_disk_full(tmp_path: Path) -> None:
    """Work that writes its staging file on a full disk (a real tmpfs) and lets the raw `OSError`
    out: the job ends `disk_full`, not `internal`, and its staging folder is gone."""
    data = tmp_path / "data"
    with tmpfs(data / "staging", "64k") as staging:
        world = await open_world(data)
        try:

            async def work(ctx: JobContext) -> JSONDict:
                with ctx.staging("part").open("wb", buffering=0) as part:
                    while True:
                        part.write(bytes(16 * 1024))

            with pytest.raises(DirectorError) as info:
                await world.jobs.run("render", "Rendering", work)
            assert info.value.code == "disk_full"
            job = world.windows.seen[-1]
            assert job["status"] == "error"
            assert job["error"] is not None
            assert job["error"]["code"] == "disk_full"
            assert list(staging.iterdir()) == []
        finally:
            await world.jobs.close()
            world.store.close()


async def test_a_result_that_is_not_a_json_object_fails_the_job(world: World) -> None:
    async def work(ctx: JobContext) -> Any:
        return {"path": Path("/x")}

    with pytest.raises(DirectorError):
        await world.jobs.run("clip", "Clipping", work)
    assert world.windows.seen[-1]["status"] == "error"


async def test_params_that_are_not_json_are_refused_at_start(world: World) -> None:
    with pytest.raises(InvalidPayload):
        await world.jobs.start("import", "x", Blocked(), params={"when": object()})
    assert await world.jobs.recent() == []
    with pytest.raises(InvalidPayload):
        await world.jobs.start("", "no kind", Blocked())


async def test_a_window_that_cannot_be_told_does_not_break_the_job(world: World) -> None:
    world.windows.fail = True

    async def work(ctx: JobContext) -> JSONDict:
        ctx.progress(0.3)
        return {}

    done = await world.jobs.run("import", "x", work)
    assert done["status"] == "done"


# --- cancel -------------------------------------------------------------------------------------
async def test_cancel_mid_work_leaves_no_staging_and_runs_the_cleanups(world: World) -> None:
    work = Blocked(outside=world.data / "half-made.mp4")
    job = await world.jobs.start("import", "Importing", work)
    await started(work)
    assert (world.staging / job["id"] / "part").exists()
    assert work.outside is not None
    assert work.outside.exists()

    cancelled = await world.jobs.cancel(job["id"])
    # Answered once it is cancelled: the work stopped, cleanups ran (newest first), nothing left.
    assert cancelled["status"] == "cancelled"
    assert cancelled["finished_at"] is not None
    assert cancelled["error"] is None
    assert work.cleaned == ["async", "sync"]
    assert not work.outside.exists()
    assert not (world.staging / job["id"]).exists()
    stored = await world.store.jobs.get(job["id"])
    assert stored is not None
    assert stored.status == "cancelled"
    assert world.windows.of(job["id"])[-1] == cancelled
    # Idempotent: again, and twice at once, it answers the same.
    assert await world.jobs.cancel(job["id"]) == cancelled
    assert await asyncio.gather(world.jobs.cancel(job["id"]), world.jobs.cancel(job["id"])) == [
        cancelled,
        cancelled,
    ]
    assert work.cleaned == ["async", "sync"]  # cleanups ran once


async def test_two_cancels_at_once_both_wait_for_the_end(world: World) -> None:
    work = Blocked()
    job = await world.jobs.start("import", "Importing", work)
    await started(work)
    first, second = await asyncio.gather(world.jobs.cancel(job["id"]), world.jobs.cancel(job["id"]))
    assert first == second
    assert first["status"] == "cancelled"
    assert not (world.staging / job["id"]).exists()
    assert [j["status"] for j in world.windows.of(job["id"])].count("cancelled") == 1


async def test_run_raises_cancelled_when_another_window_cancels(world: World) -> None:
    work = Blocked()
    running = asyncio.create_task(world.jobs.run("import", "Uploading", work))
    await started(work)
    assert work.ctx is not None
    await world.jobs.cancel(work.ctx.job_id)
    with pytest.raises(Cancelled) as info:
        await running
    assert info.value.code == "cancelled"


async def test_a_caller_that_gives_up_cancels_its_job(world: World) -> None:
    """The upload's client went away: the route's task is cancelled, and so is the job."""
    work = Blocked()
    running = asyncio.create_task(world.jobs.run("import", "Uploading", work))
    await started(work)
    assert work.ctx is not None
    job_id = work.ctx.job_id
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    await world.windows.wait_for(lambda: world.windows.of(job_id)[-1]["status"] == "cancelled")
    assert not (world.staging / job_id).exists()
    assert work.cleaned == ["async", "sync"]


async def test_cancelling_a_finished_job_answers_its_final_state(world: World) -> None:
    async def work(ctx: JobContext) -> JSONDict:
        return {"asset_id": "a1"}

    done = await world.jobs.run("import", "x", work)
    assert await world.jobs.cancel(done["id"]) == done
    with pytest.raises(NotFound):
        await world.jobs.cancel("no-such-job")
    with pytest.raises(NotFound):
        await world.jobs.get("no-such-job")


async def test_work_in_a_thread_sees_the_cancel(world: World) -> None:
    """`check()` reaches a blocking loop in a thread (task cancellation cannot), and the staging
    folder cannot be made again once the job is stopping."""
    in_thread = threading.Event()
    stopped = threading.Event()

    def copy(ctx: JobContext) -> None:
        target = ctx.staging("copy")
        with target.open("wb") as out:
            while True:
                in_thread.set()
                try:
                    ctx.check()
                except Cancelled:
                    stopped.set()
                    raise
                out.write(b"x" * 1024)
                ctx.progress(None, "copying")
                time.sleep(0.001)

    async def work(ctx: JobContext) -> JSONDict:
        await asyncio.to_thread(copy, ctx)
        return {}

    job = await world.jobs.start("import", "Copying", work)
    await asyncio.to_thread(in_thread.wait, DEADLINE)
    cancelled = await world.jobs.cancel(job["id"])
    assert cancelled["status"] == "cancelled"
    assert await asyncio.to_thread(stopped.wait, DEADLINE)
    assert not (world.staging / job["id"]).exists()


# --- progress -----------------------------------------------------------------------------------
def count_writes(db: Path) -> Callable[[str], list[tuple]]:
    """Record every stored change of a job, by a trigger in the database file itself."""
    conn = sqlite3.connect(db)
    conn.executescript(
        """
        CREATE TABLE job_writes (n INTEGER PRIMARY KEY, id TEXT, status TEXT, progress REAL);
        CREATE TRIGGER job_written AFTER UPDATE ON jobs BEGIN
            INSERT INTO job_writes (id, status, progress)
            VALUES (NEW.id, NEW.status, NEW.progress);
        END;
        """
    )
    conn.close()

    def writes(job_id: str) -> list[tuple]:
        conn = sqlite3.connect(db)
        try:
            return conn.execute(
                "SELECT status, progress FROM job_writes WHERE id = ? ORDER BY n", (job_id,)
            ).fetchall()
        finally:
            conn.close()

    return writes


async def test_progress_in_a_tight_loop_is_stored_a_handful_of_times(world: World) -> None:
    writes = count_writes(world.data / "director.sqlite3")

    async def work(ctx: JobContext) -> JSONDict:
        for n in range(1000):
            ctx.progress(n / 1000, f"{n} of 1000")
        await asyncio.sleep(0.3)  # the last report is stored though none follows it
        return {}

    done = await world.jobs.run("import", "x", work)
    stored = writes(done["id"])
    assert stored[-1] == ("done", 1.0)
    progress = stored[:-1]
    assert 1 <= len(progress) <= 2, stored
    assert progress[-1] == ("running", 0.999)
    assert len(world.windows.of(done["id"])) == len(stored) + 1  # + the first `running`


async def test_progress_is_stored_at_most_four_times_a_second(world: World) -> None:
    writes = count_writes(world.data / "director.sqlite3")
    began = 0.0

    async def work(ctx: JobContext) -> JSONDict:
        nonlocal began
        began = time.monotonic()
        for n in range(1000):
            ctx.progress(n / 1000)
            await asyncio.sleep(0.001)
        return {}

    done = await world.jobs.run("import", "x", work)
    elapsed = time.monotonic() - began
    progress = [w for w in writes(done["id"]) if w[0] == "running"]
    assert elapsed > 0.5
    assert 2 <= len(progress) <= elapsed * 4 + 1, (len(progress), elapsed)
    told = [j for j in world.windows.of(done["id"]) if j["status"] == "running"]
    assert len(told) == len(progress) + 1
    # Each told change is ~a quarter second after the one before.
    assert [w[1] for w in progress] == sorted(w[1] for w in progress)


async def test_progress_from_a_thread_is_stored(world: World) -> None:
    def report(ctx: JobContext) -> None:
        ctx.progress(0.25, "from a thread")

    async def work(ctx: JobContext) -> JSONDict:
        await asyncio.to_thread(report, ctx)
        await world.windows.wait_for(lambda: world.windows.seen[-1]["progress"] == 0.25)
        return {}

    done = await world.jobs.run("import", "x", work)
    told = world.windows.of(done["id"])
    assert any(j["detail"] == "from a thread" and j["status"] == "running" for j in told)


async def test_progress_is_clamped_and_unknown_is_none(world: World) -> None:
    async def work(ctx: JobContext) -> JSONDict:
        for fraction, expected in ((1.5, 1.0), (-1.0, 0.0), (float("nan"), None), (None, None)):
            ctx.progress(fraction)
            await world.windows.wait_for(lambda e=expected: world.windows.seen[-1]["progress"] == e)
        return {}

    await world.jobs.run("import", "x", work, params={})


# --- pause and resume ---------------------------------------------------------------------------
class Download:
    """A resumable download: appends chunks to its staging file and picks up where it was."""

    def __init__(self, chunks: int = 50) -> None:
        self.chunks = chunks
        self.calls = 0
        self.resumed_from: list[int] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.at_chunk = asyncio.Event()

    async def __call__(self, ctx: JobContext) -> JSONDict:
        self.calls += 1
        part = ctx.staging("model.part")
        have = part.stat().st_size if part.exists() else 0
        self.resumed_from.append(have)
        with part.open("ab") as out:
            for n in range(have, self.chunks):
                await self.gate.wait()
                out.write(b"x")
                out.flush()
                ctx.progress(n / self.chunks, f"{n} of {self.chunks}")
                if n == 10:
                    self.at_chunk.set()
                await asyncio.sleep(0)
        return {"model": "model.gguf", "size": part.stat().st_size}


async def test_pause_and_resume_need_a_resumable_job(world: World) -> None:
    work = Blocked()
    job = await world.jobs.start("import", "Importing", work)
    await started(work)
    for control in (world.jobs.pause, world.jobs.resume):
        with pytest.raises(NotResumable) as info:
            await control(job["id"])
        assert (info.value.code, info.value.http_status) == ("not_resumable", 409)
    assert (await world.jobs.get(job["id"]))["status"] == "running"
    with pytest.raises(NotFound):
        await world.jobs.pause("no-such-job")
    work.release.set()


async def test_a_paused_job_keeps_its_staging_and_resumes_where_it_was(world: World) -> None:
    download = Download()
    download.gate.clear()
    job = await world.jobs.start("download", "Downloading", download, resumable=True)
    download.gate.set()
    async with asyncio.timeout(DEADLINE):
        await download.at_chunk.wait()
    download.gate.clear()  # hold it mid-download
    paused = await world.jobs.pause(job["id"])
    assert paused["status"] == "paused"
    assert paused["finished_at"] is None
    stored = await world.store.jobs.get(job["id"])
    assert stored is not None
    assert stored.status == "paused"
    part = world.staging / job["id"] / "model.part"
    kept = part.stat().st_size
    assert kept >= 11
    assert await world.jobs.pause(job["id"]) == paused  # pausing again changes nothing

    download.gate.set()
    resumed = await world.jobs.resume(job["id"])
    assert resumed["status"] == "running"
    await world.windows.wait_for(lambda: world.windows.seen[-1]["status"] == "done")
    done = await world.jobs.get(job["id"])
    assert done["result"] == {"model": "model.gguf", "size": 50}
    assert download.resumed_from == [0, kept]
    statuses = [j["status"] for j in world.windows.of(job["id"])]
    assert statuses.count("paused") == 1
    assert statuses[-1] == "done"


async def test_cancelling_a_paused_job_removes_its_staging(world: World) -> None:
    download = Download()
    job = await world.jobs.start("download", "Downloading", download, resumable=True)
    async with asyncio.timeout(DEADLINE):
        await download.at_chunk.wait()
    download.gate.clear()
    await world.jobs.pause(job["id"])
    assert (world.staging / job["id"]).exists()
    cancelled = await world.jobs.cancel(job["id"])
    assert cancelled["status"] == "cancelled"
    assert not (world.staging / job["id"]).exists()
    assert download.calls == 1


# --- close and the start-up sweep ---------------------------------------------------------------
async def test_a_job_cut_by_shutdown_is_interrupted_after_the_restart(world: World) -> None:
    work = Blocked()
    download = Download()
    running = asyncio.create_task(world.jobs.run("import", "Importing", work))
    await started(work)
    assert work.ctx is not None
    cut = work.ctx.job_id
    job = await world.jobs.start("download", "Downloading", download, resumable=True)
    async with asyncio.timeout(DEADLINE):
        await download.at_chunk.wait()
    download.gate.clear()

    again = await world.restart()
    with pytest.raises(Interrupted):
        await running
    with pytest.raises(Interrupted):
        await world.jobs.start("import", "too late", Blocked())
    interrupted = await again.jobs.get(cut)
    assert interrupted["status"] == "error"
    assert interrupted["error"] is not None
    assert interrupted["error"]["code"] == "interrupted"
    assert interrupted["finished_at"] is not None
    assert not (again.staging / cut).exists()
    # The resumable one waits, paused, with its partial data.
    paused = await again.jobs.get(job["id"])
    assert paused["status"] == "paused"
    assert (again.staging / job["id"] / "model.part").exists()
    assert {j["id"] for j in again.windows.seen} == {cut, job["id"]}  # the sweep was told
    assert all(j["status"] != "running" for j in await again.jobs.recent())
    # Without its kind registered, a job paused before the restart cannot go on...
    with pytest.raises(NotResumable):
        await again.jobs.resume(job["id"])
    # ...with it, its work is rebuilt from its params and picks up the partial file.
    rebuilt = Download()
    again.jobs.register("download", lambda params: rebuilt)
    assert (await again.jobs.resume(job["id"]))["status"] == "running"
    await again.windows.wait_for(lambda: again.windows.seen[-1]["status"] == "done")
    assert rebuilt.resumed_from[0] >= 11
    assert (await again.jobs.get(job["id"]))["result"] == {"model": "model.gguf", "size": 50}
    await again.jobs.close()
    again.store.close()


async def test_jobs_left_running_in_the_file_are_swept_at_open(tmp_path: Path) -> None:
    """What a killed process leaves: rows still `running`, staging folders, stray files."""
    data = tmp_path / "data"
    store = new_store(data)
    store.open()
    now = now_epoch()
    for record in (
        JobRecord("j-cut", "import", "Importing", "running", now, 0.5),
        JobRecord("j-queued", "transcode", "Waiting", "queued", now),
        JobRecord("j-resumable", "download", "Downloading", "running", now, resumable=True),
        JobRecord("j-paused", "download", "Paused", "paused", now, resumable=True),
        JobRecord("j-old", "import", "Long ago", "done", now - 7200, finished_at=now - 7200),
        JobRecord("j-new", "import", "Just now", "done", now - 60, finished_at=now - 60),
    ):
        await store.jobs.insert(record)
    store.close()
    staging = data / "staging"
    for name in ("j-cut", "j-resumable", "j-paused", "j-new", "orphan"):
        (staging / name).mkdir(parents=True)
        (staging / name / "part").write_bytes(b"partial")
    (staging / "stray-file").write_bytes(b"x")
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "keep").write_bytes(b"the user's")
    (staging / "j-link").symlink_to(linked)  # a link is removed, never what it points to

    world = await open_world(data)
    try:
        recent = {j["id"]: j for j in await world.jobs.recent()}
        assert set(recent) == {"j-cut", "j-queued", "j-resumable", "j-paused", "j-new"}
        for job_id in ("j-cut", "j-queued"):
            assert recent[job_id]["status"] == "error"
            assert recent[job_id]["error"] == {
                "code": "interrupted",
                "message": "Director Desktop stopped before this job finished",
            }
        assert recent["j-resumable"]["status"] == "paused"
        assert recent["j-resumable"]["progress"] is None
        assert recent["j-paused"]["status"] == "paused"
        assert sorted(p.name for p in staging.iterdir()) == ["j-paused", "j-resumable"]
        assert (linked / "keep").read_bytes() == b"the user's"
        assert {j["id"] for j in world.windows.seen} == {"j-cut", "j-queued", "j-resumable"}
        # A paused job from before can be cancelled: its partial data goes with it.
        cancelled = await world.jobs.cancel("j-paused")
        assert cancelled["status"] == "cancelled"
        assert not (staging / "j-paused").exists()
        assert await world.jobs.cancel("j-paused") == cancelled
        with pytest.raises(NotResumable):
            await world.jobs.pause("j-cut")
    finally:
        await world.jobs.close()
        world.store.close()


async def test_close_keeps_a_resumable_jobs_staging_and_removes_the_others(world: World) -> None:
    work = Blocked()
    plain = await world.jobs.start("import", "Importing", work)
    download = Download()
    resumable = await world.jobs.start("download", "Downloading", download, resumable=True)
    await started(work)
    async with asyncio.timeout(DEADLINE):
        await download.at_chunk.wait()
    download.gate.clear()
    await world.jobs.close()
    assert not (world.staging / plain["id"]).exists()
    assert work.cleaned == ["async", "sync"]
    assert (world.staging / resumable["id"] / "model.part").exists()
    # Nothing more was stored: the next open() decides, as after a crash.
    for job_id in (plain["id"], resumable["id"]):
        stored = await world.store.jobs.get(job_id)
        assert stored is not None
        assert stored.status == "running"
    await world.jobs.close()  # idempotent


async def test_staging_names_stay_inside_the_jobs_folder(world: World) -> None:
    refused: list[str] = []

    async def work(ctx: JobContext) -> JSONDict:
        for name in ("../escape", "a/b", "", "..", "."):
            try:
                ctx.staging(name)
            except ValueError:
                refused.append(name)
        return {"folder": ctx.folder.name}

    done = await world.jobs.run("import", "x", work)
    assert refused == ["../escape", "a/b", "", "..", "."]
    assert done["result"] == {"folder": done["id"]}
    assert not (world.staging / done["id"]).exists()  # a done job's leftovers go too
