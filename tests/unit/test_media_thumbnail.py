"""Thumbnails with the real FFmpeg: a JPEG at most 320 px wide in the shape the picture is shown,
for videos and images, none for audio, and nothing at `dest` when it cannot be made."""

from __future__ import annotations

from pathlib import Path

import pytest

from director_desktop.errors import FfmpegFailed
from director_desktop.media.ffmpeg import Ffmpeg
from director_desktop.media.probe import probe
from director_desktop.media.report import parse_report
from director_desktop.media.thumbnail import make_thumbnail
from tests.fixtures.media import (
    MediaFiles,
    ffmpeg,
    make_clip,
    media_files_fixture,  # noqa: F401 (the fixture)
)

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def runner() -> Ffmpeg:
    return Ffmpeg.locate({})


def jpeg_size(path: Path) -> tuple[int | None, int | None]:
    """Decode the whole JPEG (FFmpeg says nothing at -v error when it is sound); its size."""
    decoded = ffmpeg("-i", str(path), "-f", "null", "-")
    assert decoded.stderr == ""
    report = parse_report(ffmpeg("-v", "info", "-i", str(path), "-f", "null", "-").stderr)
    picture = report.first("video")
    assert report.format == "jpeg_pipe" or report.format == "image2"
    assert picture is not None
    assert picture.codec == "mjpeg"
    return picture.width, picture.height


def names_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("clip_mp4", (320, 240)),
        ("clip_mkv", (320, 240)),
        ("clip_avi", (320, 240)),
        ("rotated_mp4", (240, 320)),  # shown turned, so thumbnailed turned
        ("still_png", (320, 240)),  # 640x480, scaled down
    ],
)
async def test_a_thumbnail_of_each_picture(
    runner: Ffmpeg, media_files: MediaFiles, tmp_path: Path, name: str, size: tuple[int, int]
) -> None:
    src = media_files.paths()[name]
    dest = tmp_path / "thumbnail.jpg"
    assert await make_thumbnail(runner, src, await probe(runner, src), dest) == dest
    assert jpeg_size(dest) == size
    assert names_in(tmp_path) == ["thumbnail.jpg"]  # no temporary file left


async def test_audio_has_no_thumbnail(
    runner: Ffmpeg, media_files: MediaFiles, tmp_path: Path
) -> None:
    dest = tmp_path / "thumbnail.jpg"
    found = await probe(runner, media_files.tone_mp3)
    assert await make_thumbnail(runner, media_files.tone_mp3, found, dest) is None
    assert not dest.exists()


async def test_small_pictures_are_not_enlarged_and_short_clips_give_their_first_frame(
    runner: Ffmpeg, tmp_path: Path
) -> None:
    short = make_clip(tmp_path / "short.mp4", seconds=0.2, size="64x48")
    dest = tmp_path / "thumbnail.jpg"
    assert await make_thumbnail(runner, short, await probe(runner, short), dest) == dest
    assert jpeg_size(dest) == (64, 48)


async def test_a_wide_picture_keeps_its_shape(runner: Ffmpeg, tmp_path: Path) -> None:
    wide = make_clip(tmp_path / "wide.mp4", seconds=3, size="1280x360")
    dest = tmp_path / "thumbnail.jpg"
    await make_thumbnail(runner, wide, await probe(runner, wide), dest)
    assert jpeg_size(dest) == (320, 90)


async def test_a_failure_leaves_nothing_and_an_old_thumbnail_stays(
    runner: Ffmpeg, media_files: MediaFiles, tmp_path: Path
) -> None:
    src = tmp_path / "gone.mp4"
    src.write_bytes(media_files.clip_mp4.read_bytes())
    found = await probe(runner, src)
    src.unlink()
    dest = tmp_path / "thumbnail.jpg"
    dest.write_bytes(b"the old one")
    with pytest.raises(FfmpegFailed) as caught:
        await make_thumbnail(runner, src, found, dest)
    assert str(tmp_path) not in caught.value.message
    assert dest.read_bytes() == b"the old one"
    assert names_in(tmp_path) == ["thumbnail.jpg"]
