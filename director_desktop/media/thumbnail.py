"""The JPEG shown for an asset in the grid: at most 320 px wide, in the picture's shape as shown
(turned by its rotation, square pixels), taken ~10% into a video (its first frame when short),
the picture itself for an image, none for audio. Imports `errors` and this room's modules.
"""

from __future__ import annotations

from pathlib import Path

from director_desktop.errors import FfmpegFailed
from director_desktop.media.ffmpeg import Ffmpeg
from director_desktop.media.files import atomic_output, has_content
from director_desktop.media.probe import Probe, input_args

WIDTH = 320
SHORT = 2.0  # seconds: a clip shorter than this shows its first frame
AT = 0.1  # of the duration
TIMEOUT = 60.0
# Square pixels first (an anamorphic video is shown wider than it is stored), then fit the width.
SCALE = f"scale='trunc(iw*sar/2)*2':ih,setsar=1,scale='min({WIDTH},iw)':-2"


async def make_thumbnail(ffmpeg: Ffmpeg, src: Path, probe: Probe, dest: Path) -> Path | None:
    """Write the thumbnail of `src` to `dest` (whole or not at all): `dest`, or None for audio."""
    if probe.kind == "audio" or probe.video_stream is None:
        return None
    at = probe.duration * AT if probe.kind == "video" and probe.duration >= SHORT else 0.0
    async with atomic_output(dest) as temp:
        await _grab(ffmpeg, src, probe, temp, at)
        if at and not has_content(temp):
            # The seek found no picture (a video track that ends before the audio does).
            await _grab(ffmpeg, src, probe, temp, 0.0)
        if not has_content(temp):
            raise FfmpegFailed("FFmpeg found no picture to make a thumbnail of")
    return dest


async def _grab(ffmpeg: Ffmpeg, src: Path, probe: Probe, out: Path, at: float) -> None:
    seek = ["-ss", f"{at:.3f}"] if at else []
    args = [
        *["-v", "error", *seek, *input_args(src)],
        *["-map", f"0:{probe.video_stream}", "-frames:v", "1"],
        *["-vf", SCALE, "-c:v", "mjpeg", "-q:v", "4", "-f", "image2", "-update", "1"],
        *["-y", f"file:{out}"],
    ]
    await ffmpeg.run(args, timeout=TIMEOUT)
