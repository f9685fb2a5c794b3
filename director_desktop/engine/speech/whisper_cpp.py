"""Speech to text inside the app: whisper.cpp through the `pywhispercpp` binding, with a ggml model
file of the models folder (`ggml-base.en.bin`...).

The model loads once, on first use, in a worker thread, and stays loaded; each transcription
runs `whisper_full` in a worker thread too, so the event loop never waits on it. Cancelling the
caller sets a flag that whisper.cpp's abort callback reads between decoding steps; the
cancellation goes on once the thread has stopped, so the model is free for the next caller.
Segments come with word times built from whisper's token times (tokens that start with a space
start a word). whisper.cpp logs through one process-wide callback: every call into it holds one
lock and routes its log to Python's logging, and its error lines become the message of a
`speech_model_failed` ("invalid model data (bad magic)"). Imports the binding (the engine owns
it), numpy (the binding's audio type), `errors` and this package's helpers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import struct
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final

from director_desktop.engine.speech.audio import SAMPLE_RATE, Wav, open_wav, read_samples
from director_desktop.engine.speech.segments import tidy
from director_desktop.errors import SpeechModelFailed
from director_desktop.media.transcript import Segment, Word

log = logging.getLogger(__name__)

GGML_MAGIC: Final = 0x67676D6C
HEADER: Final = struct.Struct("<I11i")
LOG_ERROR: Final = 4  # ggml's log levels: 1 debug, 2 info, 3 warn, 4 error, 5 continued line
MAX_THREADS: Final = 4
# whisper.cpp has one log callback per process: calls into it take turns, each with its own log.
_CALLS = threading.Lock()


def _binding() -> Any:
    """The compiled binding, imported on first use: it loads whisper.cpp and ggml, which an app
    that never transcribes in-process need not pay for at start-up."""
    try:
        import _pywhispercpp  # type: ignore[import-not-found]  # the binding has no stub
    except (ImportError, OSError) as exc:  # a build without it, or its libraries missing
        raise SpeechModelFailed(f"whisper.cpp cannot run here ({exc})") from exc
    return _pywhispercpp


def whisper_file_error(path: Path) -> str | None:
    """Why `path` is not a whisper ggml model, read from its header; None when it looks like one.
    Cheap: reads 48 bytes, loads nothing."""
    try:
        with path.open("rb") as file:
            head = file.read(HEADER.size)
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if len(head) < HEADER.size:
        return "is too short to be a whisper model"
    magic, n_vocab, n_audio_ctx, n_audio_state, *rest = HEADER.unpack(head)
    if magic != GGML_MAGIC:
        gguf = head[:4] == b"GGUF"
        return "is a GGUF file, not a whisper ggml model" if gguf else "is not a whisper ggml model"
    n_mels, ftype = rest[-2], rest[-1] % 1000
    sizes = (n_vocab, n_audio_ctx, n_audio_state, *rest[:-2])
    if min(sizes) <= 0 or n_mels not in (80, 128) or not 0 <= ftype < 64:
        return "has a whisper header that makes no sense (damaged?)"
    return None


class _Log:
    """What whisper.cpp logged during one call."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def __call__(self, level: int, text: str) -> None:
        line = text.strip()
        if not line:
            return
        if level == LOG_ERROR:
            self.errors.append(line.split(": ", 1)[-1])
        log.debug("whisper.cpp: %s", line)

    def message(self) -> str:
        return "; ".join(dict.fromkeys(self.errors)) or "whisper.cpp failed"


@contextlib.contextmanager
def _whisper_call() -> Iterator[_Log]:
    pw = _binding()
    with _CALLS:
        seen = _Log()
        pw.whisper_log_set(seen)
        try:
            yield seen
        finally:
            # back to whisper.cpp's own (stderr): a Python callback left set is called without
            # the GIL while the interpreter shuts down, which aborts it
            pw.whisper_log_set(None)


class WhisperCppTranscriber:
    """A `Transcriber` (media/transcript.py) running a whisper ggml model in-process."""

    def __init__(self, model_path: Path, *, threads: int | None = None) -> None:
        self.model_path = model_path
        self.name = f"whisper.cpp ({model_path.name})"
        self._threads = threads or min(MAX_THREADS, os.cpu_count() or 1)
        self._ctx: Any = None
        self._turn = asyncio.Lock()  # one transcription at a time on one model

    async def load(self) -> None:
        """Load the model (once); `speech_model_failed` with the loader's reason."""
        if self._ctx is None:
            self._ctx = await asyncio.to_thread(self._load)

    def _load(self) -> Any:
        pw = _binding()
        problem = whisper_file_error(self.model_path)
        if problem is not None:
            raise SpeechModelFailed(f"{self.model_path.name} {problem}")
        with _whisper_call() as seen:
            ctx = pw.whisper_init_from_file_with_params(
                str(self.model_path), pw.whisper_context_default_params()
            )
        if seen.errors:  # the binding hands back a wrapper even when whisper.cpp returned NULL
            raise SpeechModelFailed(f"{self.model_path.name} did not load: {seen.message()}")
        log.info("whisper model loaded", extra={"model": self.model_path.name})
        return ctx

    async def close(self) -> None:
        async with self._turn:
            ctx, self._ctx = self._ctx, None
            if ctx is not None:
                await asyncio.to_thread(_free, ctx)

    async def transcribe(
        self,
        audio: Path,
        *,
        language: str | None = None,
        on_progress: Callable[[float], None] | None = None,
    ) -> list[Segment]:
        wav = await asyncio.to_thread(open_wav, audio)
        loop = asyncio.get_running_loop()

        def reached(seconds: float) -> None:
            if on_progress is not None and wav.duration > 0:
                loop.call_soon_threadsafe(on_progress, min(seconds / wav.duration, 1.0))

        async with self._turn:
            await self.load()
            stop = threading.Event()
            work = asyncio.ensure_future(
                asyncio.to_thread(self._run, self._ctx, wav, language, stop, reached)
            )
            try:
                segments = await asyncio.shield(work)
            except asyncio.CancelledError:
                stop.set()  # whisper.cpp stops at its next abort check
                await asyncio.wait({work})
                raise
        if on_progress is not None:
            on_progress(1.0)
        return tidy(segments, wav.duration)

    def _run(
        self,
        ctx: Any,
        wav: Wav,
        language: str | None,
        stop: threading.Event,
        reached: Callable[[float], None],
    ) -> list[Segment]:
        pw = _binding()
        import numpy as np  # the binding's audio type; loaded with it

        samples = np.frombuffer(read_samples(wav), dtype="<i2").astype(np.float32) / 32768.0
        if samples.size < SAMPLE_RATE // 5:  # whisper.cpp refuses less than ~0.1 s
            return []
        params = pw.whisper_full_default_params(
            pw.whisper_sampling_strategy.WHISPER_SAMPLING_GREEDY
        )
        params.n_threads = self._threads
        params.print_progress = params.print_realtime = params.print_timestamps = False
        params.print_special = False
        params.token_timestamps = True
        params.no_context = True
        params.language = language or ("auto" if pw.whisper_is_multilingual(ctx) else "en")

        def on_segments(ctx: Any, n_new: int, _user_data: object = None) -> None:
            last = pw.whisper_full_n_segments(ctx) - 1
            if last >= 0:
                reached(pw.whisper_full_get_segment_t1(ctx, last) / 100)

        pw.assign_new_segment_callback(params, on_segments)
        pw.assign_abort_callback(params, stop.is_set)
        with _whisper_call() as seen:
            code = pw.whisper_full(ctx, params, samples, samples.size)
            if stop.is_set():
                return []
            if code != 0:
                raise SpeechModelFailed(f"{self.model_path.name} failed ({code}): {seen.message()}")
            return _segments(ctx)


def _segments(ctx: Any) -> list[Segment]:
    pw = _binding()
    eot = pw.whisper_token_eot(ctx)
    found = []
    for i in range(pw.whisper_full_n_segments(ctx)):
        text = pw.whisper_full_get_segment_text(ctx, i).decode("utf-8", errors="replace")
        start = pw.whisper_full_get_segment_t0(ctx, i) / 100
        end = pw.whisper_full_get_segment_t1(ctx, i) / 100
        found.append(Segment(start, end, text.strip(), tuple(_words(ctx, i, eot))))
    return found


def _words(ctx: Any, segment: int, eot: int) -> Iterator[Word]:
    """The segment's words: its text tokens (not the special and timestamp ones, whose ids come
    from end-of-text on) joined until a token starting with a space; times from whisper's token
    times (centiseconds). Bytes are joined before decoding: one character may span tokens."""
    pw = _binding()
    said, start, end = b"", 0.0, 0.0
    for j in range(pw.whisper_full_n_tokens(ctx, segment)):
        token = pw.whisper_full_get_token_id(ctx, segment, j)
        if token >= eot:
            continue
        piece = pw.whisper_token_to_bytes(ctx, token)
        data = pw.whisper_full_get_token_data(ctx, segment, j)
        if piece.startswith(b" ") and said.strip():
            yield Word(start, end, said.decode("utf-8", errors="replace").strip())
            said = b""
        if not said.strip():
            start = data.t0 / 100
        said += piece
        end = max(data.t1 / 100, start)
    if said.strip():
        yield Word(start, end, said.decode("utf-8", errors="replace").strip())


def _free(ctx: Any) -> None:
    pw = _binding()
    with _whisper_call():
        pw.whisper_free(ctx)
