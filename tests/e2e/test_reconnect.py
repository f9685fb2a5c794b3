"""The server dies mid-run and comes back on the same port, token and data dir (as the app does
when it is restarted): the page shows the banner, then recovers the turn without a reload, and
sends what was typed while the server was gone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.e2e.conftest import App, PageWatch
from tests.live_server import HeadlessServer, start_headless

pytestmark = pytest.mark.e2e

SLOW = {"DIRECTOR_ASSISTANT_PACE": "0.25"}  # a reply takes seconds: time to kill the server mid-run


@pytest.fixture
def slow_app(browser: Browser, data_dir: Path) -> Iterator[App]:
    server = start_headless(data_dir, env=SLOW)
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    page = context.new_page()
    page.set_default_timeout(20_000)
    watch = PageWatch(origin=server.base_url)
    watch.attach(page)
    app = App(page=page, watch=watch, server=server)
    try:
        yield app
    finally:
        context.close()
        app.server.kill()


def restart(server: HeadlessServer) -> HeadlessServer:
    return start_headless(
        server.data_dir,
        env=SLOW,
        extra_args=(
            "--port",
            str(server.port),
            f"--token={server.token}",
        ),  # a token may start with "-"
        log_dir=server.log_dir,
    )


def test_server_restart_mid_run_recovers_without_reload(slow_app: App, artifacts_dir: Path) -> None:
    app = slow_app
    app.open()
    page = app.page
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    app.send("tell me everything")
    output = page.locator("article.message.assistant").first
    app.wait_streaming()
    app.server.kill()  # a crash mid-stream: no graceful shutdown

    banner = page.get_by_test_id("link-banner")
    banner.wait_for()
    assert banner.inner_text().strip().startswith(("Reconnecting", "Offline"))
    # Typed while the server is gone: shown at once, queued, not lost.
    app.send("are you back?")
    page.locator("article.message.user", has_text="are you back?").get_by_text(
        "Waiting for connection"
    ).wait_for()
    page.screenshot(path=str(artifacts_dir / "e2e-reconnecting.png"))

    app.server = restart(app.server)
    banner.wait_for(state="detached")
    # The interrupted turn is recovered from the replay: it ends (marked by the server at start-up)
    # instead of spinning forever, keeping what had streamed.
    page.wait_for_function(
        "() => document.querySelector('article.message.assistant').dataset.status !== 'progress'"
    )
    assert output.get_attribute("data-status") == "error"
    assert "Interrupted" in output.inner_text()
    # The queued message was sent after the reconnect and answered.
    page.locator("article.message.user", has_text="are you back?").wait_for()
    assert page.get_by_text("Waiting for connection").count() == 0
    page.locator("article.message.assistant").nth(1).wait_for()
    page.wait_for_function(
        "() => document.querySelectorAll("
        "'article.message.assistant[data-status=success]').length === 1",
        timeout=60_000,
    )
    assert page.evaluate("window.__sameDocument") is True
    assert page.locator("article.message.user").count() == 2
    assert page.locator("article.message.assistant").count() == 2
    app.assert_clean(server_went_away=True)


def test_stop_ends_the_run_keeping_its_text(slow_app: App) -> None:
    app = slow_app
    app.open()
    page = app.page
    app.send("a long answer please")
    app.wait_streaming()
    page.get_by_test_id("stop").click()
    output = page.locator("article.message.assistant[data-status=not_generated]")
    output.wait_for()
    assert output.get_by_text("Stopped").is_visible()
    assert len(output.locator(".markdown").inner_text()) > 0
    page.get_by_test_id("stop").wait_for(state="detached")
    app.assert_clean()
