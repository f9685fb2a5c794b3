"""Playable versions with the real FFmpeg: the plan for each kind of file, remux and transcode
outputs that are H.264/AAC MP4s decoding without a single error, progress to the end, and a
cancelled or failed run that leaves nothing at `dest` (and no FFmpeg running)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from director_desktop.errors import FfmpegFailed
from director_desktop.media.ffmpeg import Ffmpeg
from director_desktop.media.playable import make_playable, plan, playable_mime, playable_suffix
from director_desktop.media.probe import Probe, mime_of, probe
from tests.fixtures.media import (
    MPEG4_MP3,
    MediaFiles,
    ffmpeg,
    ffmpeg_pids,
    make_clip,
    media_files_fixture,  # noqa: F401 (the fixture)
)

pytestmark = pytest.mark.anyio

DEADLINE = 60.0
PLANS = {
    "clip_mp4": "as_is",
    "rotated_mp4": "as_is",
    "clip_mkv": "remux",
    "clip_avi": "transcode",
    "tone_wav": "as_is",
    "tone_mp3": "as_is",
    "still_png": "as_is",
}


@pytest.fixture(scope="module")
def runner() -> Ffmpeg:
    return Ffmpeg.locate({})


async def assert_plays_everywhere(runner: Ffmpeg, made: Path, kind: str, length: float) -> None:
    """An H.264/AAC MP4 (AAC alone for audio) that plays as it is and decodes without error."""
    found = await probe(runner, made)
    assert found.kind == kind
    assert found.container == "mp4"
    assert (found.video_codec, found.audio_codec) == (
        ("h264" if kind == "video" else None),
        "aac",
    )
    assert plan(found) == "as_is"
    assert found.duration == pytest.approx(length, abs=0.1)
    decoded = ffmpeg("-xerror", "-i", str(made), "-f", "null", "-")
    assert decoded.stderr == ""


@pytest.mark.parametrize("name", sorted(PLANS))
async def test_the_plan_for_each_file(runner: Ffmpeg, media_files: MediaFiles, name: str) -> None:
    assert plan(await probe(runner, media_files.paths()[name])) == PLANS[name]


def names_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def probe_of(
    container: str, video: str | None, audio: str | None, pixels: str = "yuv420p"
) -> Probe:
    """A probe as FFmpeg would give it for such a file: the plan reads nothing else."""
    return Probe(
        kind="video" if video else "audio",
        container=container,
        duration=10.0,
        width=640 if video else None,
        height=360 if video else None,
        fps=25.0 if video else None,
        rotation=0,
        video_codec=video,
        audio_codec=audio,
        audio_tracks=(),
        subtitle_tracks=(),
        bitrate=None,
        size=1000,
        pixel_format=pixels if video else None,
        video_stream=0 if video else None,
        audio_stream=1 if audio else None,
    )


@pytest.mark.parametrize(
    ("probed", "expected"),
    [
        (probe_of("mp4", "h264", "aac"), "as_is"),
        (probe_of("mov", "h264", None), "as_is"),
        (probe_of("m4a", None, "aac"), "as_is"),
        (probe_of("webm", "vp9", "opus"), "as_is"),
        (probe_of("webm", "vp8", "vorbis"), "as_is"),
        (probe_of("flac", None, "flac"), "as_is"),
        (probe_of("mp4", "h264", "aac", pixels="yuv420p10le"), "transcode"),
        (probe_of("mp4", "h264", "aac", pixels="yuv444p"), "transcode"),
        (probe_of("mp4", "hevc", "aac"), "transcode"),
        (probe_of("mp4", "h264", "ac3"), "transcode"),
        (probe_of("matroska", "h264", "aac"), "remux"),
        (probe_of("mpegts", "h264", "mp3"), "remux"),
        (probe_of("matroska", "vp9", "opus"), "remux"),
        (probe_of("matroska", "h264", "vorbis"), "transcode"),  # Vorbis has no place in MP4
        (probe_of("matroska", None, "flac"), "remux"),
        (probe_of("aac", None, "aac"), "remux"),  # ADTS AAC into an .m4a
        (probe_of("wav", None, "pcm_s24le"), "transcode"),
        (probe_of("ogg", None, "vorbis"), "transcode"),
    ],
)
def test_the_plan_follows_container_and_codecs(probed: Probe, expected: str) -> None:
    assert plan(probed) == expected


async def test_remux_makes_a_playable_mp4(
    runner: Ffmpeg, media_files: MediaFiles, tmp_path: Path
) -> None:
    found = await probe(runner, media_files.clip_mkv)
    dest = tmp_path / f"playable{playable_suffix(found)}"
    seen: list[float] = []
    assert await make_playable(runner, media_files.clip_mkv, found, dest, seen.append) == dest
    await assert_plays_everywhere(runner, dest, "video", 3.0)
    assert seen[-1] == 1.0
    assert playable_mime(found) == "video/mp4"
    assert names_in(tmp_path) == ["playable.mp4"]


async def test_transcode_makes_a_playable_mp4(
    runner: Ffmpeg, media_files: MediaFiles, tmp_path: Path
) -> None:
    found = await probe(runner, media_files.clip_avi)
    dest = tmp_path / "playable.mp4"
    seen: list[float] = []
    assert await make_playable(runner, media_files.clip_avi, found, dest, seen.append) == dest
    await assert_plays_everywhere(runner, dest, "video", 3.0)
    assert seen == sorted(seen)
    assert seen[-1] == 1.0
    assert names_in(tmp_path) == ["playable.mp4"]


async def test_a_turned_video_is_transcoded_upright(runner: Ffmpeg, tmp_path: Path) -> None:
    src = tmp_path / "turned.avi"
    clip = make_clip(tmp_path / "clip.mp4", seconds=1)
    ffmpeg("-display_rotation:v:0", "90", "-i", str(clip), *MPEG4_MP3, str(src))
    dest = tmp_path / "playable.mp4"
    await make_playable(runner, src, await probe(runner, src), dest)
    made = await probe(runner, dest)
    assert made.display_size == (240, 320)


async def test_audio_alone_becomes_aac_in_m4a(runner: Ffmpeg, tmp_path: Path) -> None:
    src = tmp_path / "tone.ogg"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:a", "libvorbis", str(src))
    found = await probe(runner, src)
    assert plan(found) == "transcode"
    dest = tmp_path / f"playable{playable_suffix(found)}"
    assert dest.suffix == ".m4a"
    await make_playable(runner, src, found, dest)
    await assert_plays_everywhere(runner, dest, "audio", 2.0)
    assert mime_of(await probe(runner, dest)) == playable_mime(found) == "audio/mp4"


async def test_what_plays_as_it_is_gets_no_copy(
    runner: Ffmpeg, media_files: MediaFiles, tmp_path: Path
) -> None:
    dest = tmp_path / "playable.mp4"
    found = await probe(runner, media_files.clip_mp4)
    assert await make_playable(runner, media_files.clip_mp4, found, dest) is None
    assert not dest.exists()


async def test_a_cancelled_transcode_leaves_nothing(runner: Ffmpeg, tmp_path: Path) -> None:
    src = make_clip(tmp_path / "long.avi", seconds=30, size="640x480", codecs=MPEG4_MP3)
    out = tmp_path / "out"
    out.mkdir()
    found = await probe(runner, src)
    started = asyncio.Event()

    def progress(fraction: float) -> None:
        if 0 < fraction < 1:
            started.set()

    work = asyncio.create_task(make_playable(runner, src, found, out / "playable.mp4", progress))
    await asyncio.wait_for(started.wait(), DEADLINE)
    assert names_in(out)  # the temporary file is being written
    work.cancel()
    with pytest.raises(asyncio.CancelledError):
        await work
    assert names_in(out) == []
    assert ffmpeg_pids(str(out)) == []  # killed and reaped before the CancelledError came


async def test_a_failed_transcode_leaves_nothing_and_says_so_without_paths(
    runner: Ffmpeg, media_files: MediaFiles, tmp_path: Path
) -> None:
    found = await probe(runner, media_files.clip_avi)
    src = tmp_path / "gone.avi"  # probed, then gone before the transcode reads it
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(FfmpegFailed) as caught:
        await make_playable(runner, src, found, out / "playable.mp4")
    assert str(tmp_path) not in caught.value.message
    assert names_in(out) == []


async def test_a_remux_takes_about_the_time_of_a_copy(runner: Ffmpeg, tmp_path: Path) -> None:
    src = make_clip(tmp_path / "clip.mkv", seconds=20, size="640x480")
    found = await probe(runner, src)
    assert plan(found) == "remux"
    started = time.monotonic()
    await make_playable(runner, src, found, tmp_path / "playable.mp4")
    assert time.monotonic() - started < 2  # a tenth of a second here; a transcode takes seconds
