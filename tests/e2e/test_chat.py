"""The chat in a real browser against the real server: a streamed reply, Ctrl+K, reload,
drafts, the agent picker, the dark theme and a long session opening at its end."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.e2e.conftest import App
from tests.e2e.helpers import api, import_session, turn
from tests.live_server import HeadlessServer

pytestmark = pytest.mark.e2e

ASSISTANT = "article.message.assistant"


def test_send_a_message_and_see_the_reply_stream(app: App, artifacts_dir: Path) -> None:
    app.open()
    page = app.page
    page.get_by_test_id("empty-state").wait_for()
    page.screenshot(path=str(artifacts_dir / "e2e-empty.png"))

    app.send("hello there")
    page.locator("article.message.user .bubble", has_text="hello there").wait_for()
    # Streaming: the reply is seen in progress with part of its text, then finished and longer.
    app.wait_streaming()
    partial = page.locator(f"{ASSISTANT} .markdown").inner_text()
    page.locator(f"{ASSISTANT}[data-status=success]").wait_for()
    final = page.locator(f"{ASSISTANT} .markdown").inner_text()
    assert final.startswith(partial.strip()[:20])
    assert len(final) > len(partial)
    assert "built-in assistant" in final
    # The new chat is listed, named from its first message.
    page.locator("[data-testid=sessions] .session.current", has_text="hello there").wait_for()
    assert page.get_by_test_id("session-title").inner_text() == "hello there"
    page.screenshot(path=str(artifacts_dir / "e2e-chatting.png"))
    app.assert_clean()


def test_ctrl_k_starts_an_empty_session_and_focuses_the_composer(app: App) -> None:
    app.open()
    page = app.page
    app.send("first chat")
    page.locator(f"{ASSISTANT}[data-status=success]").wait_for()

    # From inside another text field, mid-typing.
    search = page.get_by_test_id("search")
    search.click()
    search.type("half typed")
    page.keyboard.press("Control+k")
    page.get_by_test_id("empty-state").wait_for()
    assert page.evaluate("document.activeElement.dataset.testid") == "composer"
    assert page.get_by_test_id("composer").input_value() == ""
    assert page.locator("article.message").count() == 0
    assert page.get_by_test_id("session-title").inner_text() == "New chat"
    page.wait_for_function("() => document.documentElement.dataset.ready === '1'")
    # The same action is reachable for the desktop shell's native menu.
    page.get_by_test_id("composer").fill("draft in the second chat")
    page.evaluate("window.director.newSession()")
    assert page.get_by_test_id("composer").input_value() == ""
    assert page.evaluate("document.activeElement.dataset.testid") == "composer"
    app.assert_clean()


def test_reload_reopens_the_session_and_its_draft(app: App) -> None:
    app.open()
    page = app.page
    app.send("remember me")
    page.locator(f"{ASSISTANT}[data-status=success]").wait_for()
    with page.expect_response(lambda r: r.url.endswith("/prefs") and r.request.method == "PATCH"):
        page.get_by_test_id("composer").fill("an unsent draft")
    page.reload()  # the address bar no longer has the token: it lives in sessionStorage
    assert "token=" not in page.url
    app.wait_ready()
    page.locator("article.message.user .bubble", has_text="remember me").wait_for()
    page.locator(f"{ASSISTANT}[data-status=success]").wait_for()
    assert page.get_by_test_id("session-title").inner_text() == "remember me"
    assert page.get_by_test_id("composer").input_value() == "an unsent draft"
    app.assert_clean()


def test_at_opens_an_agent_picker(app: App) -> None:
    app.open()
    page = app.page
    composer = page.get_by_test_id("composer")
    composer.click()
    composer.type("please @sea")
    page.get_by_role("listbox", name="Agents").wait_for()
    page.keyboard.press("Enter")
    assert composer.input_value() == "please @search_chats "
    composer.type("x")
    page.keyboard.press("Escape")
    assert page.get_by_role("listbox", name="Agents").count() == 0
    # Shift+Enter adds a line instead of sending.
    composer.fill("line one")
    composer.press("Shift+Enter")
    composer.type("line two")
    assert composer.input_value() == "line one\nline two"
    assert page.locator("article.message").count() == 0
    # Clicking an agent in the sidebar inserts it too.
    composer.fill("")
    page.get_by_role("button", name="Insert @search_chats").click()
    assert composer.input_value() == "@search_chats "
    app.assert_clean()


def test_dark_theme_is_kept_in_prefs(app: App, artifacts_dir: Path) -> None:
    app.open()
    page = app.page
    app.send("show me the dark side")
    page.locator(f"{ASSISTANT}[data-status=success]").wait_for()
    with page.expect_response(lambda r: r.url.endswith("/prefs") and r.request.method == "PATCH"):
        page.get_by_test_id("theme-toggle").click()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    assert api(app.server, "GET", "/prefs")["theme"] == "dark"
    page.screenshot(path=str(artifacts_dir / "e2e-dark.png"))
    page.reload()
    app.wait_ready()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    app.assert_clean()


def test_a_long_session_opens_at_its_end_and_loads_older_on_scroll(app: App) -> None:
    messages = []
    for n in range(60):
        messages += turn(f"question {n:03}", f"answer {n:03}")
    sid = import_session(app.server, "a long chat", messages)
    api(app.server, "PATCH", "/prefs", json={"current_session": sid})
    app.open()
    page = app.page
    page.locator("article.message", has_text="answer 059").wait_for()
    assert page.locator("article.message").count() == 50
    assert page.locator("article.message", has_text="question 000").count() == 0
    # Scroll to the top: the previous page comes in above.
    page.locator(".thread").evaluate(
        "el => { el.scrollTop = 0; el.dispatchEvent(new Event('scroll')) }"
    )
    page.locator("article.message", has_text="question 010").wait_for()
    assert page.locator("article.message").count() == 100
    page.locator(".thread").evaluate(
        "el => { el.scrollTop = 0; el.dispatchEvent(new Event('scroll')) }"
    )
    page.locator("article.message", has_text="question 000").wait_for()
    assert page.locator("article.message").count() == 120
    app.assert_clean()


def test_sidebar_collapses_and_is_a_drawer_on_narrow_windows(app: App, artifacts_dir: Path) -> None:
    first = import_session(app.server, "first chat", turn("one", "uno"))
    import_session(app.server, "second chat", turn("two", "dos"))
    app.open()
    page = app.page
    sidebar = page.get_by_role("navigation", name="Chats")
    page.get_by_role("button", name="Collapse sidebar").click()
    sidebar.wait_for(state="hidden")
    page.get_by_role("button", name="Show chats").click()
    sidebar.wait_for(state="visible")

    page.set_viewport_size({"width": 600, "height": 800})
    page.wait_for_function(
        "() => document.querySelector('nav.sidebar').getBoundingClientRect().right <= 0"
    )
    page.get_by_role("button", name="Show chats").click()
    page.wait_for_function(
        "() => document.querySelector('nav.sidebar').getBoundingClientRect().left >= 0"
    )
    page.screenshot(path=str(artifacts_dir / "e2e-narrow-drawer.png"))
    page.locator(f"[data-session-id='{first}'] .session-open").click()
    page.locator("article.message", has_text="uno").wait_for()
    page.wait_for_function(
        "() => document.querySelector('nav.sidebar').getBoundingClientRect().right <= 0"
    )
    app.assert_clean()


def test_the_theme_follows_the_system_until_chosen(
    browser: Browser, server: HeadlessServer
) -> None:
    context = browser.new_context(color_scheme="dark")
    try:
        page = context.new_page()
        page.goto(server.page_url)
        page.wait_for_function("() => document.documentElement.dataset.ready === '1'")
        assert page.evaluate("document.documentElement.dataset.theme") == "dark"
        page.emulate_media(color_scheme="light")
        page.wait_for_function("() => document.documentElement.dataset.theme === 'light'")
    finally:
        context.close()


def test_a_refused_message_shows_the_servers_error_and_keeps_the_text(app: App) -> None:
    app.open()
    page = app.page
    too_long = "x" * (257 * 1024)  # over the 256 KiB text limit: refused before anything is stored
    page.get_by_test_id("composer").fill(too_long)
    page.get_by_test_id("composer").press("Enter")
    error = page.locator("article.message.assistant [role=alert]")
    error.wait_for()
    assert "Error in chat handler" in error.inner_text()
    mine = page.locator("article.message.user")
    mine.get_by_text("Not sent.").wait_for()
    assert len(mine.locator(".bubble").inner_text()) == len(too_long)
    app.assert_clean()


def test_every_control_has_a_name(app: App) -> None:
    import_session(app.server, "named", turn("q", "```python\nprint(1)\n```"))
    app.open()
    page = app.page
    page.locator("[data-testid=sessions] .session-open").first.click()
    page.locator(".code-block").wait_for()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy code").click()
    page.get_by_role("button", name="Copy code").get_by_text("Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == "print(1)\n"
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll('button, input, textarea, a[href]')]
            .filter((el) => !(el.getAttribute('aria-label') || el.textContent.trim()
                              || (el.labels && el.labels.length) || el.getAttribute('title')))
            .map((el) => el.outerHTML.slice(0, 80))"""
    )
    assert unnamed == []
    # Tab reaches the composer from the sidebar without a mouse.
    page.get_by_test_id("new-chat").focus()
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.dataset.testid") == "composer":
            break
    assert page.evaluate("document.activeElement.dataset.testid") == "composer"
    app.assert_clean()


def test_a_second_window_on_the_same_chat_sees_the_turn_live(app: App) -> None:
    app.open()
    page = app.page
    app.send("first words")
    page.locator(f"{ASSISTANT}[data-status=success]").wait_for()
    sid = api(app.server, "GET", "/prefs")["current_session"]

    other = page.context.new_page()
    other.goto(app.server.page_url)  # reopens current_session
    other.wait_for_function("() => document.documentElement.dataset.ready === '1'")
    other.locator("article.message.user", has_text="first words").wait_for()

    app.send("second words")
    # The other window gets the input and the streamed reply through the session's room.
    other.locator("article.message.user", has_text="second words").wait_for()
    other.wait_for_function(
        "() => document.querySelectorAll("
        "'article.message.assistant[data-status=success]').length === 2"
    )
    assert other.locator("article.message").count() == 4
    assert api(app.server, "GET", "/prefs")["current_session"] == sid
    other.close()
    app.assert_clean()
