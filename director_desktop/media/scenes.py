"""Shot cuts by FFmpeg's scene detection, with one thumbnail per scene (issue 13).

One FFmpeg run decodes the video once: each frame is scaled to thumbnail size, and FFmpeg's
`select` scores how much it differs from the one before (`scene`, 0..1). A frame scoring above
the threshold starts a scene; it and the first frame are written as JPEG thumbnails named by
their time in milliseconds (`-frame_pts` against a 1 ms encoder time base), so the files
themselves are the list of cuts: no log to parse, however many cuts a film has.

The score is taken on RGB, not on FFmpeg's default luma plane: a cut between two colours of the
same brightness (red to green) has no luma difference at all. A second output gets every tenth
frame, so `-progress` moves with the decoding rather than only at cuts.

Decoding is most of the cost, so frames no other frame refers to (most B-frames) are not decoded
(`-skip_frame noref`): half the decoding of a typical H.264 file. A cut is then found at the
first decoded frame of the new shot, never before it and at most the run of skipped frames after
it (two frames with x264's defaults; encoders usually start a shot with a reference frame anyway).
The loop (deblocking) filter is skipped too, and the decoder may take its fast, not bit-exact
paths (`FAST_DECODE`): the frames are scaled down to 320 px and compared, where a little
blockiness changes no cut.

An index's thumbnails move from the job's staging into `<media>/<asset id>/scenes-<job id>/`
(`keep_thumbnails`); the folders of earlier indexes go once the new one is stored
(`drop_thumbnails`). Imports `errors`, `store` (the record type) and this room's modules.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from director_desktop.errors import InvalidPayload
from director_desktop.media.ffmpeg import Ffmpeg, ProgressCallback
from director_desktop.media.probe import Probe, input_args
from director_desktop.store import SceneRecord

FOLDER_PREFIX = "scenes-"
"""An index's thumbnails live in `<media>/<asset id>/scenes-<job id>/`, one folder per index."""
THRESHOLD = 0.3
"""The `scene` score above which a frame starts a new scene."""
MIN_SCENE = 0.5
"""Seconds: a cut closer than this to the one before, or to the end, is a flash, not a shot."""
WIDTH = 320
FAST_DECODE = ("-skip_loop_filter", "all", "-flags2", "fast")
"""Decoder shortcuts for a picture only looked at 320 px wide: no deblocking filter, and the
decoder's non-bit-exact fast paths (H.264: ~20-30% less decoding; a cut is no less a cut)."""
TICK_EVERY = 10  # frames between the progress output's frames


@dataclass(frozen=True)
class Scene:
    start: float
    end: float
    thumbnail: Path | None
    """A JPEG of the scene's first frame, at most 320 px wide, in the picture's shape."""


def scene_filter(stream: int, threshold: float) -> str:
    """The filter graph: `[cuts]` the first frame and every cut's, `[tick]` the progress."""
    # Square pixels (an anamorphic picture is shown wider than it is stored), at most 320 px wide
    # (as the asset's own thumbnail); turned as shown (FFmpeg applies the rotation first).
    width = f"'min({WIDTH},2*trunc(iw*sar/2))'"
    scale = f"scale=w={width}:h='2*trunc(ow*ih/(iw*sar)/2)':flags=fast_bilinear,setsar=1"
    select = rf"select='eq(n\,0)+gt(scene\,{threshold:.3f})'"
    tick = rf"select='not(mod(n\,{TICK_EVERY}))',scale=2:2"
    return f"[0:{stream}]{scale},format=rgb24,split[a][b];[a]{select}[cuts];[b]{tick}[tick]"


async def detect_scenes(
    ffmpeg: Ffmpeg,
    src: Path,
    probe: Probe,
    out_dir: Path,
    *,
    threshold: float = THRESHOLD,
    min_scene: float = MIN_SCENE,
    on_progress: ProgressCallback | None = None,
) -> list[Scene]:
    """The scenes of `src`'s picture, in order, covering its whole duration, each with its
    thumbnail in `out_dir` (made, and meant to be a job's staging). No picture: no scenes."""
    if probe.video_stream is None or probe.kind != "video":
        return []
    if not 0 < threshold < 1:
        raise InvalidPayload("the scene threshold is between 0 and 1")
    await asyncio.to_thread(out_dir.mkdir, parents=True, exist_ok=True)
    args = [
        *["-v", "error", "-skip_frame", "noref", *FAST_DECODE, *input_args(src)],
        *["-filter_complex", scene_filter(probe.video_stream, threshold)],
        *["-map", "[cuts]", "-fps_mode", "passthrough", "-enc_time_base:v", "1:1000"],
        *["-c:v", "mjpeg", "-q:v", "4", "-f", "image2", "-frame_pts", "1"],
        *["-y", "file:" + str(out_dir).replace("%", "%%") + os.sep + "%d.jpg"],
        *["-map", "[tick]", "-c:v", "wrapped_avframe", "-f", "null", "-"],
    ]
    await ffmpeg.run(
        args, timeout=timeout_for(probe.duration), duration=probe.duration, on_progress=on_progress
    )
    return await asyncio.to_thread(_scenes, out_dir, probe.duration, min_scene)


def timeout_for(duration: float) -> float:
    """Decoding a whole video: generous (a 4K HEVC file on a slow laptop decodes near real
    time), but bounded, so a file that makes FFmpeg hang is stopped."""
    return 120.0 + 4.0 * duration


def _scenes(out_dir: Path, duration: float, min_scene: float) -> list[Scene]:
    starts: list[tuple[float, Path]] = []
    for entry in os.scandir(out_dir):
        stem, dot, suffix = entry.name.partition(".")
        if dot and suffix == "jpg" and stem.lstrip("-").isdigit():
            starts.append((max(0, int(stem)) / 1000, Path(entry.path)))
    starts.sort()
    kept: list[tuple[float, Path]] = []
    for at, thumbnail in starts:
        too_close = kept and (at - kept[-1][0] < min_scene or duration - at < min_scene)
        if too_close:
            thumbnail.unlink(missing_ok=True)
        else:
            kept.append((0.0 if not kept else at, thumbnail))  # the first scene starts at 0
    ends = [at for at, _ in kept[1:]] + [max(duration, kept[-1][0] if kept else 0.0)]
    return [
        Scene(round(start, 3), round(end, 3), thumbnail)
        for (start, thumbnail), end in zip(kept, ends, strict=True)
    ]


async def keep_thumbnails(
    scenes: list[Scene], asset_dir: Path, job_id: str
) -> tuple[str, list[SceneRecord]]:
    """Move the scenes' thumbnails (all in one staging folder) into the asset's folder, as the
    folder of the index `job_id` makes: its name, and the scenes as the store keeps them
    (thumbnails relative to the media folder)."""
    folder = f"{FOLDER_PREFIX}{job_id}"
    thumbnails = {scene.thumbnail.parent for scene in scenes if scene.thumbnail is not None}
    if thumbnails:
        [staged] = thumbnails
        await asyncio.to_thread(asset_dir.mkdir, parents=True, exist_ok=True)
        await asyncio.to_thread(shutil.move, staged, asset_dir / folder)
    records = [
        SceneRecord(
            n,
            scene.start,
            scene.end,
            f"{asset_dir.name}/{folder}/{scene.thumbnail.name}" if scene.thumbnail else None,
        )
        for n, scene in enumerate(scenes)
    ]
    return folder, records


def drop_thumbnails(asset_dir: Path, *, keep: str) -> None:
    """Remove the thumbnail folders of the asset's earlier indexes (blocking)."""
    try:
        entries = list(asset_dir.iterdir())
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(FOLDER_PREFIX) and entry.name != keep:
            shutil.rmtree(entry, ignore_errors=True)
