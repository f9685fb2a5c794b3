"""`MediaIndexer`: the `index` job (issue 13) — an asset's scenes, subtitles, speech and name,
written to the media index (`store.index`) — and the reads the agents make of that index.

The job works in its staging folder (scene thumbnails, extracted subtitle tracks, the 16 kHz
mono WAV a transcriber is given) and writes nothing else until its end, where the thumbnails move
into the asset's folder (`<media>/<asset id>/scenes-<job id>/`) and the whole index is written in
one transaction in place of the old one. A job stopped before that leaves the old index as it was
(and its state with it); once the write has begun it is finished, so the index and its thumbnail
folder never disagree. With no `Transcriber` the job indexes the rest and says how to add speech.
The job's run is `index_job.IndexJob`'s. Imports `errors`, `jobs`, `protocol`, `store` and this
room's modules.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path, PurePosixPath
from typing import Final

from director_desktop.errors import Cancelled, Conflict, DirectorError, InvalidPayload, NotFound
from director_desktop.jobs import JobContext
from director_desktop.media.ffmpeg import Ffmpeg
from director_desktop.media.index_job import NO_TRANSCRIBER as NO_TRANSCRIBER
from director_desktop.media.index_job import IndexJob
from director_desktop.media.index_job import IndexReport as IndexReport
from director_desktop.media.index_job import Progress as Progress
from director_desktop.media.library import MediaLibrary
from director_desktop.media.scene_text import SceneReader
from director_desktop.media.scenes import THRESHOLD
from director_desktop.media.semantic import Embedder, EmbedderSource, fuse, nearest
from director_desktop.media.transcript import Segment, Transcriber, TranscriberSource, Word
from director_desktop.protocol import JobInfo, JobResult, WireErrorBody, sanitize
from director_desktop.store import (
    AssetRecord,
    IndexLine,
    IndexState,
    LineHit,
    LineSource,
    SceneRecord,
    Store,
)

log = logging.getLogger(__name__)

JOB_KIND: Final = "index"


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
        embeddings: EmbedderSource | None = None,
        scene_reader: SceneReader | None = None,
        read_scenes: bool = False,
        scene_threshold: float = THRESHOLD,
    ) -> None:
        self._store = store
        self._library = library
        self._ffmpeg: Ffmpeg = library.ffmpeg
        self.transcriber = transcriber
        self.speech = speech
        self.embeddings = embeddings
        """The user's embedding model: each line gets a vector for semantic search."""
        self.scene_reader = scene_reader
        """Tesseract, when installed: the text on each scene's thumbnail becomes a line."""
        self.read_scenes = read_scenes or scene_reader is not None
        """Whether scene text is wanted (the app: always; without a reader a note says why)."""
        self.scene_threshold = scene_threshold

    @property
    def ffmpeg(self) -> Ffmpeg:
        return self._ffmpeg

    @property
    def library(self) -> MediaLibrary:
        return self._library

    @property
    def store(self) -> Store:
        return self._store

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

    async def _chosen_embedder(self) -> Embedder | None:
        if self.embeddings is None:
            return None
        try:
            return await self.embeddings.embedder()
        except DirectorError as exc:
            log.warning("the embedding model did not start", extra={"code": exc.code})
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
            embedder = await self._chosen_embedder()
            try:
                job = IndexJob(self, asset, ctx, transcriber, on_progress, embedder)
                report = await job.run()
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

    async def lines(self, asset_id: str, sources: Sequence[LineSource]) -> list[IndexLine]:
        """The asset's lines of `sources` (each source's in time order)."""
        return await self._store.index.lines(asset_id, sources)

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
        """Keyword search (BM25) over the index of one asset or one collection, merged with a
        semantic search (`media.semantic`) when an embedding model is chosen and the lines have
        its vectors. An embedding model that fails leaves the keyword search's answer."""
        keyword = await self._store.index.search(
            query, collection_id=collection_id, asset_id=asset_id, sources=sources, limit=limit
        )
        embedder = await self._chosen_embedder()
        if embedder is None or not query.strip():
            return keyword
        try:
            vector = await embedder.embed([query])
        except DirectorError as exc:
            log.warning("semantic search skipped", extra={"code": exc.code})
            return keyword
        scored = await nearest(
            self._store,
            embedder.name,
            vector,
            collection_id=collection_id,
            asset_id=asset_id,
            limit=limit,
        )
        hits = await self._store.index.hits(scored)
        if sources is not None:
            hits = [hit for hit in hits if hit.source in sources]
        return fuse([keyword, hits], limit)

    async def semantic(self) -> bool:
        """Whether searches are semantic too (an embedding model is chosen)."""
        return await self._chosen_embedder() is not None
