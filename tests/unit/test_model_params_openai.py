"""Model settings and thinking through an OpenAI-compatible server (a local double speaking
Ollama's and LM Studio's real wire format): the request body carries the settings, thinking in
either wire form is stored beside the answer and not searchable, detected models have sizes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from director_desktop.engine.agents import default_registry
from director_desktop.engine.llm.openai_http import detect_local_servers
from director_desktop.engine.router import ModelRouter, build_model_router
from director_desktop.errors import DirectorError
from director_desktop.settings import build_settings
from director_desktop.store import Store
from director_desktop.user_settings import UserSettings
from tests.fixtures.ollama_double import MODELS, OllamaDouble, ollama_double
from tests.unit.llm_support import Snapshots, make_turn
from tests.unit.store_support import input_message, new_store

pytestmark = pytest.mark.anyio


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = new_store(tmp_path / "data")
    assert store.open().ok
    yield store
    store.close()


@pytest.fixture
def double() -> Iterator[OllamaDouble]:
    with ollama_double() as server:
        yield server


@pytest.fixture
async def router(tmp_path: Path, store: Store, double: OllamaDouble) -> AsyncIterator[ModelRouter]:
    settings = build_settings(data_dir=tmp_path / "app", log_dir=tmp_path / "logs", environ={})
    user_settings = UserSettings(settings.user_settings_path)
    router = build_model_router(
        settings, store, default_registry(), user_settings, detect_local=False
    )
    await router.start()
    await router.configure(
        {"provider": "openai", "base_url": double.base_url, "model": "qwen3:0.6b"}
    )
    yield router
    await router.close()


def answer(snapshots: Snapshots) -> dict[str, Any]:
    final = snapshots.items[-1]
    return next(i for i in final["content"] if i.get("agent_name") == "assistant")


async def test_the_request_body_carries_every_sampling_setting(
    router: ModelRouter, double: OllamaDouble
) -> None:
    settings = {
        "temperature": 0.25,
        "top_p": 0.5,
        "top_k": 7,
        "min_p": 0.1,
        "repeat_penalty": 1.2,
        "stop": ["END", "\n\n\n"],
        "max_tokens": 33,
        "system_prompt": "Answer like a pirate.",
    }
    view = await router.set_params(settings)
    assert view["params"] == settings
    await router.run(make_turn("hello", Snapshots()))
    body = double.bodies[-1]
    assert body["model"] == "qwen3:0.6b"
    assert body["stream"] is True
    for key in ("temperature", "top_p", "top_k", "min_p", "repeat_penalty", "stop", "max_tokens"):
        assert body[key] == settings[key], key
    system = body["messages"][0]
    assert system["role"] == "system"
    assert system["content"].endswith("Answer like a pirate.")


async def test_absent_settings_are_left_to_the_server(
    router: ModelRouter, double: OllamaDouble
) -> None:
    await router.set_params({"temperature": 0.3})
    await router.reset_params()
    await router.run(make_turn("hello", Snapshots()))
    body = double.bodies[-1]
    assert not {"temperature", "top_p", "top_k", "min_p", "repeat_penalty", "stop"} & set(body)


async def test_a_bad_value_changes_nothing(router: ModelRouter, double: OllamaDouble) -> None:
    await router.set_params({"temperature": 0.3})
    saved = router.user_settings.get("model_params")
    for bad in ({"temperature": -1}, {"top_k": "many"}, {"stop": [""]}, {"n_threads": 0}):
        with pytest.raises(DirectorError) as raised:
            await router.set_params(bad)
        assert raised.value.code == "bad_model_param"
    with pytest.raises(DirectorError) as raised:
        await router.set_params({"temp": 1})
    assert raised.value.code == "unknown_model_param"
    assert router.user_settings.get("model_params") == saved
    await router.run(make_turn("hello", Snapshots()))
    assert double.bodies[-1]["temperature"] == 0.3


async def test_a_chats_own_system_prompt_replaces_the_default(
    router: ModelRouter, double: OllamaDouble, store: Store
) -> None:
    await store.add_input(input_message("s1", "earlier"), session_name="S")
    await router.set_params({"system_prompt": "Default voice."})
    await router.set_session_prompt("s1", {"system_prompt": "Only in this chat."})
    assert (await router.session_prompt("s1"))["system_prompt"] == "Only in this chat."
    await router.run(make_turn("hello", Snapshots(), session_id="s1"))
    system = double.bodies[-1]["messages"][0]["content"]
    assert system.endswith("Only in this chat.")
    assert "Default voice." not in system
    await router.set_session_prompt("s1", {"system_prompt": None})
    await router.run(make_turn("hello", Snapshots(), session_id="s1"))
    assert double.bodies[-1]["messages"][0]["content"].endswith("Default voice.")


async def test_think_tags_split_across_chunks_become_thinking(
    router: ModelRouter, double: OllamaDouble
) -> None:
    double.script = [
        ("content", "<th"),
        ("content", "ink>\nThe user says hi"),
        ("content", ", so I greet.</th"),
        ("content", "ink>\n\nHi"),
        ("content", " there!"),
    ]
    snapshots = Snapshots()
    await router.run(make_turn("hello", snapshots))
    item = answer(snapshots)
    assert item["text"] == "Hi there!"
    assert item["thinking"].strip() == "The user says hi, so I greet."
    for snapshot in snapshots.items:
        for content in snapshot["content"]:
            assert "<th" not in str(content.get("text", ""))


async def test_an_unclosed_think_at_the_end_is_thinking_not_answer(
    router: ModelRouter, double: OllamaDouble
) -> None:
    double.script = [("content", "<think>weighing options"), ("content", " forever")]
    snapshots = Snapshots()
    await router.run(make_turn("hello", snapshots))
    item = answer(snapshots)
    assert item.get("text", "") == ""
    assert item["thinking"] == "weighing options forever"


async def test_reasoning_content_is_thinking_and_never_goes_back_to_the_model(
    router: ModelRouter, double: OllamaDouble, store: Store
) -> None:
    double.script = [
        ("reasoning_content", "Zebrafish facts "),
        ("reasoning_content", "are relevant."),
        ("content", "Here is my answer."),
    ]
    snapshots = Snapshots()
    first = make_turn("tell me", snapshots)
    await router.run(first)
    item = answer(snapshots)
    assert (item["text"], item["thinking"]) == (
        "Here is my answer.",
        "Zebrafish facts are relevant.",
    )
    # The reply as history: the next request holds its answer and not its thinking.
    history = [
        input_message("s1", "tell me"),
        {**snapshots.items[-1], "session_id": "s1"},
    ]
    double.script = [("content", "ok")]
    await router.run(make_turn("more", Snapshots(), history=history))
    sent = " ".join(str(m.get("content")) for m in double.bodies[-1]["messages"])
    assert "Here is my answer." in sent
    assert "Zebrafish" not in sent


async def test_thinking_is_not_in_search_snippets_or_the_markdown_export(store: Store) -> None:
    question = input_message("s2", "question")
    await store.add_input(question, session_name="Q")
    reply = {
        "session_id": "s2",
        "conv_id": question["conv_id"],
        "msg_id": "out-thinking",
        "msg_type": "output",
        "status": "success",
        "actions": [],
        "agents": [],
        "content": [
            {
                "type": "text",
                "status": "success",
                "agent_name": "assistant",
                "text": "Plain answer words.",
                "thinking": "Quokka reasoning hidden.",
            }
        ],
        "metadata": {},
    }
    await store.put_message(reply)  # type: ignore[arg-type]
    assert await store.search("Quokka") == []
    assert [hit["msg_id"] for hit in await store.search("Plain answer")] == ["out-thinking"]
    markdown = await store.export_markdown("s2")
    assert "Plain answer words." in markdown
    assert "Quokka" not in markdown
    assert "<think>" not in markdown


@pytest.mark.parametrize("lmstudio", [False, True])
async def test_detected_servers_list_their_models_with_sizes_where_said(lmstudio: bool) -> None:
    with ollama_double(lmstudio=lmstudio) as server:
        found = await detect_local_servers(2.0, [("closed", 9), ("Local", server.port)])
    assert [s["name"] for s in found] == ["Local"]
    entries = found[0]["entries"]
    assert [e["id"] for e in entries] == list(MODELS) == found[0]["models"]
    expected = [None] * len(MODELS) if lmstudio else list(MODELS.values())
    assert [e["size"] for e in entries] == expected
