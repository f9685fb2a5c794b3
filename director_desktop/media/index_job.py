"""One run of the `index` job (issue 13): its stages in order — scenes and their thumbnails, the
text on screen, subtitles, speech, the lines' vectors — then the one write of the whole index.

`IndexJob` works in the job's staging folder and writes nothing else until its end (see
`indexer.py`, whose `MediaIndexer` starts it and reads the index); `IndexReport` is what it
wrote, its job's result. It reaches the library, FFmpeg and the store through `IndexParts` (the
indexer). Imports `errors`, `jobs`, `protocol`, `store` and this room's modules.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Protocol, TypeVar

from director_desktop.errors import DirectorError, NotFound
from director_desktop.jobs import JobContext
from director_desktop.media.ffmpeg import Ffmpeg
from director_desktop.media.library import MediaLibrary
from director_desktop.media.probe import Probe, input_args
from director_desktop.media.scene_text import NOT_INSTALLED, SceneReader
from director_desktop.media.scenes import (
    Scene,
    detect_scenes,
    drop_thumbnails,
    keep_thumbnails,
)
from director_desktop.media.semantic import Embedder, to_blobs
from director_desktop.media.subtitles import Subtitles, embedded, read_sidecars
from director_desktop.media.transcript import Transcriber
from director_desktop.protocol import JobInfo, JobResult
from director_desktop.store import (
    AssetRecord,
    IndexContent,
    IndexLine,
    IndexState,
    IndexSummary,
    LineSource,
    Store,
    TimedWord,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

Progress = Callable[[float | None, str], None]
"""How far an index job is (0..1) and what it is doing: for an agent's content item."""

NO_TRANSCRIBER: Final = (
    "Spoken words were not indexed: no speech-to-text is set up. Choose a whisper.cpp model "
    "(from the models folder) or an OpenAI-compatible transcription endpoint in Settings → "
    "Speech, then index again."
)
# The stages' shares of a job's progress, by their usual cost.
_WEIGHTS: Final = {
    "scenes": 1.0,
    "subtitles": 0.1,
    "audio": 0.1,
    "speech": 2.0,
    "vectors": 0.3,
    "text": 0.2,
}
_NAME_SEPARATORS = re.compile(r"[_.\-]+")


@dataclass(frozen=True)
class IndexReport:
    """What an index job wrote (its job's `result`)."""

    asset_id: str
    job_id: str
    scenes: int
    lines: dict[str, int]
    """Lines stored per source: transcript, subtitle, name."""
    notes: list[str] = field(default_factory=list)
    """What was left out and why (no transcriber, a picture subtitle track...)."""
    speech: str = ""
    """Who transcribed the speech, or why it was not."""

    def to_json(self) -> JobResult:
        return {
            "asset_id": self.asset_id,
            "scenes": self.scenes,
            "lines": dict(self.lines),
            "notes": list(self.notes),
            "speech": self.speech,
        }

    @classmethod
    def from_job(cls, job: JobInfo) -> IndexReport:
        result = job["result"] or {}
        return cls(
            asset_id=str(result.get("asset_id", "")),
            job_id=job["id"],
            scenes=int(result.get("scenes", 0)),
            lines={str(k): int(v) for k, v in dict(result.get("lines") or {}).items()},
            notes=[str(note) for note in result.get("notes") or []],
            speech=str(result.get("speech", "")),
        )


class IndexParts(Protocol):
    """What a run of the job uses of its indexer."""

    @property
    def ffmpeg(self) -> Ffmpeg: ...

    @property
    def library(self) -> MediaLibrary: ...

    @property
    def store(self) -> Store: ...

    scene_threshold: float
    scene_reader: SceneReader | None
    read_scenes: bool


class IndexJob:
    """One run of the index job: its stages in order, then the one write."""

    def __init__(
        self,
        parts: IndexParts,
        asset: AssetRecord,
        ctx: JobContext,
        transcriber: Transcriber | None,
        on_progress: Progress | None,
        embedder: Embedder | None = None,
    ) -> None:
        self.parts = parts
        self.embedder = embedder
        self.asset = asset
        self.ctx = ctx
        self.transcriber = transcriber
        self.on_progress = on_progress
        self.probe = Probe.from_json(asset.probe)
        self.notes: list[str] = []
        has_picture = self.probe.kind == "video" and self.probe.video_stream is not None
        has_sound = self.probe.audio_stream is not None
        stages = ["subtitles"]
        if has_picture:
            stages.insert(0, "scenes")
        if has_sound and transcriber is not None:
            stages += ["audio", "speech"]
        if embedder is not None:
            stages.append("vectors")
        if has_picture and parts.scene_reader is not None:
            stages.insert(1, "text")
        total = sum(_WEIGHTS[stage] for stage in stages)
        self._shares = {stage: _WEIGHTS[stage] / total for stage in stages}
        self._done = 0.0
        self.has_sound = has_sound

    def progress(self, stage: str, fraction: float | None, detail: str) -> None:
        share = self._shares.get(stage, 0.0)
        overall = None if fraction is None else self._done + share * min(max(fraction, 0.0), 1.0)
        self.ctx.progress(overall, detail)
        if self.on_progress is not None:
            self.on_progress(overall, detail)

    def say(self, detail: str) -> None:
        self.ctx.progress(self._done, detail)
        if self.on_progress is not None:
            self.on_progress(self._done, detail)

    def finished(self, stage: str) -> None:
        self._done += self._shares.get(stage, 0.0)
        self.ctx.check()

    async def run(self) -> IndexReport:
        started = time.monotonic()
        src = await self._source()
        lines: list[IndexLine] = []
        scenes: list[Scene] = []
        if "scenes" in self._shares:
            self.progress("scenes", 0.0, "Finding scenes")
            scenes = await detect_scenes(
                self.parts.ffmpeg,
                src,
                self.probe,
                self.ctx.staging("scenes"),
                threshold=self.parts.scene_threshold,
                on_progress=lambda f: self.progress("scenes", f, "Finding scenes"),
            )
            self.finished("scenes")
            lines += await self._scene_text(scenes)
        self.progress("subtitles", 0.0, "Reading subtitles")
        lines += await self._subtitles(src)
        self.finished("subtitles")
        speech = await self._speech(src, lines)
        lines += _name_lines(self.asset)
        vectors = await self._vectors(lines)
        self.say("Saving the index")
        counts: dict[str, int] = {
            source: sum(1 for line in lines if line.source == source) for source in _COUNTED
        }
        if not counts["scene"] and self.parts.scene_reader is None:
            del counts["scene"]  # not looked for: no count to show
        summary: IndexSummary = {
            "scenes": len(scenes),
            "lines": counts,
            "speech": speech,
            "notes": self.notes,
            "seconds": round(time.monotonic() - started, 3),
        }
        state = await _finish(self._commit(scenes, lines, summary, vectors))
        log.info(
            "indexed an asset",
            extra={"asset_id": self.asset.id, "scenes": len(scenes), "status": state.status},
        )
        return IndexReport(
            self.asset.id, self.ctx.job_id, len(scenes), counts, list(self.notes), speech
        )

    async def _source(self) -> Path:
        path = self.parts.library.file_of(self.asset)
        if not await asyncio.to_thread(path.is_file):
            raise NotFound(f"the file of {self.asset.name} is missing (moved or deleted?)")
        return path

    async def _scene_text(self, scenes: list[Scene]) -> list[IndexLine]:
        """The words on each scene's thumbnail (Tesseract), over the scene's time."""
        reader = self.parts.scene_reader
        if reader is None:
            if self.parts.read_scenes and scenes:
                self.notes.append(NOT_INSTALLED)
            return []
        found: list[IndexLine] = []
        for n, scene in enumerate(scenes):
            self.progress("text", n / len(scenes), "Reading the text on screen")
            if scene.thumbnail is not None:
                text = await reader.read(scene.thumbnail)
                if text.strip():
                    found.append(IndexLine("scene", scene.start, scene.end, " ".join(text.split())))
            self.ctx.check()
        self.finished("text")
        return found

    async def _subtitles(self, src: Path) -> list[IndexLine]:
        found: list[Subtitles] = [
            await embedded(self.parts.ffmpeg, src, self.probe, self.ctx.staging("subtitles"))
        ]
        if not self.asset.owned:  # a file referenced in place: its sidecars are beside it
            found.append(await asyncio.to_thread(read_sidecars, src))
        lines = []
        for subtitles in found:
            self.notes += subtitles.notes
            for track in subtitles.tracks:
                lines += [
                    IndexLine("subtitle", cue.start, cue.end, cue.text, track=track.label)
                    for cue in track.cues
                ]
        return lines

    async def _speech(self, src: Path, lines: list[IndexLine]) -> str:
        if not self.has_sound:
            return "no audio"
        transcriber = self.transcriber
        if transcriber is None:
            self.notes.append(NO_TRANSCRIBER)
            return "no speech-to-text is set up"
        self.progress("audio", None, "Extracting the audio")
        wav = self.ctx.staging("speech.wav")
        await self.parts.ffmpeg.run(
            [
                *["-v", "error", *input_args(src), "-map", f"0:{self.probe.audio_stream}"],
                *["-vn", "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", "-f", "wav"],
                *["-y", f"file:{wav}"],
            ],
            timeout=60.0 + self.probe.duration,
            duration=self.probe.duration,
            on_progress=lambda f: self.progress("audio", f, "Extracting the audio"),
        )
        self.finished("audio")
        self.progress("speech", 0.0, f"Transcribing with {transcriber.name}")
        try:
            segments = await transcriber.transcribe(
                wav,
                on_progress=lambda f: self.progress(
                    "speech", f, f"Transcribing with {transcriber.name}"
                ),
            )
        except DirectorError as exc:
            # The rest of the index is still worth keeping; the note says what went wrong.
            self.notes.append(f"Spoken words were not indexed: {exc.message}")
            return f"failed: {exc.code}"
        self.finished("speech")
        for segment in segments:
            text = " ".join(segment.text.split())
            if text:
                words = tuple(TimedWord(w.start, w.end, w.text.strip()) for w in segment.words)
                lines.append(
                    IndexLine(
                        "transcript",
                        max(0.0, segment.start),
                        max(segment.start, segment.end, 0.0),
                        text,
                        words,
                    )
                )
        return f"transcribed by {transcriber.name}"

    async def _vectors(self, lines: list[IndexLine]) -> list[bytes | None]:
        """Each line's embedding (for semantic search), in batches the stop is heard between;
        none when no model is chosen or it fails (a note says so: the keyword index stands)."""
        embedder = self.embedder
        if embedder is None or not lines:
            return []
        label = f"Embedding the lines with {embedder.name}"
        found: list[bytes] = []
        step = 256
        try:
            for at in range(0, len(lines), step):
                self.progress("vectors", at / len(lines), label)
                batch = await embedder.embed([line.text for line in lines[at : at + step]])
                found += to_blobs(batch)
                self.ctx.check()
        except DirectorError as exc:
            self.notes.append(f"Lines were not embedded for semantic search: {exc.message}")
            return []
        self.finished("vectors")
        return list(found)

    async def _commit(
        self,
        scenes: list[Scene],
        lines: list[IndexLine],
        summary: IndexSummary,
        vectors: list[bytes | None],
    ) -> IndexState:
        """Move the thumbnails in, write the index, drop the old thumbnails: all or nothing."""
        asset_dir = self.parts.library.media_dir / self.asset.id
        folder, records = await keep_thumbnails(scenes, asset_dir, self.ctx.job_id)
        model = self.embedder.name if vectors and self.embedder else ""
        content = IndexContent(records, lines, summary, vectors, model)
        try:
            state = await self.parts.store.index.replace(
                self.asset.id, content, job_id=self.ctx.job_id
            )
        except BaseException:
            await asyncio.to_thread(shutil.rmtree, asset_dir / folder, True)
            raise
        await asyncio.to_thread(drop_thumbnails, asset_dir, keep=folder)
        return state


_COUNTED: Final[tuple[LineSource, ...]] = ("transcript", "subtitle", "scene", "name")


def _name_lines(asset: AssetRecord) -> list[IndexLine]:
    """The asset's name (words, without its extension) and description, over its whole length,
    so a search for them finds the video."""
    stem = asset.name.rsplit(".", 1)[0] if "." in asset.name[1:] else asset.name
    lines = [IndexLine("name", 0.0, max(asset.length, 0.0), _NAME_SEPARATORS.sub(" ", stem))]
    if asset.description.strip():
        lines.append(IndexLine("name", 0.0, max(asset.length, 0.0), asset.description))
    return lines


async def _finish(work: Awaitable[T]) -> T:
    """Run `work` to its end even when cancelled meanwhile: once the index write has begun it
    completes, and its result stands (the job is done). A failure is raised as usual."""
    task = asyncio.ensure_future(work)
    cancelled = False
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.done() and task.cancelled():
                raise
            cancelled = True
    if cancelled:
        log.info("an index job was stopped while writing its index: the index stands")
    return task.result()
