"""The sidebar in a real browser against the real server: rename and delete (with confirmation)
from a chat's menu, full-text search that jumps to the hit, a long history paged from the server."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Locator

from tests.e2e.conftest import App
from tests.e2e.helpers import api, import_session, turn

pytestmark = pytest.mark.e2e


def menu_item(row: Locator, name: str, item: str) -> Locator:
    """Open the chat's menu (⋯) and answer one of its items."""
    row.get_by_role("button", name=f"Actions for {name}").click()
    return row.get_by_role("menuitem", name=item)


def test_rename_a_chat_inline(app: App) -> None:
    sid = import_session(app.server, "old name", turn("hi", "hello"))
    app.open()
    page = app.page
    row = page.locator(f"[data-session-id='{sid}']")
    menu_item(row, "old name", "Rename").click()
    field = row.get_by_role("textbox", name="Chat name")
    field.fill("Holiday plans")
    with page.expect_response(lambda r: f"/session/{sid}" in r.url and r.request.method == "PATCH"):
        field.press("Enter")
    row.get_by_role("button", name="Holiday plans", exact=True).wait_for()
    assert api(app.server, "GET", f"/session/{sid}")["name"] == "Holiday plans"
    # Esc cancels an edit.
    menu_item(row, "Holiday plans", "Rename").click()
    row.get_by_role("textbox", name="Chat name").fill("nope")
    row.get_by_role("textbox", name="Chat name").press("Escape")
    row.get_by_role("button", name="Holiday plans", exact=True).wait_for()
    assert api(app.server, "GET", f"/session/{sid}")["name"] == "Holiday plans"
    app.assert_clean()


def test_delete_asks_first(app: App) -> None:
    keep = import_session(app.server, "keep me", turn("a", "b"))
    doomed = import_session(app.server, "delete me", turn("c", "d"))
    app.open()
    page = app.page
    row = page.locator(f"[data-session-id='{doomed}']")
    menu_item(row, "delete me", "Delete").click()
    row.get_by_role("button", name="Cancel delete").click()
    row.get_by_role("button", name="delete me", exact=True).wait_for()
    menu_item(row, "delete me", "Delete").click()
    row.get_by_role("button", name="Confirm delete").click()
    row.wait_for(state="detached")
    response = httpx.get(
        f"{app.server.base_url}/session/{doomed}", headers=app.server.auth_headers, timeout=10
    )
    assert response.status_code == 404
    page.locator(f"[data-session-id='{keep}']").wait_for()
    app.assert_clean()


def test_search_jumps_to_the_message(app: App) -> None:
    messages = []
    for n in range(40):
        reply = "the zebra crossing is by the bakery" if n == 5 else f"filler reply {n}"
        messages += turn(f"filler question {n}", reply)
    sid = import_session(app.server, "a long talk", messages)
    import_session(app.server, "another chat", turn("nothing here", "nor here"))
    app.open()
    page = app.page
    page.get_by_test_id("search").fill("zebra")
    hit = page.get_by_test_id("search-hits").get_by_role("button").first
    hit.wait_for()
    assert "a long talk" in hit.inner_text()
    hit.click()
    target = page.locator("article.message.highlighted", has_text="zebra crossing")
    target.wait_for()
    # Scrolled into view inside the thread, not just present somewhere in it.
    page.wait_for_function(
        """() => {
            const hit = document.querySelector('.message.highlighted').getBoundingClientRect()
            const view = document.querySelector('.thread').getBoundingClientRect()
            return hit.top >= view.top && hit.bottom <= view.bottom
        }"""
    )
    assert api(app.server, "GET", "/prefs")["current_session"] == sid
    # The hit sits in the middle of the chat: older turns are there above it.
    page.locator("article.message", has_text="filler question 4").first.wait_for(state="attached")
    # An empty search box shows the chats again.
    page.get_by_test_id("search").fill("")
    page.get_by_test_id("sessions").wait_for()
    app.assert_clean()


def test_an_agent_answer_links_to_the_chat_it_found(app: App) -> None:
    found = import_session(app.server, "trip notes", turn("where to go", "the zebra museum"))
    app.open()
    page = app.page
    app.send("@search_chats zebra")
    answer = page.locator("article.message.assistant[data-status=success]")
    answer.wait_for()
    log = answer.locator("details.actions")
    assert log.get_attribute("open") is None  # the run's log folds away once it has finished
    log.locator("summary").click()
    log.get_by_text("Running @search_chats agent").wait_for()
    answer.get_by_role("link", name="trip notes").first.click()
    page.locator("article.message", has_text="the zebra museum").wait_for()
    assert page.get_by_test_id("session-title").inner_text() == "trip notes"
    assert api(app.server, "GET", "/prefs")["current_session"] == found
    app.assert_clean()


def test_a_long_history_opens_a_page_of_chats_and_pages_more_on_scroll(app: App) -> None:
    for n in range(230):
        import_session(app.server, f"chat number {n}", [])
    lists: list[str] = []
    app.page.on("request", lambda r: lists.append(r.url) if "/session?" in r.url else None)
    app.open()
    page = app.page
    rows = page.locator("[data-testid=sessions] li.session")
    assert rows.count() == 100  # not 230: a long history opens as fast as a short one
    assert lists
    assert all("limit=100" in url for url in lists)  # never the whole list
    more = page.get_by_test_id("more-sessions")
    more.scroll_into_view_if_needed()  # scrolling to the list's end reads the next page
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=sessions] li.session').length >= 200"
    )
    # Keep scrolling the panel to its end, as a reader would, until the last page is in.
    page.wait_for_function(
        """() => {
            const panel = document.querySelector('.side-scroll')
            panel.scrollTop = panel.scrollHeight
            return document.querySelectorAll('[data-testid=sessions] li.session').length === 230
        }"""
    )
    more.wait_for(state="detached")  # the oldest chat is loaded: nothing more to ask for
    assert any("cursor=" in url for url in lists)
    shown = rows.all_inner_texts()
    assert sorted(shown) == sorted(f"chat number {n}" for n in range(230))
    assert len(shown) == len(set(shown))
    app.assert_clean()
