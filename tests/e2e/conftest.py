"""Fixtures for the browser tier: Debian's Chromium driven by Playwright (no browser download)
against the real headless server serving the committed `frontend_dist/`.

Every page records what must never happen (dialogs, CSP violations, page errors, requests to
another origin) so each test can assert on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, Playwright, sync_playwright

from tests.live_server import HeadlessServer, start_headless

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Slow enough that a test can act while a reply is streaming, quick enough for the suite.
ASSISTANT_PACE = "0.05"
READY_TIMEOUT_MS = 15_000
# How Chromium reports a server that is gone (not the page's doing).
DISCONNECT_NOISE = ("ERR_CONNECTION_REFUSED", "WebSocket connection to", "ERR_EMPTY_RESPONSE")
# A reply is streaming: an assistant message still in progress already shows some text.
STREAMING = """() => {
    const a = document.querySelector(
        'article.message.assistant[data-status=progress] .markdown')
    return a !== null && a.textContent.length > 0
}"""


@dataclass
class PageWatch:
    """What a page did that it never should."""

    origin: str
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    csp: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    polling_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        def on_dialog(dialog: object) -> None:
            self.dialogs.append(getattr(dialog, "message", "?"))
            dialog.dismiss()  # type: ignore[attr-defined]

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on(
            "console",
            lambda msg: (
                self.csp.append(msg.text) if "Content Security Policy" in msg.text else None
            ),
        )
        page.on("request", self._on_request)

    def _on_console(self, msg: ConsoleMessage) -> None:
        if "Content Security Policy" in msg.text:
            self.csp.append(msg.text)
        elif msg.type == "error":
            self.console_errors.append(msg.text)

    def _on_request(self, request: object) -> None:
        url = getattr(request, "url", "")
        parts = urlsplit(url)
        if parts.scheme in ("http", "https", "ws", "wss"):
            here = urlsplit(self.origin)
            if (parts.hostname, parts.port) != (here.hostname, here.port):
                self.foreign_requests.append(url)
            elif "transport=polling" in parts.query:  # the page goes straight to a websocket
                self.polling_requests.append(url)


# Module scope, not session: Playwright's sync API marks an asyncio loop as running in the main
# thread while it is open, and every later test that calls asyncio.run() would then fail.
@pytest.fixture(scope="module")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="module")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def server(data_dir: Path) -> Iterator[HeadlessServer]:
    with start_headless(data_dir, env={"DIRECTOR_ASSISTANT_PACE": ASSISTANT_PACE}) as srv:
        yield srv


@dataclass
class App:
    page: Page
    watch: PageWatch
    server: HeadlessServer

    def open(self) -> None:
        self.page.goto(self.server.page_url)
        self.wait_ready()

    def wait_ready(self) -> None:
        self.page.wait_for_function(
            "() => document.documentElement.dataset.ready === '1'", timeout=READY_TIMEOUT_MS
        )

    def wait_streaming(self) -> None:
        self.page.wait_for_function(STREAMING)

    def composer(self) -> Locator:
        return self.page.get_by_test_id("composer")

    def send(self, text: str) -> None:
        self.composer().fill(text)
        self.composer().press("Enter")

    def assert_clean(self, *, server_went_away: bool = False) -> None:
        """Nothing ran that should not have, and the console has no errors (when the server was
        killed on purpose, Chromium's own reports of the refused connections are expected)."""
        errors = self.watch.console_errors
        if server_went_away:
            errors = [e for e in errors if not any(s in e for s in DISCONNECT_NOISE)]
        assert errors == [], errors
        assert self.watch.dialogs == [], self.watch.dialogs
        assert self.watch.errors == [], self.watch.errors
        assert self.watch.csp == [], self.watch.csp
        assert self.watch.foreign_requests == [], self.watch.foreign_requests
        assert self.watch.polling_requests == [], self.watch.polling_requests


@pytest.fixture
def app(browser: Browser, server: HeadlessServer) -> Iterator[App]:
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    page = context.new_page()
    page.set_default_timeout(READY_TIMEOUT_MS)
    watch = PageWatch(origin=server.base_url)
    watch.attach(page)
    yield App(page=page, watch=watch, server=server)
    context.close()
