"""A version of a file the window can play, when the original cannot be.

`plan(probe)` decides from the probe alone: a file whose container and codecs every engine the
app runs on plays (WebKitGTK with GStreamer's good and libav plugins, WebView2, WKWebView) is
served `as_is`; playable codecs in another container (MKV, AVI, MPEG-TS...) are `remux`ed into
MP4 without re-encoding (fast, about the speed of a copy); anything else is `transcode`d to H.264
(`-preset veryfast -crf 23`, 8-bit 4:2:0) with AAC, a stream already in one of them being
copied rather than re-encoded. Audio alone becomes AAC in an .m4a. `make_playable` writes the
version whole or not at all. Imports this room's modules.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from director_desktop.media.ffmpeg import Ffmpeg, ProgressCallback
from director_desktop.media.files import atomic_output
from director_desktop.media.probe import Probe, input_args

Plan = Literal["as_is", "remux", "transcode"]

# Codecs that play inside MP4 (and its QuickTime and M4A kin) and inside WebM. H.264 must also
# be 8-bit 4:2:0: a 10-bit or 4:4:4 one plays in few browsers and in no GStreamer decoder.
MP4_VIDEO = frozenset({"h264", "vp9", "av1"})
MP4_AUDIO = frozenset({"aac", "mp3", "opus", "flac"})
WEBM_VIDEO = frozenset({"vp8", "vp9", "av1"})
WEBM_AUDIO = frozenset({"vorbis", "opus"})
PLAIN_PIXELS = frozenset({"yuv420p", "yuvj420p"})
H264, AAC_ONLY = frozenset({"h264"}), frozenset({"aac"})
# Container → (video codecs, audio codecs) that play as they are. MP3, WAV and FLAC files hold
# audio alone and play in every engine (GStreamer's good plugins parse them).
AS_IS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "mp4": (MP4_VIDEO, MP4_AUDIO),
    "mov": (MP4_VIDEO, MP4_AUDIO),
    "m4a": (MP4_VIDEO, MP4_AUDIO),
    "webm": (WEBM_VIDEO, WEBM_AUDIO),
    "mp3": (frozenset(), frozenset({"mp3"})),
    "wav": (frozenset(), frozenset({"pcm_s16le"})),
    "flac": (frozenset(), frozenset({"flac"})),
}
X264 = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p"]
# 4:2:0 needs even sides; one frame per timestamp, never duplicated to a constant rate.
EVEN = ["-vf", "scale='trunc(iw/2)*2':'trunc(ih/2)*2'", "-fps_mode", "vfr"]
AAC = ["-c:a", "aac", "-b:a", "160k"]
READ_RATE = 20e6  # bytes/s a remux is given, beyond a base minute
# veryfast H.264 of a 1080p test pattern ran at 1.3x real time on two cores (real footage is
# slower); the timeout is there for a hang, not to hurry a slow machine.
TRANSCODE_BASE, TRANSCODE_PER_SECOND = 600.0, 30.0


def plan(probe: Probe) -> Plan:
    """How the window gets a file it can play."""
    if probe.kind == "image":
        return "as_is"
    videos, audios = AS_IS.get(probe.container, (frozenset(), frozenset()))
    if _plays(probe, "video", videos) and _plays(probe, "audio", audios):
        return "as_is"
    if _plays(probe, "video", MP4_VIDEO) and _plays(probe, "audio", MP4_AUDIO):
        return "remux"
    return "transcode"


def playable_suffix(probe: Probe) -> str:
    """The made version's file suffix: ".mp4", or ".m4a" for audio alone."""
    return ".mp4" if probe.kind == "video" else ".m4a"


def playable_mime(probe: Probe) -> str:
    """The Content-Type the made version is served with."""
    return "video/mp4" if probe.kind == "video" else "audio/mp4"


async def make_playable(
    ffmpeg: Ffmpeg,
    src: Path,
    probe: Probe,
    dest: Path,
    on_progress: ProgressCallback | None = None,
) -> Path | None:
    """Write the playable version of `src` to `dest` (whole, or nothing when cancelled or
    failed): `dest`, or None when the original plays as it is."""
    how = plan(probe)
    if how == "as_is":
        return None
    if how == "remux":
        codecs, timeout = ["-c", "copy"], 60 + probe.size / READ_RATE
    else:
        codecs, timeout = _transcode_codecs(probe), _transcode_timeout(probe)
    async with atomic_output(dest) as temp:
        args = [
            *["-v", "error", *input_args(src), *_streams(probe), *codecs],
            *["-sn", "-dn", "-movflags", "+faststart", "-f", "mp4", "-y", f"file:{temp}"],
        ]
        await ffmpeg.run(args, timeout=timeout, duration=probe.duration, on_progress=on_progress)
    return dest


def _plays(probe: Probe, kind: Literal["video", "audio"], codecs: frozenset[str]) -> bool:
    """The file's `kind` stream (if it has one) plays in a container that plays `codecs`."""
    if kind == "video":
        if probe.video_codec is None:
            return True
        return probe.video_codec in codecs and probe.pixel_format in PLAIN_PIXELS
    return probe.audio_codec is None or probe.audio_codec in codecs


def _streams(probe: Probe) -> list[str]:
    chosen = (
        [probe.audio_stream] if probe.kind == "audio" else [probe.video_stream, probe.audio_stream]
    )
    return [arg for index in chosen if index is not None for arg in ("-map", f"0:{index}")]


def _transcode_codecs(probe: Probe) -> list[str]:
    # What comes out is H.264 and AAC, the pair every engine plays; a stream already in one of
    # them is copied.
    codecs = []
    if probe.kind == "video" and probe.video_stream is not None:
        codecs += ["-c:v", "copy"] if _plays(probe, "video", H264) else [*X264, *EVEN]
    if probe.audio_stream is not None:
        codecs += ["-c:a", "copy"] if _plays(probe, "audio", AAC_ONLY) else AAC
    return codecs


def _transcode_timeout(probe: Probe) -> float:
    return TRANSCODE_BASE + probe.duration * TRANSCODE_PER_SECOND
