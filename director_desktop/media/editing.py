"""New videos and pictures cut from the library's files with FFmpeg: a frame, spans cut and joined.
What the agents (and the clips built on them) make; every output is written whole or not at all
(`files.atomic_output`). Another sound or subtitles on a copy are `tracks.py`'s.

Stream copy when the cut points allow it, re-encoding only when they do not: spans of one
source whose starts fall on keyframes (and whose ends do too, or whose video has no reordered
frames, or that run to the end) are copied packet for packet, as many video packets as the span
has frames (`-frames:v`, so no frame after the end comes along). One span's sound is copied too
(within an audio frame, ~21 ms, of its cut points); several spans' sound is decoded, cut to the
sample and encoded once. Anything else (a start between keyframes, spans of several files) is
re-encoded once, to H.264/AAC at the first span's size and rate. Keyframes are read from the
packets themselves (`-c copy -f framecrc`, no decoding; remembered for the last few files),
whose timestamps are those `-ss` counts in.

Intermediate files go to the `scratch` folder the caller hands in (a job's staging folder, so a
cancel or failure removes them). Imports `errors` and this room's modules.
"""

from __future__ import annotations

import asyncio
import bisect
import math
import secrets
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from director_desktop.errors import FfmpegFailed, InvalidPayload
from director_desktop.media.ffmpeg import Ffmpeg, ProgressCallback
from director_desktop.media.files import atomic_output, has_content
from director_desktop.media.probe import Probe, input_args

Mode = Literal["copy", "encode"]
MP4_VIDEO = frozenset({"h264", "hevc", "av1", "vp9", "mpeg4"})
"""Video codecs a copied cut keeps in MP4; any other is copied into Matroska."""
MP4_AUDIO = frozenset({"aac", "mp3", "opus", "flac", "ac3", "eac3", "alac"})
"""Audio a single copied cut keeps as it is in MP4 (within one audio frame of the cut points)."""
PACKETS_KEPT = 8  # files whose packet listing is remembered, so a second cut needs no scan
X264 = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"]
AAC = ["-c:a", "aac", "-b:a", "160k"]
AUDIO_RATE = 48000
DEFAULT_FPS = 25.0
FRAME_TIMEOUT = 60.0
COPY_BASE, COPY_RATE = 60.0, 20e6  # a copy is given a minute plus 1 s per 20 MB read
ENCODE_BASE, ENCODE_PER_SECOND = 600.0, 30.0  # as `playable`: a timeout for a hang only


@dataclass(frozen=True)
class Source:
    """A file of the library and what the probe said of it (the caller found it by asset id)."""

    path: Path
    probe: Probe

    @property
    def fps(self) -> float:
        fps = self.probe.fps
        return fps if fps and math.isfinite(fps) and fps > 0 else DEFAULT_FPS

    @property
    def half_frame(self) -> float:
        return 0.5 / self.fps


@dataclass(frozen=True)
class Span:
    """The part of `source` from `start` to `end` seconds (end excluded)."""

    source: Source
    start: float
    end: float

    @property
    def length(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class Made:
    """A file the editing functions wrote, and how."""

    path: Path
    mode: Mode
    duration: float


@dataclass(frozen=True)
class Packets:
    """A file's video packets: presentation times (seconds, in decode order) and keyframes."""

    times: tuple[float, ...]
    keyframes: tuple[float, ...]  # sorted

    @property
    def reorders(self) -> bool:
        """Some frame is decoded before one shown earlier (B-frames): a copied cut may then end
        only on a keyframe."""
        return any(b < a for a, b in zip(self.times, self.times[1:], strict=False))

    def keyframe_near(self, at: float, tolerance: float) -> float | None:
        i = bisect.bisect_left(self.keyframes, at - tolerance)
        if i < len(self.keyframes) and abs(self.keyframes[i] - at) <= tolerance:
            return self.keyframes[i]
        return None

    def frames_between(self, start: float, end: float, tolerance: float) -> int:
        """How many frames are shown from `start` (included) to `end` (excluded)."""
        return sum(1 for t in self.times if start - tolerance <= t < end - tolerance)


# --- checking what is asked ----------------------------------------------------------------------
def span(source: Source, start: float, end: float | None = None) -> Span:
    """A span of `source`, checked: inside the file, at least a frame long. `end` None (or past
    the end by less than a frame) is the end of the file."""
    duration = source.probe.duration
    if source.probe.kind != "video" or source.probe.video_stream is None:
        raise InvalidPayload("only a video can be cut")
    if not (math.isfinite(start) and start >= 0):
        raise InvalidPayload("a start must be a time from 0 on")
    stop = duration if end is None else end
    if not math.isfinite(stop):
        raise InvalidPayload("an end must be a time")
    if start >= duration:
        raise InvalidPayload(f"the video is only {clock(duration)} long")
    stop = min(stop, duration)
    if stop - start < 1 / source.fps:
        raise InvalidPayload("the end must come after the start (by a frame at least)")
    return Span(source, start, stop)


def clock(seconds: float) -> str:
    """42.5 → "0:42.5", 3725 → "1:02:05": how a time is shown to the user."""
    seconds = max(seconds, 0.0)
    whole = int(seconds)
    tenths = round((seconds - whole) * 10)
    if tenths == 10:
        whole, tenths = whole + 1, 0
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
    return f"{text}.{tenths}" if tenths else text


# --- a frame -------------------------------------------------------------------------------------
async def grab_frame(ffmpeg: Ffmpeg, source: Source, at: float, dest: Path) -> Path:
    """The picture shown at `at` seconds, as a JPEG at the video's size as shown (turned by its
    rotation, square pixels), written to `dest` whole or not at all."""
    probe = source.probe
    if probe.kind != "video" or probe.video_stream is None:
        raise InvalidPayload("only a video has frames to take")
    if not (math.isfinite(at) and 0 <= at < probe.duration):
        raise InvalidPayload(f"the video is {clock(probe.duration)} long: choose a time within it")
    async with atomic_output(dest) as temp:
        await _grab(ffmpeg, source, ["-ss", seconds_arg(at)], temp)
        if not has_content(temp):  # past the last picture (a video track shorter than the audio)
            await _grab(ffmpeg, source, ["-sseof", "-1"], temp, last=True)
        if not has_content(temp):
            raise FfmpegFailed("FFmpeg found no picture at that time")
    return dest


async def _grab(
    ffmpeg: Ffmpeg, source: Source, seek: list[str], out: Path, *, last: bool = False
) -> None:
    args = [
        *["-v", "error", *seek, *input_args(source.path)],
        *["-map", f"0:{source.probe.video_stream}", *([] if last else ["-frames:v", "1"])],
        *["-vf", "scale='trunc(iw*sar)':ih,setsar=1", "-c:v", "mjpeg", "-q:v", "2"],
        *["-f", "image2", "-update", "1", "-y", f"file:{out}"],
    ]
    await ffmpeg.run(args, timeout=FRAME_TIMEOUT)


# --- cuts and joins ------------------------------------------------------------------------------
_listings: OrderedDict[tuple[str, int, int], Packets] = OrderedDict()


async def packets(ffmpeg: Ffmpeg, source: Source, scratch: Path) -> Packets:
    """The video packets of `source`, read without decoding (into a file in `scratch`: FFmpeg's
    own output is kept only in part). The last few files' listings are remembered (by path,
    size and modification time): a scan reads the whole file, a cut only its part."""
    stat = await asyncio.to_thread(source.path.stat)
    key = (str(source.path), stat.st_size, stat.st_mtime_ns)
    if key in _listings:
        _listings.move_to_end(key)
        return _listings[key]
    found = await _scan(ffmpeg, source, scratch)
    _listings[key] = found
    while len(_listings) > PACKETS_KEPT:
        _listings.popitem(last=False)
    return found


async def _scan(ffmpeg: Ffmpeg, source: Source, scratch: Path) -> Packets:
    listing = scratch / f"packets-{secrets.token_hex(4)}.txt"
    args = [
        *["-v", "error", *input_args(source.path), "-map", f"0:{source.probe.video_stream}"],
        *["-c", "copy", "-f", "framecrc", "-y", f"file:{listing}"],
    ]
    try:
        await ffmpeg.run(args, timeout=COPY_BASE + source.probe.size / COPY_RATE)
        text = await asyncio.to_thread(listing.read_text, "utf-8", "replace")
    finally:
        await asyncio.to_thread(listing.unlink, True)
    return parse_framecrc(text)


def parse_framecrc(text: str) -> Packets:
    """FFmpeg's `framecrc` listing: `#tb 0: 1/12800`, then `stream, dts, pts, duration, size,
    crc[, F=0xN]` per packet; the flags are printed only when they are not "key" alone."""
    base = 0.0
    times: list[float] = []
    keys: list[float] = []
    for line in text.splitlines():
        if line.startswith("#tb"):
            num, _, den = line.partition(":")[2].strip().partition("/")
            base = int(num) / int(den) if num.strip().isdigit() and den.strip().isdigit() else 0.0
            continue
        if line.startswith("#") or not line.strip():
            continue
        fields = [f.strip() for f in line.split(",")]
        if len(fields) < 6 or not base or not fields[2].lstrip("-").isdigit():
            continue
        pts = int(fields[2])
        if pts < -(1 << 62):  # no timestamp
            continue
        flags = next((f for f in fields[6:] if f.startswith("F=")), None)
        time = pts * base
        times.append(time)
        if flags is None or int(flags[2:], 16) & 1:
            keys.append(time)
    return Packets(tuple(times), tuple(sorted(keys)))


async def cut(
    ffmpeg: Ffmpeg,
    spans: Sequence[Span],
    scratch: Path,
    dest_stem: str,
    *,
    on_progress: ProgressCallback | None = None,
) -> Made:
    """The spans, one after the other, as a new video `<scratch>/<dest_stem>.mp4` (or `.mkv` for
    a copied codec MP4 does not hold). Copied when every cut point allows it, else re-encoded."""
    if not spans:
        raise InvalidPayload("nothing to cut: give at least one span")
    plan = await _copy_plan(ffmpeg, spans, scratch)
    if plan is not None:
        return await _copy(ffmpeg, plan, scratch, dest_stem, on_progress)
    return await _encode(ffmpeg, spans, scratch / f"{dest_stem}.mp4", on_progress)


@dataclass(frozen=True)
class _Piece:
    start: float  # a keyframe's time
    end: float
    frames: int


async def _copy_plan(
    ffmpeg: Ffmpeg, spans: Sequence[Span], scratch: Path
) -> list[tuple[Span, _Piece]] | None:
    """How to copy the spans, or None when one of them must be re-encoded."""
    source = spans[0].source
    if any(s.source.path != source.path for s in spans):
        return None  # files of their own encodings do not join packet for packet
    found = await packets(ffmpeg, source, scratch)
    tolerance = source.half_frame
    plan = []
    for part in spans:
        start = found.keyframe_near(part.start, tolerance)
        if start is None:
            return None
        to_the_end = part.end >= source.probe.duration - tolerance
        on_a_key = found.keyframe_near(part.end, tolerance) is not None
        if found.reorders and not (to_the_end or on_a_key):
            return None
        frames = found.frames_between(start, part.end, tolerance)
        if frames <= 0:
            return None
        plan.append((part, _Piece(start, part.end, frames)))
    return plan


def copy_suffix(probe: Probe) -> str:
    return ".mp4" if probe.video_codec in MP4_VIDEO else ".mkv"


def container_args(suffix: str) -> list[str]:
    if suffix == ".mp4":
        return ["-movflags", "+faststart", "-f", "mp4"]
    return ["-f", "matroska"]


async def _copy(
    ffmpeg: Ffmpeg,
    plan: list[tuple[Span, _Piece]],
    scratch: Path,
    dest_stem: str,
    on_progress: ProgressCallback | None,
) -> Made:
    source = plan[0][0].source
    suffix = copy_suffix(source.probe)
    dest = scratch / f"{dest_stem}{suffix}"
    total = sum(piece.end - piece.start for _, piece in plan)
    weights = _Weights(total, on_progress)
    if len(plan) == 1:
        # One piece: its sound is copied too when the container takes it (the plain `-c copy`
        # speed); pieces to join have their sound cut to the sample and encoded once.
        piece = plan[0][1]
        copy_audio = suffix == ".mkv" or source.probe.audio_codec in MP4_AUDIO
        audio = ["-c:a", "copy"] if copy_audio else AAC
        async with atomic_output(dest) as temp:
            await _copy_piece(
                ffmpeg, source, piece, [*audio, *container_args(suffix)], temp, weights
            )
        return Made(dest, "copy", total)
    parts: list[Path] = []
    token = secrets.token_hex(4)
    try:
        for n, (_, piece) in enumerate(plan):
            part = scratch / f"part-{token}-{n}.mkv"
            parts.append(part)
            lossless = ["-c:a", "flac", "-f", "matroska"]  # the sound is encoded once, at the end
            await _copy_piece(ffmpeg, source, piece, lossless, part, weights)
        listing = scratch / f"parts-{token}.txt"
        parts.append(listing)
        # Plain names in the list's own folder: the concat demuxer's safe mode takes them.
        await asyncio.to_thread(
            listing.write_text, "".join(f"file '{p.name}'\n" for p in parts[:-1]), "utf-8"
        )
        async with atomic_output(dest) as temp:
            args = [
                *["-v", "error", "-protocol_whitelist", "file", "-f", "concat"],
                *["-i", f"file:{listing}", "-map", "0:v"],
                *(["-map", "0:a"] if source.probe.audio_stream is not None else []),
                *["-c:v", "copy", *AAC, *container_args(suffix), "-y", f"file:{temp}"],
            ]
            await ffmpeg.run(args, timeout=COPY_BASE + source.probe.size / COPY_RATE)
    finally:
        for part in parts:
            await asyncio.to_thread(part.unlink, True)
    return Made(dest, "copy", total)


async def _copy_piece(
    ffmpeg: Ffmpeg,
    source: Source,
    piece: _Piece,
    output: list[str],
    out: Path,
    weights: _Weights,
) -> None:
    probe = source.probe
    audio = ["-map", f"0:{probe.audio_stream}"] if probe.audio_stream is not None else []
    length = piece.end - piece.start
    args = [
        # Seeking to the keyframe's own microsecond, rounded up: never to the one before it.
        *["-v", "error", "-ss", seconds_arg(piece.start, up=True), *input_args(source.path)],
        *["-t", seconds_arg(length), "-map", f"0:{probe.video_stream}", *audio],
        *["-c:v", "copy", "-frames:v", str(piece.frames), "-sn", "-dn"],
        *[*output, "-y", f"file:{out}"],
    ]
    await ffmpeg.run(
        args,
        timeout=COPY_BASE + probe.size / COPY_RATE,
        duration=length,
        on_progress=weights.part(length),
    )


async def _encode(
    ffmpeg: Ffmpeg, spans: Sequence[Span], dest: Path, on_progress: ProgressCallback | None
) -> Made:
    first = spans[0].source
    width, height = first.probe.display_size or (640, 360)
    width, height = width + width % 2, height + height % 2
    fps = first.fps
    with_audio = any(s.source.probe.audio_stream is not None for s in spans)
    inputs: list[str] = []
    chains: list[str] = []
    joined = ""
    n = 0
    for part in spans:
        probe = part.source.probe
        inputs += ["-ss", seconds_arg(part.start), "-t", seconds_arg(part.length)]
        inputs += input_args(part.source.path)
        video = n
        n += 1
        chains.append(
            f"[{video}:{probe.video_stream}]scale={width}:{height}:"
            "force_original_aspect_ratio=decrease,"
            f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps={fps:.6f},"
            f"format=yuv420p,setpts=PTS-STARTPTS[v{video}]"
        )
        joined += f"[v{video}]"
        if not with_audio:
            continue
        if probe.audio_stream is not None:
            audio_in = f"[{video}:{probe.audio_stream}]"
        else:  # silence as long as the span, so the tracks stay together
            inputs += ["-f", "lavfi", "-t", seconds_arg(part.length)]
            inputs += ["-i", f"anullsrc=r={AUDIO_RATE}:cl=stereo"]
            audio_in = f"[{n}:a]"
            n += 1
        chains.append(
            f"{audio_in}aresample={AUDIO_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo,"
            f"asetpts=PTS-STARTPTS[a{video}]"
        )
        joined += f"[a{video}]"
    audio_out = ":a=1[a]" if with_audio else ":a=0"
    graph = ";".join([*chains, f"{joined}concat=n={len(spans)}:v=1{audio_out}[v]"])
    total = sum(s.length for s in spans)
    async with atomic_output(dest) as temp:
        args = [
            *["-v", "error", *inputs, "-filter_complex", graph, "-map", "[v]"],
            *(["-map", "[a]", *AAC] if with_audio else []),
            *[*X264, "-movflags", "+faststart", "-f", "mp4", "-y", f"file:{temp}"],
        ]
        await ffmpeg.run(
            args,
            timeout=ENCODE_BASE + total * ENCODE_PER_SECOND,
            duration=total,
            on_progress=on_progress,
        )
    return Made(dest, "encode", total)


# --- helpers -------------------------------------------------------------------------------------
def seconds_arg(value: float, *, up: bool = False) -> str:
    """Seconds as FFmpeg reads them exactly (to the microsecond it counts in)."""
    micros = math.ceil(value * 1e6 - 1e-3) if up else round(value * 1e6)
    return f"{max(micros, 0) / 1e6:.6f}"


class _Weights:
    """Progress over several FFmpeg runs, each its share of the whole."""

    def __init__(self, total: float, report: ProgressCallback | None) -> None:
        self._total = total or 1.0
        self._report = report
        self._done = 0.0

    def part(self, length: float) -> Callable[[float], None] | None:
        if self._report is None:
            return None
        start = self._done
        self._done += length
        report = self._report
        return lambda fraction: report(min((start + fraction * length) / self._total, 1.0))
