"""The start screen: with no video, general suggestion cards; once the chat's collection has
videos, cards for what the agents can do with the newest one and the last few videos, a video
starting a chat about it and a card filling the composer. Screenshots in light and dark."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import App
from tests.e2e.helpers import api
from tests.fixtures.media import (
    MediaFiles,
    media_files_fixture,  # noqa: F401 (the fixture)
)

pytestmark = pytest.mark.e2e


def upload(app: App, path: Path) -> dict[str, object]:
    with path.open("rb") as f:
        response = httpx.post(
            f"{app.server.base_url}/videodb/collection/default/upload",
            headers=app.server.auth_headers,
            files={"file": (path.name, f, "video/mp4")},
            timeout=60,
        )
    response.raise_for_status()
    return dict(response.json())


def test_without_videos_the_cards_are_general(app: App) -> None:
    app.open()
    cards = app.page.get_by_test_id("suggestions").locator(".card strong")
    cards.first.wait_for()
    assert cards.all_inner_texts()[:3] == ["Ask anything", "Search your chats", "Summarize"]
    assert app.page.get_by_test_id("recent-videos").count() == 0
    app.assert_clean()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_collections_last_videos_and_what_agents_can_do_with_them(
    app: App, media_files: MediaFiles, artifacts_dir: Path, theme: str
) -> None:
    api(app.server, "PATCH", "/prefs", json={"theme": theme})
    upload(app, media_files.clip_mkv)
    video = upload(app, media_files.clip_mp4)  # the newest
    app.open()
    page = app.page
    recent = page.get_by_test_id("recent-videos")
    recent.wait_for()
    assert recent.locator(".name").all_inner_texts() == [
        media_files.clip_mp4.name,
        media_files.clip_mkv.name,
    ]
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=recent-videos] img')]"
        ".every((i) => i.complete && i.naturalWidth > 0)"
    )
    cards = page.get_by_test_id("suggestions").locator(".card strong")
    assert cards.first.inner_text() == f"Summarize {media_files.clip_mp4.name}"
    page.screenshot(path=str(artifacts_dir / f"e2e-start-screen-{theme}.png"))

    # A video starts a chat about it; a card fills the composer with its agent.
    recent.get_by_role("button", name=f"Chat about {media_files.clip_mp4.name}").click()
    page.get_by_text(str(video["name"])).first.wait_for()
    cards.first.click()
    assert app.composer().input_value() == "@summarize_video "
    app.composer().press("Enter")
    page.locator("article.message.assistant").last.wait_for()
    [session] = api(app.server, "GET", "/session")
    assert session["video_id"] == video["id"]
    app.assert_clean()
