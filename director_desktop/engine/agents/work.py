"""How a video agent shows its work: its own content item, and long work run as a job.

`AgentItem` is the item an agent adds when it starts (of the type it will show: `image`, `video`,
`download`...), in `progress` with a `status_message` saying what it is doing, then filled with
the result or marked `error` with the reason. `run_job` runs the work as a job of the library's
`Jobs` (every window sees it; the jobs list can cancel it) and mirrors the job's progress into the
item, pushing it to the windows a few times a second. Stopping the turn cancels the agent's task:
`run_job` then waits until the job has cancelled (its FFmpeg killed, its staging folder removed),
so once the stopped reply is stored nothing half-made is left. Imports `errors`, `jobs`, `media`,
`protocol` and the agents' `base`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Unpack

from director_desktop.engine.agents.base import AgentContext, AgentResult
from director_desktop.errors import DirectorError
from director_desktop.jobs import JobContext
from director_desktop.media.library import MediaLibrary
from director_desktop.protocol import ContentItem, JobResult
from director_desktop.store import AssetRecord

Report = Callable[[float | None, str], None]
"""Progress of a job's work: a fraction (or None) and what it is doing."""
JobWork = Callable[[JobContext, Report], Awaitable[JobResult]]
PUSH_EVERY = 0.25  # seconds between pushes of the item while a job runs


class AgentItem:
    """The agent's content item in the run's output message."""

    def __init__(self, ctx: AgentContext, agent_name: str, kind: str, doing: str) -> None:
        self.output = ctx.output
        item: ContentItem = {
            "type": kind,
            "status": "progress",
            "status_message": doing,
            "agent_name": agent_name,
        }
        self.index = self.output.add_content(item)

    def progress(self, fraction: float | None, detail: str) -> None:
        percent = f" ({round(fraction * 100)}%)" if fraction is not None else ""
        self.output.update_content(self.index, status="progress", status_message=detail + percent)

    def done(self, **fields: Unpack[ContentItem]) -> None:
        """The result is in: `fields` are the item's payload (`image=...`, `video=...`)."""
        final: ContentItem = {**fields, "status": "success", "status_message": None}
        self.output.update_content(self.index, **final)

    def failed(self, error: DirectorError) -> AgentResult:
        """Show why the agent could not finish; the result tells the model (and its code)."""
        self.output.update_content(self.index, status="error", status_message=error.message)
        return AgentResult(
            "error", error.message, {"error": {"code": error.code, "message": error.message}}
        )


async def run_job(
    library: MediaLibrary, item: AgentItem, kind: str, title: str, work: JobWork
) -> JobResult:
    """Run `work` as a job of `kind` and answer its result; its progress shows in `item`.
    Raises what the job raised (`Cancelled`, a `DirectorError`); cancelled itself, it cancels
    the job and waits for it to end before the cancellation goes on."""
    job_id: str | None = None

    async def job(ctx: JobContext) -> JobResult:
        nonlocal job_id
        job_id = ctx.job_id

        def report(fraction: float | None, detail: str) -> None:
            ctx.progress(fraction, detail)
            item.progress(fraction, detail)

        return await work(ctx, report)

    pusher = asyncio.create_task(_keep_pushing(item), name=f"push {kind}")
    try:
        info = await library.jobs.run(kind, title, job)
    except asyncio.CancelledError:
        if job_id is not None:  # `Jobs.run` asked for the cancel: wait until it is done
            await library.jobs.cancel(job_id)
        raise
    finally:
        pusher.cancel()
        await asyncio.wait({pusher})  # not `await pusher`: its cancellation is not ours
    return info["result"] or {}


async def keep_made(
    library: MediaLibrary, job: JobContext, report: Report, path: Path, *, name: str, into: str
) -> AssetRecord:
    """The file a job made in its staging folder, kept as a new asset of collection `into`."""
    report(None, "Keeping it in the collection")
    return await library.add_made(path, name=name, collection_id=into, ctx=job)


async def made_asset(library: MediaLibrary, result: JobResult) -> AssetRecord:
    """The asset a job that made one answers with (`{"asset_id": ...}`)."""
    return await library.asset(str(result["asset_id"]))


async def _keep_pushing(item: AgentItem) -> None:
    while True:
        await asyncio.sleep(PUSH_EVERY)
        with contextlib.suppress(DirectorError):  # a push that fails is retried next time
            await item.output.push()
