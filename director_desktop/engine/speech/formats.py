"""A transcript written out: SubRip (`.srt`), WebVTT (`.vtt`) and timestamped plain text, as the
`transcription` agent shows it and `GET /media/{asset_id}/transcript` serves it.

Pure functions of the segments; imports media/transcript.py's types only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Literal

from director_desktop.media.transcript import Segment

Format = Literal["srt", "vtt", "txt"]
FORMATS: Final[dict[str, tuple[str, str]]] = {
    "srt": ("application/x-subrip; charset=utf-8", ".srt"),
    "vtt": ("text/vtt; charset=utf-8", ".vtt"),
    "txt": ("text/plain; charset=utf-8", ".txt"),
}


def _stamp(seconds: float, separator: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _cue_text(text: str) -> str:
    """One cue's text: no blank line (it would end the cue), no `-->` (it would start one)."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line).replace("-->", "->")


def to_srt(segments: Sequence[Segment]) -> str:
    cues = [
        f"{n}\n{_stamp(s.start, ',')} --> {_stamp(s.end, ',')}\n{_cue_text(s.text)}\n"
        for n, s in enumerate(segments, start=1)
    ]
    return "\n".join(cues)


def to_vtt(segments: Sequence[Segment]) -> str:
    cues = [
        f"{_stamp(s.start, '.')} --> {_stamp(s.end, '.')}\n{_vtt_escape(_cue_text(s.text))}\n"
        for s in segments
    ]
    return "\n".join(["WEBVTT\n", *cues])


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clock(seconds: float) -> str:
    """A time for people: "0:42", "1:02:05"."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def to_text(segments: Sequence[Segment]) -> str:
    """One line per segment: `[0:42] what was said`."""
    return "".join(f"[{clock(s.start)}] {' '.join(s.text.split())}\n" for s in segments)


def render(segments: Sequence[Segment], kind: Format) -> str:
    if kind == "srt":
        return to_srt(segments)
    if kind == "vtt":
        return to_vtt(segments)
    return to_text(segments)
