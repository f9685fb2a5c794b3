"""Segments as both transcribers hand them over: in time order, inside the audio, words inside
their segment.

A model's times are not to be trusted blindly: whisper closes a segment with a timestamp token
it predicts, which can lie past the end of the audio (it works in 30 s windows), and servers
differ in where they put word times. Everything a transcriber answers goes through `tidy`.
Imports media/transcript.py's types only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from director_desktop.media.transcript import Segment, Word


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def tidy(segments: Iterable[Segment], duration: float) -> list[Segment]:
    """Segments sorted by start, times clamped to [0, duration], ends never before starts,
    words clamped into their segment; segments with no text, or starting at the very end of the
    audio, dropped."""
    out: list[Segment] = []
    for segment in segments:
        text = " ".join(segment.text.split())
        if not text or not (math.isfinite(segment.start) and math.isfinite(segment.end)):
            continue
        start = _clamp(segment.start, 0.0, duration)
        end = _clamp(max(segment.end, start), start, duration)
        if start >= duration and duration > 0:
            continue
        words: list[Word] = []
        for word in segment.words:
            said = word.text.strip()
            if not said or not (math.isfinite(word.start) and math.isfinite(word.end)):
                continue
            first = _clamp(word.start, start, end)
            last = _clamp(max(word.end, first), first, end)
            words.append(Word(round(first, 3), round(last, 3), said))
        out.append(Segment(round(start, 3), round(end, 3), text, tuple(words)))
    out.sort(key=lambda s: (s.start, s.end))
    return out


def shifted(segments: Iterable[Segment], offset: float) -> list[Segment]:
    """Times moved by `offset` seconds (a piece of a longer audio)."""
    return [
        Segment(
            s.start + offset,
            s.end + offset,
            s.text,
            tuple(Word(w.start + offset, w.end + offset, w.text) for w in s.words),
        )
        for s in segments
    ]


def with_words(segments: Sequence[Segment], words: Sequence[Word]) -> list[Segment]:
    """Words given apart from their segments (OpenAI answers them top-level) put into the
    segment that holds their middle, else the nearest one; a segment that had words keeps them."""
    if not segments or not words:
        return list(segments)
    owned: list[list[Word]] = [[] for _ in segments]
    for word in words:
        middle = (word.start + word.end) / 2
        best = min(
            range(len(segments)),
            key=lambda i: _distance(middle, segments[i].start, segments[i].end),
        )
        owned[best].append(word)
    return [
        s if s.words or not mine else Segment(s.start, s.end, s.text, tuple(mine))
        for s, mine in zip(segments, owned, strict=True)
    ]


def _distance(point: float, start: float, end: float) -> float:
    if start <= point <= end:
        return 0.0
    return min(abs(point - start), abs(point - end))
