"""The built-in assistant: a useful reply streamed in pieces, @agent mentions run the agent."""

from __future__ import annotations

import asyncio
from pathlib import Path

from director_desktop.engine.agents import default_registry
from director_desktop.engine.assistant import BuiltinAssistant, pieces
from director_desktop.engine.base import Turn
from director_desktop.engine.output import OutputMessage
from director_desktop.protocol import JSONDict, parse_chat_input
from director_desktop.store import Store
from tests.unit.store_support import input_message, pending_output


def test_pieces_keep_every_character() -> None:
    text = "one two  three\n\nfour five six seven"
    parts = list(pieces(text, words=2))
    assert "".join(parts) == text
    assert len(parts) > 2


def run_turn(
    tmp_path: Path, text: str, *, agents: list[str] | None = None
) -> tuple[JSONDict, list[JSONDict]]:
    async def main() -> tuple[JSONDict, list[JSONDict]]:
        store = Store(tmp_path / "director.sqlite3", backups_dir=tmp_path / "backups")
        await asyncio.to_thread(store.open)
        try:
            earlier = input_message("old", "ideas for the penguin film", conv_id="c0", msg_id="m0")
            await store.add_input(earlier, session_name="Penguins")
            committed: list[JSONDict] = []

            async def commit(snapshot: JSONDict) -> JSONDict:
                committed.append(snapshot)
                return {**snapshot, "metadata": {"seq": len(committed)}}

            chat = parse_chat_input(
                {"content": [{"type": "text", "text": text}], "agents": agents or []}
            )
            output = OutputMessage(pending_output("now", "c1", "o1"), commit, min_interval=0.0)
            assistant = BuiltinAssistant(
                store, default_registry(), models_dir=tmp_path / "models", pace=0.0
            )
            await assistant.run(Turn("now", "c1", chat, {}, output))
            return output.message, committed
        finally:
            await asyncio.to_thread(store.close)

    return asyncio.run(main())


def test_reply_says_what_it_can_do_and_how_to_add_a_model(tmp_path: Path) -> None:
    message, committed = run_turn(tmp_path, "hello")
    text = message["content"][0]["text"]
    assert "@search_chats" in text
    assert ".gguf" in text
    assert str(tmp_path / "models") in text
    assert "OpenAI-compatible" in text
    assert len(committed) > 5  # streamed in pieces, each pushed
    grown = [len(s["content"][0]["text"]) for s in committed]
    assert grown == sorted(grown)


def test_mention_runs_the_agent(tmp_path: Path) -> None:
    message, _ = run_turn(tmp_path, "@search_chats penguin")
    assert message["agents"] == ["search_chats"]
    assert message["actions"] == ["Running @search_chats agent"]
    found = message["content"][0]
    assert found["agent_name"] == "search_chats"
    assert "[Penguins](#session=old" in found["text"]
    assert "@search_chats finished" in message["content"][1]["text"]


def test_tagged_agent_and_unknown_mentions(tmp_path: Path) -> None:
    message, _ = run_turn(tmp_path, "penguin @nobody", agents=["search_chats"])
    assert message["agents"] == ["search_chats"]
    unknown, _ = run_turn(tmp_path / "other", "email me @nobody")
    assert unknown["agents"] == []
    assert "@search_chats" in unknown["content"][0]["text"]


def test_agent_without_a_query_explains(tmp_path: Path) -> None:
    message, _ = run_turn(tmp_path, "@search_chats")
    assert message["content"][0]["status"] == "error"
    assert "could not finish" in message["content"][1]["text"]


def test_help_lists_every_agent_with_one_example(tmp_path: Path) -> None:
    from tests.fixtures.media import LibraryWorld

    world = LibraryWorld(tmp_path / "data")  # not opened: the help reads only the agents
    registry = default_registry(world.library)
    text = BuiltinAssistant(world.store, registry).help_text()
    for agent in registry:
        assert f"- **@{agent.name}**: " in text
    for example in ("@frame 0:42", "@stream_video", "@download", "@editing trim 0:05 0:12"):
        assert f"Example: `{example}`" in text
    assert "Example: `@search_chats holiday video`" in text


def test_free_text_fills_the_parameters_it_can() -> None:
    from director_desktop.engine.agents.base import arguments_from_text
    from director_desktop.engine.agents.editing import EditingAgent
    from director_desktop.engine.agents.frame import FrameAgent
    from director_desktop.engine.agents.search_chats import SearchChatsAgent

    some_id, other_id = (
        "01936f1e-8b7a-7c3d-9e21-0a1b2c3d4e5f",
        "01936f1e-8b7a-7c3d-9e21-ffffffffffff",
    )
    assert FrameAgent.from_text("0:42") == {"at": 42.0}
    assert FrameAgent.from_text("at 1:02:03.5 please") == {"at": 3723.5}
    assert FrameAgent.from_text(f"{some_id} 42s") == {"at": 42.0, "video_id": some_id}
    assert FrameAgent.from_text("where the cake is cut") == {"phrase": "where the cake is cut"}
    assert EditingAgent.from_text("trim 0:05 0:12") == {
        "operation": "trim",
        "start": 5.0,
        "end": 12.0,
    }
    assert EditingAgent.from_text(f"join {some_id} and {other_id}") == {
        "operation": "join",
        "video_ids": [some_id, other_id],
    }
    assert EditingAgent.from_text(f"replace the audio with {other_id}") == {
        "operation": "replace_audio",
        "audio_id": other_id,
    }
    assert EditingAgent.from_text(f"mix in {other_id}")["operation"] == "mix_audio"
    assert arguments_from_text(SearchChatsAgent(), "  red   car ") == {"query": "red car"}
