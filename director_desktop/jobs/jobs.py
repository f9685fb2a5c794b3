"""`Jobs`: long-running work (PROTOCOL 7) — stored, broadcast, cancellable, pausable, swept.

Each job runs its work as an asyncio task. Every change of status is stored, then handed to
`notify` (the web broadcasts it as `event {event_type: "job", job}`); progress in between is
stored and handed on at most once per `interval` (~4 a second) per job. A failed or cancelled job
runs the cleanups its work registered and removes its staging folder before its final status is
stored, so once a client sees `cancelled` or `error` nothing half-made is left. `close()` only
stops the work: the next `open()` finds those jobs `running` in the store and marks them
`interrupted` (or `paused` when they can resume), as after a crash.
Imports `errors`, `protocol`, `store` and the room's own modules.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Literal

from director_desktop.errors import (
    Cancelled,
    DirectorError,
    DiskFull,
    Interrupted,
    InvalidPayload,
    NotFound,
    NotResumable,
    is_disk_full,
)
from director_desktop.jobs import staging
from director_desktop.jobs.context import JobContext
from director_desktop.jobs.live import Live, Notify, Outlet, Work
from director_desktop.protocol import (
    JobInfo,
    JobResult,
    WireErrorBody,
    new_id,
    now_epoch,
    sanitize,
)
from director_desktop.store import JobParams, JobRecord, Store

PROGRESS_INTERVAL = 0.25

log = logging.getLogger(__name__)


class Jobs:
    def __init__(
        self,
        store: Store,
        staging_dir: Path,
        notify: Notify | None = None,
        *,
        interval: float = PROGRESS_INTERVAL,
    ) -> None:
        self._store = store
        self._staging_dir = staging_dir
        self._outlet = Outlet(store, notify, interval)
        self._live: dict[str, Live] = {}
        self._resumers: dict[str, Callable[[JobParams], Work]] = {}
        self._offline = asyncio.Lock()  # orders changes to jobs no task of ours holds
        self._closing = False

    def attach(self, notify: Notify) -> None:
        """Tell `notify` of every change from now on (the web hands in its Publisher: the
        composition root builds the jobs before the web exists)."""
        self._outlet.notify = notify

    # --- lifecycle -------------------------------------------------------------------------------
    async def open(self) -> None:
        """At start-up: jobs cut off by the last process's end become `error` `interrupted`
        (or `paused` when resumable); staging folders of no paused job are removed."""
        for record in await self._store.jobs.sweep():
            await self._outlet.tell(record)
        paused = {r.id for r in await self._store.jobs.unfinished() if r.status == "paused"}
        removed = await asyncio.to_thread(
            staging.remove_orphans, self._staging_dir, paused | set(self._live)
        )
        if removed:
            log.info("removed %d orphaned staging entries", len(removed))

    async def close(self) -> None:
        """Stop every job's work and wait for it; nothing more is stored (see the docstring)."""
        self._closing = True
        tasks = []
        for live in self._live.values():
            if live.task is not None:
                if live.stop != "cancel":  # a cancel already asked for still ends `cancelled`
                    live.stop = "close"
                    if live.working:
                        live.task.cancel()
                tasks.append(live.task)
        if tasks:
            await asyncio.wait(tasks)
        for live in list(self._live.values()):  # paused ones: their `run()` callers stop waiting
            self._ended(live, live.failure or _interrupted())
        await self._outlet.close()

    def register(self, kind: str, resume: Callable[[JobParams], Work]) -> None:
        """How to rebuild the work of a resumable `kind` of job from its stored params, so a
        job paused before a restart can resume (a pause within one launch keeps its work)."""
        self._resumers[kind] = resume

    # --- starting --------------------------------------------------------------------------------
    async def start(
        self,
        kind: str,
        title: str,
        work: Work,
        *,
        resumable: bool = False,
        params: JobParams | None = None,
    ) -> JobInfo:
        """Store the job as `running`, tell the windows, and start its work; answers once the
        job is stored (the work goes on if the caller is cancelled after that)."""
        live = self._begin(kind, title, work, resumable, params)
        await live.announced.wait()
        if not live.stored:
            raise live.failure or _interrupted()
        return live.record.info()

    async def run(
        self,
        kind: str,
        title: str,
        work: Work,
        *,
        resumable: bool = False,
        params: JobParams | None = None,
    ) -> JobInfo:
        """`start`, then wait for the job's end: answers it when `done`, raises its error
        otherwise (`Cancelled`, `Interrupted`, or what the work raised). If the caller is
        cancelled (a client gave up on its upload), the job is cancelled too."""
        live = self._begin(kind, title, work, resumable, params)
        try:
            await live.final.wait()
        except asyncio.CancelledError:
            self._request_cancel(live)  # no await: the caller's cancellation may repeat
            raise
        if live.failure is not None:
            raise live.failure
        return live.record.info()

    # --- control ---------------------------------------------------------------------------------
    async def cancel(self, job_id: str) -> JobInfo:
        """Cancel a job and answer it once it is `cancelled`: its work stopped, its cleanups run,
        its staging gone. Idempotent; a finished job answers its final state."""
        live = self._live.get(job_id)
        if live is None:
            return await self._cancel_offline(job_id)
        self._request_cancel(live)
        await live.final.wait()
        return live.record.info()

    async def pause(self, job_id: str) -> JobInfo:
        """Stop a resumable job's work, keeping its staging data; `not_resumable` otherwise."""
        live = self._live.get(job_id)
        if live is None:
            return _resumable(await self._stored(job_id)).info()  # paused already, or ended
        _resumable(live.record)
        task = live.task
        if task is None:  # paused already
            return live.record.info()
        if not live.stop:
            live.stop = "pause"
            if live.working:
                task.cancel()
        await asyncio.wait({task})  # not `await task`: our own caller's cancel must not reach it
        return live.record.info()

    async def resume(self, job_id: str) -> JobInfo:
        """Start a paused resumable job's work again; `not_resumable` otherwise."""
        if self._closing:
            raise _interrupted()
        live = self._live.get(job_id) or await self._adopt(job_id)
        if live is None:  # not paused: running already, or ended
            return await self.get(job_id)
        _resumable(live.record)
        if live.task is not None or live.final.is_set():  # running already, or ended
            return live.record.info()
        live.record = replace(live.record, status="running")
        resumed = live.record.info()  # the answer, even if the work is done by the save's end
        live.task = self._spawn(live)  # before the await, so a second resume sees it
        await live.save()
        return resumed

    # --- reading ---------------------------------------------------------------------------------
    async def get(self, job_id: str) -> JobInfo:
        live = self._live.get(job_id)
        return live.record.info() if live is not None else (await self._stored(job_id)).info()

    async def wait(self, job_id: str) -> JobInfo:
        """The job once it has ended (done, error or cancelled); a paused one waits for its
        resume or cancel. For a watcher of a job `start` began (a model import)."""
        live = self._live.get(job_id)
        if live is not None:
            await live.final.wait()
            return live.record.info()
        return (await self._stored(job_id)).info()

    async def recent(self) -> list[JobInfo]:
        """The unfinished jobs and those finished in the last hour, newest first; a job in
        progress as this process knows it (newer than its last stored progress)."""
        stored = await self._store.jobs.recent()
        return [(self._live[r.id].record if r.id in self._live else r).info() for r in stored]

    # --- the work's task -------------------------------------------------------------------------
    def _begin(
        self, kind: str, title: str, work: Work, resumable: bool, params: JobParams | None
    ) -> Live:
        if self._closing:
            raise _interrupted()
        if not kind or not isinstance(title, str):
            raise InvalidPayload("a job needs a kind and a title")
        record = JobRecord(
            id=new_id(),
            kind=kind,
            title=title,
            status="running",
            started_at=now_epoch(),
            resumable=resumable,
            params=params.copy() if params else {},
        )
        live = self._hold(record, work)
        live.task = self._spawn(live, new=True)
        return live

    def _hold(self, record: JobRecord, work: Work) -> Live:
        live = Live(record, work, self._outlet)
        live.ctx = JobContext(
            record.id,
            record.params,
            self._staging_dir / record.id,
            live.progress,
            lambda: bool(live.stop),
            asyncio.get_running_loop(),
        )
        self._live[record.id] = live
        return live

    def _spawn(self, live: Live, *, new: bool = False) -> asyncio.Task[None]:
        return asyncio.create_task(self._drive(live, new), name=f"job {live.record.id}")

    async def _drive(self, live: Live, new: bool) -> None:
        # A new job is stored and announced by its own task, so a caller cancelled meanwhile
        # (a client that gave up) cannot leave a stored job that nothing runs.
        if new and not await self._announce(live):
            return
        if live.stop:  # stopped before it started: a cancel of a paused job, or a quick one
            await self._stopped(live, Cancelled("the job was stopped"))
            return
        live.working = True
        try:
            result = await live.work(live.ctx)
        except (Exception, asyncio.CancelledError) as error:
            live.working = False
            await self._stopped(live, error)
            return
        live.working = False
        try:
            json.dumps(result)
            if not isinstance(result, dict):
                raise TypeError(f"{type(result).__name__}, not an object")
        except (TypeError, ValueError) as error:
            await self._stopped(live, error)
            return
        # What the job made has been moved out; what is left in staging is nobody's.
        await asyncio.to_thread(staging.remove, self._staging_dir / live.record.id)
        await self._end(live, "done", result=result)

    async def _announce(self, live: Live) -> bool:
        try:
            await self._store.jobs.insert(live.record)
            live.stored = True
        except Exception as error:  # e.g. params that are not JSON, a full disk
            self._ended(live, _as_director_error(live, error))
            return False
        finally:
            live.announced.set()
        live.last_write = asyncio.get_running_loop().time()
        await self._outlet.tell(live.record)
        return True

    async def _stopped(self, live: Live, error: BaseException) -> None:
        """The work ended by raising, or was stopped: decide how the job ends."""
        if live.stop == "pause":
            live.record = replace(live.record, status="paused")
            await live.save()
            if live.stop == "pause":  # not cancelled meanwhile: wait for a resume
                live.stop, live.task = "", None
                return
        stop = live.stop  # read once: a cancel asked for while cleaning changes nothing now
        if stop == "close" or (not stop and isinstance(error, asyncio.CancelledError)):
            # Shutdown: nothing is stored; the next open() marks it interrupted (or paused).
            if not live.record.resumable:
                await self._clean(live)
            self._ended(live, _interrupted())
            return
        await self._clean(live)
        if stop == "cancel" or isinstance(error, Cancelled):
            # A `Cancelled` the work raises itself is a cancel too: the client of an upload
            # went away, and nobody is left to want its result.
            failure = error if isinstance(error, Cancelled) else Cancelled("the job was cancelled")
            await self._end(live, "cancelled", failure=failure)
        else:
            await self._end(live, "error", failure=_as_director_error(live, error))

    async def _end(
        self,
        live: Live,
        status: Literal["done", "error", "cancelled"],
        *,
        result: JobResult | None = None,
        failure: DirectorError | None = None,
    ) -> None:
        error: WireErrorBody | None = None
        if failure is not None and status == "error":
            error = {"code": failure.code, "message": sanitize(failure.message)}
        live.record = replace(
            live.record,
            status=status,
            progress=1.0 if status == "done" else live.record.progress,
            finished_at=now_epoch(),
            error=error,
            result=result,
        )
        await live.save()
        self._ended(live, failure)

    def _ended(self, live: Live, failure: DirectorError | None) -> None:
        self._live.pop(live.record.id, None)
        live.ended(failure)

    async def _clean(self, live: Live) -> None:
        """A failed or cancelled job's cleanups (newest first), then its staging folder."""
        for callback in reversed(live.ctx.cleanups):
            try:
                outcome = callback()
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception:  # one failing cleanup must not keep the others from running
                log.exception("a cleanup of job %s failed", live.record.id)
        live.ctx.cleanups.clear()
        await asyncio.to_thread(staging.remove, self._staging_dir / live.record.id)

    # --- jobs no task of ours holds --------------------------------------------------------------
    async def _stored(self, job_id: str) -> JobRecord:
        record = await self._store.jobs.get(job_id)
        if record is None:
            raise NotFound(f"no job {job_id!r}")
        return record

    def _request_cancel(self, live: Live) -> None:
        if live.final.is_set() or live.stop in ("cancel", "close") or self._closing:
            return
        live.stop = "cancel"
        if live.task is None:  # paused: a task that only ends it
            live.task = self._spawn(live)
        elif live.working:
            live.task.cancel()

    async def _cancel_offline(self, job_id: str) -> JobInfo:
        """Cancel a job paused before a restart (its work is not held: nothing runs it)."""
        async with self._offline:
            live = self._live.get(job_id)
            if live is not None:  # resumed meanwhile
                return await self.cancel(job_id)
            record = await self._stored(job_id)
            if record.finished:
                return record.info()
            await asyncio.to_thread(staging.remove, self._staging_dir / job_id)
            record = replace(record, status="cancelled", finished_at=now_epoch())
            await self._store.jobs.update(record)
            await self._outlet.tell(record)
            return record.info()

    async def _adopt(self, job_id: str) -> Live | None:
        """Hold a job paused before a restart, with its work rebuilt from its params; None
        when the job is not paused."""
        async with self._offline:
            live = self._live.get(job_id)
            if live is not None:
                return live
            record = _resumable(await self._stored(job_id))
            if record.status != "paused":
                return None
            rebuild = self._resumers.get(record.kind)
            if rebuild is None:
                raise NotResumable(f"a {record.kind} job cannot resume after a restart")
            return self._hold(record, rebuild(record.params))


def _resumable(record: JobRecord) -> JobRecord:
    if not record.resumable:
        raise NotResumable(f"a {record.kind} job cannot be paused or resumed")
    return record


def _interrupted() -> Interrupted:
    return Interrupted("the job was interrupted: Director Desktop is shutting down")


def _as_director_error(live: Live, error: BaseException) -> DirectorError:
    if isinstance(error, DirectorError):
        return error
    if is_disk_full(error):  # any job's write that a work function did not translate itself
        return DiskFull("the disk filled up; nothing the job made was kept")
    log.error("job %s (%s) failed", live.record.id, live.record.kind, exc_info=error)
    return DirectorError("the job failed unexpectedly; the log has the details")
