"""Copies of a library file with another sound or with subtitles, made with FFmpeg for the agents
(`editing`'s audio operations, `censor`, `subtitle`): an audio track replaced or mixed in, words
muted or beeped, subtitles attached as a soft track or burned into the picture. The picture is
copied unless subtitles are burned in; every output is written whole or not at all
(`files.atomic_output`), in the `scratch` folder the caller hands in (a job's staging folder).
Cuts and joins are `editing`'s, whose `Source`, `Made` and FFmpeg arguments these share.
Imports `errors` and this room's modules.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from director_desktop.errors import InvalidPayload
from director_desktop.media.editing import (
    AAC,
    AUDIO_RATE,
    COPY_BASE,
    COPY_RATE,
    ENCODE_BASE,
    ENCODE_PER_SECOND,
    MP4_AUDIO,
    MP4_VIDEO,
    X264,
    Made,
    Source,
    container_args,
    copy_suffix,
    seconds_arg,
)
from director_desktop.media.ffmpeg import Ffmpeg, ProgressCallback
from director_desktop.media.files import atomic_output
from director_desktop.media.probe import Probe, input_args


# --- audio tracks --------------------------------------------------------------------------------
async def set_audio(
    ffmpeg: Ffmpeg,
    video: Source,
    audio: Source,
    scratch: Path,
    dest_stem: str,
    *,
    mix: bool = False,
    volume: float = 1.0,
    original_volume: float = 1.0,
    on_progress: ProgressCallback | None = None,
) -> Made:
    """`video` with the sound of `audio` instead of its own (or, with `mix`, over it), as long as
    the video: a shorter sound is followed by silence, a longer one cut. The picture is copied;
    the sound is encoded to AAC."""
    if video.probe.kind != "video" or video.probe.video_stream is None:
        raise InvalidPayload("the audio track goes on a video")
    if audio.probe.audio_stream is None:
        raise InvalidPayload("that file has no sound to use")
    for name, value in (("volume", volume), ("original_volume", original_volume)):
        if not (math.isfinite(value) and 0 <= value <= 4):
            raise InvalidPayload(f"{name} must be between 0 and 4")
    suffix = copy_suffix(video.probe)
    dest = scratch / f"{dest_stem}{suffix}"
    duration = video.probe.duration
    added = f"[1:{audio.probe.audio_stream}]volume={volume:g},apad"
    if mix and video.probe.audio_stream is not None:
        graph = (
            f"[0:{video.probe.audio_stream}]volume={original_volume:g}[a0];{added}[a1];"
            "[a0][a1]amix=inputs=2:duration=first:dropout_transition=0:normalize=0[a]"
        )
    else:
        graph = f"{added}[a]"
    async with atomic_output(dest) as temp:
        args = [
            *["-v", "error", *input_args(video.path), *input_args(audio.path)],
            *["-filter_complex", graph, "-map", f"0:{video.probe.video_stream}", "-map", "[a]"],
            *["-c:v", "copy", *AAC, "-t", seconds_arg(duration), "-sn", "-dn"],
            *[*container_args(suffix), "-y", f"file:{temp}"],
        ]
        await ffmpeg.run(
            args,
            timeout=ENCODE_BASE + duration * 2,
            duration=duration,
            on_progress=on_progress,
        )
    return Made(dest, "copy", duration)


# --- words muted or beeped, subtitles attached or burned in (issue 13: censor, subtitle) --------
BEEP_HZ = 1000
BEEP_LEVEL = 0.25  # of full scale: clearly heard, never clipping


def _audio_suffix(probe: Probe) -> str:
    return copy_suffix(probe) if probe.video_stream is not None else ".m4a"


async def silence(
    ffmpeg: Ffmpeg,
    source: Source,
    windows: Sequence[tuple[float, float]],
    scratch: Path,
    dest_stem: str,
    *,
    beep: bool = False,
    on_progress: ProgressCallback | None = None,
) -> Made:
    """`source` with its sound silenced (or, with `beep`, replaced by a 1 kHz tone) in each
    window `(start, end)` seconds. The picture is copied; the sound is encoded to AAC. A video
    keeps its container (`.mp4`, else `.mkv`); an audio file becomes `.m4a`."""
    probe = source.probe
    if probe.audio_stream is None:
        raise InvalidPayload("that file has no sound to mute")
    duration = probe.duration
    kept = sorted(
        (max(a, 0.0), min(b, duration))
        for a, b in windows
        if math.isfinite(a) and math.isfinite(b) and min(b, duration) > max(a, 0.0)
    )
    if not kept:
        raise InvalidPayload("nothing to mute: every window is outside the file")
    inside = "+".join(f"between(t,{a:.6f},{b:.6f})" for a, b in kept)
    muted = f"[0:{probe.audio_stream}]volume=0:enable='{inside}'"
    if beep:
        tone = (
            f"aevalsrc=exprs='{BEEP_LEVEL}*sin(2*PI*{BEEP_HZ}*t)*gt({inside},0)':"
            f"s={AUDIO_RATE}:d={seconds_arg(duration)}"
        )
        graph = (
            f"{muted},aresample={AUDIO_RATE}[a0];{tone}[a1];"
            "[a0][a1]amix=inputs=2:duration=first:dropout_transition=0:normalize=0[a]"
        )
    else:
        graph = f"{muted}[a]"
    suffix = _audio_suffix(probe)
    dest = scratch / f"{dest_stem}{suffix}"
    video = ["-map", f"0:{probe.video_stream}", "-c:v", "copy"]
    if probe.video_stream is None:
        video = []
    container = container_args(suffix) if suffix != ".m4a" else ["-f", "ipod"]
    async with atomic_output(dest) as temp:
        args = [
            *["-v", "error", *input_args(source.path), "-filter_complex", graph],
            *[*video, "-map", "[a]", *AAC, "-t", seconds_arg(duration), "-sn", "-dn"],
            *[*container, "-y", f"file:{temp}"],
        ]
        await ffmpeg.run(
            args, timeout=ENCODE_BASE + duration * 2, duration=duration, on_progress=on_progress
        )
    return Made(dest, "copy" if probe.video_stream is not None else "encode", duration)


async def with_subtitles(
    ffmpeg: Ffmpeg,
    source: Source,
    srt: Path,
    scratch: Path,
    dest_stem: str,
    *,
    burn: bool = False,
    style: str | None = None,
    language: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> Made:
    """`source` with the SubRip file `srt` (written by the caller in `scratch`) as a soft
    subtitle track (mov_text in MP4, SubRip in Matroska; picture and sound copied) or, with
    `burn`, drawn into the picture by libass (`force_style`: `style`, ASS style fields such as
    "Fontsize=48"), re-encoded to H.264 with the sound copied when MP4 takes it."""
    probe = source.probe
    if probe.kind != "video" or probe.video_stream is None:
        raise InvalidPayload("subtitles go on a video")
    duration = probe.duration
    audio = ["-map", f"0:{probe.audio_stream}"] if probe.audio_stream is not None else []
    if burn:
        dest = scratch / f"{dest_stem}.mp4"
        drawn = f"subtitles=filename={_filter_value(srt)}"
        if style:
            drawn += f":force_style={_filter_value(style)}"
        sound = ["-c:a", "copy"] if probe.audio_codec in MP4_AUDIO else AAC
        middle = [
            *["-map", f"0:{probe.video_stream}", *audio, "-vf", drawn, *X264],
            *[*(sound if audio else []), "-sn", "-dn", *container_args(".mp4")],
        ]
        timeout = ENCODE_BASE + duration * ENCODE_PER_SECOND
        inputs = input_args(source.path)
    else:
        suffix = ".mp4" if probe.video_codec in MP4_VIDEO else ".mkv"
        if suffix == ".mp4" and probe.audio_stream is not None:
            suffix = ".mp4" if probe.audio_codec in MP4_AUDIO else ".mkv"
        dest = scratch / f"{dest_stem}{suffix}"
        codec = "mov_text" if suffix == ".mp4" else "srt"
        tagged = ["-metadata:s:s:0", f"language={language}"] if language else []
        middle = [
            *["-map", f"0:{probe.video_stream}", *audio, "-map", "1:0", "-c:v", "copy"],
            *["-c:a", "copy", "-c:s", codec, *tagged, "-dn", *container_args(suffix)],
        ]
        timeout = COPY_BASE + probe.size / COPY_RATE
        inputs = [*input_args(source.path), "-f", "srt", "-i", f"file:{srt}"]
    async with atomic_output(dest) as temp:
        args = ["-v", "error", *inputs, *middle, "-y", f"file:{temp}"]
        await ffmpeg.run(args, timeout=timeout, duration=duration, on_progress=on_progress)
    return Made(dest, "encode" if burn else "copy", duration)


def _filter_value(value: object) -> str:
    """A value (a path, a style) written into a filter graph: escaped for the filter's option
    parser (`\\ : '`), then for the graph's (`\\ ' [ ] , ;`). Backslashes of a Windows path
    become slashes, which FFmpeg takes there too."""
    text = str(value).replace("\\", "/") if isinstance(value, Path) else str(value)
    for char in ("\\", ":", "'"):
        text = text.replace(char, "\\" + char)
    for char in ("\\", "'", "[", "]", ",", ";"):
        text = text.replace(char, "\\" + char)
    return text
