"""The model catalogue in Debian's Chromium against the real headless server, whose hub is a local
double (`HF_ENDPOINT`, tests/fixtures/hub_double.py) publishing a tiny generated GGUF under one
catalogue entry's repository and file name: the catalogue shows live sizes and what the hub no
longer has, a download's bar moves, one download is cancelled (nothing kept), one is cut off by a
restart of the app and resumed after it, and the finished model is chosen and chatted with.
Screenshots (light and dark) go to `test-artifacts/`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.conftest import ASSISTANT_PACE, READY_TIMEOUT_MS, App, PageWatch
from tests.e2e.helpers import api
from tests.fixtures.hub_double import HubDouble, hub_double
from tests.fixtures.replies import model_answer_text
from tests.fixtures.tiny_gguf import write_chat_model
from tests.live_server import HeadlessServer, start_headless

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
ENTRY = "qwen2.5-1.5b-instruct"
REPO = "Qwen/Qwen2.5-1.5B-Instruct-GGUF"
FILE = "qwen2.5-1.5b-instruct-q4_k_m.gguf"
MODEL_LOAD_TIMEOUT_MS = 60_000
REPLY_TIMEOUT_MS = 90_000
# Every value the download's bar took, as rendered (a MutationObserver sees each one).
BAR_RECORDER = """() => {
    const seen = window.__bars = [];
    const note = () => {
        for (const bar of document.querySelectorAll('[data-testid=download-job] progress')) {
            if (seen[seen.length - 1] !== bar.value) seen.push(bar.value);
        }
    };
    new MutationObserver(note).observe(document.body,
        {subtree: true, childList: true, attributes: true, characterData: true});
}"""


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = write_chat_model(str(tmp_path_factory.mktemp("gguf") / FILE))
    return Path(path).read_bytes()


@pytest.fixture
def hub(model: bytes) -> Iterator[HubDouble]:
    with hub_double() as double:
        double.add(REPO, FILE, model)
        yield double


def start(data_dir: Path, hub: HubDouble) -> HeadlessServer:
    env = {"DIRECTOR_ASSISTANT_PACE": ASSISTANT_PACE, "HF_ENDPOINT": hub.endpoint}
    return start_headless(data_dir, env=env)


def open_app(browser: Browser, server: HeadlessServer) -> App:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(READY_TIMEOUT_MS)
    watch = PageWatch(origin=server.base_url)
    watch.attach(page)
    app = App(page=page, watch=watch, server=server)
    app.open()
    page.get_by_test_id("open-settings").click()
    page.get_by_role("dialog", name="Settings").wait_for()
    page.get_by_role("radio", name="Local model (GGUF)").check()
    page.locator("[data-testid=catalogue][data-loaded=yes]").wait_for()
    return app


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def job_of(server: HeadlessServer) -> dict[str, Any]:
    jobs = [j for j in api(server, "GET", "/jobs") if j["kind"] == "download"]
    return max(jobs, key=lambda j: j["started_at"])


def staged(data_dir: Path) -> list[Path]:
    return [p for p in (data_dir / "staging").rglob("*") if p.is_file()]


def test_download_from_the_catalogue_cancel_resume_after_restart_and_chat(
    browser: Browser, hub: HubDouble, model: bytes, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    server = start(data_dir, hub)
    try:
        app = open_app(browser, server)
        page = app.page
        row = page.locator(f"[data-testid=catalogue-row][data-id='{ENTRY}']")
        # Live from the hub: its size; the entries the double lacks say so.
        details = row.get_by_test_id("catalogue-details").inner_text()
        assert f"{round(len(model) / 1000)} KB" in details, details
        assert "apache-2.0" in details
        gone = page.locator("[data-testid=hub-error][data-code=hub_not_found]")
        assert gone.count() == page.locator("[data-testid=catalogue-row]").count() - 1
        assert page.get_by_test_id("recommended").count() == 1
        assert page.get_by_test_id("fit").count() >= 3
        shot(page, "catalogue-light.png")
        api(server, "PATCH", "/prefs", json={"theme": "dark"})
        page.wait_for_function("() => document.documentElement.dataset.theme === 'dark'")
        shot(page, "catalogue-dark.png")
        api(server, "PATCH", "/prefs", json={"theme": "light"})

        # A pasted file link lists the repository's .gguf files, the one it named marked.
        page.get_by_test_id("hub-repo").fill(f"https://huggingface.co/{REPO}/blob/main/{FILE}")
        page.get_by_test_id("hub-list").click()
        named = page.locator(f"[data-testid=hub-file][data-file='{FILE}']")
        named.wait_for()
        assert "named" in (named.get_attribute("class") or "")
        assert page.get_by_test_id("hub-file").count() == 1
        page.get_by_test_id("hub-repo").fill("not a repo")
        page.get_by_test_id("hub-list").click()
        page.locator("[data-testid=hub-error-line][data-code=bad_repo]").wait_for()
        page.get_by_test_id("hub-token").scroll_into_view_if_needed()
        shot(page, "catalogue-paste-error.png")

        # One download, cancelled while it runs: nothing is kept.
        page.evaluate(BAR_RECORDER)
        hub.hold(150_000)
        with page.expect_response(lambda r: r.url.endswith("/config/models/downloads")) as sent:
            row.get_by_role("button", name="Download Qwen2.5 1.5B Instruct").click()
        assert sent.value.status == 202, sent.value.text()
        job = row.locator("[data-testid=download-job][data-status=running]")
        job.wait_for()
        assert hub.wait_held()
        page.wait_for_function("() => window.__bars.some((v) => v > 0.2)")
        assert " of " in job.get_by_test_id("progress-detail").inner_text()
        shot(page, "catalogue-downloading.png")
        row.get_by_role("button", name="Cancel Qwen2.5 1.5B Instruct").click()
        row.locator("[data-testid=download-job][data-status=cancelled]").wait_for()
        assert staged(data_dir) == []
        assert not (data_dir / "models" / FILE).exists()
        hub.release()

        # Another, cut off by a restart of the app at 300 KB.
        hub.hold(300_000)
        row.get_by_role("button", name="Download Qwen2.5 1.5B Instruct").click()
        row.locator("[data-testid=download-job][data-status=running]").wait_for()
        assert hub.wait_held()
        page.wait_for_function("() => window.__bars.some((v) => v > 0.5)")
        bars = page.evaluate("() => window.__bars")
        assert any(0 < v < 1 for v in bars), bars  # the bar moved
        app.page.context.close()
        assert server.stop() == 0
    finally:
        server.kill()
    hub.release()

    server = start(data_dir, hub)
    try:
        assert job_of(server)["status"] == "paused"
        assert [p.stat().st_size for p in staged(data_dir)] == [300_000]
        app = open_app(browser, server)
        page = app.page
        row = page.locator(f"[data-testid=catalogue-row][data-id='{ENTRY}']")
        row.locator("[data-testid=download-job][data-status=paused]").wait_for()
        shot(page, "catalogue-paused-after-restart.png")
        row.get_by_role("button", name="Resume Qwen2.5 1.5B Instruct").click()
        row.get_by_test_id("installed").wait_for()
        assert hub.ranges()[-1] == "bytes=300000-"
        assert (data_dir / "models" / FILE).read_bytes() == model
        assert staged(data_dir) == []

        # Choose the finished one and chat with it.
        model_row = page.locator(f"[data-testid=model-row][data-file='{FILE}']")
        model_row.get_by_role("button", name=f"Use {FILE}").click()
        ready = page.locator("[data-testid=model-status][data-provider=embedded][data-state=ready]")
        ready.wait_for(timeout=MODEL_LOAD_TIMEOUT_MS)
        page.keyboard.press("Escape")
        page.get_by_role("dialog", name="Settings").wait_for(state="hidden")
        app.send("hello downloaded model")
        page.locator("article.message.assistant[data-status=success]").wait_for(
            timeout=REPLY_TIMEOUT_MS
        )
        current = api(server, "GET", "/prefs")["current_session"]
        reply = api(server, "GET", f"/session/{current}")["conversation"][-1]
        assert reply["status"] == "success"
        model_answer_text(reply)  # the shape of a model's answer (random weights: no wording)
        app.assert_clean()
        app.page.context.close()
    finally:
        server.stop()
