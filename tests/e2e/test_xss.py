"""Model output is untrusted: a corpus of XSS payloads reaches the renderer the way stored model
output does (a session restored through `POST /session/import`, whose assistant messages carry
the payloads), plus a session name, user turns and search snippets carrying them. Nothing runs:
no dialog, no page error, no CSP report, no request to another origin, no handler attribute,
script element or script URL in the document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import App
from tests.e2e.helpers import api, import_session, load_all_older, turn

pytestmark = pytest.mark.e2e

CORPUS: list[str] = json.loads((Path(__file__).parent / "xss_corpus.json").read_text())

# Runs in the page: every element that could execute or load something.
ACTIVE_PARTS = """() => {
  const found = []
  const risky = ['script', 'iframe', 'object', 'embed', 'base', 'meta', 'form', 'svg', 'math']
  // Where text from the server is shown; the app's own icons (svg.app-icon) are not from it,
  // though their attributes are checked like any other element's.
  const shown = '.thread *, [data-testid=sessions] *, [data-testid=search-hits] *, .topbar .title *'
  for (const el of document.querySelectorAll(shown)) {
    const tag = el.tagName.toLowerCase()
    const icon = el.closest('svg.app-icon')
    if (risky.includes(tag) && !icon) found.push('<' + tag + '>')
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase()
      if (name.startsWith('on')) found.push(tag + '[' + name + ']')
      const value = attr.value.replace(/[\\s\\u0000-\\u001f]/g, '').toLowerCase()
      const url = ['href', 'src', 'xlink:href', 'action', 'formaction', 'data'].includes(name)
      if (url && /^(javascript|vbscript|data):/.test(value)) found.push(tag + '[' + name + ']')
    }
  }
  return found
}"""


def test_xss_corpus_in_model_output_executes_nothing(app: App, artifacts_dir: Path) -> None:
    assert len(CORPUS) >= 30
    messages = []
    for n, payload in enumerate(CORPUS):
        messages += turn(f"payload {n}: {payload}", f"Reply {n}:\n\n{payload}\n\nend {n}")
    sid = import_session(app.server, "<img src=x onerror=alert('name')>", messages)
    api(app.server, "PATCH", "/prefs", json={"current_session": sid})
    app.open()
    page = app.page
    page.locator("article.message", has_text=f"end {len(CORPUS) - 1}").wait_for()
    # Load every older page, so all payloads are rendered, then scroll through them.
    load_all_older(page, "payload 0:")
    assert page.locator("article.message.assistant").count() == len(CORPUS)
    for n in range(len(CORPUS)):
        page.locator("article.message.assistant").nth(n).scroll_into_view_if_needed()
    page.locator(".markdown a").first.hover()
    # Search snippets and session names carry the payloads too.
    page.get_by_test_id("search").fill("onerror")
    page.get_by_test_id("search-hits").get_by_role("button").first.wait_for()
    page.get_by_test_id("search-hits").get_by_role("button").first.hover()
    page.screenshot(path=str(artifacts_dir / "e2e-xss.png"))

    assert page.evaluate(ACTIVE_PARTS) == []
    assert page.get_by_test_id("session-title").inner_text() == "<img src=x onerror=alert('name')>"
    app.assert_clean()  # no dialog, page error, CSP violation or foreign request
    # A control: the detector does see a handler when one is there.
    page.evaluate(
        """() => {
            const el = document.createElement('b')
            el.setAttribute('onclick', 'x')
            document.querySelector('.thread-inner').append(el)
        }"""
    )
    assert page.evaluate(ACTIVE_PARTS) == ["b[onclick]"]


def test_xss_payloads_typed_by_the_user_render_as_text(app: App) -> None:
    app.open()
    page = app.page
    for payload in CORPUS[:5]:
        app.send(payload)
        page.locator("article.message.assistant[data-status=success]").last.wait_for()
        page.wait_for_function(
            "() => !document.querySelector('article.message.assistant[data-status=progress]')"
        )
    bubbles = page.locator("article.message.user .bubble").all_inner_texts()
    assert bubbles == [p.strip() for p in CORPUS[:5]]
    assert page.evaluate(ACTIVE_PARTS) == []
    app.assert_clean()
