"""The embedded llama.cpp provider: a GGUF file run in-process through `xllamacpp`.

The model is loaded once on a worker thread (start-up never waits on it) and kept warm until the
provider is closed. Two things keep the rest of the app responsive meanwhile (shown by
`tests/unit/test_llamacpp_manners.py`):
- xllamacpp's `Server(...)` holds the GIL for the whole load, so the event loop would stop for
  as long as reading the file takes (0.5 s for a cold 0.5 GB file here, seconds for a real model).
  The file is read once beforehand, with the GIL released, so the load finds it in the page cache
  and holds the GIL only to set up (0.49 -> 0.13 s for that file).
- llama.cpp's compute threads run at a lower priority (`loading.COMPUTE_NICE`, Linux): they
  inherit it from the loader thread that creates them. They use every idle core, but the event
  loop, the window and the user's other programs come first; at full load on two cores they
  starved the server's clients so badly that chat acks took minutes.

Chat template and tool-call parsing come from the model file (`use_jinja`).
Generation runs on a worker thread through the direct `handle_chat_completions(request, callback)`
API; cancelling the consuming task makes the next callback return True, which stops llama.cpp.

xllamacpp's `Server` also listens on a loopback HTTP port (it always does); it gets a random API
key so no other local program can use it. Builds of xllamacpp have raised `RuntimeError` on the
direct path for output that is not valid UTF-8 (the HTTP path substitutes U+FFFD); the pinned
build substitutes U+FFFD on both (a test pins that), and should a build raise again, the rest of
such an answer is fetched over that HTTP port. With `embeddings.py`, the only user of
`xllamacpp` besides the tests.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
from collections.abc import AsyncGenerator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from director_desktop.engine.llm.base import (
    ChatMessage,
    ChatRequest,
    ProviderState,
    StreamEvent,
    TextDelta,
    ToolSpec,
)
from director_desktop.engine.llm.gguf_info import GGUFInfo, read_gguf_info
from director_desktop.engine.llm.loading import lower_thread_priority, preread, start_server
from director_desktop.engine.llm.openai_http import OpenAICompatProvider
from director_desktop.engine.llm.params import add_sampling, available_memory, fit_context
from director_desktop.engine.llm.stream import ChunkParser, ThreadChannel
from director_desktop.errors import ModelError
from director_desktop.protocol import ModelParams

log = logging.getLogger(__name__)

DEFAULT_MAX_CONTEXT = 8192
"""Context assumed before the file's header is read (`params.fit_context` decides at load)."""
_DONE = object()


class LlamaCppProvider:
    name = "embedded"

    def __init__(
        self,
        model_path: Path,
        *,
        context_length: int | None = None,
        params: ModelParams | None = None,
    ) -> None:
        self.model_path = model_path
        self.params: ModelParams = params or {}
        """The user's model settings: the load ones are read at load, the sampling ones by each
        request (the router changes them in place, no reload)."""
        self._wanted_context = self.params.get("context_length", context_length)
        self._common: Any = None
        self._state = ProviderState(provider=self.name, model=model_path.name)
        self._server: Any = None
        self._info: GGUFInfo | None = None
        self._key = secrets.token_urlsafe(24)
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="llamacpp")
        self._load: asyncio.Future[None] | None = None
        self._http: OpenAICompatProvider | None = None
        self._closed = False
        self._running: set[threading.Event] = set()

    # --- lifecycle -----------------------------------------------------------------------------
    @property
    def state(self) -> ProviderState:
        return self._state

    @property
    def context_length(self) -> int:
        return self._state.context_length or self._wanted_context or DEFAULT_MAX_CONTEXT

    @property
    def info(self) -> GGUFInfo | None:
        return self._info

    async def start(self) -> None:
        if self._closed:
            raise ModelError("the model was closed")
        if self._load is None:
            self._state.state = "loading"
            loop = asyncio.get_running_loop()
            self._load = loop.run_in_executor(self._executor, self._load_blocking)

    def _load_blocking(self) -> None:
        # Imported here, on the loader thread: an app that never loads a model never pays for
        # llama.cpp's shared library (~30 ms of start-up and ~10 MiB of memory).
        import xllamacpp

        lower_thread_priority()  # inherited by every thread llama.cpp creates from here
        try:
            info = read_gguf_info(self.model_path)
            memory = available_memory()
            context = fit_context(info, self._wanted_context, memory)
            self._common = self._params(xllamacpp, context)
            preread(self.model_path, memory)
            self._server = start_server(xllamacpp, self._common)
        except ModelError as exc:
            self._fail(exc.message)
            return
        except (RuntimeError, ValueError) as exc:
            log.warning("llama.cpp could not load %s: %s", self.model_path.name, exc)
            self._fail(
                f"llama.cpp could not load {self.model_path.name}: the file is damaged, "
                "incomplete, or of an architecture this version does not support"
            )
            return
        if self._closed:
            self._server = None
            return
        self._info = info
        self._state.context_length = context
        self._state.state, self._state.error, self._state.progress = "ready", None, 1.0
        log.info("model %s loaded (context %d)", self.model_path.name, context)

    def _fail(self, message: str) -> None:
        self._state.state, self._state.error, self._state.progress = "error", message, None

    def _params(self, xllamacpp: Any, context: int) -> Any:
        params = xllamacpp.CommonParams()
        params.model.path = str(self.model_path)
        params.n_ctx = context
        params.n_parallel = 1  # one slot owns the whole context; concurrent turns queue
        params.use_jinja = True  # chat template and tool-call grammar from the GGUF
        params.warmup = False
        params.verbosity = -1
        params.hostnames = ["127.0.0.1"]
        params.port = 0
        params.api_keys = [self._key]
        if "n_threads" in self.params:
            params.cpuparams.n_threads = self.params["n_threads"]
            params.cpuparams_batch.n_threads = self.params["n_threads"]
        if "n_gpu_layers" in self.params:  # ignored by a build without a GPU backend
            params.n_gpu_layers = self.params["n_gpu_layers"]
        return params

    @property
    def common_params(self) -> Any:
        """The `xllamacpp.CommonParams` the model was loaded with (None before the load)."""
        return self._common

    async def ready(self) -> None:
        await self.start()
        assert self._load is not None
        await asyncio.shield(self._load)
        if self._state.state != "ready":
            raise ModelError(self._state.error or "the model is not loaded", code="model_error")

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True  # no new generation starts; running ones finish (a stop ends them)
        if self._http is not None:
            await self._http.close()
        if self._load is not None and not self._load.done():
            # A load cannot be interrupted; never hold shut-down for it: the loading thread
            # drops the server itself when it finishes (see _load_blocking).
            self._executor.shutdown(wait=False, cancel_futures=True)
            return
        # xllamacpp has no stop(): dropping the last reference shuts the server down, once the
        # worker threads have let go of it.
        await asyncio.get_running_loop().run_in_executor(None, self._shutdown)

    def _shutdown(self) -> None:
        self._executor.shutdown(wait=True)
        self._server = None

    # --- generation ----------------------------------------------------------------------------
    async def stream_chat(
        self, messages: list[ChatMessage], tools: list[ToolSpec], *, max_tokens: int
    ) -> AsyncGenerator[StreamEvent, None]:
        await self.ready()
        request: ChatRequest = {
            "messages": messages,
            "stream": True,
            "max_tokens": max_tokens,
            "stream_options": {"include_usage": True},  # Finish.usage: tokens llama.cpp wrote
        }
        add_sampling(request, self.params)
        if tools:
            request["tools"] = tools
        loop = asyncio.get_running_loop()
        channel = ThreadChannel(loop)
        stop = threading.Event()
        parser = ChunkParser()
        text: list[str] = []
        self._running.add(stop)
        future = loop.run_in_executor(self._executor, self._generate, request, channel, stop)
        try:
            while True:
                for item in await channel.get_batch():
                    if item is _DONE:
                        await future
                        for event in parser.flush():
                            yield event
                        yield parser.finish()
                        return
                    if isinstance(item, RuntimeError):
                        async for event in self._continue_over_http(item, request, text, parser):
                            yield event
                        return
                    if isinstance(item, BaseException):
                        raise item
                    for event in parser.feed(item):
                        if isinstance(event, TextDelta):
                            text.append(event.text)
                        yield event
        finally:
            stop.set()
            self._running.discard(stop)

    def _generate(
        self, request: ChatRequest, channel: ThreadChannel, stop: threading.Event
    ) -> None:
        def on_chunk(chunk: Any) -> bool:
            if stop.is_set():
                return True
            channel.put(chunk)
            return False

        try:
            self._server.handle_chat_completions(request, on_chunk)
        except RuntimeError as exc:
            if "utf" in str(exc).lower():  # invalid UTF-8 output (see the module docstring)
                channel.put(exc)
            else:
                channel.put(ModelError(f"llama.cpp refused the request: {exc}"))
        except Exception as exc:
            channel.put(ModelError(f"llama.cpp refused the request: {exc}"))
        channel.put(_DONE)

    async def _continue_over_http(
        self,
        error: RuntimeError,
        request: ChatRequest,
        text: list[str],
        parser: ChunkParser,
    ) -> AsyncGenerator[StreamEvent, None]:
        """Finish an answer the direct path could not decode, over the server's own HTTP port.

        The text so far is sent as an assistant prefill, which llama.cpp continues."""
        if parser.tool_calls.calls():
            raise ModelError(f"the model wrote an undecodable tool call: {error}")
        log.info("direct llama.cpp path failed (%s); continuing over HTTP", error)
        if self._http is None:
            address = self._server.listening_address
            self._http = OpenAICompatProvider(
                address, self.model_path.name, api_key=self._key, context_length=self.context_length
            )
        messages = list(request["messages"])
        if text:
            messages.append({"role": "assistant", "content": "".join(text)})
        async for event in self._http.stream_chat(
            messages, request.get("tools") or [], max_tokens=int(request["max_tokens"])
        ):
            yield event

    def __repr__(self) -> str:
        return f"LlamaCppProvider({self.model_path.name!r}, {self._state.state})"
