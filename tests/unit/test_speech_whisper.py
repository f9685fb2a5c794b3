"""`WhisperCppTranscriber`: whisper.cpp in-process through pywhispercpp, on a tiny random-weight
whisper model the tests write (tests/fixtures/tiny_whisper.py) and espeak-ng speech.

Random weights say nothing true: these tests assert that the file loads, runs on the audio, and
answers segments (with word times) inside the audio's duration — never the words. The one test
of the words needs a real model: it runs only when `DIRECTOR_TEST_WHISPER_MODEL` names a whisper
ggml file (none can be downloaded here), the one test exempt from DIRECTOR_TEST_ALL."""

from __future__ import annotations

import asyncio
import os
import re
import struct
import time
from pathlib import Path

import pytest

from director_desktop.engine.speech import WhisperCppTranscriber, whisper_file_error
from director_desktop.errors import DirectorError
from director_desktop.media.transcript import Segment
from tests.conftest import test_all
from tests.fixtures.media import ffmpeg
from tests.fixtures.tiny_whisper import write_tiny_whisper
from tests.unit.test_speech_double import SPEECH, espeak_available, speak, wav_seconds

REAL_MODEL = "DIRECTOR_TEST_WHISPER_MODEL"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("whisper")


@pytest.fixture(scope="module")
def tiny_model(folder: Path) -> Path:
    return write_tiny_whisper(folder / "ggml-tiny-random.bin")


@pytest.fixture(scope="module")
def speech_wav(folder: Path) -> Path:
    if not espeak_available():
        if test_all():
            pytest.fail("DIRECTOR_TEST_ALL=1 but espeak-ng is missing (scripts/system-deps test)")
        pytest.skip("espeak-ng is not installed (scripts/system-deps test)")
    return speak(SPEECH, folder / "speech.wav")


def padded(speech: Path, seconds: float, dest: Path) -> Path:
    """`speech` followed by silence up to `seconds`, 16 kHz mono WAV."""
    ffmpeg("-i", str(speech), "-af", f"apad=whole_dur={seconds}", "-ac", "1", "-ar", "16000",
           "-c:a", "pcm_s16le", str(dest))  # fmt: skip
    return dest


def check_inside(segments: list[Segment], duration: float) -> None:
    assert segments, "the tiny model answers at least one segment"
    for segment in segments:
        assert 0.0 <= segment.start <= segment.end <= duration
        assert segment.text
        for word in segment.words:
            assert segment.start <= word.start <= word.end <= segment.end
            assert word.text
    assert [s.start for s in segments] == sorted(s.start for s in segments)


def test_the_tiny_model_is_a_whisper_file(tiny_model: Path) -> None:
    assert whisper_file_error(tiny_model) is None
    assert tiny_model.stat().st_size < 8 * 1024 * 1024


def test_it_loads_and_transcribes_espeak_speech_inside_the_audio(
    tiny_model: Path, speech_wav: Path
) -> None:
    duration = wav_seconds(speech_wav.read_bytes())
    transcriber = WhisperCppTranscriber(tiny_model)
    assert transcriber.name == "whisper.cpp (ggml-tiny-random.bin)"
    progress: list[float] = []

    async def run() -> list[Segment]:
        try:
            await transcriber.load()
            return await transcriber.transcribe(speech_wav, on_progress=progress.append)
        finally:
            await transcriber.close()

    started = time.monotonic()
    segments = asyncio.run(run())
    assert time.monotonic() - started < 30
    check_inside(segments, duration)
    assert any(s.words for s in segments), "word times come from whisper's token times"
    assert progress[-1] == 1.0
    assert all(0.0 <= f <= 1.0 for f in progress)


def test_every_30_second_window_is_transcribed_inside_the_audio(
    tiny_model: Path, speech_wav: Path, folder: Path
) -> None:
    long_wav = padded(speech_wav, 45.0, folder / "long.wav")
    transcriber = WhisperCppTranscriber(tiny_model)

    async def run() -> list[Segment]:
        try:
            return await transcriber.transcribe(long_wav, language="en")
        finally:
            await transcriber.close()

    segments = asyncio.run(run())
    check_inside(segments, 45.0)
    assert any(s.start >= 30.0 for s in segments), "the second window has its segments"


def test_cancelling_stops_whisper_and_frees_the_model(
    tiny_model: Path, speech_wav: Path, folder: Path
) -> None:
    long_wav = padded(speech_wav, 600.0, folder / "ten-minutes.wav")
    transcriber = WhisperCppTranscriber(tiny_model)

    async def run() -> tuple[float, list[Segment]]:
        first = asyncio.Event()
        task = asyncio.create_task(
            transcriber.transcribe(long_wav, on_progress=lambda _f: first.set())
        )
        await asyncio.wait_for(first.wait(), 30)
        started = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        stopped = time.monotonic() - started
        try:
            return stopped, await transcriber.transcribe(speech_wav)  # the model is free again
        finally:
            await transcriber.close()

    stopped, after = asyncio.run(run())
    assert stopped < 2.0
    check_inside(after, wav_seconds(speech_wav.read_bytes()))


def test_plain_random_weights_load_too(folder: Path) -> None:
    path = write_tiny_whisper(folder / "ggml-unshaped.bin", shaped=False)
    transcriber = WhisperCppTranscriber(path)

    async def run() -> None:
        await transcriber.load()
        await transcriber.close()

    asyncio.run(run())


# --- files that are not whisper models -----------------------------------------------------------
def load_error(path: Path) -> DirectorError:
    with pytest.raises(DirectorError) as caught:
        asyncio.run(WhisperCppTranscriber(path).load())
    assert caught.value.code == "speech_model_failed"
    return caught.value


def test_a_truncated_model_fails_with_the_loaders_reason(tiny_model: Path, folder: Path) -> None:
    cut = folder / "ggml-cut.bin"
    cut.write_bytes(tiny_model.read_bytes()[: tiny_model.stat().st_size * 2 // 3])
    assert whisper_file_error(cut) is None  # the header is whole: only the loader can tell
    error = load_error(cut)
    assert error.message.startswith("ggml-cut.bin did not load: ")
    assert "not all tensors loaded" in error.message or "failed to load model" in error.message


def test_a_tensor_of_the_wrong_shape_fails_with_the_loaders_reason(folder: Path) -> None:
    wrong = write_tiny_whisper(folder / "ggml-wrong.bin")
    data = bytearray(wrong.read_bytes())
    name = b"encoder.conv1.weight"
    at = data.index(name)
    # its dims, innermost first, sit just before its name: claim 81 mel bands instead of 80
    dims = struct.unpack_from("<3i", data, at - 12)
    struct.pack_into("<3i", data, at - 12, dims[0], dims[1] + 1, dims[2])
    wrong.write_bytes(bytes(data))
    error = load_error(wrong)
    assert "tensor 'encoder.conv1.weight' has wrong size" in error.message
    assert "[3, 81, 32], expected: [3, 80, 32]" in error.message


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"GGUF" + bytes(60), "is a GGUF file, not a whisper ggml model"),
        (bytes(range(256)) * 4, "is not a whisper ggml model"),
        (b"lmgg", "is too short to be a whisper model"),
        (struct.pack("<I11i", 0x67676D6C, 51864, 1500, 0, 6, 4, 448, 384, 6, 4, 80, 1), "header"),
    ],
)
def test_a_file_that_is_no_whisper_model_is_refused_before_loading(
    folder: Path, content: bytes, reason: str
) -> None:
    path = folder / "ggml-not.bin"
    path.write_bytes(content)
    assert reason in (whisper_file_error(path) or "")
    assert reason in load_error(path).message


# --- a real model, when one is given -------------------------------------------------------------
def test_a_real_model_hears_the_words_of_espeak_speech(speech_wav: Path) -> None:
    """Exempt from DIRECTOR_TEST_ALL: no whisper model can be downloaded on the test machines,
    so this runs only where `DIRECTOR_TEST_WHISPER_MODEL` names one (ggml-base.en.bin, say)."""
    model = os.environ.get(REAL_MODEL)
    if not model or not Path(model).is_file():
        pytest.skip(f"{REAL_MODEL} names no whisper model file (none can be downloaded here)")
    transcriber = WhisperCppTranscriber(Path(model))

    async def run() -> list[Segment]:
        try:
            return await transcriber.transcribe(speech_wav, language="en")
        finally:
            await transcriber.close()

    segments = asyncio.run(run())
    check_inside(segments, wav_seconds(speech_wav.read_bytes()))
    heard = set(re.findall(r"[a-z]+", " ".join(s.text for s in segments).lower()))
    said = set(re.findall(r"[a-z]+", SPEECH.lower()))
    assert len(heard & said) >= 0.7 * len(said), f"heard {sorted(heard)}"
    words = [w.text for s in segments for w in s.words]
    assert words, "word times"
