"""The audio a transcriber is given: 16 kHz mono 16-bit WAV, made from a library file by FFmpeg,
and read back in pieces.

Whisper works on 16 kHz mono; both transcribers take exactly this format, so every caller (the
`transcription` agent, the indexer) extracts it the same way, in its job's staging folder. Reading
is the standard library's `wave`. Imports `errors` and the media room's FFmpeg runner.
"""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass
from pathlib import Path

from director_desktop.errors import SpeechError
from director_desktop.media.ffmpeg import Ffmpeg, ProgressCallback
from director_desktop.media.files import atomic_output
from director_desktop.media.probe import input_args

SAMPLE_RATE = 16_000
SAMPLE_WIDTH = 2  # bytes: signed 16-bit PCM
EXTRACT_BASE, EXTRACT_PER_SECOND = 120.0, 0.5  # a timeout for a hang only: decoding is fast


async def extract_speech_audio(
    ffmpeg: Ffmpeg,
    source: Path,
    dest: Path,
    *,
    stream: int | None = None,
    duration: float | None = None,
    on_progress: ProgressCallback | None = None,
) -> Path:
    """Write the audio stream `stream` of `source` (by default its first audio track) to `dest`
    as 16 kHz mono 16-bit WAV, written whole or not at all. Killed with the caller's
    cancellation, like every FFmpeg run."""
    timeout = EXTRACT_BASE + EXTRACT_PER_SECOND * (duration or 0.0)
    chosen = f"0:{stream}" if stream is not None else "0:a:0"
    async with atomic_output(dest) as temp:
        args = ["-v", "error", *input_args(source), "-map", chosen, "-vn", "-sn", "-dn"]
        args += ["-ac", "1", "-ar", str(SAMPLE_RATE), "-c:a", "pcm_s16le", "-f", "wav", "-y"]
        await ffmpeg.run(
            [*args, f"file:{temp}"], timeout=timeout, duration=duration, on_progress=on_progress
        )
    return dest


@dataclass(frozen=True)
class Wav:
    """A 16 kHz mono 16-bit WAV file, checked."""

    path: Path
    frames: int

    @property
    def duration(self) -> float:
        return self.frames / SAMPLE_RATE


def open_wav(path: Path) -> Wav:
    """The WAV at `path`, refused (`speech_failed`) unless it is 16 kHz mono 16-bit PCM."""
    try:
        with wave.open(str(path), "rb") as reader:
            shape = (reader.getframerate(), reader.getnchannels(), reader.getsampwidth())
            frames = reader.getnframes()
    except (OSError, EOFError, wave.Error) as exc:
        raise SpeechError(f"the audio to transcribe cannot be read ({exc})") from exc
    if shape != (SAMPLE_RATE, 1, SAMPLE_WIDTH):
        raise SpeechError("the audio to transcribe must be 16 kHz mono 16-bit WAV")
    return Wav(path, frames)


def pieces(wav: Wav, seconds: float) -> list[tuple[int, int]]:
    """The file cut into pieces of at most `seconds`, as (first frame, end frame); a last piece
    under a second joins the one before (whisper wants more than 0.1 s of audio)."""
    step = max(SAMPLE_RATE, int(seconds * SAMPLE_RATE))
    starts = list(range(0, wav.frames, step))
    if len(starts) > 1 and wav.frames - starts[-1] < SAMPLE_RATE:
        starts.pop()
    ends = [*starts[1:], wav.frames]
    return list(zip(starts, ends, strict=True))


def read_piece(wav: Wav, first: int, end: int) -> bytes:
    """Frames [first, end) of the file, as a WAV file of their own."""
    with wave.open(str(wav.path), "rb") as reader:
        reader.setpos(first)
        return wav_bytes(reader.readframes(end - first))


def wav_bytes(pcm: bytes) -> bytes:
    """16 kHz mono 16-bit PCM samples as a WAV file."""
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(SAMPLE_WIDTH)
        writer.setframerate(SAMPLE_RATE)
        writer.writeframes(pcm)
    return out.getvalue()


def read_samples(wav: Wav) -> bytes:
    """All the file's PCM samples (16-bit little-endian)."""
    with wave.open(str(wav.path), "rb") as reader:
        return reader.readframes(wav.frames)
