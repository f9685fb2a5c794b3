"""What speech to text answers, and the seam every transcriber fits (issue 13).

A `Transcriber` turns an audio or video file into timestamped `Segment`s with word times. Two
kinds exist: whisper.cpp inside the app (a model file from the models folder) and any
OpenAI-compatible `/v1/audio/transcriptions` endpoint. They live in `engine/` (which owns the
model libraries and the HTTP client); the media room sees only this protocol, handed in by the
composition root. Imports nothing from the project.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Segment:
    """A line of speech: seconds from the start of the media, its text, and its words' times
    when the transcriber gives them (censoring needs them; a segment without words is cut whole)."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...] = field(default_factory=tuple)


class TranscriberSource(Protocol):
    """Where the speech to text of the moment comes from (the user's choice in Settings)."""

    async def transcriber(self) -> Transcriber | None:
        """The chosen transcriber, or None when speech to text is not set up."""
        ...


class Transcriber(Protocol):
    name: str
    """Shown to the user: "whisper.cpp (ggml-base.en.bin)", "http://127.0.0.1:8080"."""

    async def transcribe(
        self,
        audio: Path,
        *,
        language: str | None = None,
        on_progress: Callable[[float], None] | None = None,
    ) -> list[Segment]:
        """The speech in `audio` (16 kHz mono WAV made by the caller), in time order. Raises a
        `DirectorError` with a stable code when the model or the endpoint fails; cancellable."""
        ...
