"""The chats list in a real browser against the real server: groups by day, pins from a chat's
menu that every window sees, and export as Markdown or JSON downloaded by the page."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page

from tests.e2e.conftest import App, PageWatch
from tests.e2e.helpers import api, turn

pytestmark = pytest.mark.e2e

DAY = 86_400


def import_at(app: App, name: str, updated_at: int, messages: list[dict[str, Any]]) -> str:
    doc = {
        "format": "director-desktop/session",
        "version": 1,
        "session": {"session_id": str(uuid.uuid4()), "name": name, "updated_at": updated_at},
        "messages": messages,
        "context": None,
    }
    return str(api(app.server, "POST", "/session/import", json=doc)["session_id"])


def groups(page: Page) -> list[tuple[str, list[str]]]:
    found = []
    for group in page.locator("[data-testid=sessions] .session-group").all():
        label = group.locator("h2").text_content() or ""  # as written, not as styled (uppercase)
        found.append((label.strip(), group.locator(".session-open").all_inner_texts()))
    return found


def menu(row: Locator, name: str) -> Locator:
    row.get_by_role("button", name=f"Actions for {name}").click()
    opened = row.get_by_role("menu")
    opened.wait_for()
    return opened


def seed(app: App) -> dict[str, str]:
    now = int(time.time())
    # Midday yesterday and three days ago are in their groups whatever the hour of the run.
    midnight = int(time.mktime((*time.localtime(now)[:3], 0, 0, 0, 0, 0, -1)))
    return {
        "old": import_at(app, "Tax return 2024", now - 90 * DAY, turn("forms?", "three")),
        "week": import_at(app, "Trip to Lisbon", midnight - 3 * DAY + 12 * 3600, []),
        "yesterday": import_at(app, "Birthday ideas", midnight - DAY + 12 * 3600, []),
        "today": import_at(app, "Rocket launch clips", now, turn("find launches", "two clips")),
    }


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_pinning_from_the_menu_moves_a_chat_to_pinned_in_every_window(
    app: App, browser: Browser, artifacts_dir: Path, theme: str
) -> None:
    ids = seed(app)
    api(app.server, "PATCH", "/prefs", json={"theme": theme})
    app.open()
    page = app.page
    assert groups(page) == [
        ("Today", ["Rocket launch clips"]),
        ("Yesterday", ["Birthday ideas"]),
        ("Last 7 days", ["Trip to Lisbon"]),
        ("Older", ["Tax return 2024"]),
    ]
    # A second window on the same server.
    other_context = browser.new_context(viewport={"width": 1000, "height": 700})
    other = other_context.new_page()
    other_watch = PageWatch(origin=app.server.base_url)
    other_watch.attach(other)
    other.goto(app.server.page_url)
    other.wait_for_function("() => document.documentElement.dataset.ready === '1'")

    row = page.locator(f"[data-session-id='{ids['old']}']")
    opened = menu(row, "Tax return 2024")
    page.screenshot(path=str(artifacts_dir / f"e2e-sidebar-menu-{theme}.png"))
    with page.expect_response(lambda r: r.request.method == "PATCH" and ids["old"] in r.url):
        opened.get_by_role("menuitem", name="Pin to top").click()
    pinned_groups = [
        ("Pinned", ["Tax return 2024"]),
        ("Today", ["Rocket launch clips"]),
        ("Yesterday", ["Birthday ideas"]),
        ("Last 7 days", ["Trip to Lisbon"]),
    ]
    page.wait_for_function(
        "() => document.querySelector('[data-testid=sessions] .session-group h2')"
        ".textContent.trim() === 'Pinned'"
    )
    assert groups(page) == pinned_groups
    assert row.locator(".pin-mark").is_visible()
    # The other window hears of it (update_data) and re-reads its list.
    other.wait_for_function(
        "() => document.querySelector('[data-testid=sessions] .session-group h2')"
        ".textContent.trim() === 'Pinned'"
    )
    assert groups(other) == pinned_groups
    assert api(app.server, "GET", "/session")[0]["session_id"] == ids["old"]
    page.screenshot(path=str(artifacts_dir / f"e2e-sidebar-pinned-{theme}.png"))

    # Unpinned from the other window: back among the older chats in both.
    other_row = other.locator(f"[data-session-id='{ids['old']}']")
    menu(other_row, "Tax return 2024").get_by_role("menuitem", name="Unpin").click()
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=sessions] [data-group=pinned]')"
    )
    assert groups(page)[-1] == ("Older", ["Tax return 2024"])
    assert other_watch.errors == []
    assert other_watch.csp == []
    other_context.close()
    app.assert_clean()


def test_the_menu_works_from_the_keyboard(app: App) -> None:
    ids = seed(app)
    app.open()
    page = app.page
    row = page.locator(f"[data-session-id='{ids['today']}']")
    button = row.get_by_role("button", name="Actions for Rocket launch clips")
    button.focus()
    page.keyboard.press("Enter")
    focused = "() => document.activeElement && document.activeElement.textContent.trim()"
    assert page.evaluate(focused) == "Pin to top"
    page.keyboard.press("ArrowDown")
    assert page.evaluate(focused) == "Rename"
    page.keyboard.press("Escape")
    row.get_by_role("menu").wait_for(state="detached")
    assert page.evaluate("() => document.activeElement.getAttribute('aria-label')") == (
        "Actions for Rocket launch clips"
    )
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")  # the first item: pin
    page.locator("[data-testid=sessions] [data-group=pinned]").wait_for()
    assert api(app.server, "GET", f"/session/{ids['today']}")["pinned_at"] is not None
    app.assert_clean()


@pytest.mark.parametrize(
    ("item", "suffix"), [("Export as Markdown", "md"), ("Export as JSON", "json")]
)
def test_export_from_the_menu_downloads_the_chat(
    app: App, artifacts_dir: Path, item: str, suffix: str
) -> None:
    ids = seed(app)
    app.open()
    page = app.page
    row = page.locator(f"[data-session-id='{ids['today']}']")
    opened = menu(row, "Rocket launch clips")
    with page.expect_download() as info:
        opened.get_by_role("menuitem", name=item).click()
    download = info.value
    assert download.suggested_filename == f"director-chat-{ids['today']}.{suffix}"
    saved = artifacts_dir / f"e2e-export.{suffix}"
    download.save_as(saved)
    text = saved.read_text(encoding="utf-8")
    if suffix == "md":
        assert text.startswith("# Rocket launch clips\n")
        assert "find launches" in text
        assert "two clips" in text
    else:
        doc = json.loads(text)
        assert (doc["format"], doc["session"]["name"]) == (
            "director-desktop/session",
            "Rocket launch clips",
        )
        assert [m["content"][0]["text"] for m in doc["messages"]] == ["find launches", "two clips"]
        # What the page saved is what Import reads back.
        again = api(app.server, "POST", "/session/import", json=doc)["session_id"]
        assert api(app.server, "GET", f"/session/{again}")["name"] == "Rocket launch clips"
    assert row.get_by_role("menu").count() == 0
    app.assert_clean()


def test_a_failed_export_says_so_in_the_sidebar(app: App) -> None:
    ids = seed(app)
    app.open()
    page = app.page
    row = page.locator(f"[data-session-id='{ids['week']}']")
    opened = menu(row, "Trip to Lisbon")
    app.server.stop()  # the app has gone: the export cannot be read
    opened.get_by_role("menuitem", name="Export as JSON").click()
    notice = page.get_by_test_id("sidebar-notice")
    notice.wait_for()
    assert notice.inner_text().startswith("Could not export the chat: the app did not answer")
    notice.get_by_role("button", name="Dismiss").click()
    notice.wait_for(state="detached")
    app.assert_clean(server_went_away=True)
