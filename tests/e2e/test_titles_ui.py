"""Model-made titles in the browser: the app is set to an OpenAI-compatible model (a local double
of such a server), which answers each "name this chat" request with a payload of the XSS corpus.
Each chat gets the cleaned title in the sidebar and the top bar, shown as text: nothing runs.
(That a name the user typed is never replaced is tested in tests/unit/test_titles.py.)"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from director_desktop.engine.titles import clean_title
from tests.e2e.conftest import ASSISTANT_PACE, App
from tests.e2e.helpers import api
from tests.e2e.test_xss import ACTIVE_PARTS, CORPUS
from tests.fixtures.openai_double import MODEL, Double, openai_double
from tests.live_server import HeadlessServer, start_headless

pytestmark = pytest.mark.e2e

# Payloads whose cleaned title is not empty (a title with nothing left keeps the first input's).
PAYLOADS = [p for p in CORPUS if clean_title(p)][:6]


@pytest.fixture
def double() -> Iterator[Double]:
    counter = itertools.count()

    def reply(request: dict[str, Any]) -> str:
        if request["messages"][0]["content"].startswith("Name this chat"):
            return PAYLOADS[next(counter) % len(PAYLOADS)]
        return "An answer from the double."

    with openai_double(reply) as running:
        yield running


@pytest.fixture
def server(data_dir: Path, double: Double) -> Iterator[HeadlessServer]:
    data_dir.mkdir(parents=True, exist_ok=True)
    llm = {"provider": "openai", "base_url": double.base_url, "model": MODEL}
    (data_dir / "settings.json").write_text(json.dumps({"llm": llm}))
    with start_headless(data_dir, env={"DIRECTOR_ASSISTANT_PACE": ASSISTANT_PACE}) as srv:
        yield srv


def titles(app: App) -> list[str]:
    return sorted(s["name"] for s in api(app.server, "GET", "/session"))


def test_model_titles_from_the_xss_corpus_render_as_text(
    app: App, double: Double, artifacts_dir: Path
) -> None:
    app.open()
    page = app.page
    for n in range(len(PAYLOADS)):
        if n:
            page.keyboard.press("Control+k")
        app.send(f"chat number {n}")
        page.locator("article.message.assistant[data-status=success]").wait_for()
    expected = sorted(clean_title(p) for p in PAYLOADS)
    # Every chat's model-made title has reached the sidebar (each came with a sessions event).
    page.wait_for_function(
        "(names) => { const shown = [...document.querySelectorAll("
        "'[data-testid=sessions] .session-open')].map((e) => e.textContent.trim());"
        " return shown.length === names.length"
        " && names.every((n) => shown.some((s) => s.includes(n))) }",
        arg=expected,
    )
    assert titles(app) == expected
    top = page.get_by_test_id("session-title").inner_text()
    assert top in expected  # the chat on screen shows its model-made title
    page.screenshot(path=str(artifacts_dir / "e2e-titles-xss.png"))
    assert page.evaluate(ACTIVE_PARTS) == []
    app.assert_clean()
