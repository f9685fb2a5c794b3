"""The `frame` agent: the picture at a moment of a video, kept as an image of the collection.

The moment is a time (`at`: seconds or "m:ss") or a phrase said or shown there (`phrase`),
found through the media index (`store.index.search`); a video not indexed yet says so. The
frame is taken as a job (`frame`): a JPEG at the video's size, written in the job's staging
folder and added to the collection through `MediaLibrary.add_made`, then shown as an `image`
item.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any, TypedDict

from director_desktop.engine.agents.base import AgentContext, AgentResult
from director_desktop.engine.agents.media_items import image_data
from director_desktop.engine.agents.params import (
    collection_of,
    find_asset,
    ids_in,
    optional_text,
    parse_time,
    source_of,
    times_in,
    words_without,
)
from director_desktop.engine.agents.work import AgentItem, Report, keep_made, made_asset, run_job
from director_desktop.errors import DirectorError, InvalidPayload, NotAvailable, NotFound
from director_desktop.jobs import JobContext
from director_desktop.media.editing import clock, grab_frame
from director_desktop.media.library import MediaLibrary
from director_desktop.protocol import JobResult, JSONSchema
from director_desktop.store import AssetRecord


class FrameArguments(TypedDict, total=False):
    """`run`'s keyword arguments (see `parameters`)."""

    at: float | str
    phrase: str
    video_id: str


class FrameAgent:
    name = "frame"
    description = (
        "Takes the picture shown at a moment of a video (a time, or the scene where some words "
        "are said or shown) and keeps it as an image in the collection. Without video_id, the "
        "video the user is looking at."
    )
    parameters: JSONSchema = {
        "type": "object",
        "properties": {
            "at": {
                "type": ["number", "string"],
                "description": 'When: seconds from the start (42.5) or minutes:seconds ("0:42").',
            },
            "phrase": {
                "type": "string",
                "description": "Instead of a time: words said or shown in the scene wanted "
                "(needs the video indexed).",
            },
            "video_id": {
                "type": "string",
                "description": "The video's id; by default the video the user is looking at.",
            },
        },
    }
    examples = ["@frame 0:42", "@frame where the cake is cut"]

    def __init__(self, library: MediaLibrary) -> None:
        self.library = library

    @staticmethod
    def from_text(text: str) -> FrameArguments:
        """`0:42` → at; other words → phrase; an id → video_id."""
        ids, times = ids_in(text), times_in(text)
        found: FrameArguments = {}
        if times:
            found["at"] = times[0]
        elif phrase := words_without(text):
            found["phrase"] = phrase
        if ids:
            found["video_id"] = ids[0]
        return found

    async def run(self, ctx: AgentContext, **arguments: Any) -> AgentResult:
        item = AgentItem(ctx, self.name, "image", "Finding the video")
        try:
            video = await find_asset(
                self.library, ctx, arguments.get("video_id"), "video_id", default=ctx.video_id
            )
            at = await self._moment(ctx, video, arguments)
            image = await self._take(item, video, at)
        except DirectorError as exc:
            return item.failed(exc)
        item.done(image=image_data(image))
        return AgentResult(
            "success",
            f"Took the frame at {clock(at)} of {video.name}; it is kept as the image {image.name}.",
            {"image_id": image.id, "video_id": video.id, "at": round(at, 3)},
        )

    async def _moment(
        self, ctx: AgentContext, video: AssetRecord, given: Mapping[str, object]
    ) -> float:
        if given.get("at") not in (None, ""):
            return parse_time(given["at"], "at")
        phrase = optional_text(given.get("phrase"), "phrase")
        if phrase is None:
            raise InvalidPayload('say when: a time ("0:42") or words said in the scene')
        return await scene_of(ctx, video, phrase)

    async def _take(self, item: AgentItem, video: AssetRecord, at: float) -> AssetRecord:
        source = source_of(self.library, video)
        stem = PurePosixPath(video.name).stem or "video"
        name = f"{stem} frame at {file_time(at)}.jpg"

        async def work(job: JobContext, report: Report) -> JobResult:
            report(None, f"Taking the frame at {clock(at)}")
            dest = job.staging("frame.jpg")
            await grab_frame(self.library.ffmpeg, source, at, dest)
            made = await keep_made(
                self.library, job, report, dest, name=name, into=video.collection_id
            )
            return {"asset_id": made.id}

        result = await run_job(self.library, item, "frame", f"A frame of {video.name}", work)
        return await made_asset(self.library, result)


async def scene_of(ctx: AgentContext, video: AssetRecord, phrase: str) -> float:
    """The middle of the first line of the media index that matches `phrase` in `video`."""
    if (await ctx.store.index.state(video.id)).status != "indexed":
        raise NotAvailable(
            f"finding a scene by its words needs {video.name} indexed (@index indexes it); "
            'or give a time instead ("0:42")'
        )
    hits = await ctx.store.index.search(
        phrase, collection_id=collection_of(ctx), asset_id=video.id, limit=1
    )
    if not hits:
        raise NotFound(f"nothing said or shown in {video.name} matches {phrase!r}")
    return hits[0].start + max(hits[0].end - hits[0].start, 0.0) / 2


def file_time(seconds: float) -> str:
    """A time in a file name (no colons: Windows refuses them): 42.5 → "0m42.5s"."""
    minutes, rest = divmod(round(seconds, 1), 60)
    text = f"{rest:.1f}".removesuffix(".0")
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}h{minutes:02d}m{text}s" if hours else f"{minutes}m{text}s"
