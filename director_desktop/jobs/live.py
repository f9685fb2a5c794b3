"""`Live`: one job this process holds, and how its changes reach the store and then the windows.

A change of status is stored and told at once (`save`); progress is kept in memory and stored and
told at most once per `interval` (~4 times a second), the last report always included, by a
short-lived flusher task. Writes of one job go one at a time, each the job as it is then, so a
late progress write can never undo a status. Imports `errors`, `protocol`, `store` and the room's
own `context`.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Literal

from director_desktop.errors import DirectorError
from director_desktop.jobs.context import JobContext
from director_desktop.protocol import JobInfo, JobResult
from director_desktop.store import JobRecord, Store

Work = Callable[[JobContext], Awaitable[JobResult]]
Notify = Callable[[JobInfo], Awaitable[None]]
Stop = Literal["", "cancel", "pause", "close"]

log = logging.getLogger(__name__)


class Outlet:
    """Where every job's changes go: the store, then `notify`; and the flushers in flight."""

    def __init__(self, store: Store, notify: Notify | None, interval: float) -> None:
        self.store = store
        self.interval = interval
        self.notify = notify
        self._flushers: set[asyncio.Task[None]] = set()

    async def tell(self, record: JobRecord) -> None:
        if self.notify is None:  # no window to tell yet: the store has it
            return
        try:
            await self.notify(record.info())
        except Exception:  # a window that cannot be told must not break the job
            log.exception("telling the windows about job %s failed", record.id)

    def flush_later(self, live: Live, delay: float) -> asyncio.Task[None]:
        flusher = asyncio.create_task(live.flush(delay), name=f"job {live.record.id} progress")
        self._flushers.add(flusher)
        flusher.add_done_callback(self._flushers.discard)
        return flusher

    async def close(self) -> None:
        """Drop progress not stored yet (the next start-up sweeps those jobs anyway)."""
        if self._flushers:
            for flusher in self._flushers:
                flusher.cancel()
            await asyncio.wait(self._flushers)


@dataclass(eq=False)
class Live:
    """A job this process holds: running, or paused with its work kept for a resume."""

    record: JobRecord
    work: Work
    outlet: Outlet
    ctx: JobContext = field(init=False)
    task: asyncio.Task[None] | None = None
    working: bool = False  # inside the work itself (not starting, not storing its end)
    stop: Stop = ""  # why the work is being stopped
    failure: DirectorError | None = None  # what `run()` raises once the job has ended
    stored: bool = False  # its row exists
    announced: asyncio.Event = field(default_factory=asyncio.Event)  # stored, or failed to be
    final: asyncio.Event = field(default_factory=asyncio.Event)
    writing: asyncio.Lock = field(default_factory=asyncio.Lock)
    last_write: float = -math.inf
    flusher: asyncio.Task[None] | None = None

    def progress(self, fraction: float | None, detail: str) -> None:
        if self.record.status != "running" or self.final.is_set():
            return
        self.record = replace(self.record, progress=fraction, detail=detail)
        if self.flusher is None:
            now = asyncio.get_running_loop().time()
            delay = max(0.0, self.last_write + self.outlet.interval - now)
            self.flusher = self.outlet.flush_later(self, delay)

    async def flush(self, delay: float) -> None:
        await asyncio.sleep(delay)
        # Progress reported while this one is stored schedules the next, `interval` from now.
        self.last_write = asyncio.get_running_loop().time()
        self.flusher = None
        if self.record.status == "running":
            await self.save()

    async def save(self) -> None:
        """Store the job as it is now, then tell the windows."""
        async with self.writing:
            record = replace(self.record, params=self.record.params.copy())
            self.last_write = asyncio.get_running_loop().time()
            try:
                await self.outlet.store.jobs.update(record)
            except DirectorError as error:  # the windows still hear of it; the log has why
                log.warning("could not store job %s: %s", record.id, error.message)
            await self.outlet.tell(record)

    def ended(self, failure: DirectorError | None) -> None:
        self.failure = failure
        self.task = None
        if self.flusher is not None:
            self.flusher.cancel()
        self.final.set()
