"""What a file is: `probe()` reads FFmpeg's report of it into a `Probe`, or refuses it with the
code that says why (`empty_file`, `unsupported_media`, `corrupt_media`, `truncated_media`,
`zero_duration`); `mime_of()` is the MIME type it is served as, decided here and never from
the name it was uploaded with.

"FFmpeg opened it" is not "it is media": a text file opens as the `tty` format with a 0.16 s
"video", random bytes named `.png` open as an image2 "video" with no size, a truncated MP4 still
reports its full duration. So FFmpeg may only use the demuxers of formats the library takes
(`-format_whitelist`, which also keeps playlists and concat lists from opening other files), a
picture needs a size, and a second pass reads every packet (`-c copy -f null`; images are
decoded), whose complaints ("partial file", "Invalid data", "moov atom not found") are
`truncated_media` or `corrupt_media`. Imports `errors`, `protocol` and this room's modules.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from director_desktop.errors import (
    CorruptMedia,
    EmptyFile,
    TruncatedMedia,
    UnsupportedMedia,
    ZeroDuration,
)
from director_desktop.media.ffmpeg import Ffmpeg, FfmpegResult, sanitize
from director_desktop.media.report import InputReport, StreamReport, parse_report
from director_desktop.store import ProbeData, TrackData

MediaKind = Literal["video", "audio", "image"]

# The demuxers FFmpeg may use on a user's file (a name matches any of a demuxer's names).
DEMUXERS = (
    "mov,matroska,avi,mpegts,mpeg,flv,asf,ogg,mxf,dv,"
    "wav,w64,mp3,flac,aac,aiff,caf,ac3,eac3,wv,ape,amr,"
    "image2,png_pipe,jpeg_pipe,webp_pipe,bmp_pipe,gif,gif_pipe,apng"
)
IMAGE_DEMUXERS = frozenset(
    {"image2", "png_pipe", "jpeg_pipe", "webp_pipe", "bmp_pipe", "gif", "gif_pipe", "apng"}
)
# The codec of a picture → its container name.
IMAGE_CODECS = {
    "png": "png",
    "apng": "png",
    "mjpeg": "jpeg",
    "webp": "webp",
    "gif": "gif",
    "bmp": "bmp",
}
TRUNCATED_SIGNS = ("partial file", "ended prematurely", "moov atom not found", "truncat")
PROBE_TIMEOUT = 30.0
READ_RATE = 20e6  # bytes/s the integrity pass is given for reading, beyond a base minute


@dataclass(frozen=True)
class Track:
    codec: str  # FFmpeg's codec name: "aac", "mov_text", "subrip"
    language: str | None  # ISO 639-2 ("eng") when the file says


@dataclass(frozen=True)
class Probe:
    """A file the library takes, as FFmpeg read it."""

    kind: MediaKind
    container: str  # "mp4", "mov", "m4a", "3gp", "webm", "matroska", "avi", "mp3", "png"...
    duration: float  # seconds; 0 for an image
    width: int | None  # of the picture as stored (see `display_size`)
    height: int | None
    fps: float | None
    rotation: int  # degrees counter-clockwise the picture is shown turned (0, 90, 180, 270)
    video_codec: str | None  # "h264", "hevc", "vp9", "png", "mjpeg"...
    audio_codec: str | None  # of the first audio track
    audio_tracks: tuple[Track, ...]
    subtitle_tracks: tuple[Track, ...]
    bitrate: int | None  # bits per second, the whole file
    size: int  # bytes
    pixel_format: str | None = None  # "yuv420p"; a 10-bit or 4:4:4 H.264 plays in few browsers
    video_stream: int | None = None  # FFmpeg's index of the picture (`-map 0:N`), never cover art
    audio_stream: int | None = None

    @property
    def display_size(self) -> tuple[int, int] | None:
        """Width and height as shown, turned by `rotation`."""
        if self.width is None or self.height is None:
            return None
        if self.rotation in (90, 270):
            return self.height, self.width
        return self.width, self.height

    def to_json(self) -> ProbeData:
        """For the asset's `probe` column; `from_json` reads it back."""
        return {
            "kind": self.kind,
            "container": self.container,
            "duration": self.duration,
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "rotation": self.rotation,
            "video_codec": self.video_codec,
            "audio_codec": self.audio_codec,
            "audio_tracks": [_track_json(t) for t in self.audio_tracks],
            "subtitle_tracks": [_track_json(t) for t in self.subtitle_tracks],
            "bitrate": self.bitrate,
            "size": self.size,
            "pixel_format": self.pixel_format,
            "video_stream": self.video_stream,
            "audio_stream": self.audio_stream,
        }

    @classmethod
    def from_json(cls, data: ProbeData) -> Probe:
        return cls(
            kind=data["kind"],
            container=data["container"],
            duration=data["duration"],
            width=data["width"],
            height=data["height"],
            fps=data["fps"],
            rotation=data["rotation"],
            video_codec=data["video_codec"],
            audio_codec=data["audio_codec"],
            audio_tracks=tuple(Track(**t) for t in data.get("audio_tracks", ())),
            subtitle_tracks=tuple(Track(**t) for t in data.get("subtitle_tracks", ())),
            bitrate=data["bitrate"],
            size=data["size"],
            pixel_format=data.get("pixel_format"),
            video_stream=data.get("video_stream"),
            audio_stream=data.get("audio_stream"),
        )


def _track_json(track: Track) -> TrackData:
    return {"codec": track.codec, "language": track.language}


async def probe(ffmpeg: Ffmpeg, path: Path) -> Probe:
    """What `path` is, or the `InvalidMedia` error that says why the library will not take it."""
    size, head = await asyncio.to_thread(_size_and_head, path)
    if size == 0:
        raise EmptyFile("The file is empty")
    result = await ffmpeg.run(input_args(path), timeout=PROBE_TIMEOUT, check=False)
    report = parse_report(result.stderr)
    kind, picture = _classify(report, result)
    checked = await _read_through(ffmpeg, path, kind, picture, size)
    duration = 0.0 if kind == "image" else _duration(report, checked)
    return _probe(report, kind, picture, duration, size, head)


def _size_and_head(path: Path) -> tuple[int, bytes]:
    with path.open("rb") as file:
        return path.stat().st_size, file.read(64)


def input_args(path: Path) -> list[str]:
    """`-i path` for a user's file, limited to the formats the library takes, opening no other
    file or protocol; every FFmpeg run on a user's file reads it this way."""
    return ["-protocol_whitelist", "file", "-format_whitelist", DEMUXERS, "-i", f"file:{path}"]


def _classify(report: InputReport, result: FfmpegResult) -> tuple[MediaKind, StreamReport | None]:
    if report.format is None:
        if "moov atom not found" in result.stderr and "misdetection" not in result.stderr:
            raise TruncatedMedia("The file is cut short: its index (the MP4 moov atom) is missing")
        raise UnsupportedMedia("Not a video, audio or image file the library can read")
    demuxer = report.format.split(",")[0]
    video, audio = report.first("video"), report.first("audio")
    if demuxer in IMAGE_DEMUXERS:
        if video is None or video.codec not in IMAGE_CODECS:
            raise UnsupportedMedia("Images can be PNG, JPEG, WebP, GIF or BMP")
        if video.width is None:
            # The content matched an image's signature but its picture is unreadable; image2
            # goes by the name alone, so there it was never an image.
            if demuxer == "image2":
                raise UnsupportedMedia("Not an image file the library can read")
            raise CorruptMedia("The image is damaged: its size cannot be read")
        return "image", video
    if video is not None:
        if video.codec == "none":
            raise UnsupportedMedia("The video is in a format FFmpeg cannot decode")
        if video.width is None:
            raise CorruptMedia("The video is damaged: its picture size cannot be read")
        return "video", video
    if audio is not None:
        if audio.codec == "none":
            raise UnsupportedMedia("The audio is in a format FFmpeg cannot decode")
        return "audio", None
    if not report.streams:
        raise ZeroDuration("The file holds no video or audio at all")
    raise UnsupportedMedia("The file holds no video, audio or image")


async def _read_through(
    ffmpeg: Ffmpeg, path: Path, kind: MediaKind, picture: StreamReport | None, size: int
) -> FfmpegResult:
    """Every packet read (an image decoded): what FFmpeg complains of is damage."""
    if kind == "image" and picture is not None:
        output = ["-map", f"0:{picture.index}", "-f", "null", "-"]
    else:
        output = ["-map", "0", "-c", "copy", "-f", "null", "-"]
    args = ["-v", "error", *input_args(path), *output]
    result = await ffmpeg.run(args, timeout=60 + size / READ_RATE, check=False)
    complaints = [line.strip() for line in result.stderr.splitlines() if line.strip()]
    said = sanitize(complaints[0], [str(path), f"file:{path}"]) if complaints else ""
    if any(sign in result.stderr.lower() for sign in TRUNCATED_SIGNS):
        raise TruncatedMedia(f"The file is cut short ({said})")
    if complaints or result.returncode != 0:
        raise CorruptMedia(f"The file is damaged ({said or f'exit {result.returncode}'})")
    return result


def _duration(report: InputReport, checked: FfmpegResult) -> float:
    # The header's duration, else how far reading every packet went (a WAV without one says N/A).
    duration = report.duration if report.duration and report.duration > 0 else checked.out_time
    if not duration or duration < 0.001:
        raise ZeroDuration("The file lasts no time at all")
    return round(duration, 3)


def _probe(
    report: InputReport,
    kind: MediaKind,
    picture: StreamReport | None,
    duration: float,
    size: int,
    head: bytes,
) -> Probe:
    video = picture  # the picture shown: a video's first stream, never its cover art
    audio = report.first("audio") if kind != "image" else None
    return Probe(
        kind=kind,
        container=_container(report, video, head),
        duration=duration,
        width=video.width if video else None,
        height=video.height if video else None,
        fps=video.fps if video and kind == "video" else None,
        rotation=_rotation(video.rotation if video else None),
        video_codec=video.codec if video else None,
        audio_codec=audio.codec if audio else None,
        audio_tracks=tuple(Track(s.codec, s.language) for s in report.of_type("audio")),
        subtitle_tracks=tuple(Track(s.codec, s.language) for s in report.of_type("subtitle")),
        bitrate=report.bitrate,
        size=size,
        pixel_format=video.pixel_format if video else None,
        video_stream=video.index if video else None,
        audio_stream=audio.index if audio else None,
    )


def _rotation(degrees: float | None) -> int:
    if degrees is None or math.isnan(degrees):
        return 0
    return round(degrees) % 360


def _container(report: InputReport, video: StreamReport | None, head: bytes) -> str:
    demuxer = (report.format or "").split(",")[0]
    if demuxer in IMAGE_DEMUXERS and video is not None:
        return IMAGE_CODECS[video.codec]
    if demuxer == "mov":
        brand = (report.brand or "qt").lower()
        if brand.startswith("qt"):
            return "mov"
        if brand.startswith(("m4a", "m4b", "m4p")):
            return "m4a"
        return "3gp" if brand.startswith("3g") else "mp4"
    if demuxer == "matroska":
        return "webm" if _ebml_doctype(head) == b"webm" else "matroska"
    return demuxer


def _ebml_doctype(head: bytes) -> bytes | None:
    """The DocType of a Matroska file ("webm" or "matroska"), from its EBML header."""
    at = head.find(b"\x42\x82")  # the DocType element, a one-byte size follows
    if at < 0 or at + 3 > len(head) or not head[at + 2] & 0x80:
        return None
    length = head[at + 2] & 0x7F
    return head[at + 3 : at + 3 + length]


# Per container: the MIME type of a video, and of a file with audio only. A QuickTime movie is
# served as MP4, its compatible twin: browsers play "video/mp4", several refuse "video/quicktime".
_MIME = {
    "mp4": ("video/mp4", "audio/mp4"),
    "mov": ("video/mp4", "audio/mp4"),
    "m4a": ("video/mp4", "audio/mp4"),
    "3gp": ("video/3gpp", "audio/3gpp"),
    "webm": ("video/webm", "audio/webm"),
    "matroska": ("video/x-matroska", "audio/x-matroska"),
    "avi": ("video/x-msvideo", "video/x-msvideo"),
    "mpegts": ("video/mp2t", "video/mp2t"),
    "mpeg": ("video/mpeg", "audio/mpeg"),
    "flv": ("video/x-flv", "video/x-flv"),
    "asf": ("video/x-ms-asf", "audio/x-ms-wma"),
    "ogg": ("video/ogg", "audio/ogg"),
    "mxf": ("application/mxf", "application/mxf"),
    "dv": ("video/dv", "video/dv"),
    "wav": ("audio/wav", "audio/wav"),
    "w64": ("audio/x-w64", "audio/x-w64"),
    "mp3": ("audio/mpeg", "audio/mpeg"),
    "flac": ("audio/flac", "audio/flac"),
    "aac": ("audio/aac", "audio/aac"),
    "aiff": ("audio/aiff", "audio/aiff"),
    "caf": ("audio/x-caf", "audio/x-caf"),
    "ac3": ("audio/ac3", "audio/ac3"),
    "eac3": ("audio/eac3", "audio/eac3"),
    "wv": ("audio/x-wavpack", "audio/x-wavpack"),
    "ape": ("audio/x-ape", "audio/x-ape"),
    "amr": ("audio/amr", "audio/amr"),
}
_IMAGE_MIME = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
    "bmp": "image/bmp",
}


def mime_of(probe: Probe) -> str:
    """The Content-Type the original file is served with."""
    if probe.kind == "image":
        return _IMAGE_MIME.get(probe.container, "application/octet-stream")
    video, audio = _MIME.get(probe.container, ("application/octet-stream",) * 2)
    return video if probe.kind == "video" else audio
