"""`stop` in the middle of `censor`, `subtitle` (burned in) and `prompt_clip`: the agent's task is
cancelled while its FFmpeg is at work, as the turn's Stop does; the FFmpeg is killed, the job ends
`cancelled`, and nothing is kept: no new asset, no file in the media folder, nothing in staging.
The videos are long enough that their FFmpeg is still working when the stop comes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from director_desktop.engine.agents.base import AgentResult
from director_desktop.engine.agents.censor import CensorAgent
from director_desktop.engine.agents.prompt_clip import PromptClipAgent
from director_desktop.engine.agents.subtitle import SubtitleAgent
from director_desktop.media.indexer import MediaIndexer
from director_desktop.store import IndexContent, IndexLine, TimedWord
from tests.fixtures.media import LibraryWorld, ffmpeg_pids, make_clip
from tests.unit.agent_support import context

pytestmark = pytest.mark.anyio

FAST = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[LibraryWorld]:
    opened = await LibraryWorld.open(tmp_path / "data")
    yield opened
    await opened.close()


@pytest.fixture(scope="module")
def long_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30 s of 640x360: burning subtitles in or re-encoding a clip of it takes seconds."""
    folder = tmp_path_factory.mktemp("stop")
    return make_clip(folder / "long.mp4", seconds=30, size="640x360", codecs=FAST)


@pytest.fixture(scope="module")
def long_audio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ten minutes of sound under a tiny picture: censoring re-encodes all of its sound."""
    folder = tmp_path_factory.mktemp("stop-audio")
    return make_clip(folder / "talk.mp4", seconds=600, size="64x64", rate=1, codecs=FAST)


async def said_over(world: LibraryWorld, video: Any, seconds: float) -> MediaIndexer:
    """The video's index: lines over its whole length, with their words' times (as a speech
    transcriber writes them); "budget" is said once, from 0.52 s to `seconds` - 0.5."""
    words = (TimedWord(0.52, 1.0, "the"), TimedWord(1.0, seconds - 0.5, "budget"))
    lines = [
        IndexLine("transcript", 0.52, seconds - 0.5, "the budget", words),
        IndexLine("transcript", seconds - 0.4, seconds - 0.1, "thanks"),
    ]
    await world.store.index.replace(video.id, IndexContent(lines=lines))
    return MediaIndexer(world.store, world.library)


async def stopped_mid_work(
    world: LibraryWorld, run: Callable[[], Coroutine[Any, Any, AgentResult]], kind: str, video: Any
) -> None:
    before = world.asset_folders()
    task = asyncio.create_task(run())
    staging = world.data / "staging"
    async with asyncio.timeout(60):
        # FFmpeg's process has no event to wait on: look for it.
        while not (staging.exists() and ffmpeg_pids(str(staging))):  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    await asyncio.sleep(0.1)  # FFmpeg is at work
    assert not task.done(), "the work ended before the stop: make the media longer"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert ffmpeg_pids(str(staging)) == [], "FFmpeg was killed"
    assert world.staged() == [], "nothing left in staging"
    assert world.asset_folders() == before, "no new file in the media folder"
    assert [a.id for a in (await world.library.assets("default", None)).assets] == [video.id]
    job = next(j for j in await world.jobs.recent() if j["kind"] == kind)
    assert job["status"] == "cancelled"


async def test_stop_mid_censor_leaves_nothing(world: LibraryWorld, long_audio: Path) -> None:
    video = await world.add(long_audio)
    indexer = await said_over(world, video, 600.0)
    ctx = context(world, video_id=video.id)
    agent = CensorAgent(world.library, indexer)
    await stopped_mid_work(world, lambda: agent.run(ctx, words=["budget"]), "censor", video)


async def test_stop_mid_burned_subtitles_leaves_nothing(
    world: LibraryWorld, long_video: Path
) -> None:
    video = await world.add(long_video)
    indexer = await said_over(world, video, 30.0)
    ctx = context(world, video_id=video.id)
    agent = SubtitleAgent(world.library, indexer)
    await stopped_mid_work(world, lambda: agent.run(ctx, mode="burn"), "subtitle", video)


async def test_stop_mid_prompt_clip_leaves_nothing(world: LibraryWorld, long_video: Path) -> None:
    video = await world.add(long_video)
    indexer = await said_over(world, video, 30.0)
    ctx = context(world, video_id=video.id)
    agent = PromptClipAgent(world.library, indexer)
    # the line starts between keyframes: a re-encode of 29 s, long enough to stop midway
    await stopped_mid_work(world, lambda: agent.run(ctx, prompt="budget"), "clip", video)
