"""`store.index`: the media index (issue 13) — scenes, timed lines and their search, vectors and
each asset's index state — reached from `Store`.

`IndexRecords` is the async face: each call one job on the store's worker thread, running the
functions of `index_rows` (which also holds the record types) and `index_search`. Imports
`protocol` and the store's own `index_rows`, `index_search` and `records`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from director_desktop.protocol import WireErrorBody
from director_desktop.store import index_rows as rows
from director_desktop.store import index_search
from director_desktop.store.index_rows import (
    IndexContent,
    IndexLine,
    IndexState,
    LineHit,
    LineSource,
    SceneRecord,
)
from director_desktop.store.records import OnWorker

DEFAULT_LIMIT = 50


class IndexRecords:
    """`store.index`: each call one job on the store's worker."""

    def __init__(self, read: OnWorker, write: OnWorker) -> None:
        self._read = read
        self._write = write

    # --- state ----------------------------------------------------------------------------------
    async def state(self, asset_id: str) -> IndexState:
        """The asset's index state (`not_indexed` when it never had one)."""
        return await self._read(lambda conn: rows.get_state(conn, asset_id))

    async def states(self, collection_id: str) -> list[IndexState]:
        """The states of a collection's assets that have one, newest asset first."""
        return await self._read(lambda conn: rows.states(conn, collection_id))

    async def mark_indexing(self, asset_id: str, job_id: str) -> IndexState:
        """NotFound when the asset is gone."""
        return await self._write(lambda conn: rows.mark_indexing(conn, asset_id, job_id))

    async def mark_stopped(
        self, asset_id: str, job_id: str, error: WireErrorBody | None = None
    ) -> IndexState:
        """Job `job_id` wrote nothing: the state before it (no `error`), or `error`."""
        return await self._write(lambda conn: rows.mark_stopped(conn, asset_id, job_id, error))

    # --- the index ------------------------------------------------------------------------------
    async def replace(
        self, asset_id: str, content: IndexContent, *, job_id: str | None = None
    ) -> IndexState:
        """Write the asset's whole index in one transaction, in place of the old one."""
        return await self._write(lambda conn: rows.replace(conn, asset_id, job_id, content))

    async def scenes(self, asset_id: str) -> list[SceneRecord]:
        return await self._read(lambda conn: rows.scenes(conn, asset_id))

    async def lines(
        self, asset_id: str, sources: Sequence[LineSource] | None = None
    ) -> list[IndexLine]:
        """The asset's lines (of `sources`, else all) by source, track, then time."""
        return await self._read(lambda conn: rows.lines(conn, asset_id, sources))

    async def transcript(self, asset_id: str) -> list[IndexLine]:
        """What was said in time order: the speech lines, else the first subtitle track's. Each
        line has `start`, `end`, `text` and `words` (`start`, `end`, `text`) as
        `media.transcript.Segment` does (`MediaIndexer.transcript` answers Segments)."""
        return await self._read(lambda conn: rows.transcript(conn, asset_id))

    async def search(
        self,
        query: str,
        *,
        collection_id: str | None = None,
        asset_id: str | None = None,
        sources: Sequence[LineSource] | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> list[LineHit]:
        """Lines matching `query`, best first (BM25), within one asset and/or one collection
        (neither: the whole library). Words are words, never FTS5 syntax."""
        return await self._read(
            lambda conn: index_search.search(
                conn,
                query,
                collection_id=collection_id,
                asset_id=asset_id,
                sources=sources,
                limit=limit,
            )
        )

    # --- vectors (semantic search: stored and read here; the embedding model is the engine's) ---
    async def lines_to_embed(self, asset_id: str, model: str) -> list[tuple[int, str]]:
        """`(line id, text)` of the asset's lines with no vector of `model` yet."""
        return await self._read(
            lambda conn: index_search.line_ids(conn, asset_id, without_model=model)
        )

    async def put_vectors(self, model: str, vectors: Iterable[tuple[int, bytes]]) -> int:
        """Store `(line id, float32 bytes)` vectors made by `model` (one per line)."""
        batch = list(vectors)
        return await self._write(lambda conn: index_search.put_vectors(conn, model, batch))

    async def vectors(
        self,
        model: str,
        *,
        collection_id: str | None = None,
        asset_id: str | None = None,
        after: int = 0,
        batch: int = 4096,
    ) -> list[tuple[int, bytes]]:
        """The next `batch` of `(line id, vector)` of `model` in the scope, ids above `after`:
        walk them all with `after` = the last id of the batch before (100,000 lines of 384
        dimensions: ~0.35 s)."""
        return await self._read(
            lambda conn: index_search.vectors(
                conn,
                model,
                collection_id=collection_id,
                asset_id=asset_id,
                after=after,
                batch=batch,
            )
        )

    async def hits(self, scored: Sequence[tuple[int, float]]) -> list[LineHit]:
        """The lines of `(line id, score)` pairs, in that order (a semantic search's answer)."""
        pairs = list(scored)
        return await self._read(lambda conn: index_search.hits_of(conn, pairs))
