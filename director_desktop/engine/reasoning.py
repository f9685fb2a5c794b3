"""The reasoning loop: a model reads the conversation, calls agents as tools, and answers.

One `ReasoningLoop.run(turn)`: build the prompt (system prompt describing the agents and the
session's media context, the history trimmed to the model's context, the user's message), stream
the model's answer into the `text` item of `agent_name: "assistant"`, run the tool calls it makes
(independent calls at once) and feed their results back, until the model answers without a tool
call or the iteration cap is reached (the last round offers no tools, so the model must answer).

Guard rails Director lacks: an unknown tool or invalid arguments (`tool_args`) go back to the
model as a tool error; tool results are cut to a bounded size; old turns are dropped to fit the
context (`context_budget`); a context overflow the estimate missed is retried with a smaller
budget. Cancelling the task stops generation at once (the provider stream is closed) and keeps
the partial text. This module owns the loop, the prompt and the history it reads again.

Imports the engine seam, agents, llm providers, protocol and errors; never web/server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from director_desktop.engine.agents import AgentContext, AgentRegistry, AgentResult
from director_desktop.engine.agents.focus import MediaFocus, describe_focus, media_focus
from director_desktop.engine.agents.registry import mentioned
from director_desktop.engine.base import Turn
from director_desktop.engine.context_budget import (
    TOOLS_SHARE,
    after_overflow,
    answer_budget,
    fit_to_budget,
    tools_that_fit,
)
from director_desktop.engine.llm.base import (
    ChatMessage,
    ChatProvider,
    Finish,
    TextDelta,
    ThinkingDelta,
    ToolCall,
    ToolSpec,
)
from director_desktop.engine.llm.stream import ContextOverflow
from director_desktop.engine.tool_args import json_object_or_empty, parse_arguments
from director_desktop.errors import ModelError
from director_desktop.protocol import Message, Session

if TYPE_CHECKING:
    from director_desktop.store import Store

log = logging.getLogger(__name__)

ANSWER = "assistant"


@dataclass(frozen=True)
class Limits:
    """The loop's bounds, one set per engine."""

    max_iterations: int = 6
    """Model calls per turn; the last one is offered no tools."""
    max_tool_result_chars: int = 4000
    answer_tokens: int = 2048
    """Tokens asked of each model answer at most (and reserved for it in the context); never
    more than a quarter of the model's context, so a small context still holds a conversation."""
    overflow_retries: int = 3
    """Asks again, with a smaller budget (and fewer agents offered), after the server found the
    prompt too long; the last try offers no agents."""

    def answer_budget(self, context_length: int) -> int:
        return answer_budget(context_length, self.answer_tokens)


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
        user_prompt: str = "",
    ) -> None:
        self.provider = provider
        self._agents = agents
        self._store = store
        self.limits = limits or Limits()
        self.user_prompt = user_prompt
        """The user's default system prompt (model settings); a chat's own replaces it."""

    # --- the turn ------------------------------------------------------------------------------
    async def run(self, turn: Turn) -> None:
        out = turn.output  # the handler has already stored and shown "Reasoning the message..."
        tools = self.tools()
        history = history_messages(turn.history)
        exchange: list[ChatMessage] = [{"role": "user", "content": user_text(turn)}]
        if turn.images:  # attached images, read by the router for a model that sees them
            exchange[0]["images"] = turn.images
        focus = await media_focus(self._store, turn.session_id, turn.input)
        described = await describe_focus(self._store, focus) if focus else ""
        system = self.system_prompt(turn, focus=focus, described=described)
        system += user_instructions(await self._chat_prompt(turn.session_id) or self.user_prompt)
        # A stop cancels this task inside an await below; the handler then settles the output
        # as `not_generated`, keeping the text streamed so far.
        for iteration in range(self.limits.max_iterations):
            offered = tools if iteration < self.limits.max_iterations - 1 else []
            finish = await self._ask(turn, system, history, exchange, offered)
            if not finish.tool_calls or not offered:
                break
            exchange.append(assistant_call_message(finish.tool_calls))
            exchange += await self._run_tools(turn, finish.tool_calls, focus)
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
        context = self.provider.context_length
        budget = context - self.limits.answer_budget(context)
        named = [*turn.input.agents, *mentioned(turn.input.text)]
        for attempt in range(self.limits.overflow_retries + 1):
            # Each overflow halves the tools' share too: the system prompt and the agents'
            # schemas are the part of the prompt trimming the conversation cannot shrink.
            share = TOOLS_SHARE / 2**attempt if attempt < self.limits.overflow_retries else 0.0
            offered = tools_that_fit(tools, int(budget * share), first=named)
            if len(offered) < len(tools):
                log.info("offering %d of %d agents: the context is small", len(offered), len(tools))
            messages = fit_to_budget(system, history, exchange, offered, budget)
            try:
                return await self._stream(turn, messages, offered)
            except ContextOverflow as exc:
                budget = after_overflow(
                    budget, prompt_tokens=exc.prompt_tokens, context=exc.context
                )
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
                elif isinstance(event, ThinkingDelta):
                    # Kept beside the answer, on its item: never in `text`, so never read again
                    # as history, indexed, or exported as the answer.
                    index = out.text_index(ANSWER)
                    thought = str(out.content[index].get("thinking") or "")
                    out.update_content(index, thinking=thought + event.text)
                    if first:
                        first = False
                        await out.flush()
                    else:
                        await out.push()
                elif isinstance(event, Finish):
                    return event
        return Finish(reason="stop")

    async def _chat_prompt(self, session_id: str) -> str | None:
        """The chat's own system prompt (`PUT /session/{id}/system_prompt`), kept in the
        session's engine context (so it travels with an exported chat)."""
        context = await self._store.get_context(session_id) or {}
        prompt = context.get("system_prompt")
        return prompt if isinstance(prompt, str) and prompt.strip() else None

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

    async def _run_tools(
        self, turn: Turn, calls: Sequence[ToolCall], focus: MediaFocus
    ) -> list[ChatMessage]:
        """Run the calls at once; one tool message per call, in the calls' order."""
        results = await asyncio.gather(*(self._run_tool(turn, call, focus) for call in calls))
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

    async def _run_tool(self, turn: Turn, call: ToolCall, focus: MediaFocus) -> AgentResult:
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
            collection_id=focus.collection_id,
            video_id=focus.video_id,
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
    def system_prompt(
        self,
        turn: Turn,
        session: Session | None = None,
        *,
        focus: MediaFocus | None = None,
        described: str = "",
    ) -> str:
        """The agents, and the media the turn is about: `focus` (see `agents.focus`), else the
        input's ids, else `session`'s; `described` is `describe_focus`'s short text about them."""
        agents = "\n".join(f"- {a.name}: {a.description}" for a in self._agents) or "- (none)"
        prompt = SYSTEM_PROMPT.format(agents=agents)
        if focus is None:
            focus = MediaFocus(
                turn.input.collection_id or (session.get("collection_id") if session else None),
                turn.input.video_id or (session.get("video_id") if session else None),
            )
        media = [f"collection {focus.collection_id}"] if focus.collection_id else []
        media += [f"video {focus.video_id}"] if focus.video_id else []
        if media:
            prompt += "\n\nThe user is looking at " + " and ".join(media) + "."
            if described:
                prompt += f"\n{described}\nAgents work on these unless the user names others."
        return prompt


# --- pure helpers (tested directly) ------------------------------------------------------------
def user_instructions(prompt: str) -> str:
    """The user's system prompt, after the app's (which the agents as tools need)."""
    prompt = prompt.strip()
    return f"\n\nThe user's instructions for every answer:\n{prompt}" if prompt else ""


def user_text(turn: Turn) -> str:
    text = turn.input.text
    if turn.input.agents:
        named = ", ".join(f"@{name}" for name in turn.input.agents)
        text = f"{text}\n\n(The user tagged {named}.)" if text else f"Run {named}."
    return text


def history_messages(history: Sequence[Message]) -> list[list[ChatMessage]]:
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


def message_text(message: Message) -> str:
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
                "function": {"name": c.name, "arguments": json_object_or_empty(c.arguments)},
            }
            for c in calls
        ],
    }
