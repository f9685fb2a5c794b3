"""FFmpeg's report of an input (`ffmpeg -i FILE`, on stderr) read into plain data.

imageio-ffmpeg carries no ffprobe, so this is how the library learns what a file holds: the
`Input #0, FORMAT, from ...` line, `Duration: ..., bitrate: ...`, one `Stream #0:N...` line per
stream with its metadata and side data below it. Lines look like:

    Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'file:clip.mp4':
        major_brand     : isom
      Duration: 00:00:03.00, start: 0.000000, bitrate: 126 kb/s
      Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(progressive),
        320x240 [SAR 1:1 DAR 4:3], 46 kb/s, 25 fps, 25 tbr, 12800 tbn (default)   (one line)
          Display Matrix: rotation of 90.00 degrees

Only the first input is read. Imports nothing from the project.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_INPUT = re.compile(r"^Input #0, (.+?), from '")
_DURATION = re.compile(r"^\s*Duration: (?:(\d+):(\d\d):(\d\d(?:\.\d+)?)|N/A)")
_BITRATE = re.compile(r"bitrate: (\d+) kb/s")
_STREAM = re.compile(r"^\s*Stream #0:(\d+)(?:\[[^\]]*\])?(?:\(([^)]*)\))?: (\w+): (.*)$")
_SIZE = re.compile(r"^(\d+)x(\d+)(?:\s|$)")
_RATE = re.compile(r"^(\d+(?:\.\d+)?)(k?) (fps|tbr)$")
_PIXEL_FORMAT = re.compile(r"^([a-z][a-z0-9_]*)(?:\(|$)")
_MATRIX = re.compile(r"Display Matrix: rotation of (-?\d+(?:\.\d+)?) degrees")
_ROTATE_TAG = re.compile(r"^\s*rotate\s*: (-?\d+(?:\.\d+)?)\s*$")
_BRAND = re.compile(r"^\s*major_brand\s*: (\S+)")
_SECTION_END = re.compile(r"^\s*(Chapters?|Program|Stream group|Input #[1-9]|Output #)")


@dataclass
class StreamReport:
    index: int  # FFmpeg's index, for `-map 0:INDEX`
    type: str  # "video", "audio", "subtitle", "data", "attachment"
    codec: str  # "h264", "aac", "mov_text", "png"; "none" when FFmpeg has no decoder
    language: str | None  # "eng"; None for FFmpeg's "und"
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    pixel_format: str | None = None
    attached_pic: bool = False  # cover art: a picture, not the video
    rotation: float | None = None  # degrees counter-clockwise, as the Display Matrix says


@dataclass
class InputReport:
    format: str | None = None  # FFmpeg's demuxer: "mov,mp4,m4a,3gp,3g2,mj2", "png_pipe", "tty"
    duration: float | None = None  # seconds; None for "N/A"
    bitrate: int | None = None  # bits per second
    brand: str | None = None  # an MP4's major_brand ("isom", "qt", "M4A")
    streams: list[StreamReport] = field(default_factory=list)
    open_error: str | None = None  # why FFmpeg could not open it, if it could not

    def first(self, kind: str) -> StreamReport | None:
        """The first stream of `kind` ("video" skips cover art)."""
        return next((s for s in self.streams if s.type == kind and not s.attached_pic), None)

    def of_type(self, kind: str) -> list[StreamReport]:
        return [s for s in self.streams if s.type == kind and not s.attached_pic]


def parse_report(stderr: str) -> InputReport:
    """What `ffmpeg -i FILE` said about FILE."""
    report = InputReport()
    started = False
    current: StreamReport | None = None
    for line in stderr.splitlines():
        if not started:
            if match := _INPUT.match(line):
                report.format, started = match.group(1), True
            elif "Error opening input: " in line and report.open_error is None:
                report.open_error = line.partition("Error opening input: ")[2].strip()
            continue
        if _SECTION_END.match(line):
            current = None
            if line.lstrip().startswith(("Input #", "Output #")):
                break
        if match := _STREAM.match(line):
            current = _stream(match)
            report.streams.append(current)
        elif match := _DURATION.match(line):
            report.duration = _seconds(match) if match.group(1) else None
            bitrate = _BITRATE.search(line)
            report.bitrate = int(bitrate.group(1)) * 1000 if bitrate else None
        elif current is None:
            if match := _BRAND.match(line):
                report.brand = match.group(1)
        elif match := _MATRIX.search(line):
            current.rotation = float(match.group(1))
        elif (match := _ROTATE_TAG.match(line)) and current.rotation is None:
            current.rotation = -float(match.group(1))  # the old tag turns clockwise
    return report


def _seconds(match: re.Match[str]) -> float:
    hours, minutes, seconds = match.group(1, 2, 3)
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def _stream(match: re.Match[str]) -> StreamReport:
    index, language, kind, rest = match.groups()
    parts = split_top_level(rest)
    stream = StreamReport(
        index=int(index),
        type=kind.lower(),
        codec=parts[0].split(" ")[0] if parts else "none",
        language=None if language in (None, "", "und") else language,
        attached_pic="(attached pic)" in rest,
    )
    if stream.type == "video":
        _read_picture(stream, parts[1:])
    return stream


def _read_picture(stream: StreamReport, parts: list[str]) -> None:
    tbr = None
    for position, part in enumerate(parts):
        if size := _SIZE.match(part):
            stream.width, stream.height = int(size.group(1)), int(size.group(2))
        elif rate := _RATE.match(part.split(" (")[0]):
            value = float(rate.group(1)) * (1000 if rate.group(2) else 1)
            if rate.group(3) == "fps":
                stream.fps = value
            else:
                tbr = value
        elif position == 0 and (name := _PIXEL_FORMAT.match(part)):
            stream.pixel_format = None if name.group(1) == "none" else name.group(1)
    if stream.fps is None:
        stream.fps = tbr


def split_top_level(text: str) -> list[str]:
    """`text` split at the commas that are not inside parentheses or brackets."""
    parts, depth, start = [], 0, 0
    for position, char in enumerate(text):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth = max(0, depth - 1)
        elif char == "," and depth == 0:
            parts.append(text[start:position].strip())
            start = position + 1
    parts.append(text[start:].strip())
    return [part for part in parts if part]
