"""The video agents through whole turns with no model: the built-in assistant over a real
TurnRunner, store and library runs every agent by `@name`, reads its arguments from the text,
works on the turn's video (or the session's last one), and a `stop` mid-edit leaves nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from director_desktop.engine.agents import default_registry
from director_desktop.engine.agents.base import examples_of
from director_desktop.engine.assistant import BuiltinAssistant
from director_desktop.engine.turns import TurnRunner
from director_desktop.protocol import JSONDict, Message, parse_chat_input
from tests.fixtures.media import (
    LibraryWorld,
    ffmpeg_pids,
    make_clip,
    make_segments,
    near,
    rgb_at,
)

pytestmark = pytest.mark.anyio

FAST = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"]


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("turns-media")
    return {
        "segments": make_segments(folder / "segments.mp4"),
        "pattern": make_clip(folder / "pattern.mp4", seconds=2.0),
        "long": make_clip(folder / "long.mp4", seconds=30, size="640x360", codecs=FAST),
    }


class Published:
    def __init__(self) -> None:
        self.messages: list[JSONDict] = []

    async def message(self, message: JSONDict) -> None:
        self.messages.append(message)

    async def sessions_changed(self) -> None:
        return None


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[LibraryWorld]:
    opened = await LibraryWorld.open(tmp_path / "data")
    yield opened
    await opened.close()


@pytest.fixture
async def runner(world: LibraryWorld) -> AsyncIterator[TurnRunner]:
    registry = default_registry(world.library)
    assistant = BuiltinAssistant(world.store, registry, pace=0.0)
    handler = TurnRunner(world.store, assistant, Published(), stream_interval=0.0)
    yield handler
    await handler.close()


async def turn(world: LibraryWorld, runner: TurnRunner, text: str, **ids: Any) -> Message:
    """Submit `text` as a chat input (with `ids`: session_id, video_id...) and answer the reply as
    stored once the run has ended."""
    ack = await runner.submit(
        parse_chat_input({"content": [{"type": "text", "text": text}], **ids})
    )
    async with asyncio.timeout(60):
        await runner.wait_idle()
    stored = await world.store.get_message(ack["session_id"], ack["output_msg_id"])
    assert stored is not None
    return stored


def items_of(message: Message, agent: str) -> list[Any]:
    return [i for i in message["content"] if i.get("agent_name") == agent]


async def test_every_agent_runs_by_name_with_no_model(
    world: LibraryWorld, runner: TurnRunner, media: dict[str, Path]
) -> None:
    video = await world.add(media["segments"])
    texts = {
        "search_chats": ("@search_chats penguins", "text"),
        "stream_video": ("@stream_video", "video"),
        "download": ("@download please", "download"),
        "frame": ("@frame 0:03", "image"),
        "editing": ("@editing trim 0:02 0:04", "video"),
    }
    registry = default_registry(world.library)
    assert set(texts) <= set(registry.names)
    for agent in registry:
        # agents added later (index, search, transcription) are called by their first example
        example = (examples_of(agent) or [f"@{agent.name}"])[0]
        text, kind = texts.get(agent.name, (example, None))
        reply = await turn(world, runner, text, session_id="s1", video_id=video.id)
        assert f"Running @{agent.name} agent" in reply["actions"], agent.name
        assert reply["agents"] == [agent.name]
        shown = items_of(reply, agent.name)
        assert shown, f"@{agent.name} showed nothing"
        if kind is not None:
            assert (shown[0]["type"], shown[0]["status"]) == (kind, "success"), shown
            assert f"@{agent.name} finished" in reply["content"][-1]["text"]
    frame = items_of(await turn(world, runner, "@frame 0:05", session_id="s1"), "frame")[0]
    image = await world.library.asset(frame["image"]["id"])
    assert near(rgb_at(world.library.file_of(image)), "blue"), "the session's video, remembered"
    download = items_of(await turn(world, runner, "@download", session_id="s1"), "download")[0]
    assert download["download"] == {
        "id": video.id,
        "collection_id": "default",
        "kind": "video",
        "name": "segments.mp4",
        "filename": "segments.mp4",
        "url": f"/media/{video.id}",
        "mime": "video/mp4",
        "size": video.size,
    }
    trimmed = items_of(
        await turn(world, runner, "@editing trim 0:02 0:04", session_id="s1"), "editing"
    )
    assert abs(trimmed[0]["video"]["length"] - 2.0) <= 0.04


async def test_the_session_follows_the_last_video_named(
    world: LibraryWorld, runner: TurnRunner, media: dict[str, Path]
) -> None:
    first = await world.add(media["segments"])
    second = await world.add(media["pattern"])
    await turn(world, runner, "@stream_video", session_id="s2", video_id=first.id)
    await turn(world, runner, "@stream_video", session_id="s2", video_id=second.id)
    reply = await turn(world, runner, "@stream_video", session_id="s2")
    assert items_of(reply, "stream_video")[0]["video"]["id"] == second.id
    named = await turn(world, runner, f"@stream_video {first.id}", session_id="s2")
    assert items_of(named, "stream_video")[0]["video"]["id"] == first.id
    none = await turn(world, runner, "@frame 0:01", session_id="s3")
    assert items_of(none, "frame")[0]["status"] == "error"
    assert "could not finish: which video?" in none["content"][-1]["text"]


async def test_stop_mid_edit_leaves_nothing(
    world: LibraryWorld, runner: TurnRunner, media: dict[str, Path]
) -> None:
    video = await world.add(media["long"])
    folders = world.asset_folders()
    chat = parse_chat_input(
        {
            "content": [{"type": "text", "text": "@editing trim 0:00.52 0:29.5"}],
            "session_id": "s4",
            "conv_id": "c1",
            "video_id": video.id,
        }
    )
    ack = await runner.submit(chat)
    staging = world.data / "staging"
    async with asyncio.timeout(30):
        # FFmpeg's process has no event to wait on: look for it.
        while not (staging.exists() and ffmpeg_pids(str(staging))):  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    await asyncio.sleep(0.1)
    assert await runner.stop("s4", "c1") is True
    stored = await world.store.get_message("s4", ack["output_msg_id"])
    assert stored is not None
    assert stored["status"] == "not_generated"
    assert items_of(stored, "editing")[0]["status"] == "not_generated"
    assert ffmpeg_pids(str(staging)) == []
    assert world.staged() == []
    assert world.asset_folders() == folders
    assert [a.id for a in (await world.library.assets("default", None)).assets] == [video.id]
    edit = next(j for j in await world.jobs.recent() if j["kind"] == "edit")
    assert edit["status"] == "cancelled"
