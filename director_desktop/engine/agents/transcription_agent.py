"""The `transcription` agent: what is said in a video (or an audio file), as timestamped lines in
the chat and as `.srt` and `.vtt` files to download.

The transcript comes from the media index when the asset is indexed (`store.index`), else the one
this agent made before (`engine/speech/shelf.py`), else it is made now: the sound is extracted to
16 kHz mono WAV in a `transcribe` job's staging folder and given to the speech to text chosen in
Settings → Speech (`SpeechSettings`), the job's progress shown in the agent's item. Stopping the
turn cancels the job (FFmpeg killed, whisper.cpp aborted, the HTTP request dropped) and nothing
is kept. With no speech to text chosen it says how to get one. The downloads are `download` items
whose `url` is `/media/<asset_id>/transcript?format=srt|vtt` (signed at delivery). The only
parameter naming a file is `video_id`, an asset id of the turn's collection. Imports the agents'
helpers, the speech package, `errors`, `jobs`, `media` and `protocol`.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any, Final, TypedDict

from director_desktop.engine.agents.base import AgentContext, AgentResult
from director_desktop.engine.agents.params import find_asset, ids_in, optional_text
from director_desktop.engine.agents.work import AgentItem, Report, run_job
from director_desktop.engine.speech import (
    SpeechSettings,
    TranscriptShelf,
    extract_speech_audio,
    find_transcript,
    to_text,
)
from director_desktop.engine.speech.formats import FORMATS, clock
from director_desktop.errors import DirectorError, InvalidPayload, NotFound, SpeechNotConfigured
from director_desktop.jobs import JobContext
from director_desktop.media.library import MediaLibrary
from director_desktop.media.probe import Probe
from director_desktop.media.transcript import Segment, Transcriber
from director_desktop.protocol import ContentItem, JobResult, JSONDict, JSONSchema
from director_desktop.protocol.types import DownloadData
from director_desktop.store import AssetRecord

MAX_SHOWN: Final = 20_000  # characters of transcript in the chat; the files have it all
MAX_FOR_MODEL: Final = 6_000  # characters of transcript in the tool result
HOW_TO: Final = (
    "No speech to text is set up, so I cannot transcribe this yet. In Settings → Speech, "
    "choose either:\n\n"
    "- **a whisper.cpp model** — put a whisper ggml file (such as `ggml-base.en.bin`, from the "
    "whisper.cpp project's models) in the models folder and pick it; it runs on this computer; "
    "or\n"
    "- **an OpenAI-compatible transcription endpoint** — a server with "
    "`/v1/audio/transcriptions`, such as whisper.cpp's server, faster-whisper-server or "
    "LocalAI on this computer, or a cloud API with its key.\n\n"
    "Then ask again. A video that was indexed with speech already has its transcript."
)


class TranscriptionArguments(TypedDict, total=False):
    """`run`'s keyword arguments (see `parameters`)."""

    video_id: str
    language: str
    refresh: bool


class TranscriptionAgent:
    name = "transcription"
    description = (
        "Shows what is said in a video or audio file as a timestamped transcript, with .srt and "
        ".vtt subtitle files to download. Uses the media index when the video is indexed, else "
        "transcribes it now with the speech to text chosen in Settings. Without video_id, the "
        "video the user is looking at."
    )
    parameters: JSONSchema = {
        "type": "object",
        "properties": {
            "video_id": {
                "type": "string",
                "description": "The id of the video or audio file; by default the video the "
                "user is looking at.",
            },
            "language": {
                "type": "string",
                "description": 'The spoken language as an ISO 639-1 code ("en", "fr"), when '
                "known; by default the model decides.",
            },
            "refresh": {
                "type": "boolean",
                "description": "Transcribe again even when a transcript exists.",
            },
        },
    }
    examples = ["@transcription"]

    def __init__(
        self, library: MediaLibrary, speech: SpeechSettings | Transcriber | None = None
    ) -> None:
        self.library = library
        self.speech = speech
        self.shelf = TranscriptShelf(library.media_dir)

    @staticmethod
    def from_text(text: str) -> TranscriptionArguments:
        ids = ids_in(text)
        return {"video_id": ids[0]} if ids else {}

    async def _transcriber(self) -> Transcriber | None:
        if isinstance(self.speech, SpeechSettings):
            return await self.speech.transcriber()
        return self.speech

    async def run(self, ctx: AgentContext, **arguments: Any) -> AgentResult:
        item = AgentItem(ctx, self.name, "text", "Finding the video")
        try:
            asset = await find_asset(
                self.library,
                ctx,
                arguments.get("video_id"),
                "video_id",
                kinds=("video", "audio"),
                default=ctx.video_id,
            )
            language = _language(arguments.get("language"))
            refresh = arguments.get("refresh") is True
            found = None if refresh else await find_transcript(ctx.store, self.shelf, asset.id)
            if found is None:
                transcriber = await self._transcriber()
                if transcriber is None:
                    return _not_set_up(ctx, item)
                segments = await self._transcribe(item, asset, transcriber, language)
                source = "transcription"
            else:
                segments, source = found
        except DirectorError as exc:
            return item.failed(exc)
        return self._show(ctx, item, asset, segments, source)

    async def _transcribe(
        self,
        item: AgentItem,
        asset: AssetRecord,
        transcriber: Transcriber,
        language: str | None,
    ) -> list[Segment]:
        if self.library.missing(asset):
            raise NotFound(f"the file of {asset.name} is missing (moved or deleted)")
        probe = Probe.from_json(asset.probe)
        if probe.audio_stream is None and not probe.audio_tracks:
            raise NotFound(f"{asset.name} has no sound to transcribe")
        source = self.library.file_of(asset)
        made: list[Segment] = []

        async def work(job: JobContext, report: Report) -> JobResult:
            report(0.0, "Extracting the sound")
            wav = await extract_speech_audio(
                self.library.ffmpeg,
                source,
                job.staging("speech.wav"),
                stream=probe.audio_stream,
                duration=probe.duration or None,
                on_progress=lambda f: report(f * 0.1, "Extracting the sound"),
            )
            doing = f"Transcribing with {transcriber.name}"
            report(0.1, doing)
            segments = await transcriber.transcribe(
                wav, language=language, on_progress=lambda f: report(0.1 + f * 0.9, doing)
            )
            job.check()
            await self.shelf.save(asset.id, segments, by=transcriber.name)
            made[:] = segments
            return {"asset_id": asset.id, "segments": len(segments)}

        await run_job(self.library, item, "transcribe", f"Transcribing {asset.name}", work)
        return made

    def _show(
        self,
        ctx: AgentContext,
        item: AgentItem,
        asset: AssetRecord,
        segments: list[Segment],
        source: str,
    ) -> AgentResult:
        lines = to_text(segments)
        if not segments:
            text = f"Nothing is said in **{_md(asset.name)}** that speech to text could hear."
        else:
            shown = lines if len(lines) <= MAX_SHOWN else _cut(lines, MAX_SHOWN)
            more = "" if shown is lines else "\n… (the rest is in the files below)"
            where = f"{len(segments)} lines" + (
                " from the media index" if source == "index" else ""
            )
            heading = f"Transcript of **{_md(asset.name)}** ({clock(asset.length)}, {where}):"
            text = f"{heading}\n\n{_fenced(shown.rstrip() + more)}"
        item.done(text=text)
        if segments:
            for kind in ("srt", "vtt"):
                ctx.output.add_content(_download_item(asset, kind, self.name))
        data: JSONDict = {
            "video_id": asset.id,
            "source": source,
            "segments": len(segments),
            "transcript": lines if len(lines) <= MAX_FOR_MODEL else _cut(lines, MAX_FOR_MODEL),
            "downloads": [_transcript_path(asset, k) for k in ("srt", "vtt")] if segments else [],
        }
        said = f"{len(segments)} timestamped lines" if segments else "no speech"
        return AgentResult("success", f"Transcript of {asset.name}: {said}.", data)


def _not_set_up(ctx: AgentContext, item: AgentItem) -> AgentResult:
    """The item tells the user how to get speech to text; the result says it in one line."""
    error = SpeechNotConfigured(
        "No speech to text is set up: choose a whisper.cpp model or an OpenAI-compatible "
        "transcription endpoint in Settings → Speech."
    )
    ctx.output.update_content(item.index, status="error", status_message=None, text=HOW_TO)
    return AgentResult(
        "error", error.message, {"error": {"code": error.code, "message": error.message}}
    )


def _language(value: object) -> str | None:
    language = optional_text(value, "language")
    if language is None:
        return None
    if not language.isascii() or not language.isalpha() or not 2 <= len(language) <= 3:
        raise InvalidPayload('language must be a language code such as "en" or "fr"')
    return language.lower()


def _transcript_path(asset: AssetRecord, kind: str) -> str:
    return f"/media/{asset.id}/transcript?format={kind}"


def _download_item(asset: AssetRecord, kind: str, agent_name: str) -> ContentItem:
    mime, suffix = FORMATS[kind]
    stem = PurePosixPath(asset.name).stem or "transcript"
    download: DownloadData = {
        "id": asset.id,
        "collection_id": asset.collection_id,
        "kind": asset.kind,
        "name": f"{asset.name} — transcript ({suffix})",
        "filename": f"{stem}{suffix}",
        "url": _transcript_path(asset, kind),
        "mime": mime.split(";")[0],
        "size": None,
    }
    return {
        "type": "download",
        "status": "success",
        "status_message": None,
        "agent_name": agent_name,
        "download": download,
    }


def _fenced(text: str) -> str:
    """`text` as a code block whose fence is longer than any run of backticks in it."""
    run, longest = 0, 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def _cut(lines: str, limit: int) -> str:
    """Whole lines up to `limit` characters."""
    return lines[: lines.rfind("\n", 0, limit) + 1] or lines[:limit]


def _md(text: str) -> str:
    """A name inside bold text: its markdown characters escaped."""
    return "".join("\\" + c if c in "\\`*_[]<>#|~" else c for c in " ".join(text.split()))
