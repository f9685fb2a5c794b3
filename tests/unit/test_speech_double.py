"""A local double of an OpenAI-compatible transcription server, speaking the real wire format,
for the speech tests (and the tests of this double itself).

`TranscriptionServer` is a real HTTP server on 127.0.0.1 (its own thread): `POST
/v1/audio/transcriptions` takes `multipart/form-data` as OpenAI documents it (`file`, `model`,
`response_format`, `timestamp_granularities[]` repeated, `language`), parsed with the standard
library's MIME parser; it checks that the file is the 16 kHz mono 16-bit WAV the app sends, and
answers `verbose_json` with the segments and word times the test gave it for that audio (shifted
into each piece when the audio comes in pieces), words top-level as OpenAI answers them or inside
each segment as whisper.cpp's server does. `GET /v1/models` answers a model list (or 404, as
whisper.cpp's server does). `fail_with` makes it refuse (status and body), `hold` keeps a request
waiting until the client gives up (`gave_up`) or the test releases it. Every request is recorded
(`received`; `arrived` is set at the first).

espeak-ng makes the test audio: `speak(text, path)` writes its speech as 16 kHz mono WAV with the
app's own FFmpeg (`tests/fixtures/media.py`).
"""

from __future__ import annotations

import email.parser
import email.policy
import http.server
import io
import json
import shutil
import subprocess
import threading
import time
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.media import ffmpeg

SPEECH = "Hello world. The red car drives to the market."
"""What the tests' espeak-ng audio says; the double's known transcript says it too."""


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def speak(text: str, path: Path) -> Path:
    """`text` spoken by espeak-ng, as 16 kHz mono 16-bit WAV at `path`."""
    raw = path.with_suffix(".espeak.wav")
    subprocess.run(["espeak-ng", "-w", str(raw), text], check=True, capture_output=True)
    ffmpeg("-i", str(raw), "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", str(path))
    raw.unlink()
    return path


def wav_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data), "rb") as reader:
        return reader.getnframes() / reader.getframerate()


@dataclass
class Received:
    """One transcription request as the server read it off the wire."""

    path: str
    headers: dict[str, str]
    fields: dict[str, list[str]]
    filename: str | None
    file_type: str | None
    audio: bytes
    seconds: float


@dataclass
class Script:
    """What the server answers: segments as (start, end, text, [(start, end, word), ...]) in
    seconds from the start of the *whole* audio; each request gets those that start in its
    piece, moved to the piece's time (the client says nothing of where a piece starts, so the
    server is told: `piece_seconds`)."""

    segments: list[tuple[float, float, str, list[tuple[float, float, str]]]]
    words_top_level: bool = True
    piece_seconds: float = 600.0
    language: str = "english"


def known_script(seconds: float) -> Script:
    """SPEECH as two segments over audio of `seconds`, each word given its share of the time."""
    first, second = "Hello world.", "The red car drives to the market."
    middle = seconds * 0.3
    return Script([_spread(0.1, middle, first), _spread(middle + 0.1, seconds - 0.1, second)])


def _spread(
    start: float, end: float, text: str
) -> tuple[float, float, str, list[tuple[float, float, str]]]:
    words = text.split()
    step = (end - start) / len(words)
    timed = [
        (round(start + i * step, 3), round(start + (i + 1) * step, 3), w)
        for i, w in enumerate(words)
    ]
    return (round(start, 3), round(end, 3), " " + text, timed)


@dataclass
class TranscriptionServer:
    script: Script
    api_key: str | None = None
    has_models: bool = True
    fail_with: tuple[int, str] | None = None
    hold: threading.Event | None = None
    received: list[Received] = field(default_factory=list)
    gave_up: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Event = field(default_factory=threading.Event)
    base_url: str = ""
    _pieces: int = 0

    # --- answers ------------------------------------------------------------------------------
    def answer(self, request: Received) -> dict[str, Any]:
        offset = self._pieces * self.script.piece_seconds
        self._pieces += 1
        segments, words = [], []
        for i, (start, end, text, timed) in enumerate(self.script.segments):
            if not offset <= start < offset + request.seconds:
                continue
            mine = [
                {
                    "word": " " + w if not self.script.words_top_level else w,
                    "start": round(s - offset, 3),
                    "end": round(e - offset, 3),
                }
                for s, e, w in timed
            ]
            segment: dict[str, Any] = {
                "id": i,
                "seek": 0,
                "start": round(start - offset, 3),
                "end": round(end - offset, 3),
                "text": text,
                "tokens": [50364, 2425, 1002],
                "temperature": 0.0,
                "avg_logprob": -0.2,
                "compression_ratio": 1.1,
                "no_speech_prob": 0.01,
            }
            if self.script.words_top_level:
                words += mine
            else:
                segment["words"] = [{**w, "probability": 0.9} for w in mine]
            segments.append(segment)
        answer: dict[str, Any] = {
            "task": "transcribe",
            "language": self.script.language,
            "duration": request.seconds,
            "text": "".join(s["text"] for s in segments).strip(),
            "segments": segments,
        }
        if self.script.words_top_level:
            answer["words"] = words
        return answer


def parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, list[str]], Any]:
    """The form's text fields and its `file` part, read by the standard library's MIME parser."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise ValueError("not multipart/form-data")
    fields: dict[str, list[str]] = {}
    file_part = None
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name == "file":
            file_part = part
        elif isinstance(name, str):
            fields.setdefault(name, []).append(part.get_content().strip())
    return fields, file_part


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Http

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, body: Any, content_type: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorized(self) -> bool:
        key = self.server.double.api_key
        if key is None or self.headers.get("Authorization") == f"Bearer {key}":
            return True
        error = {"message": "Incorrect API key provided", "type": "invalid_request_error"}
        self._send(401, {"error": error})
        return False

    def do_GET(self) -> None:
        double = self.server.double
        if self.path != "/v1/models" or not double.has_models:
            self._send(404, b"Not Found", "text/plain")
        elif self._authorized():
            self._send(200, {"object": "list", "data": [{"id": "whisper-1", "object": "model"}]})

    def do_POST(self) -> None:
        double = self.server.double
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path != "/v1/audio/transcriptions":
            self._send(404, {"detail": "Not Found"})
            return
        if not self._authorized():
            return
        try:
            fields, part = parse_multipart(self.headers.get("Content-Type", ""), body)
            audio = part.get_payload(decode=True) if part is not None else b""
            seconds = wav_seconds(audio)
        except (ValueError, wave.Error, EOFError) as exc:
            self._send(400, {"error": {"message": f"bad request: {exc}", "type": "invalid"}})
            return
        request = Received(
            self.path,
            dict(self.headers.items()),
            fields,
            part.get_filename() if part is not None else None,
            part.get_content_type() if part is not None else None,
            audio,
            seconds,
        )
        double.received.append(request)
        double.arrived.set()
        if double.hold is not None:
            while not double.hold.wait(0.05):
                if _client_gone(self):
                    double.gave_up.set()
                    return
        if double.fail_with is not None:
            status, text = double.fail_with
            self._send(status, text.encode(), "application/json")
            return
        self._send(200, double.answer(request))


def _client_gone(handler: _Handler) -> bool:
    """The client closed its connection (a cancelled request): the socket reads as ended."""
    import select

    readable, _, _ = select.select([handler.connection], [], [], 0)
    if not readable:
        return False
    try:
        return handler.connection.recv(1, 2) == b""  # MSG_PEEK
    except OSError:
        return True


class _Http(http.server.ThreadingHTTPServer):
    daemon_threads = True
    double: TranscriptionServer


@contextmanager
def transcription_server(script: Script, **options: Any) -> Iterator[TranscriptionServer]:
    """The double, serving on a free loopback port until the block ends."""
    double = TranscriptionServer(script, **options)
    server = _Http(("127.0.0.1", 0), _Handler)
    server.double = double
    double.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="speech-double", daemon=True)
    thread.start()
    try:
        yield double
    finally:
        if double.hold is not None:
            double.hold.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


# --- the double itself ---------------------------------------------------------------------------
def _wav(seconds: float) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(16000)
        writer.writeframes(b"\0\0" * int(seconds * 16000))
    return out.getvalue()


def test_the_double_reads_openai_multipart_and_answers_verbose_json() -> None:
    with transcription_server(known_script(3.0)) as server:
        response = httpx.post(
            f"{server.base_url}/v1/audio/transcriptions",
            data={
                "model": "whisper-1",
                "response_format": "verbose_json",
                "timestamp_granularities[]": ["segment", "word"],
            },
            files={"file": ("a.wav", _wav(3.0), "audio/wav")},
        )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert [s["text"] for s in answer["segments"]] == [
        " Hello world.",
        " The red car drives to the market.",
    ]
    assert [w["word"] for w in answer["words"]][:2] == ["Hello", "world."]
    (request,) = server.received
    assert request.fields["timestamp_granularities[]"] == ["segment", "word"]
    assert request.filename == "a.wav"
    assert request.seconds == pytest.approx(3.0)


def test_the_double_refuses_a_body_that_is_not_a_wav_form() -> None:
    with transcription_server(known_script(3.0)) as server:
        url = f"{server.base_url}/v1/audio/transcriptions"
        not_form = httpx.post(url, content=b"hello", headers={"Content-Type": "text/plain"})
        not_wav = httpx.post(url, files={"file": ("a.wav", b"RIFFxxxx", "audio/wav")})
    assert not_form.status_code == 400
    assert not_wav.status_code == 400
    assert server.received == []


def test_the_double_sees_a_client_give_up() -> None:
    hold = threading.Event()
    with transcription_server(known_script(1.0), hold=hold) as server:
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(
                f"{server.base_url}/v1/audio/transcriptions",
                files={"file": ("a.wav", _wav(1.0), "audio/wav")},
                timeout=0.3,
            )
        deadline = time.monotonic() + 5
        while not server.gave_up.is_set() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.gave_up.is_set()
