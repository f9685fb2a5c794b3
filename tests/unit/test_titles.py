"""Model-made session titles: after the first reply the chosen model names the chat; a name the
user typed is never replaced; a title is cleaned and bounded; with no model the first-60-
characters name stays. A real Store and TurnRunner, the real router with the OpenAI-compatible
provider talking to a local double of such a server (its wire format), and the real embedded
engine (xllamacpp) on a tiny random-weight model, asserted by shape only."""

from __future__ import annotations

import asyncio
import json
import shutil
import unicodedata
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from director_desktop.engine.agents import default_registry
from director_desktop.engine.router import ModelRouter, build_model_router
from director_desktop.engine.titles import TITLE_CHARS, TITLE_WORDS, clean_title
from director_desktop.engine.turns import TurnRunner
from director_desktop.settings import build_settings
from director_desktop.store import Store
from director_desktop.user_settings import UserSettings
from tests.fixtures.openai_double import MODEL, openai_double
from tests.fixtures.tiny_gguf import write_chat_model
from tests.unit.test_turns import Published, chat

CORPUS = json.loads((Path(__file__).parents[1] / "e2e" / "xss_corpus.json").read_text())


def naming(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The requests that asked for a title (the reasoning loop's have a system message too)."""
    return [r for r in requests if r["messages"][0]["content"].startswith("Name this chat")]


def bounded(title: str) -> bool:
    return (
        0 < len(title) <= TITLE_CHARS
        and len(title.split()) <= TITLE_WORDS
        and title == title.strip()
        and "\n" not in title
        and not any(unicodedata.category(ch).startswith("C") for ch in title)
        and not any(ch in title for ch in '<>`*#[]"')
    )


def with_router(
    tmp_path: Path,
    llm: dict[str, Any] | None,
    body: Callable[[TurnRunner, Store, Published], Awaitable[None]],
    *,
    models: Path | None = None,
) -> None:
    async def main() -> None:
        settings = build_settings(data_dir=tmp_path / "app", log_dir=tmp_path / "logs", environ={})
        settings.models_dir.mkdir(parents=True, exist_ok=True)
        if models is not None:
            await asyncio.to_thread(shutil.copy, models, settings.models_dir / models.name)
        user_settings = UserSettings(settings.user_settings_path)
        if llm is not None:
            user_settings.update(llm=llm)
        store = Store(tmp_path / "director.sqlite3", backups_dir=tmp_path / "backups")
        await asyncio.to_thread(store.open)
        router: ModelRouter = build_model_router(
            settings, store, default_registry(), user_settings, detect_local=False
        )
        await router.start()
        published = Published()
        runner = TurnRunner(store, router, published)
        try:
            await body(runner, store, published)
        finally:
            await runner.close()
            await router.close()
            await asyncio.to_thread(store.close)

    asyncio.run(main())


async def idle(runner: TurnRunner) -> None:
    async with asyncio.timeout(60):
        await runner.wait_idle()


def test_the_model_names_the_chat_after_its_first_reply_and_only_then(tmp_path: Path) -> None:
    def reply(request: dict[str, Any]) -> str:
        if naming([request]):
            return 'Title: **"Holiday   video\tplans".**\nSecond line is dropped'
        return "Here is what I would do with your holiday videos."

    with openai_double(reply) as double:

        async def body(runner: TurnRunner, store: Store, published: Published) -> None:
            await runner.submit(chat("Plan the edit of my holiday videos", session_id="s1"))
            await idle(runner)
            session = await store.get_session("s1")
            assert session is not None
            assert session["name"] == "Holiday video plans"
            assert session["metadata"]["named_by"] == "model"
            asked = naming(double.requests)
            assert len(asked) == 1
            assert asked[0]["max_tokens"] <= 32
            assert asked[0].get("tools") is None
            assert "Plan the edit of my holiday videos" in asked[0]["messages"][1]["content"]
            # the windows heard of the new name: sessions_changed after the final reply
            assert published.items[-1] == ("sessions", None)
            # a second turn does not rename the chat again
            await runner.submit(chat("And the music?", session_id="s1"))
            await idle(runner)
            assert len(naming(double.requests)) == 1

        with_router(
            tmp_path,
            {"provider": "openai", "base_url": double.base_url, "model": MODEL},
            body,
        )


def test_a_name_the_user_typed_is_never_replaced_by_a_model_title(tmp_path: Path) -> None:
    typed = "My own name"

    with openai_double(lambda _request: "A model made title") as double:

        async def body(runner: TurnRunner, store: Store, published: Published) -> None:
            # The user renames the chat while its first reply is still being written: the title
            # the model makes afterwards must leave the user's name alone.
            await runner.submit(chat("first words", session_id="s1", conv_id="c1"))
            await store.rename_session("s1", typed)
            await idle(runner)
            session = await store.get_session("s1")
            assert session is not None
            assert session["name"] == typed
            assert session["metadata"]["named_by"] == "user"
            # and the store refuses a model's title outright once the user named it
            assert await store.name_session_by_model("s1", "Another title") is None
            assert (await store.get_session("s1") or {})["name"] == typed
            assert len(naming(double.requests)) == 1  # the model was asked; its answer was not used

        with_router(
            tmp_path,
            {"provider": "openai", "base_url": double.base_url, "model": MODEL},
            body,
        )


def test_with_no_model_the_first_sixty_characters_stay_the_name(tmp_path: Path) -> None:
    text = "word " * 30

    async def body(runner: TurnRunner, store: Store, _published: Published) -> None:
        await runner.submit(chat(text, session_id="s1"))
        await idle(runner)
        session = await store.get_session("s1")
        assert session is not None
        assert session["name"] == " ".join(text.split())[:60]
        assert "named_by" not in session["metadata"]

    with_router(tmp_path, None, body)


def test_the_embedded_model_titles_the_chat_with_a_bounded_clean_name(tmp_path: Path) -> None:
    model = tmp_path / "chat.gguf"
    write_chat_model(str(model))
    first = "Tell me about my videos please"

    async def body(runner: TurnRunner, store: Store, _published: Published) -> None:
        await runner.submit(chat(first, session_id="s1"))
        await idle(runner)
        session = await store.get_session("s1")
        assert session is not None
        # Random weights: the words are noise, so only the shape is checked. An answer with
        # nothing usable left after cleaning keeps the first input's name.
        if session["metadata"].get("named_by") == "model":
            assert bounded(session["name"]), session["name"]
        else:
            assert session["name"] == first

    with_router(tmp_path, {"provider": "embedded", "model": "chat.gguf"}, body, models=model)


@pytest.mark.parametrize("raw", CORPUS)
def test_a_title_from_the_xss_corpus_is_cleaned_and_bounded(raw: str) -> None:
    title = clean_title(raw)
    assert title == "" or bounded(title), title
    assert "<" not in title
    assert ">" not in title


@pytest.mark.parametrize(
    ("raw", "title"),
    [
        ("<think>hmm, a name</think>Cooking with friends", "Cooking with friends"),
        ("\u202eevil\u200b name\x07", "evil name"),
        (
            "one two three four five six seven eight nine ten",
            "one two three four five six seven eight",
        ),
        ("x" * 500, "x" * TITLE_CHARS),
        ("   \n  \n", ""),
        ("Chat title: Trip to Rome!!!", "Trip to Rome"),
        # Noise an embedded model with random weights once answered: a `<` never closed.
        ("D2 tGm!-7g S ^Q=W2tq^xUW<", "D2 tGm!-7g S ^Q=W2tq^xUW"),
        ("Is 3 < 4 true", "Is 3 4 true"),
    ],
)
def test_clean_title_examples(raw: str, title: str) -> None:
    assert clean_title(raw) == title
