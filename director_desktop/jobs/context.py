"""`JobContext`: what a job's work is handed — progress, its staging folder, cancel, cleanups.

Every method may be called from the event loop or from a worker thread the work runs a blocking
part in (a streamed copy, a hash): progress hops to the loop, a check reads one flag.
Imports `errors`, `store` and the room's own `staging`.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Awaitable, Callable
from pathlib import Path

from director_desktop.errors import Cancelled
from director_desktop.jobs import staging
from director_desktop.store import JobParams

Cleanup = Callable[[], Awaitable[None] | None]
MAX_DETAIL = 500


class JobContext:
    """One job's view of itself. `params` is the dict the job was started with; a resumable job
    may keep its state there (stored with each change, read again on a resume)."""

    def __init__(
        self,
        job_id: str,
        params: JobParams,
        folder: Path,
        report: Callable[[float | None, str], None],
        stopping: Callable[[], bool],
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.job_id = job_id
        self.params = params
        self._folder = folder
        self._report = report
        self._stopping = stopping
        self._loop = loop
        self.cleanups: list[Cleanup] = []

    def progress(self, fraction: float | None, detail: str = "") -> None:
        """Report how far the job is (0..1, or None when unknown) and what it is doing. Cheap
        to call often: the job is stored and broadcast at most ~4 times a second."""
        if fraction is not None:
            fraction = None if math.isnan(fraction) else min(max(float(fraction), 0.0), 1.0)
        detail = detail[:MAX_DETAIL]
        try:
            on_loop = asyncio.get_running_loop() is self._loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            self._report(fraction, detail)
        else:
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody to tell
                self._loop.call_soon_threadsafe(self._report, fraction, detail)

    @property
    def folder(self) -> Path:
        """The job's staging folder `<data dir>/staging/<job_id>/`, made on first use. Refused
        once the job is stopping, so work in a thread cannot make it again after its removal."""
        self.check()
        return staging.make_folder(self._folder)

    def staging(self, name: str) -> Path:
        """`<data dir>/staging/<job_id>/<name>`: where partial work goes. Removed with the
        folder when the job ends (move what it made out first); kept while it is paused."""
        return self.folder / staging.check_name(name)

    def check(self) -> None:
        """Raise `Cancelled` once the job is asked to stop (cancel, pause or shutdown): for
        work in a thread, which task cancellation cannot reach."""
        if self._stopping():
            raise Cancelled("the job was stopped")

    def on_cleanup(self, callback: Cleanup) -> None:
        """Run `callback` (sync or async) if the job fails or is cancelled, after the work has
        stopped and before its staging folder is removed; the last registered runs first."""
        self.cleanups.append(callback)
