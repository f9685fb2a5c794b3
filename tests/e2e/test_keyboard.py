"""The keyboard: `?` opens the shortcuts sheet, Esc stops a reply being written, Up in an empty
composer puts the last message back to edit, Ctrl+Shift+C copies the last reply's markdown.
Screenshots of the sheet in light and dark."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import App
from tests.e2e.helpers import api

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_question_mark_opens_the_shortcuts_sheet(app: App, artifacts_dir: Path, theme: str) -> None:
    api(app.server, "PATCH", "/prefs", json={"theme": theme})
    app.open()
    page = app.page
    app.composer().fill("what?")  # typed in the composer, `?` is a character
    assert not page.get_by_test_id("shortcuts").is_visible()
    page.locator("body").click(position={"x": 600, "y": 300})
    page.keyboard.press("?")
    sheet = page.get_by_test_id("shortcuts")
    sheet.wait_for()
    rows = sheet.locator("tr").all_inner_texts()
    assert any("Stop the reply" in r and "Esc" in r for r in rows)
    assert any("Copy the last reply" in r for r in rows)
    page.screenshot(path=str(artifacts_dir / f"e2e-shortcuts-{theme}.png"))
    page.keyboard.press("Escape")
    sheet.wait_for(state="hidden")
    app.assert_clean()


def test_escape_stops_the_reply_being_written(app: App) -> None:
    app.open()
    page = app.page
    app.send("Tell me everything you can do, at length")
    app.wait_streaming()
    page.keyboard.press("Escape")
    stopped = page.locator("article.message.assistant[data-status=not_generated]")
    stopped.wait_for()
    [session] = api(app.server, "GET", "/session")
    conversation = api(app.server, "GET", f"/session/{session['session_id']}")["conversation"]
    assert conversation[-1]["status"] == "not_generated"
    assert conversation[-1]["metadata"]["stopped"] is True
    app.assert_clean()


def test_up_edits_the_last_message_and_ctrl_shift_c_copies_the_last_reply(app: App) -> None:
    app.page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    app.open()
    page = app.page
    app.send("first message")
    page.locator("article.message.assistant[data-status=success]").wait_for()
    app.send("second message\nwith two lines")
    page.locator("article.message.assistant[data-status=success]").nth(1).wait_for()
    app.composer().focus()
    app.composer().press("ArrowUp")
    assert app.composer().input_value() == "second message\nwith two lines"
    # Up in a composer with text moves the caret, as in any text field.
    app.composer().press("ArrowUp")
    assert app.composer().input_value() == "second message\nwith two lines"

    page.keyboard.press("Control+Shift+C")
    page.get_by_test_id("toast").filter(has_text="Copied").wait_for()
    copied = page.evaluate("() => navigator.clipboard.readText()")
    [session] = api(app.server, "GET", "/session")
    reply = api(app.server, "GET", f"/session/{session['session_id']}")["conversation"][-1]
    texts = [i["text"] for i in reply["content"] if i.get("type") == "text" and i.get("text")]
    assert copied == "\n\n".join(texts)
    assert copied  # the built-in assistant's reply has words
    app.assert_clean()
