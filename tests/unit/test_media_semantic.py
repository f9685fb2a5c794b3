"""Semantic search over the media index: llama.cpp embeddings (xllamacpp, in-process) of a tiny
random-weight llama GGUF pooled by its mean, the vectors written with the index, the chunked NumPy
scan of them, and its fusion with BM25. Random weights: the tests assert the vectors' shape, unit
length and determinism, and that a query of a line's exact text finds that line first; never
meaning."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from director_desktop.engine.agents.search_agent import SearchAgent
from director_desktop.engine.llm.embeddings import EmbeddingSettings, LlamaCppEmbedder
from director_desktop.errors import InvalidPayload, ModelError, NotFound
from director_desktop.media.indexer import MediaIndexer
from director_desktop.media.semantic import fuse, nearest, to_blobs
from director_desktop.store import IndexContent, IndexLine, LineHit
from director_desktop.user_settings import UserSettings
from tests.fixtures.media import (
    FILM_EMBEDDED,
    Film,
    LibraryWorld,
    film_fixture,  # noqa: F401 (the fixture)
)
from tests.fixtures.tiny_gguf import write_model
from tests.unit.agent_support import context

pytestmark = pytest.mark.anyio

DIMENSIONS = 64  # the tiny model's n_embd


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models folder with a tiny llama GGUF (no pooling declared: mean pooling is used)."""
    folder = tmp_path_factory.mktemp("models")
    write_model(str(folder / "tiny-embed.gguf"), use_bias=False, seed=7)
    (folder / "not-a-model.gguf").write_bytes(b"GGUF but not really")
    return folder


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[LibraryWorld]:
    opened = await LibraryWorld.open(tmp_path / "data")
    yield opened
    await opened.close()


@pytest.fixture
async def embeddings(tmp_path: Path, models: Path) -> AsyncIterator[EmbeddingSettings]:
    settings = EmbeddingSettings(UserSettings(tmp_path / "settings.json"), models)
    settings.choose("tiny-embed.gguf")
    yield settings
    await settings.close()


async def test_vectors_are_unit_length_one_per_text_and_deterministic(models: Path) -> None:
    embedder = LlamaCppEmbedder(models / "tiny-embed.gguf")
    try:
        texts = ["The red door opens slowly", "A green field of wheat", "", "x" * 9000]
        first = await embedder.embed(texts)
        again = await embedder.embed(list(reversed(texts)))
    finally:
        await embedder.close()
    assert first.shape == (4, DIMENSIONS)
    assert first.dtype == np.float32
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-4)
    assert np.allclose(first, again[::-1], atol=1e-5), "the same text, the same vector"
    assert not np.allclose(first[0], first[1]), "two texts, two vectors"


async def test_a_file_that_is_no_model_fails_clearly(models: Path) -> None:
    embedder = LlamaCppEmbedder(models / "not-a-model.gguf")
    try:
        with pytest.raises(ModelError) as caught:
            await embedder.embed(["words"])
    finally:
        await embedder.close()
    assert "not-a-model.gguf" in caught.value.message


async def test_the_choice_is_a_file_of_the_models_folder(tmp_path: Path, models: Path) -> None:
    settings = EmbeddingSettings(UserSettings(tmp_path / "settings.json"), models)
    assert await settings.embedder() is None, "none chosen: keyword search only"
    for bad in ("../tiny-embed.gguf", "/etc/passwd", "tiny-embed.bin", ".hidden.gguf"):
        with pytest.raises(InvalidPayload):
            settings.choose(bad)
    with pytest.raises(NotFound):
        settings.choose("absent.gguf")
    settings.choose("tiny-embed.gguf")
    assert UserSettings(tmp_path / "settings.json").get("embedding") == {"model": "tiny-embed.gguf"}
    embedder = await settings.embedder()
    assert embedder is not None
    assert embedder.name == "tiny-embed.gguf"
    assert await settings.embedder() is embedder, "kept loaded while chosen"
    settings.choose(None)
    assert await settings.embedder() is None
    await settings.close()


async def test_indexing_stores_a_vector_per_line_and_reindexing_replaces_them(
    world: LibraryWorld, film: Film, embeddings: EmbeddingSettings
) -> None:
    video = await world.add(film.video)
    indexer = MediaIndexer(world.store, world.library, embeddings=embeddings)
    await indexer.index(video.id)
    lines = await world.store.index.lines(video.id)
    stored = await world.store.index.vectors("tiny-embed.gguf", asset_id=video.id)
    assert len(stored) == len(lines) == len(FILM_EMBEDDED) + 1  # the subtitles and the name
    assert {len(blob) for _, blob in stored} == {DIMENSIONS * 4}
    await indexer.index(video.id)
    again = await world.store.index.vectors("tiny-embed.gguf", asset_id=video.id)
    assert len(again) == len(stored), "a re-index replaces the vectors, never adds to them"
    everywhere = await world.store.index.vectors("tiny-embed.gguf")
    assert len(everywhere) == len(await world.store.index.lines(video.id))


async def test_search_finds_a_lines_exact_text_first_semantically_too(
    world: LibraryWorld, film: Film, embeddings: EmbeddingSettings
) -> None:
    video = await world.add(film.video)
    indexer = MediaIndexer(world.store, world.library, embeddings=embeddings)
    await indexer.index(video.id)
    embedder = await embeddings.embedder()
    assert embedder is not None
    for cue in FILM_EMBEDDED:
        query = await embedder.embed([cue.text])
        [(best, cosine), *_] = await nearest(
            world.store, embedder.name, query, collection_id=None, asset_id=video.id, limit=3
        )
        [line] = await world.store.index.hits([(best, cosine)])
        assert (line.text, line.start, line.end) == (cue.text, cue.start, cue.end)
        assert cosine == pytest.approx(1.0, abs=1e-4)
        hits = await indexer.search(cue.text, asset_id=video.id)
        assert hits[0].text == cue.text, "first in the fused ranking too"
    # words no line has: BM25 finds nothing, the semantic half still answers the nearest lines
    assert await world.store.index.search("zqxj vbnm", asset_id=video.id) == []
    assert await indexer.search("zqxj vbnm", asset_id=video.id)


async def test_the_search_agent_says_when_it_searches_by_meaning_too(
    world: LibraryWorld, film: Film, embeddings: EmbeddingSettings
) -> None:
    video = await world.add(film.video)
    indexer = MediaIndexer(world.store, world.library, embeddings=embeddings)
    await indexer.index(video.id)
    ctx = context(world, video_id=video.id)
    result = await SearchAgent(world.library, indexer).run(ctx, query="A green field of wheat")
    assert result.status == "success"
    assert result.data["semantic"] is True
    [found] = result.data["results"]
    assert found["shots"][0]["text"] == "A green field of wheat"
    keyword_only = MediaIndexer(world.store, world.library)
    result = await SearchAgent(world.library, keyword_only).run(ctx, query="green")
    assert result.data["semantic"] is False


async def test_the_scan_reads_in_batches_and_keeps_the_best(
    world: LibraryWorld, film: Film
) -> None:
    """More vectors than one batch: the best across batches win, in order; vectors of another
    model are never compared."""
    video = await world.add(film.video)
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((500, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    lines = [IndexLine("transcript", float(n), n + 0.5, f"line {n}") for n in range(500)]
    content = IndexContent(lines=lines, vectors=to_blobs(vectors), vector_model="m")
    await world.store.index.replace(video.id, content)
    query = vectors[[321]]
    found = await nearest(
        world.store, "m", query, collection_id="default", asset_id=None, limit=5, batch=64
    )
    expected = np.argsort(-(vectors @ query[0]))[:5]
    hits = await world.store.index.hits(found)
    assert [hit.text for hit in hits] == [f"line {n}" for n in expected]
    assert hits[0].text == "line 321"
    assert (
        await nearest(world.store, "other", query, collection_id=None, asset_id=None, limit=5) == []
    )


def hit(line_id: int) -> LineHit:
    return LineHit(line_id, "a", "c", "transcript", "", 0.0, 1.0, f"line {line_id}", 0.0)


def test_reciprocal_rank_fusion_favours_lines_both_rankings_found() -> None:
    keyword = [hit(1), hit(2), hit(3)]
    semantic = [hit(4), hit(3), hit(5)]
    fused = fuse([keyword, semantic], 4)
    assert [h.line_id for h in fused] == [3, 1, 4, 2]
    assert fused[0].score == pytest.approx(1 / 63 + 1 / 62, abs=1e-6)
    assert fuse([keyword, []], 10) == fuse([keyword], 10)
