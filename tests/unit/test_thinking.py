"""A thinking model's `<think>…</think>` and `reasoning_content` become thinking, never answer
text: tags cut across chunks anywhere, an unclosed block at the end, both wire forms."""

from __future__ import annotations

from typing import Any

import pytest

from director_desktop.engine.llm.base import Finish, StreamEvent, TextDelta, ThinkingDelta
from director_desktop.engine.llm.stream import ChunkParser
from director_desktop.engine.llm.thinking import ThinkSplitter
from director_desktop.engine.reasoning import history_messages

STREAM = "<think>\nThe user greets me.\n</think>\n\nHello there!"


def chunk(content: str | None = None, reasoning: str | None = None) -> dict[str, Any]:
    delta: dict[str, Any] = {}
    if content is not None:
        delta["content"] = content
    if reasoning is not None:
        delta["reasoning_content"] = reasoning
    return {"choices": [{"index": 0, "delta": delta}]}


def parse(chunks: list[dict[str, Any]]) -> tuple[str, str, list[StreamEvent]]:
    parser = ChunkParser()
    events: list[StreamEvent] = []
    for c in chunks:
        events += parser.feed(c)
    events += parser.flush()
    events.append(parser.finish())
    answer = "".join(e.text for e in events if isinstance(e, TextDelta))
    thinking = "".join(e.text for e in events if isinstance(e, ThinkingDelta))
    return answer, thinking, events


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 100])
def test_think_tags_cut_anywhere_give_the_same_split(size: int) -> None:
    pieces = [STREAM[i : i + size] for i in range(0, len(STREAM), size)]
    answer, thinking, events = parse([chunk(p) for p in pieces])
    assert answer == "Hello there!"
    assert thinking.strip() == "The user greets me."
    assert isinstance(events[-1], Finish)
    assert all("<" not in e.text for e in events if isinstance(e, TextDelta))


def test_a_tag_split_as_th_and_ink() -> None:
    answer, thinking, _ = parse([chunk("<th"), chunk("ink>plan"), chunk("</thi"), chunk("nk>Done")])
    assert (answer, thinking) == ("Done", "plan")


def test_an_unclosed_think_at_the_end_is_all_thinking() -> None:
    answer, thinking, _ = parse([chunk("<think>still working it out"), chunk(" and then <")])
    assert answer == ""
    assert thinking == "still working it out and then <"


def test_text_that_only_looks_like_a_tag_start_is_answer_at_the_end() -> None:
    answer, thinking, _ = parse([chunk("a < b and x <th")])
    assert (answer, thinking) == ("a < b and x <th", "")


def test_reasoning_content_deltas_are_thinking() -> None:
    chunks = [chunk(reasoning="Let me "), chunk(reasoning="think."), chunk("Answer."), chunk("")]
    answer, thinking, events = parse(chunks)
    assert (answer, thinking) == ("Answer.", "Let me think.")
    kinds = [type(e).__name__ for e in events]
    assert kinds.index("ThinkingDelta") < kinds.index("TextDelta")


def test_the_splitter_reports_whether_it_is_inside_a_block() -> None:
    splitter = ThinkSplitter()
    splitter.feed("<think>a")
    assert splitter.inside
    splitter.feed("</think>b")
    assert not splitter.inside


def test_thinking_is_never_fed_back_to_the_model() -> None:
    history: list[Any] = [
        {"msg_type": "input", "content": [{"type": "text", "text": "hi"}]},
        {
            "msg_type": "output",
            "content": [
                {"type": "text", "agent_name": "assistant", "text": "Hello", "thinking": "secret"}
            ],
        },
    ]
    turns = history_messages(history)
    assert turns == [[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello"}]]
