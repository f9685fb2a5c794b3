"""The Settings view in Debian's Chromium against the real headless server: opening it (button,
keyboard, `window.director.openSettings()`), uploading a tiny GGUF the test writes itself with
byte progress, choosing it and chatting with the real llama.cpp model, a corrupt model's clear
error with `llm_configured: false`, and bringing a VideoDB Director database in from the Data
section. Screenshots of both themes and of the error state go to `test-artifacts/`."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import App
from tests.e2e.helpers import api, turn
from tests.fixtures.director_db import build_director_db
from tests.fixtures.llama_server import openai_server
from tests.fixtures.replies import model_answer_text
from tests.fixtures.tiny_gguf import write_chat_model

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
MODEL_LOAD_TIMEOUT_MS = 60_000
REPLY_TIMEOUT_MS = 90_000

# Records what the Settings view showed, as it showed it: import rows' phases (and whether a
# progress bar was on screen with them) and the model status's states. A MutationObserver sees
# every rendered state, however briefly it was on screen, without polling.
RECORDER = """() => {
    const seen = window.__seen = {phases: [], bars: [], states: [], loadingBar: false};
    const note = () => {
        for (const row of document.querySelectorAll('[data-testid=import-row]')) {
            const phase = row.dataset.phase;
            if (seen.phases[seen.phases.length - 1] !== phase) seen.phases.push(phase);
            const bar = row.querySelector('progress, [role=progressbar]');
            if (bar) seen.bars.push({phase, value: bar.hasAttribute('value') ? bar.value : null});
        }
        const status = document.querySelector('[data-testid=model-status]');
        const state = status && status.dataset.state;
        if (state && seen.states[seen.states.length - 1] !== state) seen.states.push(state);
        const bar = status && status.querySelector('[role=progressbar]');
        if (state === 'loading' && bar && !bar.hasAttribute('value')) seen.loadingBar = true;
    };
    note();
    new MutationObserver(note).observe(document.body,
        {subtree: true, childList: true, attributes: true, characterData: true});
}"""


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(write_chat_model(str(tmp_path_factory.mktemp("gguf") / "tiny-chat.gguf")))


@pytest.fixture(scope="module", name="openai_server")
def openai_server_fixture(tiny_model: Path) -> Iterator[tuple[str, str]]:
    """xllamacpp's own OpenAI-compatible HTTP server on loopback, with an API key."""
    with openai_server(tiny_model) as served:
        yield served


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))


def open_settings(app: App) -> None:
    app.page.get_by_test_id("open-settings").click()
    app.page.get_by_role("dialog", name="Settings").wait_for()


def assert_answered(app: App) -> None:
    """The model's reply ended `success` with the assistant's answer item. A random-weight model
    may answer with no words at all (or only with a tool call), so the shape is checked, never
    the wording; text it did write is on the page."""
    current = api(app.server, "GET", "/prefs")["current_session"]
    conversation = api(app.server, "GET", f"/session/{current}")["conversation"]
    if model_answer_text(conversation[-1]):
        shown = app.page.locator("article.message.assistant[data-status=success] .markdown")
        assert shown.last.inner_text().strip() != ""


def seen(page: Page) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate("() => window.__seen")
    return result


def size_text(size: int) -> str:
    """The view's decimal size for a file between 100 KB and 1 MB (tiny models are ~0.47 MB)."""
    assert 100_000 <= size < 999_500, size
    return f"{round(size / 1000)} KB"


def test_settings_opens_by_button_keyboard_and_menu_hook(app: App) -> None:
    app.open()
    page = app.page
    dialog = page.get_by_role("dialog", name="Settings")
    gear = page.get_by_test_id("open-settings")
    gear.focus()
    page.keyboard.press("Enter")
    dialog.wait_for()
    status = page.get_by_test_id("model-status")
    assert status.get_attribute("data-provider") == "builtin"
    assert "Built-in assistant" in status.inner_text()
    # The provider choice is a labelled radio group, reachable with the keyboard.
    page.get_by_role("radio", name="Local model (GGUF)").focus()
    page.keyboard.press("ArrowDown")
    page.get_by_role("textbox", name="Server URL").wait_for()
    assert page.get_by_label("API key").get_attribute("type") == "password"
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    assert page.evaluate("() => document.activeElement.dataset.testid") == "open-settings"
    # The desktop menu's hook.
    page.evaluate("() => window.director.openSettings()")
    dialog.wait_for()
    page.get_by_test_id("close-settings").click()
    dialog.wait_for(state="hidden")
    app.assert_clean()


def test_upload_a_gguf_choose_it_and_chat_with_it(app: App, tiny_model: Path) -> None:
    size = tiny_model.stat().st_size
    app.open()
    page = app.page
    open_settings(app)
    page.evaluate(RECORDER)
    page.get_by_role("radio", name="Local model (GGUF)").check()
    page.get_by_text("No models yet").wait_for()

    with page.expect_response(lambda r: "/config/models/upload" in r.url) as upload:
        page.get_by_test_id("gguf-input").set_input_files(str(tiny_model))
    assert upload.value.status == 201
    page.locator("[data-testid=import-row][data-phase=done]").wait_for()
    row = page.locator("[data-testid=model-row][data-file='tiny-chat.gguf']")
    details = row.get_by_test_id("model-details").inner_text()
    assert size_text(size) in details
    assert "4,096 tokens" in details
    assert "Imported tiny-chat.gguf" in page.get_by_test_id("imports").inner_text()
    record = seen(page)
    assert record["phases"][0] == "sending", record
    assert record["phases"][-1] == "done", record
    assert any(b["phase"] == "sending" and b["value"] is not None for b in record["bars"]), record

    with page.expect_response(lambda r: "/config/models/choice" in r.url) as choice:
        row.get_by_role("button", name="Use tiny-chat.gguf").click()
    chosen = choice.value.json()
    assert (chosen["provider"], chosen["model"]) == ("embedded", "tiny-chat.gguf")
    status = page.locator("[data-testid=model-status][data-provider=embedded][data-state=ready]")
    status.wait_for(timeout=MODEL_LOAD_TIMEOUT_MS)
    assert "tiny-chat.gguf is ready" in status.inner_text()
    record = seen(page)
    if chosen["state"] == "loading":  # the answer said loading: the view showed it, with a bar
        assert record["states"][-2:] == ["loading", "ready"], record
        assert record["loadingBar"] is True, record
    assert row.get_by_text("In use").is_visible()
    assert api(app.server, "GET", "/config/check")["llm_configured"] is True

    with page.expect_response(lambda r: r.url.endswith("/config/models/test")) as probe:
        page.get_by_test_id("test-current").click()
    assert probe.value.json()["ok"] is True
    page.locator("[data-testid=test-result][data-ok=true]").wait_for()
    shot(page, "settings-light-model-ready.png")
    api(app.server, "PATCH", "/prefs", json={"theme": "dark"})
    page.wait_for_function("() => document.documentElement.dataset.theme === 'dark'")
    shot(page, "settings-dark-model-ready.png")

    page.keyboard.press("Escape")
    page.get_by_role("dialog", name="Settings").wait_for(state="hidden")
    assert page.get_by_test_id("model-notice").count() == 0  # a ready model needs no notice
    app.send("hello model")
    reply = page.locator("article.message.assistant[data-status=success]")
    reply.wait_for(timeout=REPLY_TIMEOUT_MS)
    assert_answered(app)
    app.assert_clean()


def test_a_corrupt_model_shows_a_clear_error(app: App, tiny_model: Path, tmp_path: Path) -> None:
    model = tiny_model.read_bytes()
    not_a_model = tmp_path / "fake.gguf"
    not_a_model.write_bytes(b"definitely not a model" * 100)
    cut_header = tmp_path / "cut.gguf"
    cut_header.write_bytes(model[:2000])  # ends inside the GGUF header
    cut_weights = tmp_path / "broken.gguf"
    cut_weights.write_bytes(model[:20_000])  # a whole header, most weights missing
    app.open()
    page = app.page
    open_settings(app)
    page.get_by_role("radio", name="Local model (GGUF)").check()

    # Files that are not whole GGUF models (a whole header does not make one: the weights must be
    # all there too) are refused with the reason, and nothing is kept.
    for bad in (not_a_model, cut_header, cut_weights):
        with page.expect_response(lambda r: "/config/models/upload" in r.url) as upload:
            page.get_by_test_id("gguf-input").set_input_files(str(bad))
        assert upload.value.status == 400
        failed = page.locator(
            "[data-testid=import-row][data-phase=error][data-code=model_corrupt]",
            has_text=f"Could not import {bad.name}",
        )
        failed.wait_for()
        reason = failed.get_by_test_id("progress-detail").inner_text()
        assert bad.name in reason  # the user's file, not the temp file it was written to
        assert ".part" not in reason
        assert ("truncated" in reason) is (bad is not not_a_model), reason
    assert api(app.server, "GET", "/config/models")["models"] == []

    # A model whose weights are cut off, put into the models folder by hand: choosing it shows
    # why it cannot answer, and /config/check says no model is configured.
    (app.server.data_dir / "models" / "broken.gguf").write_bytes(cut_weights.read_bytes())
    page.keyboard.press("Escape")
    open_settings(app)  # the list is read again when Settings opens
    page.get_by_role("radio", name="Local model (GGUF)").check()
    row = page.locator("[data-testid=model-row][data-file='broken.gguf']")
    row.get_by_role("button", name="Use broken.gguf").click()
    status = page.locator("[data-testid=model-status][data-state=error]")
    status.wait_for(timeout=MODEL_LOAD_TIMEOUT_MS)
    assert "cannot answer" in status.inner_text()
    assert "broken.gguf" in status.get_by_test_id("progress-detail").inner_text()
    assert api(app.server, "GET", "/config/check")["llm_configured"] is False

    # A damaged file put into the models folder by hand is listed with its error.
    (app.server.data_dir / "models" / "cut.gguf").write_bytes(cut_header.read_bytes())
    page.keyboard.press("Escape")
    # Outside Settings, the chat says the model cannot answer, and why, with a way back.
    notice = page.locator("[data-testid=model-notice][data-state=error]")
    assert "broken.gguf" in notice.inner_text()
    shot(page, "main-model-error-notice.png")
    notice.get_by_role("button", name="Open Settings").click()
    page.get_by_role("dialog", name="Settings").wait_for()
    listed = page.locator("[data-testid=model-row][data-file='cut.gguf']")
    assert "truncated" in listed.get_by_test_id("model-error").inner_text()
    shot(page, "settings-light-model-error.png")

    # Deleting a file asks first; the model in use cannot be deleted.
    in_use = page.locator("[data-testid=model-row][data-file='broken.gguf']")
    assert in_use.get_by_role("button", name="Delete broken.gguf").is_disabled()
    listed.get_by_role("button", name="Delete cut.gguf").click()
    listed.get_by_role("button", name="Confirm deleting cut.gguf").click()
    listed.wait_for(state="detached")
    files = [m["file"] for m in api(app.server, "GET", "/config/models")["models"]]
    assert files == ["broken.gguf"]

    # Back to the built-in assistant: it always answers.
    page.get_by_role("radio", name="Built-in assistant").check()
    assert api(app.server, "GET", "/config/models/status")["provider"] == "embedded"
    page.get_by_role("button", name="Use the built-in assistant").click()
    page.locator("[data-testid=model-status][data-provider=builtin]").wait_for()
    assert api(app.server, "GET", "/config/check")["llm_configured"] is True
    app.assert_clean()


def test_import_a_director_database_from_the_data_section(app: App, tmp_path: Path) -> None:
    director = tmp_path / "director.db"
    build_director_db(director)
    not_director = tmp_path / "notes.db"
    not_director.write_bytes(b"just some notes\n" * 50)
    app.open()
    page = app.page
    open_settings(app)

    page.get_by_test_id("director-input").set_input_files(str(not_director))
    result = page.get_by_test_id("data-result")
    result.get_by_text("Could not import notes.db").wait_for()
    assert "not a VideoDB Director database" in result.inner_text()
    assert api(app.server, "GET", "/session") == []

    page.get_by_test_id("director-input").set_input_files(str(director))
    result.get_by_text("Imported 3 chats from Director.").wait_for()
    page.keyboard.press("Escape")
    sidebar = page.get_by_test_id("sessions")
    sidebar.get_by_role("button", name="The old one", exact=True).wait_for()
    names = page.locator("[data-testid=sessions] .session-open").all_inner_texts()
    assert [n.strip() for n in names] == [
        "what is in the keynote video",
        "middle chat",
        "The old one",
    ]

    # One chat exported as JSON comes in the same way, and "Open it" shows it.
    export = tmp_path / "chat.json"
    export.write_text(
        json.dumps(
            {
                "format": "director-desktop/session",
                "version": 1,
                "session": {"session_id": str(uuid.uuid4()), "name": "Exported", "metadata": {}},
                "messages": turn("a question from the export", "an answer from the export"),
                "context": None,
            }
        )
    )
    open_settings(app)
    page.get_by_test_id("chat-json-input").set_input_files(str(export))
    result.get_by_text("Imported 1 chat.").wait_for()
    result.get_by_role("button", name="Open it").click()
    page.get_by_role("dialog", name="Settings").wait_for(state="hidden")
    page.get_by_text("an answer from the export").wait_for()
    assert page.get_by_test_id("session-title").inner_text() == "Exported"
    app.assert_clean()


def test_an_openai_compatible_server_with_a_key(app: App, openai_server: tuple[str, str]) -> None:
    address, key = openai_server
    models = httpx.get(address + "/v1/models", headers={"Authorization": f"Bearer {key}"})
    model = models.json()["data"][0]["id"]
    app.open()
    page = app.page
    open_settings(app)
    page.get_by_role("radio", name="OpenAI-compatible server").check()
    page.get_by_label("Server URL").fill(address)
    page.get_by_role("textbox", name="Model", exact=True).fill(model)
    page.get_by_label("API key").fill("wrong-key")
    page.get_by_role("button", name="Test connection").click()
    failed = page.locator("[data-testid=test-result][data-ok=false]")
    failed.wait_for()
    assert "The connection test failed" in failed.inner_text()
    assert api(app.server, "GET", "/config/models/status")["provider"] == "builtin"

    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Save and use").click()
    page.locator("[data-testid=model-status][data-provider=openai][data-state=ready]").wait_for(
        timeout=MODEL_LOAD_TIMEOUT_MS
    )
    field = page.get_by_label("API key")
    assert field.input_value() == ""  # the key is stored, never shown again
    assert "A key is stored" in (field.get_attribute("placeholder") or "")
    assert key not in page.content()
    status = api(app.server, "GET", "/config/models/status")
    assert status["has_api_key"] is True
    assert key not in json.dumps(status)
    api(app.server, "PATCH", "/prefs", json={"theme": "dark"})
    page.wait_for_function("() => document.documentElement.dataset.theme === 'dark'")
    shot(page, "settings-dark-openai.png")

    page.keyboard.press("Escape")
    app.send("hello server")
    reply = page.locator("article.message.assistant[data-status=success]")
    reply.wait_for(timeout=REPLY_TIMEOUT_MS)
    assert_answered(app)
    app.assert_clean()
