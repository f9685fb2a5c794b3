"""Hostile pages, in real headless Chromium: a page from a second origin on loopback tries
cross-origin fetches, WebSocket connections, guessed tokens and media URLs with expired and
forged signatures; a DNS-rebinding name (Chromium's --host-resolver-rules maps it to the app's
127.0.0.1) loads the app's port; path traversal is tried on the static and media routes; and an
XSS corpus goes in through model output, session names, collection and asset names, subtitles
and search snippets. Each refusal is proved by the app's answer (its own per-code error
counters, or the status) or by the DOM."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.chaos import hostile
from tests.chaos.report import Report, Row
from tests.chaos.support import Http, headless, upload_file
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, READY_TIMEOUT_MS, PageWatch
from tests.e2e.helpers import import_session, turn
from tests.fixtures.media import make_clip
from tests.live_server import HeadlessServer

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
CORPUS: list[str] = json.loads((Path(__file__).parents[1] / "e2e" / "xss_corpus.json").read_text())
GUESSES = 20


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {hostile.REBIND_HOST} 127.0.0.1"],
            headless=True,
        )
        yield browser
        browser.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[HeadlessServer]:
    with headless(tmp_path / "data") as srv:
        yield srv


def test_hostile_origin_rebinding_and_traversal(
    browser: Browser,
    server: HeadlessServer,
    tmp_path: Path,
    report: Report,
    request: pytest.FixtureRequest,
) -> None:
    http = Http(server)
    asset = upload_file(http, make_clip(tmp_path / "clip.mp4", seconds=1.0)).json()
    path = f"/media/{asset['id']}/thumbnail"
    media = [
        server.base_url + hostile.signed(server.token, path, int(time.time()) - 5),  # expired
        server.base_url + f"{path}?sig={int(time.time()) + 3600}.{secrets.token_hex(32)}",  # forged
        server.base_url + path,  # none
    ]
    good = server.base_url + hostile.signed(server.token, path, int(time.time()) + 3600)
    before = hostile.error_counts(server)
    context = browser.new_context()
    page = context.new_page()
    try:
        with hostile.attacker_origin(tmp_path / "evil") as evil:
            page.goto(evil)
            guesses = [secrets.token_urlsafe(32) for _ in range(GUESSES)]
            seen = page.evaluate(
                hostile.ATTACK, {"app": server.base_url, "guesses": guesses, "media": media}
            )
        page.goto(server.base_url + "/")  # the app's own origin: only the signature decides
        same_origin_bad = page.evaluate(hostile.LOAD_IMAGES, media)
        control = page.evaluate(hostile.LOAD_IMAGES, [good])
        rebound = page.goto(f"http://{hostile.REBIND_HOST}:{server.port}/")
        assert rebound is not None
        rebound_status, rebound_body = rebound.status, rebound.text()
        for guess in guesses:  # guessed tokens from outside any browser too
            assert (
                http.client.get(
                    "/session", headers={"Authorization": f"Bearer {guess}"}
                ).status_code
                == 401
            )
    finally:
        context.close()
    traversal = {p: hostile.raw_get(server, p, token=True) for p in hostile.TRAVERSALS}
    leaked = [
        p
        for p, (status, body) in traversal.items()
        if status == 200 and (b"SQLite format" in body or b"root:" in body or b"{" in body[:1])
    ]
    after = hostile.error_counts(server)
    grew = {code: after.get(code, 0) - before.get(code, 0) for code in after}
    five_xx = [f"{p} -> {s}" for p, (s, _) in traversal.items() if s >= 500] + http.five_xx
    http.close()
    accepted = len(seen["readable"]) + seen["ws_opened"] + seen["images_loaded"] + len(leaked)
    accepted += same_origin_bad
    accepted += rebound_status < 400
    report.add(
        Row(
            "hostile-origin",
            "a page on a second loopback origin: cross-origin fetches and WebSockets, "
            f"{GUESSES} guessed tokens (page and direct), expired/forged/missing media signatures; "
            f"DNS rebinding ({hostile.REBIND_HOST} -> 127.0.0.1); {len(hostile.TRAVERSALS)} "
            "path traversals",
            seen["fetches"] + seen["ws_attempts"] + len(media) + 1 + GUESSES + len(traversal),
            f"accepted hostile requests: {accepted}; app counted "
            f"bad_origin +{grew.get('bad_origin', 0)}, "
            f"bad_host +{grew.get('bad_host', 0)}, unauthorized +{grew.get('unauthorized', 0)}; "
            f"rebinding answered {rebound_status}; traversal answers "
            f"{sorted({s for s, _ in traversal.values()})}; control image with a good signature "
            f"loaded: {control}",
            five_xx=len(five_xx),
            nodeid=request.node.nodeid,
        )
    )
    assert seen["readable"] == [], seen
    assert seen["ws_opened"] == 0, seen
    assert seen["images_loaded"] == 0, seen
    assert same_origin_bad == 0, "an expired, forged or missing signature loaded"
    assert control == 1, "the detector must see a good signature load"
    assert rebound_status == 400
    assert "bad_host" in rebound_body
    assert leaked == [], leaked
    assert five_xx == []
    # The refusals are the app's, for the right reason: cross-origin requests that carried an
    # Origin (CORS fetches, POST, PATCH, WebSockets) were refused as bad_origin, the rebinding as
    # bad_host, guessed tokens and bad signatures as unauthorized.
    assert grew.get("bad_origin", 0) >= 3 + GUESSES + seen["ws_attempts"], grew
    assert grew.get("bad_host", 0) >= 1, grew
    assert grew.get("unauthorized", 0) >= GUESSES + len(media), grew


def test_xss_corpus_everywhere_text_is_shown(
    browser: Browser,
    server: HeadlessServer,
    tmp_path: Path,
    report: Report,
    request: pytest.FixtureRequest,
) -> None:
    http = Http(server)
    payloads = CORPUS
    messages = []
    for n, payload in enumerate(payloads):
        messages += turn(f"payload {n}: {payload}", f"Reply {n}:\n\n{payload}\n\nend {n}")
    name_payload = "<img src=x onerror=alert('name')>"
    sid = import_session(server, name_payload, messages)
    made = http.request(
        "POST", "/videodb/collection", json={"name": name_payload[:200], "description": payloads[1]}
    )
    assert made.status_code == 201, made.text
    collection = made.json()["data"]["collection"]["id"]
    clip = make_clip(tmp_path / "x.mp4", seconds=1.0, subtitles=True)
    srt = clip.with_suffix(".srt")
    assert srt.exists()
    for n, payload in enumerate(payloads[:8]):
        answer = http.request(
            "POST",
            f"/videodb/collection/{collection}/upload",
            files={
                "file": (
                    f"{payload}.png",
                    (tmp_path / "x.mp4").read_bytes() + bytes([n]),
                    "video/mp4",
                )
            },
            timeout=120,
        )
        assert answer.status_code in (200, 201), answer.text
    http.request("PATCH", "/prefs", json={"current_session": sid})
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    page = context.new_page()
    page.set_default_timeout(READY_TIMEOUT_MS)
    watch = PageWatch(origin=server.base_url)
    watch.attach(page)
    try:
        page.goto(server.page_url)
        page.wait_for_function("() => document.documentElement.dataset.ready === '1'")
        page.locator("article.message", has_text=f"end {len(payloads) - 1}").wait_for()
        page.get_by_test_id("search").fill("onerror")
        page.get_by_test_id("search-hits").get_by_role("button").first.wait_for()
        page.get_by_test_id("search-hits").get_by_role("button").first.hover()
        in_chat = page.evaluate(hostile.ACTIVE_PARTS)
        page.get_by_test_id("search").fill("")
        page.locator(f"[data-collection-id='{collection}'] button.collection-open").click()
        page.get_by_test_id("collection-view").wait_for()
        page.get_by_test_id("asset-card").nth(7).wait_for()
        in_library = page.evaluate(hostile.ACTIVE_PARTS)
        page.screenshot(path=str(tmp_path / "xss.png"))
    finally:
        context.close()
    http.close()
    ran = in_chat + in_library + watch.dialogs + watch.errors + watch.csp + watch.foreign_requests
    report.add(
        Row(
            "xss-corpus",
            f"{len(payloads)} XSS payloads through model output, user turns and search snippets, "
            "a session name, a collection name and description, and 8 asset names, in Chromium",
            len(payloads) * 2 + 10,
            f"active elements or handlers found: {len(in_chat) + len(in_library)}; dialogs "
            f"{len(watch.dialogs)}, page errors {len(watch.errors)}, CSP reports {len(watch.csp)}, "
            f"requests elsewhere {len(watch.foreign_requests)}",
            nodeid=request.node.nodeid,
        )
    )
    assert ran == [], ran
