"""The `index` and `search` agents on the real library and media index: what they show in the chat
(a text item with the index's outcome; a `search_results` item grouped per video with plain
`/media/<id>` paths), the collection they work in, the ids they refuse (paths, `..`, another
collection's), `stop` mid-index, and their free-text arguments for `@index` / `@search`.
Media made by the app's own FFmpeg (`make_film`: cuts and subtitle lines at known times)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from director_desktop.engine.agents.base import arguments_from_text, examples_of
from director_desktop.engine.agents.index_agent import IndexAgent, index_agents
from director_desktop.engine.agents.search_agent import SearchAgent
from director_desktop.media.indexer import NO_TRANSCRIBER, MediaIndexer
from director_desktop.media.transcript import Segment
from tests.fixtures.media import (
    FILM_EMBEDDED,
    Film,
    LibraryWorld,
    MediaFiles,
    film_fixture,  # noqa: F401 (the fixture)
    media_files_fixture,  # noqa: F401 (the fixture)
)
from tests.unit.agent_support import context

pytestmark = pytest.mark.anyio

DEADLINE = 30.0
RESULT_KEYS = {"video_id", "video_title", "stream_url", "duration", "shots"}
SHOT_KEYS = {"search_score", "start", "end", "text"}


class GatedSpeech:
    """A transcriber (the `media.transcript` seam) that waits until let go: a job mid-way."""

    name = "gated speech"

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.gate = asyncio.Event()

    async def transcribe(
        self,
        audio: Path,
        *,
        language: str | None = None,
        on_progress: Callable[[float], None] | None = None,
    ) -> list[Segment]:
        self.started.set()
        await self.gate.wait()
        return [Segment(0.5, 1.0, "spoken words")]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[LibraryWorld]:
    opened = await LibraryWorld.open(tmp_path / "data")
    yield opened
    await opened.close()


def agents(world: LibraryWorld, transcriber: Any = None) -> tuple[IndexAgent, SearchAgent]:
    indexer = MediaIndexer(world.store, world.library, transcriber=transcriber)
    index, search = index_agents(world.library, indexer)
    assert isinstance(index, IndexAgent)
    assert isinstance(search, SearchAgent)
    return index, search


async def test_index_indexes_the_video_in_focus_and_says_what_it_found(
    world: LibraryWorld, film: Film
) -> None:
    video = await world.add(film.video)
    index, _ = agents(world)
    ctx = context(world, video_id=video.id)
    result = await index.run(ctx)
    assert result.status == "success", result.message
    [item] = ctx.output.content
    assert (item["type"], item["status"], item["agent_name"]) == ("text", "success", "index")
    assert item["status_message"] is None
    text = item["text"]
    assert f"Indexed **{video.name}**: 3 scenes, 3 subtitle lines." in text
    assert NO_TRANSCRIBER in text  # and how to get speech indexed
    [indexed] = result.data["indexed"]
    assert (indexed["video_id"], indexed["scenes"]) == (video.id, 3)
    state = await world.store.index.state(video.id)
    assert state.status == "indexed"


async def test_index_with_no_video_indexes_the_collection_once(
    world: LibraryWorld, film: Film, media_files: MediaFiles
) -> None:
    first = await world.add(film.video)
    second = await world.add(media_files.clip_mp4)
    tone = await world.add(media_files.tone_wav)
    image = await world.add(media_files.still_png)
    index, _ = agents(world)
    done = await index.run(context(world), **IndexAgent.from_text("all"))
    assert done.status == "success", done.message
    assert {i["video_id"] for i in done.data["indexed"]} == {first.id, second.id, tone.id}
    for asset in (first, second, tone):
        assert (await world.store.index.state(asset.id)).status == "indexed", asset.name
    assert (await world.store.index.state(image.id)).status == "not_indexed"
    ctx = context(world)  # no video in focus: the collection again
    again = await index.run(ctx)
    assert again.status == "success"
    assert again.data["indexed"] == []
    assert "indexed already" in ctx.output.content[0]["text"]


async def test_one_video_that_fails_does_not_stop_the_collection(
    world: LibraryWorld, film: Film, media_files: MediaFiles, tmp_path: Path
) -> None:
    good = await world.add(film.video)
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    broken = Path(shutil.copy(media_files.clip_mp4, folder / "broken.mp4"))
    job = await world.library.import_path(broken, collection_id="default", reference=True)
    async with asyncio.timeout(DEADLINE):
        while True:
            if (await world.jobs.get(job["id"]))["status"] == "done":
                break
            await asyncio.sleep(0.02)
    await asyncio.to_thread(broken.write_bytes, b"not a video any more" * 1000)
    index, _ = agents(world)
    ctx = context(world)
    result = await index.run(ctx, collection=True)
    assert result.status == "success", result.message
    assert [i["video_id"] for i in result.data["indexed"]] == [good.id]
    assert "broken.mp4 could not be indexed" in ctx.output.content[0]["text"]
    assert world.staged() == []


async def test_search_answers_moments_grouped_per_video(
    world: LibraryWorld, film: Film, media_files: MediaFiles
) -> None:
    video = await world.add(film.video)
    clip = await world.add(media_files.clip_mp4)  # its subtitles: "Hello", "World"
    index, search = agents(world)
    assert (await index.run(context(world))).status == "success"

    ctx = context(world)  # no video in focus: the collection
    result = await search.run(ctx, query="world")
    assert result.status == "success", result.message
    [item] = ctx.output.content
    assert (item["type"], item["status"], item["agent_name"]) == (
        "search_results",
        "success",
        "search",
    )
    results = item["search_results"]
    assert {r["video_id"] for r in results} == {video.id, clip.id}
    for found in results:
        assert set(found) == RESULT_KEYS
        assert found["stream_url"] == f"/media/{found['video_id']}"  # signed at delivery
        for shot in found["shots"]:
            assert set(shot) == SHOT_KEYS
            assert shot["search_score"] > 0
    by_video = {r["video_id"]: r for r in results}
    blue = FILM_EMBEDDED[2]
    assert [(s["start"], s["end"], s["text"]) for s in by_video[video.id]["shots"]] == [
        (blue.start, blue.end, blue.text)
    ]
    assert by_video[video.id]["video_title"] == video.name
    assert by_video[video.id]["duration"] == video.length
    assert [(s["start"], s["end"]) for s in by_video[clip.id]["shots"]] == [(1.5, 3.0)]
    assert "2 moments in 2 videos" in result.message

    # With a video in focus: that video only, unless the collection is asked for.
    focused = context(world, video_id=clip.id)
    await search.run(focused, query="world")
    assert [r["video_id"] for r in focused.output.content[0]["search_results"]] == [clip.id]
    wide = context(world, video_id=clip.id)
    await search.run(wide, query="world", scope="collection")
    assert len(wide.output.content[0]["search_results"]) == 2


async def test_search_says_when_the_video_is_not_indexed(world: LibraryWorld, film: Film) -> None:
    video = await world.add(film.video)
    _, search = agents(world)
    ctx = context(world, video_id=video.id)
    result = await search.run(ctx, query="green field")
    assert result.status == "success"
    [item] = ctx.output.content
    assert item["search_results"] == []
    assert "not indexed yet" in str(item["status_message"])
    assert "@index" in result.message
    everywhere = context(world)
    await search.run(everywhere, query="green field")
    assert "No video of this collection is indexed yet" in str(
        everywhere.output.content[0]["status_message"]
    )


async def test_no_parameter_reaches_a_path_or_another_collection(
    world: LibraryWorld, film: Film
) -> None:
    elsewhere = await world.library.create_collection("Elsewhere", "")
    theirs = await world.add(film.video, elsewhere.id)
    index, search = agents(world)
    refusals = {
        "/etc/passwd": "invalid_payload",
        "../" + theirs.id: "invalid_payload",
        "C:\\Users\\me\\film.mp4": "invalid_payload",
        str(film.video): "invalid_payload",
        theirs.id: "not_found",  # an id of another collection than the turn's
        "0190a1b2-0000-7000-8000-000000000000": "not_found",
    }
    for value, code in refusals.items():
        for run in (index.run(context(world), video_id=value),
                    search.run(context(world), query="green", video_id=value)):  # fmt: skip
            result = await run
            assert result.status == "error", value
            assert result.data["error"]["code"] == code, (value, result.message)
    assert (await world.store.index.state(theirs.id)).status == "not_indexed"
    empty = await search.run(context(world), query="   ")
    assert empty.data["error"]["code"] == "invalid_payload"
    too_many = await search.run(context(world), query="green", limit=500)
    assert too_many.data["error"]["code"] == "invalid_payload"
    missing = await search.run(context(world, collection_id="no-such-collection"), query="x")
    assert missing.data["error"]["code"] == "not_found"


async def test_stop_mid_index_cancels_the_job_and_keeps_nothing(
    world: LibraryWorld, film: Film
) -> None:
    video = await world.add(film.video)
    speech = GatedSpeech()
    index, _ = agents(world, speech)
    ctx = context(world, video_id=video.id)
    running = asyncio.create_task(index.run(ctx))
    async with asyncio.timeout(DEADLINE):
        await speech.started.wait()
    assert ctx.output.content[0]["status"] == "progress"
    assert "Transcribing with gated speech" in str(ctx.output.content[0]["status_message"])
    running.cancel()  # the turn's `stop`
    with pytest.raises(asyncio.CancelledError):
        await running
    [job] = [j for j in await world.jobs.recent() if j["kind"] == "index"]
    assert job["status"] == "cancelled"  # ended before the agent's cancellation went on
    assert (await world.store.index.state(video.id)).status == "not_indexed"
    assert await world.store.index.lines(video.id) == []
    assert world.staged() == []


def test_free_text_and_examples() -> None:
    some_id = "0190a1b2-3c4d-7e5f-8a6b-7c8d9e0f1a2b"
    assert IndexAgent.from_text("") == {}
    assert IndexAgent.from_text("all") == {"collection": True}
    assert IndexAgent.from_text(f"please {some_id}") == {"video_id": some_id}
    assert SearchAgent.from_text("red car") == {"query": "red car"}
    assert SearchAgent.from_text(f"red car in {some_id}") == {
        "query": "red car in",
        "video_id": some_id,
    }
    assert SearchAgent.from_text("the 1:30 train") == {"query": "the 1:30 train"}
    for agent_type in (IndexAgent, SearchAgent):
        agent: Any = agent_type.__new__(agent_type)
        assert examples_of(agent)[0].startswith(f"@{agent.name}")
        assert agent.parameters["type"] == "object"
    search: Any = SearchAgent.__new__(SearchAgent)
    assert arguments_from_text(search, "  lighthouse   keeper ") == {"query": "lighthouse keeper"}
