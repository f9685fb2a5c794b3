"""The agents' model handle: the chat model the user chose, for agents that read or write text
with it (`summarize_video`, `prompt_clip`, `subtitle`'s translation), and how they fit their
material into its context.

`AgentModel` is late-bound: the agents are built before the model router, so the composition root
`attach`es the router's current provider once it exists (no model chosen: the built-in assistant
answers turns and `provider()` is None). `ask` makes one call and collects its text, tool calls
and usage. `pieces` packs a list of texts (transcript lines) into chunks that each fit a prompt
budget (`context_budget`'s estimate); `within_context` runs a chunked task and, when the server
says a prompt did not fit after all (a tokenizer denser than the estimate), packs again to the
smaller budget the server's figures give, as the reasoning loop does. Imports the llm seam,
`context_budget`, `errors` and `protocol`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Final, NotRequired, TypedDict, TypeVar

from director_desktop.engine.context_budget import after_overflow, answer_budget, count_tokens
from director_desktop.engine.llm.base import (
    ChatMessage,
    ChatProvider,
    Finish,
    TextDelta,
    ToolCall,
    ToolSpec,
    Usage,
    estimate_tokens,
)
from director_desktop.engine.llm.stream import ContextOverflow
from director_desktop.errors import ModelError
from director_desktop.protocol import JSONSchema

T = TypeVar("T")

ANSWER_TOKENS: Final = 512
"""Tokens an agent's call may answer with (at most a quarter of a small context)."""
RETRIES: Final = 3
LINE_CUT: Final = "…"


class ToolAnswer(TypedDict, total=False):
    """A forced tool's arguments as the model wrote them. The agents' tools (`choose_lines`,
    `subtitle_lines`) answer `lines`, a list; it is not checked here, each agent reads what
    it can of it."""

    lines: object


@dataclass
class Reply:
    text: str
    calls: list[ToolAnswer]
    """The tool calls' answers, parsed (a call whose arguments are not a JSON object: {})."""
    prompt_tokens: int
    """The prompt's estimated size (`context_budget.count_tokens`)."""
    usage: Usage = field(default_factory=lambda: Usage())
    """The server's own count, when it sent one."""


class CallCost(TypedDict):
    """One call: its prompt's estimated size, the answer's limit, and the server's count."""

    prompt_tokens: int
    max_tokens: int
    served_prompt_tokens: NotRequired[int]


class CallsReport(TypedDict):
    """`Calls` in an agent's result: the context, the last prompt budget, each call's cost
    and the prompts packed again."""

    context: int
    budget: int
    calls: list[CallCost]
    overflows: int


@dataclass
class Calls:
    """What an agent's model calls cost, for its result (and the tests)."""

    context: int
    budget: int = 0
    made: list[CallCost] = field(default_factory=list)
    overflows: int = 0
    """Prompts the server found too long (the estimate was low): packed again smaller."""

    def record(self, reply: Reply, max_tokens: int) -> None:
        entry: CallCost = {"prompt_tokens": reply.prompt_tokens, "max_tokens": max_tokens}
        served = reply.usage.get("prompt_tokens")
        if isinstance(served, int):
            entry["served_prompt_tokens"] = served
        self.made.append(entry)

    def as_json(self) -> CallsReport:
        return {
            "context": self.context,
            "budget": self.budget,
            "calls": list(self.made),
            "overflows": self.overflows,
        }


class AgentModel:
    """The user's chat model, as the agents reach it."""

    def __init__(self, current: Callable[[], ChatProvider | None] | None = None) -> None:
        self._current = current

    def attach(self, current: Callable[[], ChatProvider | None]) -> None:
        """Where the chosen provider is found (the router's `provider`), read at each use."""
        self._current = current

    async def provider(self) -> ChatProvider | None:
        """The chosen model, loaded; None when none is chosen. Raises `ModelError` when the
        chosen one cannot load or be reached."""
        provider = self._current() if self._current is not None else None
        if provider is None:
            return None
        await provider.ready()
        return provider


def answer_tokens(provider: ChatProvider) -> int:
    return answer_budget(provider.context_length, ANSWER_TOKENS)


def prompt_budget(provider: ChatProvider) -> int:
    """Tokens a prompt may take: the context less the answer's share."""
    return provider.context_length - answer_tokens(provider)


async def ask(
    provider: ChatProvider,
    messages: list[ChatMessage],
    *,
    tools: Sequence[ToolSpec] = (),
    calls: Calls | None = None,
) -> Reply:
    """One call; its text, tool calls and usage. Raises `ContextOverflow` (too long) and
    `ModelError` as the provider does; cancelled, the generation stops."""
    max_tokens = answer_tokens(provider)
    text: list[str] = []
    finish: Finish | None = None
    stream = provider.stream_chat(messages, list(tools), max_tokens=max_tokens)
    async with contextlib.aclosing(stream):
        async for event in stream:
            if isinstance(event, TextDelta):
                text.append(event.text)
            elif isinstance(event, Finish):
                finish = event
    reply = Reply(
        "".join(text).strip(),
        [_answer(call) for call in finish.tool_calls] if finish else [],
        count_tokens(messages, list(tools)),
        finish.usage.copy() if finish else {},
    )
    if calls is not None:
        calls.record(reply, max_tokens)
    return reply


def _answer(call: ToolCall) -> ToolAnswer:
    """The call's arguments parsed; {} when they are not a JSON object (or lack `lines`)."""
    try:
        arguments = json.loads(call.arguments or "{}")
    except json.JSONDecodeError:
        return {}
    if not isinstance(arguments, dict) or "lines" not in arguments:
        return {}
    return {"lines": arguments["lines"]}


def pieces(texts: Sequence[str], budget: int, *, each: int = 1) -> list[list[str]]:
    """`texts` in order, packed into chunks of at most `budget` estimated tokens each, a text
    costing its estimate plus `each` (what else it brings into the prompt); a text longer than
    the budget alone is cut to fit."""
    budget = max(budget, 16 + each)
    chunks: list[list[str]] = []
    current: list[str] = []
    used = 0
    for text in texts:
        cost = estimate_tokens(text) + each
        if cost > budget:
            text = text[: (budget - each) * 3] + LINE_CUT  # ~3.5 characters a token
            cost = estimate_tokens(text) + each
        if current and used + cost > budget:
            chunks.append(current)
            current, used = [], 0
        current.append(text)
        used += cost
    if current:
        chunks.append(current)
    return chunks


async def within_context(
    provider: ChatProvider, task: Callable[[int], Awaitable[T]], calls: Calls
) -> T:
    """`task(budget)` with the prompt budget; after a context overflow, again with the smaller
    budget the server's figures give (a few times, then `context_overflow`)."""
    budget = prompt_budget(provider)
    for _ in range(RETRIES + 1):
        calls.budget = budget
        try:
            return await task(budget)
        except ContextOverflow as exc:
            calls.overflows += 1
            budget = after_overflow(budget, prompt_tokens=exc.prompt_tokens, context=exc.context)
            if budget <= 32:
                break
    raise ModelError(
        "the video's text does not fit the model's context even in small pieces",
        code="context_overflow",
    )


def forced_tool(name: str, description: str, properties: dict[str, JSONSchema]) -> ToolSpec:
    """A tool whose arguments are the agent's structured answer (llama.cpp's tool-call grammar
    then keeps them to the schema; a server model is told to call it)."""
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": properties,
                "required": list(properties),
            },
        },
    }
