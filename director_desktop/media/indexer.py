"""`MediaIndexer`: the `index` job (issue 13) — an asset's scenes, subtitles, speech and name,
written to the media index (`store.index`) — and the reads the agents make of that index.

The job works in its staging folder (scene thumbnails, extracted subtitle tracks, the 16 kHz
mono WAV a transcriber is given) and writes nothing else until its end, where the thumbnails move
into the asset's folder (`<media>/<asset id>/scenes-<job id>/`) and the whole index is written in
one transaction in place of the old one. A job stopped before that leaves the old index as it was
(and its state with it); once the write has begun it is finished, so the index and its thumbnail
folder never disagree. With no `Transcriber` the job indexes the rest and says how to add speech.
Imports `errors`, `jobs`, `protocol`, `store` and this room's modules.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Final, TypeVar

from director_desktop.errors import Cancelled, Conflict, DirectorError, InvalidPayload, NotFound
from director_desktop.jobs import JobContext
from director_desktop.media.ffmpeg import Ffmpeg
from director_desktop.media.library import MediaLibrary
from director_desktop.media.probe import Probe, input_args
from director_desktop.media.scenes import (
    THRESHOLD,
    Scene,
    detect_scenes,
    drop_thumbnails,
    keep_thumbnails,
)
from director_desktop.media.subtitles import Subtitles, embedded, read_sidecars
from director_desktop.media.transcript import Segment, Transcriber, TranscriberSource, Word
from director_desktop.protocol import JobInfo, JobResult, WireErrorBody, sanitize
from director_desktop.store import (
    AssetRecord,
    IndexContent,
    IndexLine,
    IndexState,
    IndexSummary,
    LineHit,
    LineSource,
    SceneRecord,
    Store,
    TimedWord,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

Progress = Callable[[float | None, str], None]
"""How far an index job is (0..1) and what it is doing: for an agent's content item."""

JOB_KIND: Final = "index"
NO_TRANSCRIBER: Final = (
    "Spoken words were not indexed: no speech-to-text is set up. Choose a whisper.cpp model "
    "(from the models folder) or an OpenAI-compatible transcription endpoint in Settings → "
    "Speech, then index again."
)
# The stages' shares of a job's progress, by their usual cost.
_WEIGHTS: Final = {"scenes": 1.0, "subtitles": 0.1, "audio": 0.1, "speech": 2.0}
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


class MediaIndexer:
    """Indexes the library's videos and audio as jobs, and reads their index.

    A job uses `transcriber` when one is set, else the one `speech` answers when the job starts
    (the user's current choice in Settings)."""

    def __init__(
        self,
        store: Store,
        library: MediaLibrary,
        *,
        transcriber: Transcriber | None = None,
        speech: TranscriberSource | None = None,
        scene_threshold: float = THRESHOLD,
    ) -> None:
        self._store = store
        self._library = library
        self._ffmpeg: Ffmpeg = library.ffmpeg
        self.transcriber = transcriber
        self.speech = speech
        self.scene_threshold = scene_threshold

    # --- indexing -------------------------------------------------------------------------------
    async def index(
        self,
        asset_id: str,
        *,
        collection_id: str | None = None,
        on_progress: Progress | None = None,
    ) -> IndexReport:
        """Index the asset (of `collection_id` when given) as a job and wait for it. Cancelling
        the caller cancels the job, which then leaves the old index as it was. Raises the job's
        error: `not_found`, `invalid_payload` (an image), `conflict` (indexing already), an
        FFmpeg error, `cancelled`."""
        asset = await self._indexable(asset_id, collection_id)
        started: list[str] = []
        work = self._work(asset, on_progress, started.append)
        try:
            job = await self._library.jobs.run(JOB_KIND, f"Indexing {asset.name}", work)
        except asyncio.CancelledError:
            if started:  # `Jobs.run` asked for the cancel: wait until the job has ended
                await self._library.jobs.cancel(started[0])
            raise
        return IndexReport.from_job(job)

    async def start(self, asset_id: str) -> JobInfo:
        """Start indexing the asset and answer its job at once (indexing at import)."""
        asset = await self._indexable(asset_id, None)
        work = self._work(asset, None, None)
        return await self._library.jobs.start(JOB_KIND, f"Indexing {asset.name}", work)

    async def _indexable(self, asset_id: str, collection_id: str | None) -> AssetRecord:
        asset = await self._library.asset(asset_id, collection_id=collection_id)
        if asset.kind == "image":
            raise InvalidPayload("only videos and audio can be indexed, not images")
        if (await self._store.index.state(asset.id)).status == "indexing":
            raise Conflict(f"{asset.name} is being indexed already")
        return asset

    async def _chosen_transcriber(self) -> Transcriber | None:
        """The user's speech to text; one that fails to start leaves speech out of this index
        (the rest is still worth having), and the failure is logged."""
        if self.speech is None:
            return None
        try:
            return await self.speech.transcriber()
        except DirectorError as exc:
            log.warning("speech to text did not start", extra={"code": exc.code})
            return None

    def _work(
        self,
        asset: AssetRecord,
        on_progress: Progress | None,
        on_start: Callable[[str], None] | None,
    ) -> Callable[[JobContext], Awaitable[JobResult]]:
        fixed = self.transcriber

        async def work(ctx: JobContext) -> JobResult:
            if on_start is not None:
                on_start(ctx.job_id)
            await self._store.index.mark_indexing(asset.id, ctx.job_id)  # or Conflict
            # A cancel (or shutdown) ends here: the state goes back to what it was.
            ctx.on_cleanup(lambda: self._stopped(asset.id, ctx.job_id, None))
            transcriber = fixed or await self._chosen_transcriber()
            try:
                report = await _Job(self, asset, ctx, transcriber, on_progress).run()
            except (Cancelled, asyncio.CancelledError):
                raise
            except DirectorError as exc:
                await self._stopped(asset.id, ctx.job_id, exc)
                raise
            except Exception as exc:
                await self._stopped(asset.id, ctx.job_id, DirectorError(str(exc)))
                raise
            return report.to_json()

        return work

    async def _stopped(self, asset_id: str, job_id: str, error: DirectorError | None) -> None:
        body: WireErrorBody | None = None
        if error is not None:
            body = {"code": error.code, "message": sanitize(error.message)}
        try:
            await self._store.index.mark_stopped(asset_id, job_id, body)
        except DirectorError as exc:  # the store closed under a shutdown: swept at next open
            log.warning("could not record the end of an index job: %s", exc.message)

    # --- reading the index ----------------------------------------------------------------------
    async def state(self, asset_id: str) -> IndexState:
        return await self._store.index.state(asset_id)

    async def states(self, collection_id: str) -> list[IndexState]:
        """The states of a collection's assets that have one (the others: `not_indexed`)."""
        return await self._store.index.states(collection_id)

    async def scenes(self, asset_id: str) -> list[SceneRecord]:
        return await self._store.index.scenes(asset_id)

    def scene_thumbnail(self, scene: SceneRecord) -> Path:
        """The scene's JPEG; `not_found` when it has none or its path leaves the media folder."""
        if not scene.thumbnail:
            raise NotFound("this scene has no thumbnail")
        root = self._library.media_dir.resolve()
        path = (root / PurePosixPath(scene.thumbnail)).resolve()
        if not path.is_relative_to(root):
            raise NotFound("the scene's thumbnail is outside the media folder")
        return path

    async def transcript(self, asset_id: str) -> list[Segment]:
        """What was said, in time order, with word times when known: the speech, else the first
        subtitle track (empty when the asset was not indexed)."""
        return [
            Segment(
                line.start,
                line.end,
                line.text,
                tuple(Word(w.start, w.end, w.text) for w in line.words),
            )
            for line in await self._store.index.transcript(asset_id)
        ]

    async def search(
        self,
        query: str,
        *,
        collection_id: str | None = None,
        asset_id: str | None = None,
        sources: Sequence[LineSource] | None = None,
        limit: int = 50,
    ) -> list[LineHit]:
        """Keyword search (BM25) over the index of one asset or one collection."""
        return await self._store.index.search(
            query, collection_id=collection_id, asset_id=asset_id, sources=sources, limit=limit
        )


class _Job:
    """One run of the index job: its stages in order, then the one write."""

    def __init__(
        self,
        indexer: MediaIndexer,
        asset: AssetRecord,
        ctx: JobContext,
        transcriber: Transcriber | None,
        on_progress: Progress | None,
    ) -> None:
        self.indexer = indexer
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
                self.indexer._ffmpeg,
                src,
                self.probe,
                self.ctx.staging("scenes"),
                threshold=self.indexer.scene_threshold,
                on_progress=lambda f: self.progress("scenes", f, "Finding scenes"),
            )
            self.finished("scenes")
        self.progress("subtitles", 0.0, "Reading subtitles")
        lines += await self._subtitles(src)
        self.finished("subtitles")
        speech = await self._speech(src, lines)
        lines += _name_lines(self.asset)
        self.say("Saving the index")
        counts: dict[str, int] = {
            source: sum(1 for line in lines if line.source == source) for source in _COUNTED
        }
        summary: IndexSummary = {
            "scenes": len(scenes),
            "lines": counts,
            "speech": speech,
            "notes": self.notes,
            "seconds": round(time.monotonic() - started, 3),
        }
        state = await _finish(self._commit(scenes, lines, summary))
        log.info(
            "indexed an asset",
            extra={"asset_id": self.asset.id, "scenes": len(scenes), "status": state.status},
        )
        return IndexReport(
            self.asset.id, self.ctx.job_id, len(scenes), counts, list(self.notes), speech
        )

    async def _source(self) -> Path:
        path = self.indexer._library.file_of(self.asset)
        if not await asyncio.to_thread(path.is_file):
            raise NotFound(f"the file of {self.asset.name} is missing (moved or deleted?)")
        return path

    async def _subtitles(self, src: Path) -> list[IndexLine]:
        found: list[Subtitles] = [
            await embedded(self.indexer._ffmpeg, src, self.probe, self.ctx.staging("subtitles"))
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
        await self.indexer._ffmpeg.run(
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

    async def _commit(
        self, scenes: list[Scene], lines: list[IndexLine], summary: IndexSummary
    ) -> IndexState:
        """Move the thumbnails in, write the index, drop the old thumbnails: all or nothing."""
        asset_dir = self.indexer._library.media_dir / self.asset.id
        folder, records = await keep_thumbnails(scenes, asset_dir, self.ctx.job_id)
        content = IndexContent(records, lines, summary)
        try:
            state = await self.indexer._store.index.replace(
                self.asset.id, content, job_id=self.ctx.job_id
            )
        except BaseException:
            await asyncio.to_thread(shutil.rmtree, asset_dir / folder, True)
            raise
        await asyncio.to_thread(drop_thumbnails, asset_dir, keep=folder)
        return state


_COUNTED: Final[tuple[LineSource, ...]] = ("transcript", "subtitle", "name")


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
