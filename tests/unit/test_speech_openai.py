"""`OpenAITranscriber` against a local double of an OpenAI-compatible transcription server that
speaks the real wire format (tests/unit/test_speech_double.py): espeak-ng speech goes in as
16 kHz WAV in a multipart request, the known segments and word times come back and are read
whether the words are top-level or per segment; long audio goes in pieces whose times are put
back in place; every failure has its code; a cancelled transcription drops its request."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from pathlib import Path

import pytest

from director_desktop.engine.speech import OpenAITranscriber, speech_base_url
from director_desktop.engine.speech.openai_speech import parse_answer
from director_desktop.errors import DirectorError, InvalidPayload
from director_desktop.media.transcript import Segment
from tests.conftest import test_all
from tests.unit.test_speech_double import (
    SPEECH,
    Script,
    espeak_available,
    known_script,
    speak,
    transcription_server,
    wav_seconds,
)

KEY = "sk-test-secret-key"


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SPEECH said by espeak-ng, 16 kHz mono WAV."""
    if not espeak_available():
        if test_all():
            pytest.fail("DIRECTOR_TEST_ALL=1 but espeak-ng is missing (scripts/system-deps test)")
        pytest.skip("espeak-ng is not installed (scripts/system-deps test)")
    return speak(SPEECH, tmp_path_factory.mktemp("speech") / "speech.wav")


def seconds_of(path: Path) -> float:
    return wav_seconds(path.read_bytes())


def test_espeak_speech_reaches_the_transcript_with_its_times(speech_wav: Path) -> None:
    duration = seconds_of(speech_wav)
    script = known_script(duration)
    with transcription_server(script, api_key=KEY) as server:
        transcriber = OpenAITranscriber(server.base_url, "whisper-1", KEY)
        progress: list[float] = []
        segments = asyncio.run(
            transcriber.transcribe(speech_wav, language="en", on_progress=progress.append)
        )
    assert [s.text for s in segments] == ["Hello world.", "The red car drives to the market."]
    for got, (start, end, _text, words) in zip(segments, script.segments, strict=True):
        assert (got.start, got.end) == pytest.approx((start, end), abs=0.001)
        assert [w.text for w in got.words] == [w for _s, _e, w in words]
        assert [(w.start, w.end) for w in got.words] == [
            pytest.approx((s, e), abs=0.001) for s, e, _w in words
        ]
        assert all(got.start <= w.start <= w.end <= got.end for w in got.words)
    assert progress == [1.0]
    (request,) = server.received
    assert request.path == "/v1/audio/transcriptions"
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.fields["model"] == ["whisper-1"]
    assert request.fields["response_format"] == ["verbose_json"]
    assert request.fields["timestamp_granularities[]"] == ["segment", "word"]
    assert request.fields["language"] == ["en"]
    assert request.file_type == "audio/wav"
    assert request.seconds == pytest.approx(duration, abs=0.01)
    assert request.audio[:4] == b"RIFF"


def test_words_inside_segments_read_as_top_level_ones(speech_wav: Path) -> None:
    duration = seconds_of(speech_wav)
    top = known_script(duration)
    inside = Script(top.segments, words_top_level=False)
    found = []
    for script in (top, inside):
        with transcription_server(script) as server:
            transcriber = OpenAITranscriber(server.base_url)
            found.append(asyncio.run(transcriber.transcribe(speech_wav)))
        assert "language" not in server.received[0].fields
        assert "Authorization" not in server.received[0].headers
    assert found[0] == found[1]
    assert [len(s.words) for s in found[0]] == [2, 7]


def test_long_audio_goes_in_pieces_put_back_in_place(speech_wav: Path) -> None:
    duration = seconds_of(speech_wav)
    assert duration > 2.5, "the espeak sentence is long enough for three pieces"
    script = known_script(duration)
    script.piece_seconds = 1.0
    with transcription_server(script) as server:
        transcriber = OpenAITranscriber(server.base_url, piece_seconds=1.0)
        progress: list[float] = []
        segments = asyncio.run(transcriber.transcribe(speech_wav, on_progress=progress.append))
    assert len(server.received) == len(progress) >= 2
    assert progress[-1] == 1.0
    assert progress == sorted(progress)
    assert sum(r.seconds for r in server.received) == pytest.approx(duration, abs=0.01)
    assert [(s.start, s.text) for s in segments] == [
        (pytest.approx(start, abs=0.001), text.strip()) for start, _e, text, _w in script.segments
    ]


def test_times_past_the_end_of_the_audio_are_brought_inside(speech_wav: Path) -> None:
    duration = seconds_of(speech_wav)
    late = Script(
        [
            (
                0.5,
                duration + 20,
                " Too long.",
                [(0.5, duration + 5, "Too"), (duration + 6, duration + 9, "long.")],
            )
        ]
    )
    with transcription_server(late) as server:
        (segment,) = asyncio.run(OpenAITranscriber(server.base_url).transcribe(speech_wav))
    assert segment.end == pytest.approx(duration, abs=0.001)
    assert all(0.5 <= w.start <= w.end <= segment.end for w in segment.words)


# --- failures ------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def failure(coro: object) -> DirectorError:
    with pytest.raises(DirectorError) as caught:
        asyncio.run(coro)  # type: ignore[arg-type]
    return caught.value


def test_no_server_is_speech_unreachable(speech_wav: Path) -> None:
    transcriber = OpenAITranscriber(f"http://127.0.0.1:{free_port()}", api_key=KEY)
    error = failure(transcriber.transcribe(speech_wav))
    assert error.code == "speech_unreachable"
    assert KEY not in error.message
    assert failure(transcriber.check()).code == "speech_unreachable"


def test_a_refused_key_is_speech_unauthorized(speech_wav: Path) -> None:
    with transcription_server(known_script(1.0), api_key="the-right-key") as server:
        transcriber = OpenAITranscriber(server.base_url, api_key=KEY)
        error = failure(transcriber.transcribe(speech_wav))
        check = failure(transcriber.check())
    assert error.code == check.code == "speech_unauthorized"
    assert "Incorrect API key" in error.message
    assert KEY not in error.message


@pytest.mark.parametrize(
    ("status", "body", "code", "said"),
    [
        (403, '{"error": {"message": "forbidden here"}}', "speech_unauthorized", "forbidden here"),
        (404, '{"detail": "Model not found"}', "speech_not_found", "Model not found"),
        (500, '{"error": "the GPU caught fire"}', "speech_failed", "the GPU caught fire"),
        (413, "Payload Too Large", "speech_failed", "Payload Too Large"),
        (200, "this is not JSON", "speech_bad_answer", "did not answer JSON"),
        (200, "[1, 2, 3]", "speech_bad_answer", "not a transcription"),
        (200, '{"segments": {"a": 1}}', "speech_bad_answer", "not a list"),
        (
            200,
            '{"segments": [{"start": "0", "end": 1, "text": "x"}]}',
            "speech_bad_answer",
            "start",
        ),
        (200, '{"segments": [{"start": 0, "end": 1}]}', "speech_bad_answer", "no text"),
        (200, '{"segments": [], "words": [{"start": 0}]}', "speech_bad_answer", "word"),
        (200, '{"task": "transcribe"}', "speech_bad_answer", "neither segments nor text"),
    ],
)
def test_each_refusal_has_its_code(
    speech_wav: Path, status: int, body: str, code: str, said: str
) -> None:
    with transcription_server(known_script(1.0), fail_with=(status, body)) as server:
        error = failure(OpenAITranscriber(server.base_url).transcribe(speech_wav))
    assert error.code == code
    assert said in error.message


def test_a_server_without_the_endpoint_is_speech_not_found(speech_wav: Path) -> None:
    with transcription_server(known_script(1.0)) as server:
        transcriber = OpenAITranscriber(server.base_url + "/v2")
        error = failure(transcriber.transcribe(speech_wav))
    assert error.code == "speech_not_found"
    assert "/v2/audio/transcriptions" in error.message


def test_an_answer_with_only_text_is_one_segment_over_the_piece() -> None:
    assert parse_answer({"text": " All of it. "}, 4.0) == [Segment(0.0, 4.0, "All of it.")]
    assert parse_answer({"text": ""}, 4.0) == []


def test_the_quick_check_needs_no_model_list(speech_wav: Path) -> None:
    with transcription_server(known_script(1.0), has_models=False) as server:
        asyncio.run(OpenAITranscriber(server.base_url).check())  # a 404 there is fine
    assert server.received == []  # no audio was sent


def test_cancelling_drops_the_request(speech_wav: Path) -> None:
    hold = threading.Event()
    with transcription_server(known_script(1.0), hold=hold) as server:

        async def run() -> float:
            task = asyncio.create_task(OpenAITranscriber(server.base_url).transcribe(speech_wav))
            assert await asyncio.to_thread(server.arrived.wait, 5)
            started = time.monotonic()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return time.monotonic() - started

        assert asyncio.run(run()) < 1.0
        assert server.gave_up.wait(5), "the server saw the client go"


@pytest.mark.parametrize(
    ("given", "base"),
    [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/v1"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080/v1"),
        ("http://localhost:8000/v1/audio/transcriptions", "http://localhost:8000/v1"),
        ("https://api.example.com/openai/v1/", "https://api.example.com/openai/v1"),
    ],
)
def test_the_server_address_is_its_base(given: str, base: str) -> None:
    assert speech_base_url(given) == base


@pytest.mark.parametrize("bad", ["127.0.0.1:8080", "ftp://host", "http://", "file:///etc"])
def test_a_malformed_address_is_bad_url(bad: str) -> None:
    with pytest.raises(InvalidPayload) as caught:
        OpenAITranscriber(bad)
    assert caught.value.code == "bad_url"
