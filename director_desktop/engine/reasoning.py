"""The reasoning loop: a model reads the conversation, calls agents as tools, and answers.

One `ReasoningLoop.run(turn)`: build the prompt (system prompt describing the agents and the
session's media context, the history trimmed to the model's context, the user's message), stream
the model's answer into the `text` item of `agent_name: "assistant"`, run the tool calls it makes
(independent calls at once) and feed their results back, until the model answers without a tool
call or the iteration cap is reached (the last round offers no tools, so the model must answer).

Guard rails Director lacks: an unknown tool or invalid arguments go back to the model as a tool
error; tool results are cut to a bounded size; old turns are dropped to fit the context; a
context overflow the estimate missed is retried with a smaller budget. Cancelling the task stops
generation at once (the provider stream is closed) and keeps the partial text.

Imports the engine seam, agents, llm providers, protocol and errors; never web/server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from director_desktop.engine.agents import AgentContext, AgentRegistry, AgentResult
from director_desktop.engine.base import Turn
from director_desktop.engine.llm.base import (
    ChatMessage,
    ChatProvider,
    Finish,
    TextDelta,
    ToolCall,
    ToolSpec,
    estimate_tokens,
)
from director_desktop.engine.llm.stream import ContextOverflow
from director_desktop.errors import DirectorError, ModelError
from director_desktop.protocol import JSONDict

if TYPE_CHECKING:
    from director_desktop.store import Store

log = logging.getLogger(__name__)

ANSWER = "assistant"


@dataclass(frozen=True)
class Limits:
    max_iterations: int = 6
    """Model calls per turn; the last one is offered no tools."""
    max_tool_result_chars: int = 4000
    answer_tokens: int = 2048
    """Tokens asked of each model answer at most (and reserved for it in the context); never
    more than a quarter of the model's context, so a small context still holds a conversation."""
    overflow_retries: int = 2

    def answer_budget(self, context_length: int) -> int:
        return max(16, min(self.answer_tokens, context_length // 4))


SYSTEM_PROMPT = """You are Director, an assistant that helps the user with their videos and their \
earlier chats. You run offline on the user's own computer.

You can call these agents as tools:
{agents}

Call an agent when the request needs what it does; answer directly when it does not. When the \
user names an agent with @ (for example @search_chats), call that agent. After a tool result, \
answer the user in a few sentences of markdown; do not repeat long tool output, the user already \
sees what agents show."""


class ReasoningLoop:
    def __init__(
        self,
        provider: ChatProvider,
        agents: AgentRegistry,
        store: Store,
        *,
        limits: Limits | None = None,
    ) -> None:
        self.provider = provider
        self._agents = agents
        self._store = store
        self.limits = limits or Limits()

    # --- the turn ------------------------------------------------------------------------------
    async def run(self, turn: Turn) -> None:
        out = turn.output  # the handler has already stored and shown "Reasoning the message..."
        tools = self.tools()
        history = history_messages(turn.history)
        exchange: list[ChatMessage] = [{"role": "user", "content": user_text(turn)}]
        system = self.system_prompt(turn, await self._session(turn.session_id))
        # A stop cancels this task inside an await below; the handler then settles the output
        # as `not_generated`, keeping the text streamed so far.
        for iteration in range(self.limits.max_iterations):
            offered = tools if iteration < self.limits.max_iterations - 1 else []
            finish = await self._ask(turn, system, history, exchange, offered)
            if not finish.tool_calls or not offered:
                break
            exchange.append(assistant_call_message(finish.tool_calls))
            exchange += await self._run_tools(turn, finish.tool_calls)
        out.update_content(out.text_index(ANSWER), status="success")
        await out.flush()

    async def _ask(
        self,
        turn: Turn,
        system: str,
        history: list[list[ChatMessage]],
        exchange: list[ChatMessage],
        tools: list[ToolSpec],
    ) -> Finish:
        """One model call, streamed into the answer; retried smaller on a context overflow."""
        budget = self.provider.context_length - self.limits.answer_budget(
            self.provider.context_length
        )
        for _attempt in range(self.limits.overflow_retries + 1):
            messages = fit_to_budget(system, history, exchange, tools, budget)
            try:
                return await self._stream(turn, messages, tools)
            except ContextOverflow as exc:
                if exc.prompt_tokens and exc.context:
                    # our estimate was low by this ratio: shrink the budget to match
                    budget = int(budget * exc.context / exc.prompt_tokens * 0.9)
                else:
                    budget //= 2
                log.info("context overflow; retrying with a budget of %d tokens", budget)
                if budget <= 0:
                    break
        raise ModelError(
            "the conversation does not fit the model's context", code="context_overflow"
        )

    async def _stream(
        self, turn: Turn, messages: list[ChatMessage], tools: list[ToolSpec]
    ) -> Finish:
        out = turn.output
        separator = "\n\n" if str(out.content[out.text_index(ANSWER)].get("text") or "") else ""
        max_tokens = self.limits.answer_budget(self.provider.context_length)
        stream = self.provider.stream_chat(messages, tools, max_tokens=max_tokens)
        first = True
        async with contextlib.aclosing(stream):
            async for event in stream:
                if isinstance(event, TextDelta):
                    out.append_text(separator + event.text, ANSWER)
                    separator = ""
                    if first:  # the first words go out at once, whatever the throttle says
                        first = False
                        await out.flush()
                    else:
                        await out.push()
                elif isinstance(event, Finish):
                    return event
        return Finish(reason="stop")

    # --- tools ---------------------------------------------------------------------------------
    def tools(self) -> list[ToolSpec]:
        return [
            {
                "type": "function",
                "function": {
                    "name": agent.name,
                    "description": agent.description,
                    "parameters": agent.parameters,
                },
            }
            for agent in self._agents
        ]

    async def _run_tools(self, turn: Turn, calls: Sequence[ToolCall]) -> list[ChatMessage]:
        """Run the calls at once; one tool message per call, in the calls' order."""
        results = await asyncio.gather(*(self._run_tool(turn, call) for call in calls))
        await turn.output.flush()
        return [
            {
                "role": "tool",
                "tool_call_id": call.id,
                "name": call.name,
                "content": self._bounded(result),
            }
            for call, result in zip(calls, results, strict=True)
        ]

    async def _run_tool(self, turn: Turn, call: ToolCall) -> AgentResult:
        if call.name not in self._agents:
            known = ", ".join(self._agents.names) or "none"
            turn.output.add_action(f"The model asked for an unknown agent {call.name!r}")
            return AgentResult("error", f"Unknown tool {call.name!r}. Available tools: {known}.")
        agent = self._agents.get(call.name)
        arguments, problem = parse_arguments(call.arguments, agent.parameters)
        if problem is not None:
            turn.output.add_action(f"Invalid arguments for @{call.name}: {problem}")
            return AgentResult("error", f"Invalid arguments for {call.name}: {problem}")
        turn.output.add_action(f"Running @{call.name} agent")
        turn.output.add_agent(call.name)
        await turn.output.flush()
        ctx = AgentContext(
            session_id=turn.session_id,
            conv_id=turn.conv_id,
            output=turn.output,
            store=self._store,
            collection_id=turn.input.collection_id,
            video_id=turn.input.video_id,
        )
        try:
            return await agent.run(ctx, **arguments)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # an agent's failure is the model's to explain, not a crash
            log.exception("agent %s failed", call.name)
            message = getattr(exc, "message", None) or type(exc).__name__
            return AgentResult("error", f"The agent failed: {message}")

    def _bounded(self, result: AgentResult) -> str:
        text = json.dumps(
            {"status": result.status, "message": result.message, "data": result.data},
            ensure_ascii=False,
            default=str,
        )
        limit = self.limits.max_tool_result_chars
        if len(text) <= limit:
            return text
        return text[:limit] + f"… [cut: {len(text) - limit} more characters]"

    # --- the prompt ----------------------------------------------------------------------------
    def system_prompt(self, turn: Turn, session: JSONDict | None = None) -> str:
        """The agents, and the media the session is about (from the input, else the session)."""
        agents = "\n".join(f"- {a.name}: {a.description}" for a in self._agents) or "- (none)"
        prompt = SYSTEM_PROMPT.format(agents=agents)
        session = session or {}
        collection = turn.input.collection_id or session.get("collection_id")
        video = turn.input.video_id or session.get("video_id")
        media = [f"collection {collection}"] if collection else []
        media += [f"video {video}"] if video else []
        if media:
            prompt += "\n\nThe user is looking at " + " and ".join(media) + "."
        return prompt

    async def _session(self, session_id: str) -> JSONDict | None:
        try:
            return await self._store.get_session(session_id)
        except DirectorError:  # the prompt can do without it
            return None


# --- pure helpers (tested directly) ------------------------------------------------------------
def user_text(turn: Turn) -> str:
    text = turn.input.text
    if turn.input.agents:
        named = ", ".join(f"@{name}" for name in turn.input.agents)
        text = f"{text}\n\n(The user tagged {named}.)" if text else f"Run {named}."
    return text


def history_messages(history: Sequence[JSONDict]) -> list[list[ChatMessage]]:
    """Stored messages → turns of chat messages (a user message and the answers that follow)."""
    turns: list[list[ChatMessage]] = []
    for message in history:
        text = message_text(message)
        if not text:
            continue
        if message.get("msg_type") == "input":
            turns.append([{"role": "user", "content": text}])
        elif turns:
            turns[-1].append({"role": "assistant", "content": text})
    return turns


def message_text(message: JSONDict) -> str:
    """The text of a stored message as the model should read it again."""
    parts: list[str] = []
    for item in message.get("content") or []:
        if item.get("type") == "text" and item.get("text"):
            if message.get("msg_type") == "output" and item.get("agent_name") not in (None, ANSWER):
                parts.append(f"[@{item['agent_name']}]: {item['text']}")
            else:
                parts.append(str(item["text"]))
        elif item.get("type") not in (None, "text"):
            parts.append(f"[showed {item['type']}]")
    return "\n".join(parts).strip()


def assistant_call_message(calls: Sequence[ToolCall]) -> ChatMessage:
    """The model's tool calls as history. Arguments that are not a JSON object (a call cut off
    by the token limit) are sent as `{}`: chat templates parse them, and the tool result already
    tells the model what was wrong."""
    return {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "id": c.id,
                "type": "function",
                "function": {"name": c.name, "arguments": _json_object_or_empty(c.arguments)},
            }
            for c in calls
        ],
    }


def _json_object_or_empty(raw: str) -> str:
    try:
        return raw if isinstance(json.loads(raw), dict) else "{}"
    except ValueError:
        return "{}"


def count_tokens(messages: Sequence[ChatMessage], tools: Sequence[ToolSpec]) -> int:
    body = json.dumps(list(messages), ensure_ascii=False) + json.dumps(list(tools))
    return estimate_tokens(body) + 8 * len(messages)


def fit_to_budget(
    system: str,
    history: list[list[ChatMessage]],
    exchange: list[ChatMessage],
    tools: list[ToolSpec],
    budget: int,
) -> list[ChatMessage]:
    """System + as many of the newest history turns as fit + this turn's exchange.

    Turns that do not fit are summarised in one line of the system prompt (what the user asked
    in them), when that line fits. When even this turn's exchange does not fit, its tool results
    are cut, then the user's text (the model then sees the start and the end of it)."""
    head: list[ChatMessage] = [{"role": "system", "content": system}]
    current = [dict(m) for m in exchange]
    used = count_tokens(head + current, tools)
    reserve = budget // 10 if history else 0  # room for the summary of what is left out
    kept: list[ChatMessage] = []
    dropped = len(history)
    for old_turn in reversed(history):
        cost = count_tokens(old_turn, [])
        if used + cost > budget - reserve:
            break
        kept[:0] = old_turn
        used += cost
        dropped -= 1
    if dropped:
        note = summary_of(history[:dropped], max_tokens=budget - used)
        if note:
            head = [{"role": "system", "content": f"{system}\n\n{note}"}]
            used += estimate_tokens(note)
    if used > budget:
        current = _shrink(current, head, tools, budget)
    return head + kept + current


SUMMARY_CHARS = 80
SUMMARY_TURNS = 12


def summary_of(turns: Sequence[list[ChatMessage]], *, max_tokens: int) -> str:
    """One line about turns left out of the prompt: the start of what the user asked in the
    most recent of them (a summary that costs no model call), within `max_tokens`; "" if none."""
    asked: list[str] = []
    lead = "Earlier in this chat, in turns no longer shown, the user asked: "
    for turn in reversed(turns[-SUMMARY_TURNS:]):
        text = " ".join(str(turn[0].get("content") or "").split())
        cut = text[:SUMMARY_CHARS] + ("…" if len(text) > SUMMARY_CHARS else "")
        line = "; ".join([f'"{cut}"', *asked])
        if not text or estimate_tokens(lead + line) + 12 > max_tokens:
            break
        asked.insert(0, f'"{cut}"')
    if not asked:
        return ""
    earlier = len(turns) - len(asked)
    more = f" Before that: {earlier} more turns." if earlier > 0 else ""
    return lead + "; ".join(asked) + "." + more


def _shrink(
    current: list[ChatMessage], head: list[ChatMessage], tools: list[ToolSpec], budget: int
) -> list[ChatMessage]:
    for role in ("tool", "user"):
        for message in current:
            if message.get("role") != role:
                continue
            while count_tokens(head + current, tools) > budget and len(message["content"]) > 200:
                text = str(message["content"])
                keep = len(text) // 4
                message["content"] = text[:keep] + "\n…[cut to fit the context]…\n" + text[-keep:]
    return current


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}


def parse_arguments(raw: str, schema: JSONDict) -> tuple[dict[str, Any], str | None]:
    """The model's argument JSON, checked against the agent's schema: (arguments, problem)."""
    try:
        value = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError as exc:
        return {}, f"the arguments are not valid JSON ({exc.msg})"
    if not isinstance(value, dict):
        return {}, "the arguments must be a JSON object"
    properties: dict[str, Any] = schema.get("properties") or {}
    missing = [name for name in schema.get("required") or [] if name not in value]
    if missing:
        return {}, f"missing required argument(s): {', '.join(missing)}"
    for name, given in value.items():
        spec = properties.get(name)
        if spec is None:
            if schema.get("additionalProperties", True) is False or properties:
                return {}, f"unknown argument {name!r} (expected: {', '.join(properties)})"
            continue
        problem = _check_value(name, given, spec)
        if problem:
            return {}, problem
    return value, None


def _check_value(name: str, value: Any, spec: JSONDict) -> str | None:
    kind = spec.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if kind else []
    if kinds:
        allowed = tuple(t for k in kinds for t in _JSON_TYPES.get(str(k), ()))
        is_bool_for_number = isinstance(value, bool) and "boolean" not in kinds
        if allowed and (not isinstance(value, allowed) or is_bool_for_number):
            return f"argument {name!r} must be {' or '.join(map(str, kinds))}"
    if "enum" in spec and value not in spec["enum"]:
        return f"argument {name!r} must be one of {spec['enum']}"
    return None
