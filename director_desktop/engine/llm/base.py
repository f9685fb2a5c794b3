"""The provider seam: one streaming chat-with-tools interface every model backend speaks.

A provider turns OpenAI-style `messages` + `tools` into a stream of events: text deltas, tool calls
(complete, arguments as the raw JSON string the model wrote) and one `Finish`. Cancelling the task
that iterates the stream stops generation at once (the provider's `finally` tells its backend).
Imports `protocol` (the load state's wire shape); standard library otherwise.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any, Literal, NotRequired, Protocol, Required, TypedDict

from director_desktop.protocol import JSONSchema, ProviderStatus

LoadState = Literal["idle", "loading", "ready", "error"]


# --- the OpenAI chat API's shapes, as this app sends them ----------------------------------------
class FunctionCall(TypedDict):
    name: str
    arguments: str
    """The JSON text the model wrote (sent back as `{}` when it was not an object)."""


class ChatToolCall(TypedDict):
    """A tool call of an assistant message, as history."""

    id: str
    type: Literal["function"]
    function: FunctionCall


class ChatMessage(TypedDict):
    """An OpenAI chat message: {role, content, tool_calls?, tool_call_id?, name?}."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str
    tool_calls: NotRequired[list[ChatToolCall]]
    tool_call_id: NotRequired[str]
    name: NotRequired[str]
    images: NotRequired[list[str]]
    """`data:` URLs of images the user attached (engine/vision.py); a provider that can see
    sends them as its API's image parts, and no other provider is given any."""


class FunctionSpec(TypedDict):
    name: str
    description: str
    parameters: JSONSchema
    """The agent's JSON schema, as the agent declares it."""


class ToolSpec(TypedDict):
    """An OpenAI tool: {"type": "function", "function": {name, description, parameters}}."""

    type: Literal["function"]
    function: FunctionSpec


class SamplingFields(TypedDict, total=False):
    """The user's sampling settings as request fields (`params.sampling_fields`), llama.cpp's
    names; an absent one is the server's own default."""

    temperature: float
    top_p: float
    top_k: int
    min_p: float
    repeat_penalty: float
    stop: list[str]


class ChatRequest(SamplingFields):
    """A `/v1/chat/completions` request body (llama.cpp's direct API takes the same)."""

    model: NotRequired[str]
    messages: Required[list[ChatMessage]]
    stream: Required[bool]
    max_tokens: Required[int]
    tools: NotRequired[list[ToolSpec]]
    stream_options: NotRequired[dict[str, bool]]
    """`{"include_usage": true}`: the last chunk says how many tokens were read and written."""


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class ThinkingDelta:
    """Reasoning a thinking model wrote before its answer (`<think>` text or the server's
    `reasoning_content`): shown apart from the answer and never sent back to the model."""

    text: str


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str
    """The JSON text the model wrote; the reasoning loop parses and validates it."""


class Usage(TypedDict, total=False):
    """The server's `usage` object as it sent it: OpenAI's keys, each optional (servers differ
    in which they send, and some send more); not checked, so a reader checks a value's type."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


@dataclass(frozen=True)
class Finish:
    reason: str
    """`stop`, `tool_calls`, `length`, or what the backend said."""
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage = field(default_factory=lambda: Usage())


StreamEvent = TextDelta | ThinkingDelta | Finish


@dataclass
class ProviderState:
    """What `/config/models/status` shows about a provider."""

    provider: str
    model: str | None = None
    state: LoadState = "idle"
    error: str | None = None
    progress: float | None = None
    """0..1 while loading, when the backend reports it."""
    context_length: int | None = None

    def as_dict(self) -> ProviderStatus:
        return {
            "provider": self.provider,
            "model": self.model,
            "state": self.state,
            "error": self.error,
            "progress": self.progress,
            "context_length": self.context_length,
        }


class ChatProvider(Protocol):
    name: str

    @property
    def state(self) -> ProviderState: ...

    @property
    def context_length(self) -> int:
        """Tokens the model reads at most (prompt + answer)."""
        ...

    async def start(self) -> None:
        """Begin loading or connecting in the background; returns at once."""
        ...

    async def ready(self) -> None:
        """Wait until the provider can answer; raises ModelError when it cannot."""
        ...

    def stream_chat(
        self, messages: list[ChatMessage], tools: list[ToolSpec], *, max_tokens: int
    ) -> AsyncGenerator[StreamEvent, None]: ...

    async def close(self) -> None: ...


class ToolCallAccumulator:
    """Joins OpenAI streaming `tool_calls` deltas (by index) into complete calls."""

    def __init__(self) -> None:
        self._calls: dict[int, dict[str, str]] = {}

    def add(self, deltas: list[dict[str, Any]]) -> None:
        """`deltas`: a chunk's raw `tool_calls`, read defensively (any key may be missing)."""
        for delta in deltas:
            index = int(delta.get("index", len(self._calls)))
            call = self._calls.setdefault(index, {"id": "", "name": "", "arguments": ""})
            if delta.get("id"):
                call["id"] = str(delta["id"])
            function = delta.get("function") or {}
            if function.get("name"):
                call["name"] += str(function["name"])
            if function.get("arguments"):
                call["arguments"] += str(function["arguments"])

    def calls(self) -> list[ToolCall]:
        return [
            ToolCall(id=c["id"] or f"call_{i}", name=c["name"], arguments=c["arguments"])
            for i, c in sorted(self._calls.items())
        ]


def estimate_tokens(text: str) -> int:
    """A cheap upper-ish bound of a text's token count (~3.5 characters a token) for budgets."""
    return len(text) * 2 // 7 + 1
