"""Semantic search over the media index: the embedder seam, the scan of stored vectors, and the
fusion of its ranking with the keyword search's.

An `Embedder` (the engine's llama.cpp embedding model, `engine/llm/embeddings.py`) turns texts into
unit-length float32 vectors. The index job stores one per line (`store.index.put_vectors`, as
part of the index's one write), under the model's name: vectors of two models never mix. A search
embeds the query and scans the scope's vectors in batches of `BATCH` rows (a NumPy matrix product
per batch, the best `limit` kept with `argpartition`): no vector extension (sqlite-vec cannot load
in this Python), memory bounded by one batch, time linear in the lines (measured in
`bench/agents_bench.py`). The two rankings are merged by reciprocal rank fusion: a line's score is
Σ 1/(K + rank) over the rankings that found it, so neither BM25's nor cosine's scale matters.
Imports `store` and NumPy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final, Protocol, TypeAlias

from director_desktop.store import LineHit, Store

if TYPE_CHECKING:
    # numpy costs ~12 MiB and ~70 ms: it is imported where vectors are made or scored, never at
    # start-up (tests/integration/test_startup_imports.py). numpy.typing is for the checker only;
    # the frozen app leaves it out.
    import numpy as np
    import numpy.typing as npt

Vectors: TypeAlias = "npt.NDArray[np.float32]"
"""Rows of unit-length float32 vectors."""

BATCH: Final = 8192
"""Vectors read and scored at once: 8192 vectors of 384 float32 is 12 MiB."""
RRF_K: Final = 60
"""Reciprocal rank fusion's constant (Cormack et al.'s): damps the weight of the very top ranks."""
MIN_COSINE: Final = 0.0
"""A line pointing away from the query (negative cosine) is no semantic match at all."""


class Embedder(Protocol):
    name: str
    """The model's identity (its file name): the stored vectors are kept under it."""

    async def embed(self, texts: Sequence[str]) -> Vectors:
        """One unit-length vector per text; raises a `DirectorError` when the model fails."""
        ...


class EmbedderSource(Protocol):
    async def embedder(self) -> Embedder | None:
        """The embedder the user chose, or None (then the search is keyword only)."""
        ...


def to_blobs(vectors: Vectors) -> list[bytes]:
    """Each row as little-endian float32 bytes (the store's format)."""
    import numpy as np

    rows = np.ascontiguousarray(vectors, dtype="<f4")
    return [row.tobytes() for row in rows]


async def nearest(
    store: Store,
    model: str,
    query: Vectors,
    *,
    collection_id: str | None,
    asset_id: str | None,
    limit: int,
    batch: int = BATCH,
) -> list[tuple[int, float]]:
    """`(line id, cosine)` of the `limit` lines whose vectors are nearest `query` (one row), best
    first, within the scope, read `batch` vectors at a time."""
    if query.ndim != 2 or len(query) != 1:
        raise ValueError("one query vector")
    import numpy as np

    target = np.ascontiguousarray(query[0], dtype=np.float32)
    best_ids = np.zeros(0, dtype=np.int64)
    best_scores = np.zeros(0, dtype=np.float32)
    after = 0
    while True:
        rows = await store.index.vectors(
            model, collection_id=collection_id, asset_id=asset_id, after=after, batch=batch
        )
        if not rows:
            break
        after = rows[-1][0]
        ids = np.fromiter((line_id for line_id, _ in rows), dtype=np.int64, count=len(rows))
        matrix = np.frombuffer(b"".join(blob for _, blob in rows), dtype="<f4")
        if matrix.size != len(rows) * target.size:
            continue  # vectors of another size under this name: never compared
        scores = matrix.reshape(len(rows), target.size) @ target
        best_ids = np.concatenate([best_ids, ids])
        best_scores = np.concatenate([best_scores, scores.astype(np.float32)])
        if len(best_ids) > limit:
            keep = np.argpartition(-best_scores, limit - 1)[:limit]
            best_ids, best_scores = best_ids[keep], best_scores[keep]
        if len(rows) < batch:
            break
    order = np.argsort(-best_scores, kind="stable")
    return [
        (int(best_ids[i]), float(best_scores[i]))
        for i in order
        if float(best_scores[i]) > MIN_COSINE
    ]


def fuse(rankings: Sequence[Sequence[LineHit]], limit: int) -> list[LineHit]:
    """One ranking of lines from several (best first each), by reciprocal rank fusion: a line's
    score is Σ 1/(RRF_K + rank). Each line keeps the first ranking's copy of it."""
    scores: dict[int, float] = {}
    first: dict[int, LineHit] = {}
    for ranking in rankings:
        for rank, hit in enumerate(ranking, start=1):
            scores[hit.line_id] = scores.get(hit.line_id, 0.0) + 1.0 / (RRF_K + rank)
            first.setdefault(hit.line_id, hit)
    order = sorted(scores, key=lambda line_id: -scores[line_id])[:limit]
    return [_scored(first[line_id], scores[line_id]) for line_id in order]


def _scored(hit: LineHit, score: float) -> LineHit:
    return LineHit(
        line_id=hit.line_id,
        asset_id=hit.asset_id,
        collection_id=hit.collection_id,
        source=hit.source,
        track=hit.track,
        start=hit.start,
        end=hit.end,
        text=hit.text,
        score=round(score, 6),
    )
