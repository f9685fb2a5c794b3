"""KaTeX math in messages, in a real Chromium: inline and display formulas laid out as MathML
(no request for fonts or styles: the bundle carries KaTeX), and the XSS corpus inside math
executes nothing. Screenshots in light and dark."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import App
from tests.e2e.helpers import api, import_session, load_all_older, turn
from tests.e2e.test_xss import CORPUS

pytestmark = pytest.mark.e2e

ANSWER = r"""The mass-energy relation is $E = mc^2$, and a sum of squares:

$$\sum_{i=1}^{n} i^2 = \frac{n(n+1)(2n+1)}{6}$$

Inline with brackets too: \(\sqrt{x^2 + y^2}\). Prices stay text: $5 and $10."""

# Runs in the page: what in the thread could run or load. <math> is expected here, so it is not
# flagged by its tag; every attribute of every element still is.
ACTIVE = """() => {
  const found = []
  const risky = [
    'script', 'iframe', 'object', 'embed', 'base', 'meta', 'form', 'svg', 'img', 'style',
  ]
  for (const el of document.querySelectorAll('.thread *')) {
    const tag = el.tagName.toLowerCase()
    if (risky.includes(tag) && !el.closest('svg.app-icon')) found.push('<' + tag + '>')
    if (el.closest('svg.app-icon')) continue
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase()
      const bad = name.startsWith('on') || name === 'style' || name.endsWith('href')
      if (bad) found.push(tag + '[' + name + ']')
    }
  }
  return found
}"""


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_math_is_typeset_in_a_reply(app: App, artifacts_dir: Path, theme: str) -> None:
    api(app.server, "PATCH", "/prefs", json={"theme": theme})
    sid = import_session(app.server, "Math", turn("Show me some math", ANSWER))
    api(app.server, "PATCH", "/prefs", json={"current_session": sid})
    app.open()
    page = app.page
    reply = page.locator("article.message.assistant .markdown")
    reply.locator("math").first.wait_for()
    assert reply.locator("math").count() == 3
    assert reply.locator("math[display=block]").count() == 1
    assert reply.locator("mfrac").count() == 1
    assert "Prices stay text: $5 and $10." in reply.inner_text()
    # Laid out by the browser: the display formula is taller than a line of text.
    height = page.evaluate(
        "() => document.querySelector('.markdown math[display=block]').getBoundingClientRect()"
        ".height"
    )
    assert height > 30
    reply.screenshot(path=str(artifacts_dir / f"e2e-math-{theme}.png"))
    assert page.evaluate(ACTIVE) == []
    app.assert_clean()  # no CSP report (no inline style), no request to another origin


def test_xss_corpus_inside_math_executes_nothing(app: App, artifacts_dir: Path) -> None:
    messages = []
    for n, payload in enumerate(CORPUS):
        reply = (
            f"Inline ${payload}$ and display:\n\n$$\n{payload}\n$$\n\nand \\({payload}\\) end {n}"
        )
        messages += turn(f"math {n}", reply)
    sid = import_session(app.server, "Math payloads", messages)
    api(app.server, "PATCH", "/prefs", json={"current_session": sid})
    app.open()
    page = app.page
    page.locator("article.message", has_text=f"end {len(CORPUS) - 1}").wait_for()
    load_all_older(page, "math 0")
    assert page.locator("article.message.assistant").count() == len(CORPUS)
    assert page.locator(".thread math").count() > len(CORPUS)
    page.screenshot(path=str(artifacts_dir / "e2e-math-xss.png"))
    assert page.evaluate(ACTIVE) == []
    app.assert_clean()
    # A control: the detector does see a handler when one is there.
    page.evaluate("() => document.querySelector('.thread math').setAttribute('onclick', 'x')")
    assert page.evaluate(ACTIVE) == ["math[onclick]"]
