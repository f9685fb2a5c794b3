"""Subtitles for the media index (issue 13): a file's embedded text tracks, extracted by FFmpeg,
and the `.srt`/`.vtt` files beside a file referenced in place, all parsed by pysubs2.

Embedded tracks are converted to SubRip by one FFmpeg run (every text track at once, one read of
the file); picture-based tracks (DVD, Blu-ray PGS, DVB) hold no text and are skipped, with a note.
A sidecar belongs to a video when its name is the video's plus a suffix: `Film.srt`,
`Film.en.srt`, `Film.forced.vtt` beside `Film.mkv`. Only a referenced file has neighbours: an
owned one was copied into the library alone. `pysubs2` is imported here and nowhere else.
Imports `errors` and this room's modules.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from director_desktop.media.ffmpeg import Ffmpeg
from director_desktop.media.probe import Probe, input_args

# FFmpeg's text subtitle decoders (converted to SubRip); any other track is pictures.
TEXT_CODECS: Final = frozenset(
    {
        "mov_text",
        "subrip",
        "srt",
        "ass",
        "ssa",
        "webvtt",
        "text",
        "microdvd",
        "subviewer",
        "subviewer1",
        "jacosub",
        "realtext",
        "sami",
        "stl",
        "mpl2",
        "pjs",
        "vplayer",
    }
)
SIDECAR_SUFFIXES: Final = {".srt": "srt", ".vtt": "vtt"}
MAX_SIDECAR: Final = 16 * 1024 * 1024  # bytes: a subtitle file is text, a few hundred KiB
READ_RATE: Final = 20e6  # bytes/s given to FFmpeg for reading the whole file, beyond a minute
_VTT_BLOCKS: Final = ("NOTE", "STYLE", "REGION")


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str
    """Plain text (styling removed), its lines joined by spaces."""


@dataclass(frozen=True)
class SubtitleTrack:
    label: str
    """"0:eng" (the file's first subtitle track, in English), or the sidecar's file name."""
    cues: list[Cue]


@dataclass(frozen=True)
class Subtitles:
    tracks: list[SubtitleTrack]
    notes: list[str]
    """What could not be read, in words for the user."""


async def embedded(ffmpeg: Ffmpeg, src: Path, probe: Probe, work_dir: Path) -> Subtitles:
    """The text subtitle tracks inside `src`, each converted to SubRip in `work_dir`."""
    wanted = [
        (n, track) for n, track in enumerate(probe.subtitle_tracks) if track.codec in TEXT_CODECS
    ]
    notes = [
        f"subtitle track {n + 1} ({track.codec}) is pictures, not text: not indexed"
        for n, track in enumerate(probe.subtitle_tracks)
        if track.codec not in TEXT_CODECS
    ]
    if not wanted:
        return Subtitles([], notes)
    await asyncio.to_thread(work_dir.mkdir, parents=True, exist_ok=True)
    outputs: list[str] = []
    for n, _ in wanted:
        target = work_dir / f"track-{n}.srt"
        outputs += ["-map", f"0:s:{n}", "-c:s", "srt", "-f", "srt", "-y", f"file:{target}"]
    await ffmpeg.run(
        ["-v", "error", *input_args(src), *outputs], timeout=60.0 + probe.size / READ_RATE
    )
    tracks = []
    for n, track in wanted:
        text = await asyncio.to_thread(_read_text, work_dir / f"track-{n}.srt")
        tracks.append(SubtitleTrack(f"{n}:{track.language or 'und'}", parse(text, "srt")))
    return Subtitles(tracks, notes)


def sidecar_files(video: Path) -> list[Path]:
    """The `.srt`/`.vtt` files beside `video` whose names start with its name, sorted."""
    stem = video.stem.casefold()
    try:
        entries = list(os.scandir(video.parent))
    except OSError:
        return []
    found = []
    for entry in entries:
        path = Path(entry.path)
        name = path.name.casefold()
        if path.suffix.casefold() not in SIDECAR_SUFFIXES or not name.startswith(stem + "."):
            continue
        try:
            if entry.is_file() and entry.stat().st_size <= MAX_SIDECAR:
                found.append(path)
        except OSError:
            continue
    return sorted(found)


def read_sidecars(video: Path) -> Subtitles:
    """The sidecars of `video`, parsed (blocking: run it in a thread)."""
    import pysubs2  # on first use: ~25 ms a launch need not wait for

    tracks, notes = [], []
    for path in sidecar_files(video):
        try:
            text = _read_text(path)
            cues = parse(text, SIDECAR_SUFFIXES[path.suffix.casefold()])
        except (OSError, ValueError, pysubs2.Pysubs2Error) as exc:
            notes.append(f"the subtitle file {path.name} could not be read ({type(exc).__name__})")
            continue
        tracks.append(SubtitleTrack(path.name, cues))
    return Subtitles(tracks, notes)


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Older subtitle files are often Windows-1252 (a byte it lacks becomes U+FFFD).
        return raw.decode("cp1252", errors="replace")


def parse(text: str, format_: str) -> list[Cue]:
    """The cues of a SubRip (`srt`) or WebVTT (`vtt`) text in time order, empty ones left out."""
    import pysubs2

    if not text.strip():
        return []
    if format_ == "vtt":
        text = _without_vtt_blocks(text)
    subs = pysubs2.SSAFile.from_string(text, format_=format_)
    cues = []
    for event in subs.events:
        if event.is_comment or event.is_drawing:
            continue
        words = " ".join(event.plaintext.split())
        if words and event.end >= event.start >= 0:
            cues.append(Cue(event.start / 1000, event.end / 1000, words))
    cues.sort(key=lambda cue: (cue.start, cue.end))
    return cues


def _without_vtt_blocks(text: str) -> str:
    """WebVTT without its NOTE, STYLE and REGION blocks, which pysubs2 would read as text."""
    blocks = text.replace("\r\n", "\n").split("\n\n")
    kept = [block for block in blocks if not block.lstrip("\n").startswith(_VTT_BLOCKS)]
    return "\n\n".join(kept)
