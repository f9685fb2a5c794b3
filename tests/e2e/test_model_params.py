"""Thinking and model settings in Debian's Chromium against the real headless server, the model
being a local double speaking Ollama's OpenAI wire format: a thinking model's reasoning shows as
a "Thinking" part, open while it streams, closed once the answer is written and opened by a
click, never as raw tags; model settings saved from the Settings view reach the request body,
and a bad value is refused with its code. Screenshots go to `test-artifacts/` (looked at)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import App
from tests.e2e.helpers import api
from tests.fixtures.ollama_double import OllamaDouble, ollama_double
from tests.fixtures.tiny_gguf import write_chat_model

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
REPLY_TIMEOUT_MS = 60_000
THINKING = [
    ("content", "<th"),
    ("content", "ink>\nThe user said hello. A short, friendly greeting fits; "),
    ("content", "no tools are needed for this.\n</th"),
    ("content", "ink>\n\nHello! How can I help with your videos today?"),
]


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))


@pytest.fixture
def double() -> Iterator[OllamaDouble]:
    with ollama_double() as server:
        yield server


def use_double(app: App, double: OllamaDouble) -> None:
    choice = {"provider": "openai", "base_url": double.base_url, "model": "qwen3:0.6b"}
    api(app.server, "PUT", "/config/models/choice", json=choice)


def test_thinking_streams_open_then_closes_and_opens_on_click(
    app: App, double: OllamaDouble
) -> None:
    double.script = list(THINKING)
    double.pause_after = 2  # mid-thought: the answer has not started
    use_double(app, double)
    app.open()
    page = app.page
    app.send("hello")
    thinking = page.locator("article.message.assistant details.thinking")
    thinking.wait_for(timeout=REPLY_TIMEOUT_MS)
    page.wait_for_function(
        "() => document.querySelector('article.message.assistant details.thinking')?.open"
    )
    assert "Thinking…" in thinking.locator("summary").inner_text()
    shot(page, "thinking-streaming.png")
    double.release.set()

    done = page.locator("article.message.assistant[data-status=success]")
    done.wait_for(timeout=REPLY_TIMEOUT_MS)
    page.wait_for_function(
        "() => !document.querySelector('article.message.assistant details.thinking').open"
    )
    assert done.locator(".markdown").inner_text().strip() == (
        "Hello! How can I help with your videos today?"
    )
    assert "<think" not in page.content()
    assert "</think" not in page.content()
    assert not thinking.locator(".thinking-text").is_visible()
    shot(page, "thinking-closed.png")

    thinking.locator("summary").click()
    assert thinking.locator(".thinking-text").is_visible()
    assert "no tools are needed" in thinking.locator(".thinking-text").inner_text()
    shot(page, "thinking-open.png")
    api(app.server, "PATCH", "/prefs", json={"theme": "dark"})
    page.wait_for_function("() => document.documentElement.dataset.theme === 'dark'")
    shot(page, "thinking-open-dark.png")

    # the chat list and search show the answer, never the thinking
    session = api(app.server, "GET", "/prefs")["current_session"]
    reply = api(app.server, "GET", f"/session/{session}")["conversation"][-1]
    item = next(i for i in reply["content"] if i.get("agent_name") == "assistant")
    assert "<think" not in item["text"]
    assert "greeting fits" in item["thinking"]
    assert api(app.server, "GET", "/search", params={"q": "greeting fits"}) == []
    app.assert_clean()


def test_model_settings_from_the_settings_view_reach_the_request(
    app: App, double: OllamaDouble
) -> None:
    use_double(app, double)
    app.open()
    page = app.page
    page.get_by_test_id("open-settings").click()
    page.get_by_role("dialog", name="Settings").wait_for()
    form = page.get_by_test_id("model-params")
    form.wait_for()
    form.get_by_test_id("param-temperature").fill("9")
    form.get_by_test_id("params-save").click()
    error = form.get_by_test_id("params-error")
    error.wait_for()
    assert "bad_model_param" in error.inner_text()
    assert "temperature" in error.inner_text()
    assert api(app.server, "GET", "/config/models/params")["params"] == {}

    form.get_by_test_id("param-temperature").fill("0.3")
    form.get_by_test_id("param-max_tokens").fill("64")
    form.get_by_test_id("param-system_prompt").fill("Answer like a pirate.")
    form.get_by_test_id("params-save").click()
    form.get_by_test_id("params-saved").wait_for()
    assert api(app.server, "GET", "/config/models/params")["params"] == {
        "temperature": 0.3,
        "max_tokens": 64,
        "system_prompt": "Answer like a pirate.",
    }
    form.scroll_into_view_if_needed()
    shot(page, "model-settings.png")

    page.keyboard.press("Escape")
    app.send("hello")
    page.locator("article.message.assistant[data-status=success]").wait_for(
        timeout=REPLY_TIMEOUT_MS
    )
    # the reply's request (a chat's title may be asked for too, in a request of its own)
    body = next(b for b in double.bodies if b["messages"][-1]["content"] == "hello")
    assert (body["temperature"], body["max_tokens"]) == (0.3, 64)
    assert body["messages"][0]["content"].endswith("Answer like a pirate.")

    page.get_by_test_id("open-settings").click()
    form.get_by_test_id("params-reset").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=param-temperature]').value === ''"
    )
    assert api(app.server, "GET", "/config/models/params")["params"] == {
        "system_prompt": "Answer like a pirate."
    }
    app.assert_clean()


def test_the_model_picker_uses_a_local_file_in_one_click(app: App) -> None:
    models = app.server.data_dir / "models"
    models.mkdir(parents=True, exist_ok=True)
    write_chat_model(str(models / "tiny-chat.gguf"))
    app.open()
    page = app.page
    page.get_by_test_id("open-settings").click()
    page.get_by_role("dialog", name="Settings").wait_for()
    picker = page.get_by_test_id("model-picker")
    row = picker.get_by_test_id("pick-tiny-chat.gguf")
    row.wait_for()
    assert "This computer" in row.inner_text()
    row.click()
    page.locator("[data-testid=model-status][data-provider=embedded]").wait_for()
    page.locator("[data-testid=pick-tiny-chat\\.gguf][aria-pressed=true]").wait_for()
    status = api(app.server, "GET", "/config/models/status")
    assert status["config"] == {"provider": "embedded", "model": "tiny-chat.gguf"}
    shot(page, "model-picker.png")
    app.assert_clean()
