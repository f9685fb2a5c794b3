"""Speech to text through any OpenAI-compatible `/v1/audio/transcriptions` endpoint: OpenAI's,
whisper.cpp's server, faster-whisper-server (speaches), LocalAI...

One multipart POST per piece of the audio (10 minutes of 16 kHz WAV, ~19 MB: under the 25 MB a
cloud API takes), each asking for `response_format=verbose_json` with segment and word times.
Servers answer words either top-level (OpenAI) or inside each segment (whisper.cpp's server):
both are read, and top-level words are given to the segment that holds them. The request runs
in the event loop, so cancelling the caller cancels it. Failures have stable codes:
`speech_unreachable`, `speech_unauthorized` (401/403), `speech_not_found` (404),
`speech_bad_answer` (not a transcription), `speech_failed` (any other refusal). The API key is
sent only as a Bearer header and never appears in a message. Imports `httpx` (the engine owns
it), `errors`, the media room's transcript types and this package's helpers.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from director_desktop.engine.llm.openai_http import normalize_base_url
from director_desktop.engine.speech.audio import SAMPLE_RATE, open_wav, pieces, read_piece
from director_desktop.engine.speech.segments import shifted, tidy, with_words
from director_desktop.errors import (
    InvalidPayload,
    ModelError,
    SpeechBadAnswer,
    SpeechError,
    SpeechNotFound,
    SpeechUnauthorized,
    SpeechUnreachable,
)

if TYPE_CHECKING:  # imported where used: ~40 ms no launch needs (issue 17)
    import httpx
from director_desktop.media.transcript import Segment, Word

DEFAULT_MODEL: Final = "whisper-1"
PIECE_SECONDS: Final = 600.0
CONNECT_TIMEOUT: Final = 5.0
READ_TIMEOUT: Final = 1800.0  # a CPU server may take a long while over 10 minutes of speech
CHECK_TIMEOUT: Final = 5.0
MAX_SERVER_MESSAGE: Final = 200


def speech_base_url(base_url: str) -> str:
    """`http://host:port` → `http://host:port/v1`; a full `.../v1/audio/transcriptions` is cut
    back to its base. `bad_url` (invalid_payload) when it is not http(s)://host[:port][/path]."""
    raw = base_url.strip().rstrip("/").removesuffix("/audio/transcriptions")
    try:
        return normalize_base_url(raw)
    except ModelError as exc:
        raise InvalidPayload(
            "the speech server address must look like http://host:port", code="bad_url"
        ) from exc


class OpenAITranscriber:
    """A `Transcriber` (media/transcript.py) over HTTP."""

    def __init__(
        self,
        base_url: str,
        model: str = DEFAULT_MODEL,
        api_key: str | None = None,
        *,
        piece_seconds: float = PIECE_SECONDS,
        read_timeout: float = READ_TIMEOUT,
    ) -> None:
        self.base_url = speech_base_url(base_url)
        self.model = model or DEFAULT_MODEL
        self._key = api_key or None
        self._piece_seconds = piece_seconds
        self._read_timeout = read_timeout
        self.name = f"{self.base_url} ({self.model})"

    @property
    def url(self) -> str:
        return f"{self.base_url}/audio/transcriptions"

    def _client(self, read_timeout: float | None = None) -> httpx.AsyncClient:
        import httpx

        headers = {"Authorization": f"Bearer {self._key}"} if self._key else {}
        read = self._read_timeout if read_timeout is None else read_timeout
        timeout = httpx.Timeout(read, connect=CONNECT_TIMEOUT)
        return httpx.AsyncClient(headers=headers, timeout=timeout, trust_env=False)

    async def transcribe(
        self,
        audio: Path,
        *,
        language: str | None = None,
        on_progress: Callable[[float], None] | None = None,
    ) -> list[Segment]:
        wav = await asyncio.to_thread(open_wav, audio)
        parts = pieces(wav, self._piece_seconds)
        found: list[Segment] = []
        async with self._client() as client:
            for done, (first, end) in enumerate(parts):
                body = await asyncio.to_thread(read_piece, wav, first, end)
                length = (end - first) / SAMPLE_RATE
                answer = await self._post(client, body, language)
                found += shifted(parse_answer(answer, length), first / SAMPLE_RATE)
                if on_progress is not None:
                    on_progress((done + 1) / len(parts))
        return tidy(found, wav.duration)

    async def _post(self, client: httpx.AsyncClient, wav: bytes, language: str | None) -> Any:
        import httpx

        fields: dict[str, str | list[str]] = {
            "model": self.model,
            "response_format": "verbose_json",
            "timestamp_granularities[]": ["segment", "word"],
        }
        if language:
            fields["language"] = language
        try:
            response = await client.post(
                self.url, data=fields, files={"file": ("audio.wav", wav, "audio/wav")}
            )
        except httpx.TimeoutException as exc:
            raise SpeechUnreachable(f"{self.base_url} did not answer in time") from exc
        except httpx.HTTPError as exc:
            raise SpeechUnreachable(f"cannot reach {self.base_url}: {type(exc).__name__}") from exc
        if response.status_code >= 400:
            raise _refusal(response, self.url, self.model)
        try:
            return response.json()
        except ValueError as exc:
            raise SpeechBadAnswer(f"{self.url} did not answer JSON") from exc

    async def check(self) -> None:
        """A quick sign of life (no audio sent): the server answers at all, and does not refuse
        the key. Raises what `transcribe` would for an unreachable server or a refused key."""
        import httpx

        async with self._client(CHECK_TIMEOUT) as client:
            try:
                response = await client.get(f"{self.base_url}/models")
            except httpx.HTTPError as exc:
                raise SpeechUnreachable(
                    f"cannot reach {self.base_url}: {type(exc).__name__}"
                ) from exc
        if response.status_code in (401, 403):
            raise _refusal(response, self.url, self.model)


def _refusal(response: httpx.Response, url: str, model: str) -> SpeechError:
    said = _server_message(response)
    detail = f": {said}" if said else ""
    if response.status_code in (401, 403):
        return SpeechUnauthorized(f"the speech server refused the API key{detail}")
    if response.status_code == 404:
        return SpeechNotFound(
            f"{url} was not found (no OpenAI-compatible transcription endpoint there, or no "
            f"model {model!r}){detail}"
        )
    return SpeechError(f"the speech server answered HTTP {response.status_code}{detail}")


def _server_message(response: httpx.Response) -> str:
    """What the server said about its refusal: OpenAI's `{"error": {"message"}}`, FastAPI's
    `{"detail"}`, or the start of a text answer."""
    try:
        body = response.json()
    except ValueError:
        text = response.text
    else:
        error = body.get("error", body.get("detail")) if isinstance(body, dict) else body
        if isinstance(error, dict):
            error = error.get("message", error)
        text = error if isinstance(error, str) else json.dumps(error)
    text = " ".join(text.split())
    return text[:MAX_SERVER_MESSAGE]


# --- reading verbose_json ------------------------------------------------------------------------
def parse_answer(answer: Any, length: float) -> list[Segment]:
    """The segments of one verbose_json answer for a piece of `length` seconds (times from the
    piece's start). An answer with only `text` (a server that ignores verbose_json) is one
    segment over the whole piece. `speech_bad_answer` for anything else."""
    if not isinstance(answer, dict):
        raise SpeechBadAnswer("the speech server's answer is not a transcription")
    raw_segments = answer.get("segments")
    if raw_segments is None:
        text = answer.get("text")
        if not isinstance(text, str):
            raise SpeechBadAnswer("the speech server's answer has neither segments nor text")
        return [Segment(0.0, length, text.strip())] if text.strip() else []
    if not isinstance(raw_segments, list):
        raise SpeechBadAnswer("the speech server's segments are not a list")
    segments = [_segment(raw) for raw in raw_segments]
    top = answer.get("words")
    if top is None:
        return segments
    if not isinstance(top, list):
        raise SpeechBadAnswer("the speech server's words are not a list")
    return with_words(segments, [_word(raw) for raw in top])


def _segment(raw: object) -> Segment:
    if not isinstance(raw, dict):
        raise SpeechBadAnswer("a segment of the speech server's answer is not an object")
    text = raw.get("text")
    if not isinstance(text, str):
        raise SpeechBadAnswer("a segment of the speech server's answer has no text")
    words = raw.get("words") or []
    if not isinstance(words, list):
        raise SpeechBadAnswer("a segment's words are not a list")
    return Segment(
        _time(raw, "start"), _time(raw, "end"), text.strip(), tuple(_word(w) for w in words)
    )


def _word(raw: object) -> Word:
    if not isinstance(raw, dict):
        raise SpeechBadAnswer("a word of the speech server's answer is not an object")
    text = raw.get("word", raw.get("text"))
    if not isinstance(text, str):
        raise SpeechBadAnswer("a word of the speech server's answer has no text")
    return Word(_time(raw, "start"), _time(raw, "end"), text.strip())


def _time(raw: dict[str, Any], key: str) -> float:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SpeechBadAnswer(f"the speech server's answer has a {key} that is not a time")
    return float(value)
