"""The video agents on the real library: frames, cuts, joins and audio tracks made by the app's own
FFmpeg from media with ground truth by construction (solid colour segments cut at known times,
tones of known pitch), measured by decoding what came out. Real store, real jobs, real files."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from director_desktop.engine.agents import AgentResult, default_registry
from director_desktop.engine.agents.editing import EditingAgent
from director_desktop.engine.agents.frame import FrameAgent
from director_desktop.media.editing import Source, cut, span
from director_desktop.media.probe import Probe
from director_desktop.store import AssetRecord
from tests.fixtures.media import (
    LibraryWorld,
    audio_pcm,
    ffmpeg_pids,
    frame_colours,
    make_clip,
    make_segments,
    make_tone,
    near,
    picture_size,
    rgb_at,
    tone_peaks,
    video_frames,
)
from tests.unit.agent_support import context

pytestmark = pytest.mark.anyio

FPS = 25
FRAME = 1 / FPS


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """red 0-2 s, green 2-4 s, blue 4-6 s (a keyframe every second, 440 Hz); a 2 s test pattern;
    a 1000 Hz tone."""
    folder = tmp_path_factory.mktemp("agents-media")
    return {
        "segments": make_segments(folder / "segments.mp4"),
        "pattern": make_clip(folder / "pattern.mp4", seconds=2.0),
        "tone": make_tone(folder / "tone-1000.wav", frequency=1000, seconds=3.0),
    }


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[LibraryWorld]:
    opened = await LibraryWorld.open(tmp_path / "data")
    yield opened
    await opened.close()


def names_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def file_of(world: LibraryWorld, asset: AssetRecord) -> Path:
    return world.library.file_of(asset)


# --- frame ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("at", "colour"),
    [(1.0, "red"), (3.0, "green"), ("0:05", "blue"), (2 - FRAME, "red"), (2.0, "green")],
    ids=["red", "green", "blue-m:ss", "last-red-frame", "first-green-frame"],
)
async def test_a_frame_has_the_size_and_colour_of_its_time(
    world: LibraryWorld, media: dict[str, Path], at: Any, colour: str
) -> None:
    video = await world.add(media["segments"])
    ctx = context(world, video_id=video.id)
    result = await FrameAgent(world.library).run(ctx, at=at)
    assert result.status == "success", result.message
    item = ctx.output.content[0]
    assert (item["type"], item["status"], item["agent_name"]) == ("image", "success", "frame")
    image = await world.library.asset(item["image"]["id"], collection_id="default")
    assert image.kind == "image"
    assert item["image"]["url"] == f"/media/{image.id}"
    assert result.data["image_id"] == image.id
    path = file_of(world, image)
    assert picture_size(path) == (320, 240)
    assert near(rgb_at(path), colour), rgb_at(path)
    assert world.staged() == []


async def test_frame_refusals_say_why(world: LibraryWorld, media: dict[str, Path]) -> None:
    video = await world.add(media["segments"])
    agent = FrameAgent(world.library)
    outside = await agent.run(context(world, video_id=video.id), at=99)
    assert outside.status == "error"
    assert outside.data["error"]["code"] == "invalid_payload"
    assert "0:06" in outside.message
    ctx = context(world, video_id=video.id)
    phrase = await agent.run(ctx, phrase="the blue part")
    assert phrase.data["error"]["code"] == "not_available"  # no media index in this store
    assert ctx.output.content[0]["status"] == "error"
    assert "index" in str(ctx.output.content[0]["status_message"])
    nothing = await agent.run(context(world, video_id=video.id))
    assert nothing.data["error"]["code"] == "invalid_payload"
    no_video = await agent.run(context(world), at=1)
    assert "which video" in no_video.message


# --- cuts and joins ------------------------------------------------------------------------------
async def source(world: LibraryWorld, asset: AssetRecord) -> Source:
    return Source(file_of(world, asset), Probe.from_json(asset.probe))


@pytest.mark.parametrize(
    ("spans", "mode", "frames", "colours"),
    [
        # both starts on keyframes: copied packet for packet
        ([(1.0, 2.0), (4.0, 5.0)], "copy", 50, ["red", "red", "blue", "blue"]),
        # starts between keyframes: re-encoded
        ([(0.5, 1.5), (3.2, 4.4)], "encode", 55, ["red", "red", "green", "blue"]),
    ],
    ids=["keyframe-aligned-copy", "re-encoded"],
)
async def test_a_clip_of_two_segments_lasts_what_they_do(
    world: LibraryWorld,
    media: dict[str, Path],
    tmp_path: Path,
    spans: list[tuple[float, float]],
    mode: str,
    frames: int,
    colours: list[str],
) -> None:
    video = await world.add(media["segments"])
    whole = await source(world, video)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    made = await cut(world.library.ffmpeg, [span(whole, a, b) for a, b in spans], scratch, "clip")
    assert made.mode == mode
    assert abs(video_frames(made.path) - frames) <= 1
    first_end = round((spans[0][1] - spans[0][0]) * FPS)
    seen = frame_colours(made.path, [0, first_end - 1, first_end, frames - 1])
    assert [near(c, name) for c, name in zip(seen, colours, strict=True)] == [True] * 4, seen
    sound = len(audio_pcm(made.path)) / 2 / 16000
    assert abs(sound - frames * FRAME) <= 2 * FRAME, "the sound as long as the picture"
    assert names_in(scratch) == [made.path.name], "no scraps left"


async def test_editing_trims_into_a_new_asset(world: LibraryWorld, media: dict[str, Path]) -> None:
    video = await world.add(media["segments"])
    ctx = context(world, video_id=video.id)
    result = await EditingAgent(world.library).run(ctx, operation="trim", start="0:02", end=4)
    assert result.status == "success", result.message
    item = ctx.output.content[0]
    assert (item["type"], item["status"]) == ("video", "success")
    made = await world.library.asset(item["video"]["id"], collection_id="default")
    assert made.kind == "video"
    assert item["video"]["stream_url"] == f"/media/{made.id}"
    assert item["video"]["thumbnail_url"] == f"/media/{made.id}/thumbnail"
    assert abs(made.length - 2.0) <= FRAME
    assert video_frames(file_of(world, made)) == 50
    assert near(rgb_at(file_of(world, made), 1.0), "green")
    jobs = [j for j in await world.jobs.recent() if j["kind"] == "edit"]
    assert jobs[0]["status"] == "done"
    assert jobs[0]["result"] == {"asset_id": made.id, "mode": "copy"}
    assert {"event_type": "update_data", "update": "videos", "collection_id": "default"} in (
        world.announced
    )
    assert world.staged() == []


async def test_editing_joins_two_assets(world: LibraryWorld, media: dict[str, Path]) -> None:
    first = await world.add(media["segments"])
    second = await world.add(media["pattern"])
    ctx = context(world)
    result = await EditingAgent(world.library).run(
        ctx, operation="join", video_ids=[first.id, second.id]
    )
    assert result.status == "success", result.message
    made = await world.library.asset(result.data["video_id"])
    path = file_of(world, made)
    assert abs(made.length - 8.0) <= 2 * FRAME
    assert abs(video_frames(path) - 200) <= 1
    assert near(rgb_at(path, 0.5), "red")
    assert near(rgb_at(path, 5.5), "blue")
    assert not near(rgb_at(path, 7.0), "blue")  # the test pattern follows


@pytest.mark.parametrize("operation", ["replace_audio", "mix_audio"])
async def test_editing_replaces_or_mixes_the_sound(
    world: LibraryWorld, media: dict[str, Path], operation: str
) -> None:
    video = await world.add(media["segments"])
    tone = await world.add(media["tone"])
    ctx = context(world, video_id=video.id)
    result = await EditingAgent(world.library).run(ctx, operation=operation, audio_id=tone.id)
    assert result.status == "success", result.message
    made = await world.library.asset(result.data["video_id"])
    path = file_of(world, made)
    assert abs(made.length - 6.0) <= 2 * FRAME, "as long as the video, not the 3 s tone"
    peaks = tone_peaks(path)
    if operation == "replace_audio":
        assert abs(peaks[0] - 1000) <= 10, peaks
        assert abs(tone_peaks(file_of(world, video))[0] - 440) <= 10
    else:
        assert sorted(round(p, -1) for p in peaks) == [440, 1000], peaks
    assert video_frames(path) == 150, "the picture is copied whole"


async def test_editing_says_what_it_needs(world: LibraryWorld, media: dict[str, Path]) -> None:
    video = await world.add(media["segments"])
    agent = EditingAgent(world.library)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"operation": "spin"}, "operation must be one of"),
        ({"operation": "trim"}, "trim needs a start"),
        ({"operation": "trim", "start": 5, "end": 3}, "end must come after"),
        ({"operation": "join", "video_ids": [video.id]}, "join needs video_ids"),
        ({"operation": "replace_audio"}, "which audio or video"),
    ]
    for arguments, expected in cases:
        result = await agent.run(context(world, video_id=video.id), **arguments)
        assert result.status == "error"
        assert expected in result.message, (arguments, result.message)
    assert len((await world.library.assets("default", None)).assets) == 1


# --- stop ----------------------------------------------------------------------------------------
async def test_stop_mid_edit_leaves_no_partial_asset(world: LibraryWorld, tmp_path: Path) -> None:
    long = make_clip(tmp_path / "long.mp4", seconds=30, size="640x360", codecs=FAST)
    video = await world.add(long)
    before = world.asset_folders()
    ctx = context(world, video_id=video.id)
    # starts between keyframes: a re-encode of 29 s, long enough to stop midway
    task = asyncio.create_task(
        EditingAgent(world.library).run(ctx, operation="trim", start=0.52, end=29.5)
    )
    staging = world.data / "staging"
    async with asyncio.timeout(30):
        # FFmpeg's process has no event to wait on: look for it.
        while not (staging.exists() and ffmpeg_pids(str(staging))):  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    await asyncio.sleep(0.1)  # FFmpeg is at work
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert ffmpeg_pids(str(staging)) == [], "FFmpeg was killed"
    assert world.staged() == [], "nothing left in staging"
    assert world.asset_folders() == before
    assert [a.id for a in (await world.library.assets("default", None)).assets] == [video.id]
    edit = next(j for j in await world.jobs.recent() if j["kind"] == "edit")
    assert edit["status"] == "cancelled"


FAST = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"]


# --- no paths, no other collections --------------------------------------------------------------
async def test_paths_and_other_collections_ids_are_refused(
    world: LibraryWorld, media: dict[str, Path]
) -> None:
    mine = await world.add(media["segments"])
    other_collection = await world.library.create_collection("Other", "")
    theirs = await world.add(media["pattern"], collection_id=other_collection.id)
    real_file = str(file_of(world, theirs))
    paths = [
        real_file,
        "/etc/passwd",
        "../" + theirs.id,
        "..",
        f"{theirs.id}/../{mine.id}",
        "C:\\Windows\\win.ini",
        "file:///etc/passwd",
        "~/video.mp4",
        str(media["segments"]),
    ]
    agents = {agent.name: agent for agent in default_registry(world.library)}
    tries: list[tuple[str, dict[str, Any], str]] = []
    for value in [*paths, theirs.id]:
        code = "not_found" if value == theirs.id else "invalid_payload"
        tries += [
            ("frame", {"video_id": value, "at": 1}, code),
            ("stream_video", {"video_id": value}, code),
            ("download", {"asset_id": value}, code),
            ("editing", {"operation": "trim", "video_id": value, "start": 0, "end": 1}, code),
            ("editing", {"operation": "join", "video_ids": [mine.id, value]}, code),
            (
                "editing",
                {"operation": "replace_audio", "video_id": mine.id, "audio_id": value},
                code,
            ),
        ]
    before = world.asset_folders()
    for name, arguments, expected in tries:
        result: AgentResult = await agents[name].run(context(world), **arguments)
        assert result.status == "error", (name, arguments)
        assert result.data["error"]["code"] == expected, (name, arguments, result.message)
        assert real_file not in result.message
    assert world.asset_folders() == before
    # the same id works in its own collection: what refused it was the collection
    allowed = await agents["stream_video"].run(
        context(world, collection_id=other_collection.id), video_id=theirs.id
    )
    assert allowed.status == "success"
