"""Shared stream plumbing: a worker-thread → event-loop channel and OpenAI chunk parsing.

`ThreadChannel` wakes the event loop at most once per batch of chunks: a small model makes
thousands of tokens a second, and one `call_soon_threadsafe` per token would cost more than the
tokens. `ChunkParser` turns OpenAI `chat.completion.chunk` dicts (llama.cpp's direct callback and
any `/v1/chat/completions` SSE stream) into provider events. Imports `errors` and the provider
seam (`base`); standard library otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from typing import Any

from director_desktop.engine.llm.base import (
    Finish,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolCallAccumulator,
    Usage,
)
from director_desktop.engine.llm.thinking import ThinkSplitter
from director_desktop.errors import ModelError


class ContextOverflow(ModelError):
    """The prompt does not fit the model's context; the loop trims harder and asks again."""

    code = "context_overflow"

    def __init__(self, message: str, *, prompt_tokens: int | None, context: int | None) -> None:
        super().__init__(message)
        self.prompt_tokens = prompt_tokens
        self.context = context


class ThreadChannel:
    """Items put by one worker thread, taken in batches by one coroutine."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._items: deque[Any] = deque()
        self._lock = threading.Lock()
        self._wake_pending = False
        self._waiter: asyncio.Future[None] | None = None

    def put(self, item: Any) -> None:
        """Called from the worker thread."""
        with self._lock:
            self._items.append(item)
            if self._wake_pending:
                return
            self._wake_pending = True
        # a closed loop means nobody is listening any more
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        with self._lock:
            self._wake_pending = False
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def get_batch(self) -> list[Any]:
        while True:
            with self._lock:
                if self._items:
                    items = list(self._items)
                    self._items.clear()
                    return items
                self._waiter = self._loop.create_future()
            await self._waiter


class ChunkParser:
    """OpenAI streaming chunks → TextDelta / ThinkingDelta events and a final Finish.

    Thinking arrives two ways: as `reasoning_content` (llama.cpp's server with a reasoning
    format, DeepSeek's API, LM Studio) or as `<think>` tags inside `content` (Ollama, servers
    that pass the model's text through); both become ThinkingDelta."""

    def __init__(self) -> None:
        self.think = ThinkSplitter()
        self.tool_calls = ToolCallAccumulator()
        self.finish_reason: str | None = None
        self.usage: Usage = {}

    def feed(self, chunk: dict[str, Any]) -> list[StreamEvent]:
        """One raw chunk as the server sent it (unchecked: every key is read defensively)."""
        if "error" in chunk:
            raise chunk_error(chunk["error"])
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        events: list[StreamEvent] = []
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            if reasoning:
                events.append(ThinkingDelta(str(reasoning)))
            if delta.get("content"):
                events += _events(self.think.feed(str(delta["content"])))
            if delta.get("tool_calls"):
                self.tool_calls.add(delta["tool_calls"])
            if choice.get("finish_reason"):
                self.finish_reason = str(choice["finish_reason"])
        return events

    def flush(self) -> list[StreamEvent]:
        """Text held back at the end of the stream (it looked like the start of a tag)."""
        return _events(self.think.finish())

    def finish(self) -> Finish:
        calls = self.tool_calls.calls()
        reason = self.finish_reason or ("tool_calls" if calls else "stop")
        return Finish(reason=reason, tool_calls=calls, usage=self.usage)


def _events(pieces: list[tuple[str, str]]) -> list[StreamEvent]:
    return [TextDelta(text) if kind == "answer" else ThinkingDelta(text) for kind, text in pieces]


def chunk_error(error: object) -> ModelError:
    """An OpenAI-style `{"error": {...}}` body as a ModelError (context overflow recognised)."""
    if not isinstance(error, dict):
        return ModelError(f"the model answered with an error: {error}")
    message = str(error.get("message") or "the model answered with an error")
    kind = str(error.get("type") or error.get("code") or "")
    if "context" in kind or ("context" in message.lower() and "exceed" in message.lower()):
        prompt = error.get("n_prompt_tokens")
        context = error.get("n_ctx")
        return ContextOverflow(
            message,
            prompt_tokens=prompt if isinstance(prompt, int) else None,
            context=context if isinstance(context, int) else None,
        )
    return ModelError(f"the model answered with an error: {message}")
