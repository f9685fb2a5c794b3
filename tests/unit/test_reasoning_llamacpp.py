"""The reasoning loop on the real llama.cpp engine (xllamacpp), with tiny GGUF models the tests
write themselves: streaming, real tool calls running real agents, guard rails, stop, bad files."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from director_desktop.engine.agents import default_registry
from director_desktop.engine.llm.base import Finish, ToolSpec
from director_desktop.engine.llm.llamacpp import LlamaCppProvider
from director_desktop.engine.reasoning import Limits, ReasoningLoop
from director_desktop.engine.router import build_model_router
from director_desktop.errors import ModelError
from director_desktop.settings import build_settings
from director_desktop.store import Store
from director_desktop.user_settings import UserSettings
from tests.fixtures.tiny_gguf import write_model
from tests.unit.llm_support import Recording, Snapshots, make_turn, models
from tests.unit.store_support import input_message, new_store

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def gguf(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return models(tmp_path_factory.mktemp("models"))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = new_store(tmp_path / "data")
    assert store.open().ok
    yield store
    store.close()


def answer(snapshot: dict[str, Any]) -> dict[str, Any]:
    return next(i for i in snapshot["content"] if i.get("agent_name") == "assistant")


async def test_a_full_turn_streams_several_snapshots_and_ends_success(
    gguf: dict[str, Path], store: Store
) -> None:
    provider = LlamaCppProvider(gguf["long"])
    snapshots = Snapshots()
    turn = make_turn("Tell me about my videos.", snapshots)
    try:
        await ReasoningLoop(
            provider, default_registry(), store, limits=Limits(answer_tokens=200)
        ).run(turn)
    finally:
        await provider.close()
    texts = [
        answer(s)["text"]
        for s in snapshots.items
        if any(i.get("agent_name") == "assistant" for i in s["content"])
    ]
    assert len(texts) >= 3, "the answer should arrive in several snapshots"
    assert all(b.startswith(a) for a, b in itertools.pairwise(texts)), "text only grows"
    final = snapshots.items[-1]
    assert answer(final)["status"] == "success"
    assert answer(final)["text"] == texts[-1] != ""
    assert final["actions"][0] == "Reasoning the message..."
    assert final["actions"].count("Reasoning the message...") == 1
    seqs = [s["metadata"]["seq"] for s in snapshots.items]
    assert seqs == sorted(seqs)


async def test_a_real_tool_call_runs_the_agent_and_its_result_reaches_the_model(
    gguf: dict[str, Path], store: Store
) -> None:
    await store.add_input(input_message("old", "holiday video ideas"), session_name="Holiday")
    provider = Recording(LlamaCppProvider(gguf["tool"]))
    snapshots = Snapshots()
    turn = make_turn("find my chats", snapshots)
    loop = ReasoningLoop(
        provider, default_registry(), store, limits=Limits(max_iterations=2, answer_tokens=64)
    )
    try:
        await loop.run(turn)
    finally:
        await provider.close()
    final = snapshots.items[-1]
    assert "Running @search_chats agent" in final["actions"]
    assert final["agents"] == ["search_chats"]
    agent_items = [i for i in final["content"] if i.get("agent_name") == "search_chats"]
    assert agent_items
    assert agent_items[0]["status"] in ("success", "error")
    assert len(provider.requests) == 2
    first_tools = provider.requests[0][1]
    assert [t["function"]["name"] for t in first_tools] == ["search_chats"]
    second_messages, second_tools = provider.requests[1]
    assert second_tools == [], "the last round offers no tools, so the model must answer"
    call = second_messages[-2]
    result = second_messages[-1]
    assert call["role"] == "assistant"
    assert call["tool_calls"][0]["function"]["name"] == "search_chats"
    assert json.loads(call["tool_calls"][0]["function"]["arguments"]).keys() == {"query"}
    assert result["role"] == "tool"
    assert result["tool_call_id"] == call["tool_calls"][0]["id"]
    payload = json.loads(result["content"])
    assert payload["status"] in ("success", "error")
    assert isinstance(payload["message"], str)
    assert answer(final)["status"] == "success"


class OfferingLoop(ReasoningLoop):
    """The loop, offering the model a different tool list than the agents registered: the only
    way to make a grammar-constrained model call a tool that does not exist or break a schema."""

    def __init__(self, *args: object, offered: list[ToolSpec], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.offered = offered

    def tools(self) -> list[ToolSpec]:
        return self.offered


def tool(name: str, properties: dict[str, Any]) -> ToolSpec:
    schema = {"type": "object", "properties": properties, "required": list(properties)}
    return {
        "type": "function",
        "function": {"name": name, "description": name, "parameters": schema},
    }


@pytest.mark.parametrize(
    ("offered", "expected"),
    [
        (tool("ghost", {"query": {"type": "string"}}), "Unknown tool 'ghost'"),
        (
            tool("search_chats", {"query": {"type": "integer"}}),
            "Invalid arguments for search_chats",
        ),
    ],
    ids=["unknown-tool", "invalid-arguments"],
)
async def test_unknown_tools_and_invalid_arguments_go_back_to_the_model(
    gguf: dict[str, Path], store: Store, offered: ToolSpec, expected: str
) -> None:
    provider = Recording(LlamaCppProvider(gguf["tool"]))
    snapshots = Snapshots()
    loop = OfferingLoop(
        provider,
        default_registry(),
        store,
        offered=[offered],
        limits=Limits(max_iterations=2, answer_tokens=32),
    )
    try:
        await loop.run(make_turn("do it", snapshots))
    finally:
        await provider.close()
    final = snapshots.items[-1]
    assert answer(final)["status"] == "success"
    assert final["agents"] == [], "no agent ran"
    assert not any(a.startswith("Running @") for a in final["actions"])
    tool_message = provider.requests[1][0][-1]
    assert tool_message["role"] == "tool"
    payload = json.loads(tool_message["content"])
    assert payload["status"] == "error"
    assert payload["message"].startswith(expected)


async def test_stop_mid_stream_keeps_the_partial_text_and_stops_the_model(
    gguf: dict[str, Path], store: Store
) -> None:
    provider = LlamaCppProvider(gguf["endless"])
    snapshots = Snapshots()
    turn = make_turn("go on forever", snapshots)
    loop = ReasoningLoop(provider, default_registry(), store, limits=Limits(answer_tokens=4000))
    task = asyncio.create_task(loop.run(turn))
    try:
        await asyncio.wait_for(snapshots.text_seen.wait(), 30)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        partial = answer(turn.output.message)["text"]
        assert partial, "the text streamed before the stop is kept"
        assert not provider._running, "the generation was told to stop"
        # the slot is free again: a new request is answered
        events = [
            e
            async for e in provider.stream_chat(
                [{"role": "user", "content": "hi"}], [], max_tokens=4
            )
        ]
        assert isinstance(events[-1], Finish)
        assert events[-1].reason == "length"
    finally:
        await provider.close()


@pytest.mark.parametrize("kind", ["missing", "corrupt", "not-gguf"])
async def test_a_missing_or_corrupt_model_is_a_clear_error_and_not_configured(
    tmp_path: Path, gguf: dict[str, Path], store: Store, kind: str
) -> None:
    settings = build_settings(data_dir=tmp_path / "app", log_dir=tmp_path / "logs", environ={})
    settings.models_dir.mkdir(parents=True)
    target = settings.models_dir / "broken.gguf"
    if kind == "corrupt":
        target.write_bytes(gguf["chat"].read_bytes()[:5000])
    elif kind == "not-gguf":
        target.write_text("this is not a model")
    user_settings = UserSettings(settings.user_settings_path)
    user_settings.update(llm={"provider": "embedded", "model": "broken.gguf"})
    router = build_model_router(
        settings, store, default_registry(), user_settings, detect_local=False
    )
    await router.start()
    try:
        with pytest.raises(ModelError) as raised:
            await router.run(make_turn("hello", Snapshots()))
        status = router.status()
        assert router.llm_configured is False
        assert status["llm_configured"] is False
        assert status["state"] == "error"
        assert status["error"] == raised.value.message
        assert "broken.gguf" in status["error"]
        assert raised.value.code in ("model_missing", "model_corrupt", "model_error")
    finally:
        await router.close()


async def test_a_chosen_model_loads_in_the_background_and_answers(
    tmp_path: Path, gguf: dict[str, Path], store: Store
) -> None:
    settings = build_settings(data_dir=tmp_path / "app", log_dir=tmp_path / "logs", environ={})
    settings.models_dir.mkdir(parents=True)
    (settings.models_dir / "chat.gguf").write_bytes(gguf["chat"].read_bytes())
    user_settings = UserSettings(settings.user_settings_path)
    router = build_model_router(
        settings, store, default_registry(), user_settings, detect_local=False
    )
    await router.start()
    try:
        assert router.status()["provider"] == "builtin"
        assert router.llm_configured
        status = await router.configure({"provider": "embedded", "model": "chat.gguf"})
        assert status["provider"] == "embedded"
        assert status["state"] in ("loading", "ready")
        assert user_settings.get("llm") == {"provider": "embedded", "model": "chat.gguf"}
        snapshots = Snapshots()
        await router.run(make_turn("hello", snapshots))
        assert router.status()["state"] == "ready"
        assert router.status()["context_length"] == 4096
        assert answer(snapshots.items[-1])["status"] == "success"
        probe = await router.test()
        assert probe["ok"] is True
        assert probe["error"] is None
    finally:
        await router.close()


async def test_old_turns_are_trimmed_to_fit_a_small_context(
    gguf: dict[str, Path], store: Store
) -> None:
    history = []
    for n in range(30):
        history.append(
            {
                "msg_type": "input",
                "content": [{"type": "text", "text": f"question {n} " + "x" * 400}],
            }
        )
        history.append(
            {
                "msg_type": "output",
                "content": [{"type": "text", "agent_name": "assistant", "text": "y" * 400}],
            }
        )
    provider = Recording(LlamaCppProvider(gguf["chat"], context_length=4096))
    snapshots = Snapshots()
    try:
        loop = ReasoningLoop(provider, default_registry(), store, limits=Limits(answer_tokens=64))
        await loop.run(make_turn("and now?", snapshots, history=history))
    finally:
        await provider.close()
    assert answer(snapshots.items[-1])["status"] == "success"
    sent = provider.requests[-1][0]
    assert sent[0]["role"] == "system"
    assert sent[-1] == {"role": "user", "content": "and now?"}
    assert 2 < len(sent) < 2 + len(history), "some, not all, old turns were kept"
    assert "question 29" in sent[-3]["content"], "the newest turns are the ones kept"
    assert "Earlier in this chat" in sent[0]["content"], "the turns left out are summarised"


async def test_a_model_writing_invalid_utf8_does_not_break_the_turn(
    tmp_path: Path, store: Store
) -> None:
    path = tmp_path / "bytes.gguf"
    write_model(str(path), raw_byte_biases={0xFF: 30.0})  # lone 0xFF bytes: never valid UTF-8
    provider = LlamaCppProvider(path)
    snapshots = Snapshots()
    try:
        loop = ReasoningLoop(provider, default_registry(), store, limits=Limits(answer_tokens=16))
        await loop.run(make_turn("hello", snapshots))
    finally:
        await provider.close()
    final = answer(snapshots.items[-1])
    assert final["status"] == "success"
    assert set(final["text"]) == {"\ufffd"}, "undecodable bytes arrive as U+FFFD"
