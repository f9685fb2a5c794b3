"""The reasoning loop's pure parts (tool arguments, context budget, history) and the key store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from director_desktop.engine.context_budget import (
    after_overflow,
    answer_budget,
    count_tokens,
    fit_to_budget,
    tools_that_fit,
)
from director_desktop.engine.llm.base import ToolCall, ToolSpec
from director_desktop.engine.llm.library import safe_file_name
from director_desktop.engine.reasoning import assistant_call_message, history_messages
from director_desktop.engine.tool_args import parse_arguments
from director_desktop.errors import InvalidPayload
from director_desktop.secrets_store import SecretStore

SCHEMA = {
    "type": "object",
    "properties": {
        "query": {"type": "string"},
        "limit": {"type": "integer"},
        "mode": {"type": "string", "enum": ["fast", "full"]},
    },
    "required": ["query"],
}


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ('{"query": "cats"}', None),
        ('{"query": "cats", "limit": 3, "mode": "fast"}', None),
        ('{"query": "cats"', "not valid JSON"),
        ('["cats"]', "must be a JSON object"),
        ("{}", "missing required argument(s): query"),
        ('{"query": 5}', "'query' must be string"),
        ('{"query": "x", "limit": true}', "'limit' must be integer"),
        ('{"query": "x", "mode": "slow"}', "must be one of"),
        ('{"query": "x", "colour": "red"}', "unknown argument 'colour'"),
    ],
)
def test_arguments_are_checked_against_the_schema(raw: str, problem: str | None) -> None:
    arguments, found = parse_arguments(raw, SCHEMA)
    if problem is None:
        assert found is None
        assert arguments == json.loads(raw)
    else:
        assert found is not None
        assert problem in found
        assert arguments == {}


def test_a_cut_off_tool_call_is_sent_back_as_valid_json() -> None:
    message = assistant_call_message([ToolCall("c1", "search_chats", '{"que')])
    assert message["tool_calls"][0]["function"]["arguments"] == "{}"


def test_history_becomes_user_and_assistant_turns_and_agent_output_is_labelled() -> None:
    history = [
        {"msg_type": "input", "content": [{"type": "text", "text": "find cats"}]},
        {
            "msg_type": "output",
            "content": [
                {"type": "text", "agent_name": "search_chats", "text": "2 chats"},
                {"type": "search_results", "agent_name": "search_chats"},
                {"type": "text", "agent_name": "assistant", "text": "Here they are."},
            ],
        },
        {"msg_type": "input", "content": [{"type": "text", "text": ""}]},
    ]
    turns = history_messages(history)
    assert turns == [
        [
            {"role": "user", "content": "find cats"},
            {
                "role": "assistant",
                "content": "[@search_chats]: 2 chats\n[showed search_results]\nHere they are.",
            },
        ]
    ]


def test_the_budget_keeps_the_newest_turns_and_cuts_what_still_does_not_fit() -> None:
    history = [[{"role": "user", "content": f"old {n} " + "x" * 700}] for n in range(10)]
    exchange = [{"role": "user", "content": "now"}]
    fitted = fit_to_budget("system", history, exchange, [], budget=700)
    assert fitted[0]["role"] == "system"
    assert fitted[-1] == {"role": "user", "content": "now"}
    kept = [m["content"][:6] for m in fitted[1:-1]]
    assert kept
    assert kept == [f"old {n} " for n in range(10 - len(kept), 10)]

    huge = [{"role": "user", "content": "y" * 20000}]
    cut = fit_to_budget("system", [], huge, [], budget=1000)
    assert len(cut[-1]["content"]) < 20000
    assert "cut to fit the context" in cut[-1]["content"]
    assert huge[0]["content"] == "y" * 20000, "the caller's messages are not changed"


@pytest.mark.parametrize(
    ("context", "asked", "budget"), [(8192, 2048, 2048), (4096, 2048, 1024), (32, 2048, 16)]
)
def test_the_answer_gets_at_most_a_quarter_of_the_context(
    context: int, asked: int, budget: int
) -> None:
    assert answer_budget(context, asked) == budget


def test_an_overflow_shrinks_the_budget_by_what_the_server_counted() -> None:
    assert after_overflow(1000, prompt_tokens=5000, context=4000) == 720
    assert after_overflow(1000, prompt_tokens=None, context=None) == 500, "else by half"


def test_the_key_file_is_private_and_keys_can_be_forgotten(tmp_path: Path) -> None:
    store = SecretStore(tmp_path / "secrets.json", use_keyring=False)
    assert store.backend == "file"
    assert store.get("openai:x") is None
    assert store.set("openai:x", "sk-1") == "file"
    assert (tmp_path / "secrets.json").stat().st_mode & 0o777 == 0o600
    assert SecretStore(tmp_path / "secrets.json", use_keyring=False).get("openai:x") == "sk-1"
    store.delete("openai:x")
    assert store.get("openai:x") is None


def test_a_damaged_key_file_is_set_aside_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    path.write_text('{"openai:x": "sk-1"')  # cut short
    store = SecretStore(path, use_keyring=False)
    assert store.get("openai:x") is None
    store.set("openai:y", "sk-2")
    assert (tmp_path / "secrets.json.unreadable").read_text() == '{"openai:x": "sk-1"'
    assert store.get("openai:y") == "sk-2"


@pytest.mark.parametrize(
    ("name", "clean"),
    [("model.gguf", "model.gguf"), ("../../etc/x.gguf", "x.gguf"), ("a b$.GGUF", "a b_.GGUF")],
)
def test_model_file_names_are_made_safe(name: str, clean: str) -> None:
    assert safe_file_name(name) == clean


@pytest.mark.parametrize("name", ["model.bin", "", ".gguf", "notes.txt"])
def test_other_files_are_not_models(name: str) -> None:
    with pytest.raises(InvalidPayload):
        safe_file_name(name)


def test_turns_left_out_are_summarised_in_the_system_prompt() -> None:
    history = [
        [
            {"role": "user", "content": f"topic {n} " + "z" * 300},
            {"role": "assistant", "content": "ok"},
        ]
        for n in range(20)
    ]
    fitted = fit_to_budget("system", history, [{"role": "user", "content": "now"}], [], budget=1200)
    system = fitted[0]["content"]
    kept = len(fitted) - 2
    assert 0 < kept < 40
    assert system.startswith("system\n\nEarlier in this chat")
    newest_dropped = 20 - kept // 2 - 1
    assert f"topic {newest_dropped} " in system, "the newest left-out turn is named"
    assert f"topic {newest_dropped + 1} " not in system, "kept turns are not repeated"
    assert "more turns." in system, "beyond what fits, only their count is given"


def test_the_system_prompt_names_the_agents_and_the_sessions_media() -> None:
    from director_desktop.engine.agents import default_registry
    from director_desktop.engine.reasoning import ReasoningLoop
    from tests.unit.llm_support import Snapshots, make_turn

    loop = ReasoningLoop(provider=None, agents=default_registry(), store=None)  # type: ignore[arg-type]
    turn = make_turn("hi", Snapshots())
    plain = loop.system_prompt(turn)
    assert "- search_chats: " in plain
    assert "looking at" not in plain
    with_media = loop.system_prompt(turn, {"video_id": "v-1", "collection_id": "c-9"})
    assert with_media.endswith("The user is looking at collection c-9 and video v-1.")


def _tool(name: str, size: int) -> ToolSpec:
    return {
        "type": "function",
        "function": {"name": name, "description": "x" * size, "parameters": {"type": "object"}},
    }


def test_tools_that_fit_offers_every_tool_when_they_fit_and_the_named_ones_first_when_not() -> None:
    tools = [_tool("a", 400), _tool("b", 400), _tool("c", 400)]
    assert tools_that_fit(tools, 10_000) == tools
    one = count_tokens([], [tools[0]])
    kept = tools_that_fit(tools, one + 5, first=["c"])
    assert [t["function"]["name"] for t in kept] == ["c"]  # the one the user named
    two = tools_that_fit(tools, count_tokens([], tools[:2]) + 5, first=["c"])
    assert [t["function"]["name"] for t in two] == ["a", "c"]  # registry order kept
    assert tools_that_fit(tools, 0) == []
