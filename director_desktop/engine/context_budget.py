"""The context budget: how much of a model's context a prompt may use, and fitting it in.

Owns the token estimate of a prompt, the share of the context kept for the answer, the budget to
retry with after a context overflow, and `fit_to_budget`: the system prompt, as many of the newest
turns as fit (those left out summarised in one line), and this turn's exchange, cut if even that
does not fit. Pure functions over chat messages; imports only the llm message types.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from director_desktop.engine.llm.base import ChatMessage, ToolSpec, estimate_tokens

SUMMARY_CHARS = 80
SUMMARY_TURNS = 12


def answer_budget(context_length: int, answer_tokens: int) -> int:
    """Tokens asked of an answer (and kept free for it): `answer_tokens`, but never more than a
    quarter of the context, so a small context still holds a conversation."""
    return max(16, min(answer_tokens, context_length // 4))


def after_overflow(budget: int, *, prompt_tokens: int | None, context: int | None) -> int:
    """The budget to ask again with after the server found the prompt too long (0 or less: give
    up). `prompt_tokens` and `context` are what the server reported, when it did."""
    if prompt_tokens and context:
        # our estimate was low by this ratio: shrink the budget to match
        return int(budget * context / prompt_tokens * 0.9)
    return budget // 2


def count_tokens(messages: Sequence[ChatMessage], tools: Sequence[ToolSpec]) -> int:
    body = json.dumps(list(messages), ensure_ascii=False) + json.dumps(list(tools))
    return estimate_tokens(body) + 8 * len(messages)


TOOLS_SHARE = 0.5
"""The part of the prompt's budget the tools' schemas may take: the conversation keeps the rest."""


def tools_that_fit(
    tools: list[ToolSpec], budget: int, *, first: Sequence[str] = ()
) -> list[ToolSpec]:
    """The tools to offer within `budget` tokens: every one when they fit; else those the user
    named first, then the others in order, while they fit. A small context (or a tokenizer that
    spends a token a character) would otherwise refuse the whole turn for the agents' schemas:
    a model offered fewer agents still answers."""
    if count_tokens([], tools) <= budget:
        return tools
    named = set(first)
    ordered = [t for t in tools if t["function"]["name"] in named]
    ordered += [t for t in tools if t["function"]["name"] not in named]
    kept: list[ToolSpec] = []
    for tool in ordered:
        if count_tokens([], [*kept, tool]) <= budget:
            kept.append(tool)
    return [t for t in tools if t in kept]  # in the registry's order, as offered before


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
    current = [m.copy() for m in exchange]
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
