"""The video agents that work with the user's chat model (`engine/agents/model.py`), on real
llama.cpp (xllamacpp in-process) running tiny random-weight GGUF models: `summarize_video` over a
long transcript in chunks within the context budget, `prompt_clip` with the model choosing the
lines through a tool call, `subtitle` translated by the model. Random weights: the tests assert
the flow (how many calls, each prompt within the context, the result's shape and the media made),
never the words."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from director_desktop.engine.agents.model import AgentModel, pieces
from director_desktop.engine.agents.prompt_clip import PromptClipAgent
from director_desktop.engine.agents.subtitle import SubtitleAgent
from director_desktop.engine.agents.summarize import SummarizeVideoAgent
from director_desktop.engine.llm.base import estimate_tokens
from director_desktop.engine.llm.llamacpp import LlamaCppProvider
from director_desktop.media.indexer import MediaIndexer
from director_desktop.store import IndexContent, IndexLine
from tests.fixtures.media import LibraryWorld, make_clip
from tests.fixtures.tiny_gguf import write_chat_model, write_tool_caller
from tests.unit.agent_support import context
from tests.unit.test_agents_c2 import subtitle_text

pytestmark = pytest.mark.anyio

CONTEXT = 1024
LINES = 60  # a long talk: ~5,000 characters, several times one prompt of this context


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("models")
    return {
        "chat": Path(write_chat_model(str(folder / "tiny-chat.gguf"))),
        "tool": Path(write_tool_caller(str(folder / "tiny-tool.gguf"))),
    }


@pytest.fixture(scope="module")
def talk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 24 s video: the long transcript's lines are 0.2 s apart."""
    return make_clip(tmp_path_factory.mktemp("talk") / "talk.mp4", seconds=24)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[LibraryWorld]:
    opened = await LibraryWorld.open(tmp_path / "data")
    yield opened
    await opened.close()


async def provider_of(path: Path) -> LlamaCppProvider:
    provider = LlamaCppProvider(path, context_length=CONTEXT)
    await provider.ready()
    return provider


def said(n: int) -> str:
    return f"Speaker {n % 3} talks about topic number {n} of the meeting, with some detail"


async def spoken(world: LibraryWorld, video: Any, count: int = LINES) -> MediaIndexer:
    """The video's index holds `count` transcript lines (as a speech transcriber writes them)."""
    lines = [IndexLine("transcript", n * 0.2, n * 0.2 + 0.15, said(n)) for n in range(count)]
    await world.store.index.replace(video.id, IndexContent(lines=lines))
    return MediaIndexer(world.store, world.library)


# --- summarize_video -----------------------------------------------------------------------------
async def test_summarize_reads_a_long_transcript_in_chunks_within_the_context(
    world: LibraryWorld, talk: Path, models: dict[str, Path]
) -> None:
    video = await world.add(talk)
    indexer = await spoken(world, video)
    provider = await provider_of(models["chat"])
    try:
        agent = SummarizeVideoAgent(world.library, indexer, AgentModel(lambda: provider))
        ctx = context(world, video_id=video.id)
        result = await agent.run(ctx)
    finally:
        await provider.close()
    assert result.status == "success", result.message
    data = result.data
    assert data["parts"] > 1, "the transcript does not fit one prompt"
    calls = data["calls"]
    assert len(calls) >= data["parts"] + 1, "a call per part, then the parts joined"
    # llama.cpp refuses a prompt past its context: the answer is proof that every prompt of the
    # last packing fitted. This tokenizer spends about a token a character (the estimate says
    # 3.5), so the first packing overflowed and the chunks were packed again smaller.
    assert data["overflows"] >= 1
    final = calls[-(data["parts"] + 1) :]
    for call in final:
        assert call["prompt_tokens"] <= data["budget"], "each prompt within the budget"
        assert call["prompt_tokens"] + call["max_tokens"] <= CONTEXT
    assert data["context"] == CONTEXT
    assert isinstance(data["summary"], str)
    [item] = ctx.output.content
    assert (item["type"], item["status"], item["agent_name"]) == (
        "text",
        "success",
        "summarize_video",
    )
    assert item["text"].startswith(f"**{video.name}**")


async def test_summarize_a_short_transcript_in_one_call(
    world: LibraryWorld, talk: Path, models: dict[str, Path]
) -> None:
    video = await world.add(talk)
    indexer = await spoken(world, video, count=3)
    provider = await provider_of(models["chat"])
    try:
        agent = SummarizeVideoAgent(world.library, indexer, AgentModel(lambda: provider))
        result = await agent.run(context(world, video_id=video.id))
    finally:
        await provider.close()
    assert result.status == "success", result.message
    assert result.data["parts"] == 1
    assert len(result.data["calls"]) == 1


def test_pieces_keep_order_and_fit_the_budget() -> None:
    texts = [said(n) for n in range(50)] + ["y" * 5000]
    chunks = pieces(texts, 200, each=3)
    assert [t for chunk in chunks for t in chunk][:50] == texts[:50]
    for chunk in chunks:
        assert sum(estimate_tokens(t) + 3 for t in chunk) <= 200
    assert chunks[-1][-1].endswith("…"), "a text longer than a prompt is cut to fit"


# --- prompt_clip ---------------------------------------------------------------------------------
async def test_prompt_clip_the_model_chooses_the_lines(
    world: LibraryWorld, talk: Path, models: dict[str, Path]
) -> None:
    video = await world.add(talk)
    indexer = await spoken(world, video, count=16)
    provider = await provider_of(models["tool"])
    try:
        agent = PromptClipAgent(world.library, indexer, AgentModel(lambda: provider))
        ctx = context(world, video_id=video.id)
        result = await agent.run(ctx, prompt="the budget", max_parts=3)
    finally:
        await provider.close()
    assert result.status == "success", result.message
    data = result.data
    assert data["matched_by"] == "model"
    assert "The model chose the parts" in result.message
    assert len(data["calls"]) > 1, "the numbered transcript is offered in chunks"
    for call in data["calls"]:
        print(call)
    chosen = data["lines"]
    assert 1 <= len(chosen) <= 3
    assert all(1 <= n <= 16 for n in chosen)
    # each part covers a chosen line's time
    for n in chosen:
        start = (n - 1) * 0.2
        assert any(a <= start + 0.01 and start + 0.14 <= b for a, b in data["parts"]), n
    made = await world.library.asset(data["video_id"])
    assert made.collection_id == video.collection_id
    assert ctx.output.content[0]["status"] == "success"


# --- subtitle, translated ------------------------------------------------------------------------
async def test_subtitle_translated_by_the_model_keeps_every_line_and_its_times(
    world: LibraryWorld, talk: Path, models: dict[str, Path]
) -> None:
    video = await world.add(talk)
    indexer = await spoken(world, video, count=40)
    provider = await provider_of(models["tool"])
    try:
        agent = SubtitleAgent(world.library, indexer, AgentModel(lambda: provider))
        result = await agent.run(context(world, video_id=video.id), translate_to="French")
    finally:
        await provider.close()
    assert result.status == "success", result.message
    data = result.data
    assert data["translated_to"] == "French"
    assert data["lines"] == 40
    assert len(data["calls"]) > 1, "translated a chunk at a time"
    for call in data["calls"]:
        print(call)
    made = await world.library.asset(data["video_id"])
    srt = subtitle_text(world.library.file_of(made))
    times = [line for line in srt.splitlines() if "-->" in line]
    assert len(times) == 40
    assert times[1].startswith("00:00:00,200 --> 00:00:00,350")


async def test_subtitle_translation_needs_a_model(world: LibraryWorld, talk: Path) -> None:
    video = await world.add(talk)
    indexer = await spoken(world, video, count=3)
    agent = SubtitleAgent(world.library, indexer, AgentModel())
    result = await agent.run(context(world, video_id=video.id), translate_to="French")
    assert result.status == "error"
    assert result.data["error"]["code"] == "not_available"
    assert "needs a model" in result.message
    bad = await agent.run(context(world, video_id=video.id), translate_to="../fr")
    assert bad.data["error"]["code"] == "invalid_payload"
    assert len((await world.library.assets("default", None)).assets) == 1, "nothing made"
