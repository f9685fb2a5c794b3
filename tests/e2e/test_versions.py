"""Versions, delete with undo and copy in a real browser against the real server (PROTOCOL 8):
regenerate and back to version 1 of 2, with the later turn following its branch; edit and
resend; delete and undo; copy a message's markdown and a code block to the clipboard.
Screenshots light and dark."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import App
from tests.e2e.helpers import api, import_session, turn

pytestmark = pytest.mark.e2e

USER = "article.message.user"
ASSISTANT = "article.message.assistant"


def finished_turns(app: App, count: int) -> None:
    app.page.locator(f"{ASSISTANT}[data-status=success]").nth(count - 1).wait_for()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_regenerate_then_switch_back_to_the_first_version(
    app: App, artifacts_dir: Path, theme: str
) -> None:
    api(app.server, "PATCH", "/prefs", json={"theme": theme})
    app.open()
    page = app.page
    app.send("first question")
    finished_turns(app, 1)
    app.send("second question")
    finished_turns(app, 2)
    first_reply = page.locator(ASSISTANT).first
    original = first_reply.locator(".markdown").inner_text()

    first_reply.hover()
    first_reply.get_by_role("button", name="Regenerate reply").click()
    switcher = first_reply.locator(".version-count")
    switcher.wait_for()
    assert switcher.inner_text() == "2/2"
    page.locator(f"{ASSISTANT}[data-status=success]").first.wait_for()
    # the second turn followed version 1: it leaves the screen with it
    page.locator(USER, has_text="second question").wait_for(state="detached")
    assert page.locator(USER).count() == 1
    switcher.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / f"e2e-versions-regenerated-{theme}.png"))

    first_reply.get_by_role("button", name="Previous version").click()
    page.locator(f"{ASSISTANT} .version-count", has_text="1/2").wait_for()
    page.locator(USER, has_text="second question").wait_for()
    assert page.locator(ASSISTANT).first.locator(".markdown").inner_text() == original
    assert page.locator(ASSISTANT).first.get_by_role("button", name="Next version").is_enabled()
    first_reply.locator(".version-count").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / f"e2e-versions-switched-{theme}.png"))

    # after a reload the page shows the same path, from the server
    page.reload()
    app.wait_ready()
    page.locator(f"{ASSISTANT} .version-count", has_text="1/2").wait_for()
    assert page.locator(USER).count() == 2
    app.assert_clean()


def test_edit_and_resend_keeps_the_old_words(app: App, artifacts_dir: Path) -> None:
    app.open()
    page = app.page
    app.send("tell me about otters")
    finished_turns(app, 1)
    mine = page.locator(USER).first
    mine.hover()
    mine.get_by_role("button", name="Edit message").click()
    editor = mine.get_by_role("textbox", name="Edit your message")
    assert editor.input_value() == "tell me about otters"
    editor.fill("tell me about beavers")
    page.screenshot(path=str(artifacts_dir / "e2e-versions-editing.png"))
    editor.press("Enter")
    page.locator(f"{USER} .bubble", has_text="tell me about beavers").wait_for()
    page.locator(f"{USER} .version-count", has_text="2/2").wait_for()
    page.locator(f"{ASSISTANT} .version-count", has_text="2/2").wait_for()
    finished_turns(app, 1)
    page.locator(USER).first.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "e2e-versions-edited.png"))

    page.locator(USER).first.get_by_role("button", name="Previous version").click()
    page.locator(f"{USER} .bubble", has_text="tell me about otters").wait_for()
    page.locator(f"{ASSISTANT} .version-count", has_text="1/2").wait_for()
    app.assert_clean()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_delete_a_turn_and_undo(app: App, artifacts_dir: Path, theme: str) -> None:
    api(app.server, "PATCH", "/prefs", json={"theme": theme})
    app.open()
    page = app.page
    app.send("keep this one")
    finished_turns(app, 1)
    app.send("delete this one")
    finished_turns(app, 2)
    doomed = page.locator(USER, has_text="delete this one")
    doomed.hover()
    doomed.get_by_role("button", name="Delete this exchange").click()
    doomed.wait_for(state="detached")
    assert page.locator("article.message").count() == 2
    toast = page.get_by_role("status").filter(has_text="Message deleted")
    toast.wait_for()
    page.screenshot(path=str(artifacts_dir / f"e2e-versions-deleted-{theme}.png"))

    toast.get_by_role("button", name="Undo").click()
    page.locator(USER, has_text="delete this one").wait_for()
    assert page.locator("article.message").count() == 4
    toast.wait_for(state="detached")
    app.assert_clean()


def test_copy_a_message_and_a_code_block(app: App, artifacts_dir: Path) -> None:
    reply = "Run this:\n\n```python\nprint('hello')\n```\n\nThen **smile**."
    sid = import_session(app.server, "Code", turn("show me code", reply))
    api(app.server, "PATCH", "/prefs", json={"current_session": sid})
    app.page.context.grant_permissions(
        ["clipboard-read", "clipboard-write"], origin=app.server.base_url
    )
    app.open()
    page = app.page
    answer = page.locator(ASSISTANT).first
    answer.locator(".code-block").wait_for()

    answer.locator("button.copy-code").click()
    page.locator("button.copy-code", has_text="Copied").wait_for()
    assert page.evaluate("() => navigator.clipboard.readText()") == "print('hello')\n"

    answer.hover()
    answer.get_by_role("button", name="Copy message").click()
    answer.locator(".msg-tools [role=status]", has_text="Copied").wait_for()
    page.screenshot(path=str(artifacts_dir / "e2e-versions-copied.png"))
    assert page.evaluate("() => navigator.clipboard.readText()") == reply  # markdown source
    mine = page.locator(USER).first
    mine.hover()
    mine.get_by_role("button", name="Copy message").click()
    page.wait_for_function("async () => (await navigator.clipboard.readText()) === 'show me code'")
    app.assert_clean()
