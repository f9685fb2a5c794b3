"""Images attached in the composer: picked, pasted or dropped, each uploaded into the chat's
collection first and sent as an `image` item of the input; other files refused with a message
naming them; the XSS corpus as file names renders as text; the built-in assistant says it cannot
see images. Screenshots in light and dark."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.e2e.conftest import App
from tests.e2e.helpers import api
from tests.e2e.test_xss import ACTIVE_PARTS, CORPUS
from tests.fixtures.media import (
    MediaFiles,
    ffmpeg,
    media_files_fixture,  # noqa: F401 (the fixture)
)

pytestmark = pytest.mark.e2e

# Runs in the page: hands `files` ([name, base64, type]) to the composer as a paste or a drop.
GIVE_FILES = """([how, files]) => {
  const dt = new DataTransfer()
  for (const [name, data, type] of files) {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0))
    dt.items.add(new File([bytes], name, { type }))
  }
  const area = document.querySelector('[data-testid=composer]')
  if (how === 'paste') {
    const init = { clipboardData: dt, bubbles: true, cancelable: true }
    area.dispatchEvent(new ClipboardEvent('paste', init))
  } else {
    const form = area.closest('form')
    for (const type of ['dragenter', 'dragover', 'drop']) {
      form.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }))
    }
  }
}"""


def png_b64(media_files: MediaFiles) -> str:
    return base64.b64encode(media_files.still_png.read_bytes()).decode("ascii")


def images_in(app: App, collection: str = "default") -> list[str]:
    listed = api(app.server, "GET", f"/videodb/collection/{collection}/image")
    return [i["name"] for i in listed]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_pick_an_image_then_send_it_with_the_text(
    app: App, media_files: MediaFiles, artifacts_dir: Path, theme: str
) -> None:
    api(app.server, "PATCH", "/prefs", json={"theme": theme})
    app.open()
    page = app.page
    page.get_by_test_id("attach-input").set_input_files(str(media_files.still_png))
    chip = page.get_by_test_id("attachments").locator("li")
    chip.and_(page.locator("[data-state=ready]")).wait_for()
    assert chip.locator(".name").inner_text() == media_files.still_png.name
    # in the library before the input is sent: the chat's collection is the default one
    assert images_in(app) == [media_files.still_png.name]
    app.composer().fill("What is in this picture?")
    page.screenshot(path=str(artifacts_dir / f"e2e-attach-chip-{theme}.png"))
    app.composer().press("Enter")
    reply = page.locator("article.message.assistant[data-status=error]")
    reply.wait_for()
    assert "cannot see images" in reply.inner_text()
    shown = page.locator("article.message.user figure.image img")
    shown.wait_for()
    assert shown.get_attribute("src", timeout=5000)
    page.wait_for_function("() => document.querySelector('article.message.user img').complete")
    assert page.get_by_test_id("attachments").count() == 0  # the chips went with the send
    session = api(app.server, "GET", f"/session/{page_session(app)}")
    items = session["conversation"][0]["content"]
    assert [i["type"] for i in items] == ["text", "image"]
    assert items[1]["image"]["name"] == media_files.still_png.name
    page.screenshot(path=str(artifacts_dir / f"e2e-attach-sent-{theme}.png"))
    app.assert_clean()


def page_session(app: App) -> str:
    sessions = api(app.server, "GET", "/session")
    return str(sessions[0]["session_id"])


@pytest.mark.parametrize("how", ["paste", "drop"])
def test_paste_or_drop_attaches_images_and_refuses_other_files(
    app: App, media_files: MediaFiles, artifacts_dir: Path, how: str
) -> None:
    app.open()
    page = app.page
    files = [
        [f"{how}.png", png_b64(media_files), "image/png"],
        ["notes.txt", base64.b64encode(b"just words").decode(), "text/plain"],
    ]
    page.evaluate(GIVE_FILES, [how, files])
    notice = page.get_by_test_id("attach-notice")
    notice.wait_for()
    assert "Only images" in notice.inner_text()
    assert "notes.txt" in notice.inner_text()
    page.get_by_test_id("attachments").locator("li[data-state=ready]").wait_for()
    assert page.get_by_test_id("attachments").locator("li").count() == 1
    assert page.get_by_test_id("drop-overlay").count() == 0  # the window's overlay stepped aside
    assert images_in(app) == [f"{how}.png"]  # the text file never left the page
    page.screenshot(path=str(artifacts_dir / f"e2e-attach-{how}.png"))
    # Removing the chip takes it off the input (the image stays in the library).
    page.get_by_role("button", name=f"Remove {how}.png").click()
    assert page.get_by_test_id("attachments").count() == 0
    app.assert_clean()


def test_xss_corpus_as_file_names_renders_as_text(
    app: App, artifacts_dir: Path, tmp_path: Path
) -> None:
    app.open()
    page = app.page
    names = [p.replace("/", "_")[:180] + ".png" for p in CORPUS[:8]]
    # Each name with its own picture: the library keeps one asset per content.
    files = []
    for n, name in enumerate(names):
        still = tmp_path / f"still-{n}.png"
        ffmpeg(
            "-f", "lavfi", "-i", f"color=c=0x{n * 30:02x}4080:s=64x48", "-frames:v", "1", str(still)
        )
        files.append([name, base64.b64encode(still.read_bytes()).decode(), "image/png"])
    page.evaluate(GIVE_FILES, ["paste", files])
    ready = page.get_by_test_id("attachments").locator("li[data-state=ready]")
    page.wait_for_function(
        "(n) => document.querySelectorAll('[data-testid=attachments] li[data-state=ready]')"
        ".length === n",
        arg=len(names),
    )
    stored = sorted(images_in(app))
    assert sorted(ready.locator(".name").all_inner_texts()) == stored
    assert len(stored) == len(names)
    chips_parts = page.evaluate(
        ACTIVE_PARTS.replace("const shown = '", "const shown = '[data-testid=attachments] *, ")
    )
    assert chips_parts == []
    page.screenshot(path=str(artifacts_dir / "e2e-attach-xss-chips.png"))
    app.composer().fill("names")
    app.composer().press("Enter")
    page.locator("article.message.assistant[data-status=error]").wait_for()
    captions = page.locator("article.message.user figcaption").all_inner_texts()
    assert sorted(captions) == stored
    page.screenshot(path=str(artifacts_dir / "e2e-attach-xss-names.png"))
    assert page.evaluate(ACTIVE_PARTS) == []
    app.assert_clean()
