"""The OpenAI-compatible HTTP provider, and detection of local model servers on loopback.

Speaks `/v1/chat/completions` with `stream: true` and tools (Server-Sent Events) to Ollama,
LM Studio, llama.cpp's server, vLLM, or a cloud API with a key. The key is sent only as a Bearer
header and never appears in an error message. The one user of `httpx` in the package.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypedDict, cast
from urllib.parse import urlsplit

from director_desktop.engine.llm.base import (
    ChatMessage,
    ChatRequest,
    ProviderState,
    StreamEvent,
    ToolSpec,
)
from director_desktop.engine.llm.params import add_sampling
from director_desktop.engine.llm.stream import ChunkParser, chunk_error
from director_desktop.errors import ModelError
from director_desktop.protocol import DetectedModel, DetectedServer, ModelParams

if TYPE_CHECKING:  # imported where used: ~40 ms no launch needs (issue 17)
    import httpx

log = logging.getLogger(__name__)

DEFAULT_CONTEXT = 8192
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 300.0  # a big local model may think a long while before its first token
# Servers people run on their own machine, on their usual loopback ports.
LOCAL_SERVERS = (
    ("Ollama", 11434),
    ("LM Studio", 1234),
    ("llama.cpp server", 8080),
    ("vLLM", 8000),
    ("Jan", 1337),
    ("KoboldCpp", 5001),
)


def normalize_base_url(base_url: str) -> str:
    """`http://host:port` → `http://host:port/v1`; an explicit path (`.../v1`) is kept."""
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ModelError("the server address must look like http://host:port", code="bad_url")
    path = parts.path.rstrip("/").removesuffix("/chat/completions") or "/v1"
    return f"{parts.scheme}://{parts.netloc}{path}"


class OpenAICompatProvider:
    name = "openai"

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        context_length: int | None = None,
        params: ModelParams | None = None,
    ) -> None:
        self.base_url = normalize_base_url(base_url)
        self.model = model
        self._key = api_key or None
        self.params: ModelParams = params or {}
        """The user's model settings; the sampling ones go into each request body."""
        self._context = self.params.get("context_length", context_length)
        self._state = ProviderState(provider=self.name, model=model)
        self._client: httpx.AsyncClient | None = None
        self._check: asyncio.Task[None] | None = None
        self._failure: ModelError | None = None

    # --- lifecycle -----------------------------------------------------------------------------
    @property
    def state(self) -> ProviderState:
        self._state.context_length = self.context_length
        return self._state

    @property
    def context_length(self) -> int:
        return self._context or DEFAULT_CONTEXT

    def _http(self) -> httpx.AsyncClient:
        import httpx

        if self._client is None:
            headers = {"Authorization": f"Bearer {self._key}"} if self._key else {}
            timeout = httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT)
            self._client = httpx.AsyncClient(headers=headers, timeout=timeout, trust_env=False)
        return self._client

    async def start(self) -> None:
        if self._check is None:
            self._state.state = "loading"
            self._check = asyncio.create_task(self._connect(), name="openai-provider-check")

    async def _connect(self) -> None:
        try:
            models = await self.list_models()
        except ModelError as exc:
            self._failed(exc)
            return
        ids = [str(m.get("id")) for m in models]
        if ids and not any(i == self.model or i == f"{self.model}:latest" for i in ids):
            message = f"the server has no model {self.model!r} (it has {', '.join(ids)})"
            self._failed(ModelError(message, code="model_not_found"))
            return
        meta = next((m.get("meta") for m in models if m.get("id") == self.model), None)
        if self._context is None and isinstance(meta, dict) and meta.get("n_ctx_train"):
            self._context = int(meta["n_ctx_train"])  # llama.cpp's server tells its context
        self._state.state, self._state.error = "ready", None

    async def ready(self) -> None:
        await self.start()
        assert self._check is not None
        await asyncio.shield(self._check)
        if self._state.state == "error":
            raise self._failure or ModelError(self._state.error or "the server does not answer")

    def _failed(self, error: ModelError) -> None:
        self._failure = error
        self._state.state, self._state.error = "error", error.message

    async def close(self) -> None:
        if self._check is not None and not self._check.done():
            self._check.cancel()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # --- calls ---------------------------------------------------------------------------------
    async def list_models(self) -> list[dict[str, Any]]:
        """The server's `/models` entries, raw (each read with `.get`); ModelError when it cannot
        be reached or refuses."""
        import httpx

        try:
            response = await self._http().get(f"{self.base_url}/models", timeout=CONNECT_TIMEOUT)
        except httpx.HTTPError as exc:
            raise ModelError(f"cannot reach {self.base_url}: {type(exc).__name__}") from exc
        if response.status_code in (401, 403):
            raise ModelError("the server refused the API key", code="model_unauthorized")
        if response.status_code >= 400:
            raise ModelError(f"{self.base_url}/models answered HTTP {response.status_code}")
        try:
            data = response.json().get("data") or []
        except (ValueError, AttributeError) as exc:
            raise ModelError(f"{self.base_url} is not an OpenAI-compatible server") from exc
        return [m for m in data if isinstance(m, dict)]

    async def model_sizes(self) -> dict[str, int]:
        """Ollama's `/api/tags` sizes (bytes) by model id; empty for a server without it."""
        import httpx

        parts = urlsplit(self.base_url)
        try:
            response = await self._http().get(
                f"{parts.scheme}://{parts.netloc}/api/tags", timeout=CONNECT_TIMEOUT
            )
            models = response.json().get("models") if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError, AttributeError):
            return {}
        sizes: dict[str, int] = {}
        for entry in models if isinstance(models, list) else []:
            if not isinstance(entry, dict) or not isinstance(entry.get("size"), int):
                continue
            for key in ("model", "name"):  # Ollama sends both; /v1/models ids are `model`
                if isinstance(entry.get(key), str):
                    sizes[entry[key]] = entry["size"]
        return sizes

    async def stream_chat(
        self, messages: list[ChatMessage], tools: list[ToolSpec], *, max_tokens: int
    ) -> AsyncGenerator[StreamEvent, None]:
        import httpx

        request: ChatRequest = {
            "model": self.model,
            "messages": with_image_parts(messages),
            "stream": True,
            "max_tokens": max_tokens,
        }
        add_sampling(request, self.params)
        if tools:
            request["tools"] = tools
        parser = ChunkParser()
        try:
            async with self._http().stream(
                "POST", f"{self.base_url}/chat/completions", json=request
            ) as response:
                if response.status_code >= 400:
                    raise await _http_error(response)
                async for data in _sse_data(response):
                    for event in parser.feed(data):
                        yield event
                for event in parser.flush():
                    yield event
        except httpx.HTTPError as exc:
            # the server went away: `llm_configured` turns false, with the reason, until it answers
            self._failed(ModelError(f"{self.base_url} stopped answering: {type(exc).__name__}"))
            raise ModelError(self._state.error or "") from exc
        self._state.state, self._state.error, self._failure = "ready", None, None
        yield parser.finish()


class TextPart(TypedDict):
    type: Literal["text"]
    text: str


class ImageURL(TypedDict):
    url: str


class ImagePart(TypedDict):
    type: Literal["image_url"]
    image_url: ImageURL


def with_image_parts(messages: list[ChatMessage]) -> list[ChatMessage]:
    """Messages as the API takes them: one with attached `images` (data URLs) gets the OpenAI
    vision shape, `content: [{type: text}, {type: image_url, image_url: {url}}...]`."""
    wire: list[ChatMessage] = []
    for message in messages:
        images = message.get("images")
        if not images:
            wire.append(message)
            continue
        parts: list[TextPart | ImagePart] = [{"type": "text", "text": message["content"]}]
        parts += [{"type": "image_url", "image_url": {"url": url}} for url in images]
        plain = {k: v for k, v in message.items() if k != "images"}
        # The API's content is a string or a list of parts; ChatMessage names only the string.
        wire.append(cast(ChatMessage, {**plain, "content": parts}))
    return wire


async def _sse_data(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """The JSON objects of an SSE stream's `data:` lines, until `[DONE]`: raw chunks, which
    `ChunkParser` reads defensively."""
    async for line in response.aiter_lines():
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if payload == "[DONE]":
            return
        try:
            data = json.loads(payload)
        except ValueError as exc:
            raise ModelError("the model server sent a malformed stream") from exc
        if isinstance(data, dict):
            yield data


async def _http_error(response: httpx.Response) -> ModelError:
    body = await response.aread()
    try:
        error = json.loads(body).get("error")
    except (ValueError, AttributeError):
        error = None
    if response.status_code in (401, 403):
        return ModelError("the server refused the API key", code="model_unauthorized")
    if error is not None:
        return chunk_error(error)
    return ModelError(f"the model server answered HTTP {response.status_code}")


async def detect_local_servers(
    probe_seconds: float = 0.4,
    candidates: Sequence[tuple[str, int]] = LOCAL_SERVERS,
) -> list[DetectedServer]:
    """OpenAI-compatible servers answering on the usual loopback ports, with their models.

    Every probe runs at once with a short timeout, so this takes about `probe_seconds` at most.
    """

    async def probe(label: str, port: int) -> DetectedServer | None:
        provider = OpenAICompatProvider(f"http://127.0.0.1:{port}", "")
        try:
            models = await asyncio.wait_for(provider.list_models(), probe_seconds)
        except (ModelError, TimeoutError):
            await provider.close()
            return None
        try:
            sizes = await asyncio.wait_for(provider.model_sizes(), probe_seconds)
        except TimeoutError:
            sizes = {}  # the server answers; only its sizes are missing
        finally:
            await provider.close()
        ids = [str(m.get("id")) for m in models if m.get("id")]
        entries: list[DetectedModel] = [{"id": i, "size": sizes.get(i)} for i in ids]
        return {"name": label, "base_url": provider.base_url, "models": ids, "entries": entries}

    found = await asyncio.gather(*(probe(label, port) for label, port in candidates))
    return [server for server in found if server is not None]
