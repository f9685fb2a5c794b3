"""The `editing` agent: trims a video, joins several, or replaces or mixes in an audio track; the
result is a new video asset of the collection.

One operation per call, as JSON-schema parameters:

    {"operation": "trim", "video_id"?, "start", "end"?}          the part from start to end
    {"operation": "join", "video_ids": [id, id, ...]}             one after the other
    {"operation": "replace_audio" | "mix_audio", "video_id"?, "audio_id",
     "volume"?, "original_volume"?}                               an audio asset's sound on it

The work runs as a job (`edit`) in its staging folder (`media.editing`: stream copy when the cut
points fall on keyframes, re-encoding only when they do not), and the new file becomes an asset
through `MediaLibrary.add_made`. A stop cancels the job: nothing half-made is kept. Imports the
agents' helpers, `errors` and `media`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from pathlib import PurePosixPath
from typing import Any, Literal, TypedDict

from director_desktop.engine.agents.base import AgentContext, AgentResult
from director_desktop.engine.agents.frame import file_time
from director_desktop.engine.agents.media_items import video_data
from director_desktop.engine.agents.params import (
    find_asset,
    ids_in,
    optional_number,
    optional_text,
    parse_time,
    source_of,
    times_in,
)
from director_desktop.engine.agents.work import AgentItem, Report, keep_made, made_asset, run_job
from director_desktop.errors import DirectorError, InvalidPayload
from director_desktop.jobs import JobContext
from director_desktop.media.editing import Made, clock, cut, span
from director_desktop.media.library import MediaLibrary
from director_desktop.media.tracks import set_audio
from director_desktop.protocol import JobResult, JSONSchema
from director_desktop.store import AssetRecord

Operation = Literal["trim", "join", "replace_audio", "mix_audio"]
OPERATIONS: tuple[Operation, ...] = ("trim", "join", "replace_audio", "mix_audio")
MAX_JOIN = 20
TIME: JSONSchema = {"type": ["number", "string"]}
Make = Callable[[JobContext, Report], Awaitable[Made]]


class EditingArguments(TypedDict, total=False):
    """`run`'s keyword arguments (see `parameters`)."""

    operation: Operation
    video_id: str
    start: float | str
    end: float | str
    video_ids: list[str]
    audio_id: str
    volume: float
    original_volume: float
    name: str


class EditingAgent:
    name = "editing"
    description = (
        "Edits videos into a new video of the collection: trim (keep start to end), join "
        "several videos one after the other, or replace or mix in the sound of an audio file. "
        "Without video_id, the video the user is looking at."
    )
    parameters: JSONSchema = {
        "type": "object",
        "properties": {
            "operation": {"type": "string", "enum": list(OPERATIONS)},
            "video_id": {
                "type": "string",
                "description": "trim, replace_audio, mix_audio: the video's id; by default the "
                "video the user is looking at.",
            },
            "start": {**TIME, "description": 'trim: from (seconds, or "m:ss").'},
            "end": {**TIME, "description": "trim: to (by default the end of the video)."},
            "video_ids": {
                "type": "array",
                "items": {"type": "string"},
                "description": "join: the videos' ids, in order.",
            },
            "audio_id": {
                "type": "string",
                "description": "replace_audio, mix_audio: the id of the audio file (or of a "
                "video whose sound to use).",
            },
            "volume": {"type": "number", "description": "The added sound's volume (1: as is)."},
            "original_volume": {
                "type": "number",
                "description": "mix_audio: the video's own sound's volume (1: as is).",
            },
            "name": {"type": "string", "description": "The new video's name."},
        },
        "required": ["operation"],
    }
    examples = [
        "@editing trim 0:05 0:12",
        "@editing join <video id> <video id>",
        "@editing replace_audio <audio id>",
    ]

    def __init__(self, library: MediaLibrary) -> None:
        self.library = library

    @staticmethod
    def from_text(text: str) -> EditingArguments:
        """From free text: "trim 0:05 0:12", "join <id> <id>", "replace audio <id>", "mix <id>"."""
        lowered = text.lower()
        ids, times = ids_in(text), times_in(text)
        if any(w in lowered for w in ("join", "concat", "merge", "combine")):
            return {"operation": "join", "video_ids": ids}
        found: EditingArguments
        if "mix" in lowered or "audio" in lowered or "sound" in lowered or "replace" in lowered:
            found = {"operation": "mix_audio" if "mix" in lowered else "replace_audio"}
            if ids:
                found["audio_id"] = ids[-1]
            return found
        found = {"operation": "trim"}
        if ids:
            found["video_id"] = ids[0]
        if times:
            found["start"] = times[0]
        if len(times) > 1:
            found["end"] = times[1]
        return found

    async def run(self, ctx: AgentContext, **arguments: Any) -> AgentResult:
        item = AgentItem(ctx, self.name, "video", "Getting ready")
        try:
            operation = arguments.get("operation")
            if operation not in OPERATIONS:
                raise InvalidPayload(f"operation must be one of {', '.join(OPERATIONS)}")
            made, summary = await self._edit(ctx, item, operation, arguments)
        except DirectorError as exc:
            return item.failed(exc)
        item.done(video=video_data(made))
        return AgentResult(
            "success",
            f"{summary}: the new video {made.name} ({clock(made.length)}).",
            {"video_id": made.id, "name": made.name, "length": made.length},
        )

    async def _edit(
        self, ctx: AgentContext, item: AgentItem, operation: Operation, given: Mapping[str, object]
    ) -> tuple[AssetRecord, str]:
        name = optional_text(given.get("name"), "name")
        if operation == "join":
            return await self._join(ctx, item, given.get("video_ids"), name)
        video = await find_asset(
            self.library, ctx, given.get("video_id"), "video_id", default=ctx.video_id
        )
        source = source_of(self.library, video)
        stem = PurePosixPath(video.name).stem or "video"
        if operation == "trim":
            if given.get("start") in (None, ""):
                raise InvalidPayload('trim needs a start ("0:05"), and an end unless it is the end')
            start = parse_time(given["start"], "start")
            end = None if given.get("end") in (None, "") else parse_time(given["end"], "end")
            part = span(source, start, end)
            title = f"{stem} {file_time(part.start)}-{file_time(part.end)}"

            async def trim(job: JobContext, report: Report) -> Made:
                report(0.0, "Cutting")
                return await cut(
                    self.library.ffmpeg,
                    [part],
                    job.folder,
                    "edit",
                    on_progress=progress(report, "Cutting"),
                )

            summary = f"Trimmed {video.name} from {clock(part.start)} to {clock(part.end)}"
            return await self._make(item, video, name or title, trim), summary
        audio = await find_asset(
            self.library, ctx, given.get("audio_id"), "audio_id", kinds=("audio", "video")
        )
        sound = source_of(self.library, audio)
        mix = operation == "mix_audio"
        volume = optional_number(given.get("volume"), "volume", 1.0)
        original = optional_number(given.get("original_volume"), "original_volume", 1.0)

        doing = "Mixing in the sound" if mix else "Replacing the sound"

        async def dub(job: JobContext, report: Report) -> Made:
            report(0.0, doing)
            return await set_audio(
                self.library.ffmpeg,
                source,
                sound,
                job.folder,
                "edit",
                mix=mix,
                volume=volume,
                original_volume=original,
                on_progress=progress(report, doing),
            )

        title = f"{stem} with {PurePosixPath(audio.name).stem or 'sound'}"
        verb = "Mixed the sound of" if mix else "Replaced the sound with that of"
        return await self._make(item, video, name or title, dub), f"{verb} {audio.name}"

    async def _join(
        self, ctx: AgentContext, item: AgentItem, given: object, name: str | None
    ) -> tuple[AssetRecord, str]:
        if not isinstance(given, list) or not 2 <= len(given) <= MAX_JOIN:
            raise InvalidPayload(f"join needs video_ids: 2 to {MAX_JOIN} videos, in order")
        videos = [await find_asset(self.library, ctx, v, "video_ids") for v in given]
        parts = [span(source_of(self.library, v), 0.0) for v in videos]
        stem = PurePosixPath(videos[0].name).stem or "video"

        async def join(job: JobContext, report: Report) -> Made:
            doing = f"Joining {len(parts)} videos"
            report(0.0, doing)
            return await cut(
                self.library.ffmpeg, parts, job.folder, "edit", on_progress=progress(report, doing)
            )

        title = name or f"{stem} and {len(videos) - 1} more"
        return await self._make(item, videos[0], title, join), f"Joined {len(videos)} videos"

    async def _make(
        self, item: AgentItem, video: AssetRecord, title: str, make: Make
    ) -> AssetRecord:
        """Run `make(job, report) -> Made` as an `edit` job; the file becomes a new asset."""

        async def work(job: JobContext, report: Report) -> JobResult:
            made = await make(job, report)
            name = f"{title}{made.path.suffix}"
            asset = await keep_made(
                self.library, job, report, made.path, name=name, into=video.collection_id
            )
            return {"asset_id": asset.id, "mode": made.mode}

        result = await run_job(self.library, item, "edit", title, work)
        return await made_asset(self.library, result)


def progress(report: Report, doing: str) -> Callable[[float], None]:
    """FFmpeg's fraction done, reported as `doing`."""
    return lambda fraction: report(fraction, doing)
