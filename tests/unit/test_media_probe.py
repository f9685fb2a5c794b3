"""Probing with the real FFmpeg on files the tests made: what each file is, the refusals with
their codes (text, random bytes, truncated, corrupt, empty, zero-length), the MIME type from the
content whatever the name, and the reading of FFmpeg's report line by line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from director_desktop.errors import InvalidMedia
from director_desktop.media.ffmpeg import Ffmpeg
from director_desktop.media.probe import Probe, Track, mime_of, probe
from director_desktop.media.report import parse_report
from tests.fixtures.media import (
    KINDS,
    REFUSALS,
    MediaFiles,
    ffmpeg,
    make_clip,
    media_files_fixture,  # noqa: F401 (the fixture)
)

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def runner() -> Ffmpeg:
    return Ffmpeg.locate({})


async def test_the_clip(runner: Ffmpeg, media_files: MediaFiles) -> None:
    found = await probe(runner, media_files.clip_mp4)
    assert found == Probe(
        kind="video",
        container="mp4",
        duration=3.0,
        width=320,
        height=240,
        fps=25.0,
        rotation=0,
        video_codec="h264",
        audio_codec="aac",
        audio_tracks=(Track("aac", None),),
        subtitle_tracks=(Track("mov_text", "eng"),),
        bitrate=found.bitrate,
        size=media_files.clip_mp4.stat().st_size,
        pixel_format="yuv420p",
        video_stream=0,
        audio_stream=1,
    )
    assert found.bitrate is not None
    assert found.bitrate > 10_000
    assert mime_of(found) == "video/mp4"


async def test_the_same_streams_in_matroska(runner: Ffmpeg, media_files: MediaFiles) -> None:
    found = await probe(runner, media_files.clip_mkv)
    assert (found.kind, found.container, found.video_codec, found.audio_codec) == (
        "video",
        "matroska",
        "h264",
        "aac",
    )
    assert found.subtitle_tracks == (Track("subrip", "eng"),)
    assert found.duration == pytest.approx(3.0, abs=0.05)
    assert mime_of(found) == "video/x-matroska"


async def test_mpeg4_and_mp3_in_avi(runner: Ffmpeg, media_files: MediaFiles) -> None:
    found = await probe(runner, media_files.clip_avi)
    assert (found.container, found.video_codec, found.audio_codec) == ("avi", "mpeg4", "mp3")
    assert (found.width, found.height, found.fps) == (320, 240, 25.0)
    assert mime_of(found) == "video/x-msvideo"


async def test_a_turned_video(runner: Ffmpeg, media_files: MediaFiles) -> None:
    found = await probe(runner, media_files.rotated_mp4)
    assert found.rotation == 90
    assert (found.width, found.height) == (320, 240)
    assert found.display_size == (240, 320)


@pytest.mark.parametrize(
    ("name", "codec", "mime"),
    [("tone_wav", "pcm_s16le", "audio/wav"), ("tone_mp3", "mp3", "audio/mpeg")],
)
async def test_audio(
    runner: Ffmpeg, media_files: MediaFiles, name: str, codec: str, mime: str
) -> None:
    found = await probe(runner, media_files.paths()[name])
    assert (found.kind, found.audio_codec, found.video_codec) == ("audio", codec, None)
    assert found.duration == pytest.approx(2.0, abs=0.05)
    assert (found.width, found.height, found.video_stream) == (None, None, None)
    assert mime_of(found) == mime


async def test_an_image_has_no_length(runner: Ffmpeg, media_files: MediaFiles) -> None:
    found = await probe(runner, media_files.still_png)
    assert (found.kind, found.container, found.duration) == ("image", "png", 0.0)
    assert (found.width, found.height, found.fps) == (640, 480, None)
    assert mime_of(found) == "image/png"


@pytest.mark.parametrize("name", sorted(KINDS))
async def test_each_file_the_library_takes(
    runner: Ffmpeg, media_files: MediaFiles, name: str
) -> None:
    found = await probe(runner, media_files.paths()[name])
    assert found.kind == KINDS[name]
    assert Probe.from_json(json.loads(json.dumps(found.to_json()))) == found


@pytest.mark.parametrize("name", sorted(REFUSALS))
async def test_each_file_the_library_refuses(
    runner: Ffmpeg, media_files: MediaFiles, name: str
) -> None:
    with pytest.raises(InvalidMedia) as caught:
        await probe(runner, media_files.paths()[name])
    assert caught.value.code == REFUSALS[name]
    assert str(media_files.directory) not in caught.value.message
    assert caught.value.http_status in (400, 415, 422)


@pytest.mark.parametrize(
    ("name", "as_name"),
    [
        ("notes_txt", "notes.mp4"),  # text named as a video
        ("notes_txt", "notes.png"),
        ("random_bin", "random.png"),  # image2 opens it by its name, as a "video" of no size
        ("random_bin", "random.mp4"),
        ("random_bin", "random"),
    ],
)
async def test_a_name_does_not_make_media(
    runner: Ffmpeg, media_files: MediaFiles, tmp_path: Path, name: str, as_name: str
) -> None:
    renamed = tmp_path / as_name
    shutil.copy(media_files.paths()[name], renamed)
    with pytest.raises(InvalidMedia) as caught:
        await probe(runner, renamed)
    assert caught.value.code == "unsupported_media"
    assert caught.value.http_status == 415


@pytest.mark.parametrize(
    ("name", "as_name", "mime"),
    [
        ("clip_mp4", "upload.png", "video/mp4"),
        ("clip_mp4", "upload", "video/mp4"),
        ("still_png", "upload.mp4", "image/png"),
        ("tone_mp3", "upload.html", "audio/mpeg"),
    ],
)
async def test_the_mime_type_comes_from_the_content(
    runner: Ffmpeg, media_files: MediaFiles, tmp_path: Path, name: str, as_name: str, mime: str
) -> None:
    renamed = tmp_path / as_name
    shutil.copy(media_files.paths()[name], renamed)
    assert mime_of(await probe(runner, renamed)) == mime


async def test_a_playlist_never_opens_other_files(runner: Ffmpeg, tmp_path: Path) -> None:
    secret = tmp_path / "secret.ts"
    secret.write_bytes(b"\x47" * 188 * 10)
    playlist = tmp_path / "list.m3u8"
    playlist.write_text(f"#EXTM3U\n#EXTINF:10,\nfile:{secret}\n#EXT-X-ENDLIST\n", "utf-8")
    concat = tmp_path / "list.ffconcat"
    concat.write_text(f"ffconcat version 1.0\nfile '{secret}'\n", "utf-8")
    for listing in (playlist, concat):
        with pytest.raises(InvalidMedia) as caught:
            await probe(runner, listing)
        assert caught.value.code == "unsupported_media"


async def test_a_faststart_less_mp4_cut_short_is_truncated(
    runner: Ffmpeg, media_files: MediaFiles, tmp_path: Path
) -> None:
    # Its index comes last, so half of it opens as nothing: "moov atom not found".
    whole = tmp_path / "slow.mp4"
    ffmpeg("-i", str(media_files.clip_mp4), "-map", "0", "-c", "copy", str(whole))
    half = tmp_path / "half.mp4"
    half.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(InvalidMedia) as caught:
        await probe(runner, half)
    assert caught.value.code == "truncated_media"


async def test_an_mp4_with_no_samples_lasts_no_time(runner: Ffmpeg, tmp_path: Path) -> None:
    nothing = tmp_path / "nothing.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc", "-t", "0", str(nothing))
    with pytest.raises(InvalidMedia) as caught:
        await probe(runner, nothing)
    assert caught.value.code == "zero_duration"


async def test_cover_art_does_not_make_a_song_a_video(
    runner: Ffmpeg, media_files: MediaFiles, tmp_path: Path
) -> None:
    song = tmp_path / "song.mp3"
    ffmpeg(
        *["-i", str(media_files.tone_mp3), "-i", str(media_files.still_png)],
        *["-map", "0", "-map", "1", "-c:a", "copy", "-c:v", "mjpeg"],
        *["-disposition:v", "attached_pic", str(song)],
    )
    found = await probe(runner, song)
    assert (found.kind, found.video_stream, found.audio_codec) == ("audio", None, "mp3")


async def test_webm_is_told_from_matroska(runner: Ffmpeg, tmp_path: Path) -> None:
    webm = make_clip(
        tmp_path / "clip.webm",
        seconds=1,
        size="64x48",
        codecs=["-c:v", "libvpx", "-deadline", "realtime", "-c:a", "libopus"],
    )
    found = await probe(runner, webm)
    assert (found.container, found.video_codec, found.audio_codec) == ("webm", "vp8", "opus")
    assert mime_of(found) == "video/webm"
    renamed = tmp_path / "clip.mkv"  # the EBML DocType decides, not the name
    shutil.copy(webm, renamed)
    assert (await probe(runner, renamed)).container == "webm"


# FFmpeg's report, line by line.

REPORT = """\
[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55] stream 0: something it noticed
Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'file:/a/b, from 'c'.mov':
  Metadata:
    major_brand     : qt  
    creation_time   : 2026-01-01T00:00:00.000000Z
  Duration: 01:02:03.50, start: 0.000000, bitrate: 8064 kb/s
  Chapters:
    Chapter #0:0: start 0.000000, end 10.000000
      Metadata:
        rotate          : 45
  Stream #0:0[0x1](eng): Video: hevc (Main 10) (hvc1 / 0x31637668), yuv420p10le(tv, bt2020nc/bt2020/arib-std-b67), 3840x2160, 7800 kb/s, 29.97 fps, 29.97 tbr, 600 tbn (default)
    Metadata:
      rotate          : 90
      handler_name    : Core Media Video
  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, stereo, fltp, 256 kb/s (default)
  Stream #0:2[0x3](fra): Audio: ac3 (ac-3 / 0x332D6361), 48000 Hz, 5.1(side), fltp, 384 kb/s
  Stream #0:3[0x4](und): Data: none (mebx / 0x7862656D), 0 kb/s (default)
  Stream #0:4: Video: mjpeg (Baseline), yuvj420p(pc, bt470bg/unknown/unknown), 600x600, 90k tbr, 90k tbn (attached pic)
At least one output file must be specified
"""  # noqa: E501, W291 (FFmpeg's own lines; it pads the brand)


def test_the_report_of_a_phone_video() -> None:
    report = parse_report(REPORT)
    assert report.format == "mov,mp4,m4a,3gp,3g2,mj2"
    assert report.duration == 3723.5
    assert report.bitrate == 8_064_000
    assert report.brand == "qt"
    video = report.first("video")
    assert video is not None
    assert (video.index, video.codec, video.language) == (0, "hevc", "eng")
    assert (video.width, video.height, video.fps) == (3840, 2160, 29.97)
    assert video.pixel_format == "yuv420p10le"
    assert (
        video.rotation == -90
    )  # the old tag turns clockwise; the chapter's tag is not the video's
    assert [s.codec for s in report.of_type("audio")] == ["aac", "ac3"]
    assert [s.language for s in report.of_type("audio")] == [None, "fra"]
    assert [s.index for s in report.streams if s.attached_pic] == [4]
    assert report.first("data") is not None


def test_the_display_matrix_wins_over_the_tag_and_programs_nest() -> None:
    report = parse_report(
        "Input #0, mpegts, from 'x.ts':\n"
        "  Duration: N/A, start: 1.400000, bitrate: N/A\n"
        "  Program 1\n"
        "    Stream #0:0[0x100]: Video: h264 (High) ([27][0][0][0] / 0x001B), yuv420p(progressive),"
        " 1920x1080 [SAR 1:1 DAR 16:9], 1k tbr, 90k tbn\n"
        "      Side data:\n"
        "        Display Matrix: rotation of -90.00 degrees\n"
        "      Metadata:\n"
        "        rotate          : 270\n"
    )
    video = report.first("video")
    assert video is not None
    assert (report.duration, report.bitrate) == (None, None)
    assert (video.width, video.height, video.fps, video.rotation) == (1920, 1080, 1000.0, -90.0)


def test_an_input_that_did_not_open() -> None:
    report = parse_report(
        "[in#0 @ 0x5] Error opening input: Invalid data found when processing input\n"
        "Error opening input file notes.\n"
    )
    assert report.format is None
    assert report.open_error == "Invalid data found when processing input"
    assert report.streams == []
