"""Images attached to an input: an OpenAI-compatible model receives each one as an `image_url`
data URL read through the media library by asset id (checked in the request body a local double
of such a server received); the embedded engine and the built-in assistant say they cannot see
images; an id that is no image of the library is refused. Real store, jobs, media library (an
image FFmpeg made), TurnRunner and router; xllamacpp on a tiny GGUF for the embedded engine."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from director_desktop.engine.agents import default_registry
from director_desktop.engine.router import build_model_router
from director_desktop.engine.turns import TurnRunner
from director_desktop.engine.vision import image_ids
from director_desktop.errors import DirectorError
from director_desktop.settings import build_settings
from director_desktop.user_settings import UserSettings
from tests.fixtures.media import (
    LibraryWorld,
    MediaFiles,
    media_files_fixture,  # noqa: F401 (the fixture)
)
from tests.fixtures.openai_double import MODEL, openai_double
from tests.fixtures.tiny_gguf import write_chat_model
from tests.unit.test_turns import Published

pytestmark = pytest.mark.anyio


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[LibraryWorld]:
    opened = await LibraryWorld.open(tmp_path / "data")
    yield opened
    await opened.close()


async def runner_for(
    tmp_path: Path, world: LibraryWorld, llm: dict[str, Any] | None
) -> tuple[TurnRunner, Any]:
    settings = build_settings(data_dir=tmp_path / "app", log_dir=tmp_path / "logs", environ={})
    await asyncio.to_thread(settings.models_dir.mkdir, parents=True, exist_ok=True)
    user_settings = UserSettings(settings.user_settings_path)
    if llm is not None:
        if llm["provider"] == "embedded":
            model = settings.models_dir / "chat.gguf"
            await asyncio.to_thread(write_chat_model, str(model))
        await asyncio.to_thread(user_settings.update, llm=llm)
    router = build_model_router(
        settings,
        world.store,
        default_registry(),
        user_settings,
        detect_local=False,
        media=world.library,
    )
    await router.start()
    return TurnRunner(world.store, router, Published()), router


def with_images(text: str, *assets: Any, session_id: str = "s1") -> Any:
    from director_desktop.protocol import parse_chat_input

    items: list[dict[str, Any]] = [{"type": "text", "text": text}]
    for asset in assets:
        items.append(
            {
                "type": "image",
                "image": {
                    "id": asset.id,
                    "collection_id": asset.collection_id,
                    "name": asset.name,
                    "url": f"/media/{asset.id}",
                },
            }
        )
    return parse_chat_input({"content": items, "session_id": session_id})


async def final_reply(runner: TurnRunner, world: LibraryWorld, session_id: str) -> Any:
    async with asyncio.timeout(60):
        await runner.wait_idle()
    messages = await world.store.messages_since(session_id, 0)
    return [m for m in messages if m["msg_type"] == "output"][-1]


async def test_an_openai_compatible_model_receives_the_image_as_an_image_url(
    tmp_path: Path, world: LibraryWorld, media_files: MediaFiles
) -> None:
    picture = await world.add(media_files.still_png)
    expected = "data:image/png;base64," + base64.b64encode(
        await asyncio.to_thread(media_files.still_png.read_bytes)
    ).decode("ascii")
    with openai_double("A test card with colour bars.") as double:
        runner, router = await runner_for(
            tmp_path, world, {"provider": "openai", "base_url": double.base_url, "model": MODEL}
        )
        try:
            await runner.submit(with_images("What is in this picture?", picture))
            reply = await final_reply(runner, world, "s1")
        finally:
            await runner.close()
            await router.close()
    assert reply["status"] == "success"
    answers = [r for r in double.requests if not r["messages"][0]["content"].startswith("Name")]
    user = answers[0]["messages"][-1]
    assert user["role"] == "user"
    assert user["content"] == [
        {"type": "text", "text": "What is in this picture?"},
        {"type": "image_url", "image_url": {"url": expected}},
    ]
    assert "images" not in user  # the app's own key never reaches the wire
    # the system prompt and any history stay plain strings
    assert all(isinstance(m["content"], str) for m in answers[0]["messages"][:-1])


@pytest.mark.parametrize("llm", [None, {"provider": "embedded", "model": "chat.gguf"}])
async def test_a_model_that_cannot_see_says_so(
    tmp_path: Path, world: LibraryWorld, media_files: MediaFiles, llm: dict[str, Any] | None
) -> None:
    picture = await world.add(media_files.still_png)
    runner, router = await runner_for(tmp_path, world, llm)
    try:
        await runner.submit(with_images("Describe it", picture))
        reply = await final_reply(runner, world, "s1")
    finally:
        await runner.close()
        await router.close()
    assert reply["status"] == "error"
    assert reply["metadata"]["error_type"] == "images_not_supported"
    text = reply["content"][-1]["text"]
    assert "cannot see images" in text
    assert ("built-in assistant" in text) == (llm is None)


async def test_an_image_id_that_is_not_an_image_of_the_library_is_refused(
    tmp_path: Path, world: LibraryWorld, media_files: MediaFiles
) -> None:
    clip = await world.add(media_files.clip_mp4)
    with openai_double("never asked") as double:
        runner, router = await runner_for(
            tmp_path, world, {"provider": "openai", "base_url": double.base_url, "model": MODEL}
        )
        try:
            await runner.submit(with_images("Look", clip))
            reply = await final_reply(runner, world, "s1")
        finally:
            await runner.close()
            await router.close()
    assert reply["status"] == "error"
    assert reply["metadata"]["error_type"] == "not_found"
    assert double.requests == []  # nothing was sent to the model


def test_image_ids_reads_image_items_once_each() -> None:
    items: Any = [
        {"type": "text", "text": "x"},
        {"type": "image", "image": {"id": "a"}},
        {"type": "image", "image": {"id": "a"}},
        {"type": "image", "image": {"id": "b"}},
    ]
    assert image_ids(items) == ["a", "b"]
    with pytest.raises(DirectorError) as raised:
        image_ids([{"type": "image", "image": {"url": "/x"}}])  # type: ignore[list-item]
    assert raised.value.code == "invalid_payload"
