"""EarlyApp (web/early.py) in the real server: the page's files answer at once, behind the guard;
every other request waits for the built app and then reaches it; the built app's lifespan runs
(its store opens, and closes with the server); a failed build answers 500 `internal`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from director_desktop.composition import Composition
from director_desktop.errors import StoreClosed
from director_desktop.server import Server
from director_desktop.settings import build_settings
from director_desktop.web.app import DirectorApp
from director_desktop.web.early import EarlyApp

TOKEN = "early-app-token-" + "x" * 16


class Launch:
    """A server serving an EarlyApp, and the composition whose app is attached later."""

    def __init__(self, tmp_path: Path, bundle: Path) -> None:
        settings = build_settings(data_dir=tmp_path / "data", log_dir=tmp_path / "logs")
        self.server = Server.bind("127.0.0.1")
        self.settings = replace(settings, token=TOKEN, port=self.server.port)
        self.composition = Composition(self.settings)
        self.early = EarlyApp(bundle, token=TOKEN, port=self.server.port)
        self.server.start(self.early)
        self.base_url = f"http://127.0.0.1:{self.server.port}"

    def attach(self) -> None:
        app = self.composition.app(self.server.port)
        self.server.call(self.early.attach(app), timeout=60)


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    folder = tmp_path / "bundle"
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_text("<!doctype html><title>page</title>", encoding="utf-8")
    (folder / "assets" / "app.js").write_text("console.log('app')", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("not a bundle file", encoding="utf-8")
    return folder


@pytest.fixture
def launch(tmp_path: Path, bundle: Path) -> Iterator[Launch]:
    started = Launch(tmp_path, bundle)
    try:
        yield started
    finally:
        started.server.stop()


def auth() -> dict[str, str]:
    return {"authorization": f"Bearer {TOKEN}"}


def test_the_page_answers_before_the_app_is_built(launch: Launch) -> None:
    page = httpx.get(launch.base_url + "/", timeout=30)
    assert page.status_code == 200
    assert page.text.startswith("<!doctype html>")
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-cache"
    assert "content-security-policy" in page.headers  # the guard's headers, as ever
    script = httpx.get(launch.base_url + "/assets/app.js", timeout=30)
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert launch.early.app is None


def test_the_guard_checks_the_host_before_the_app_is_built(launch: Launch) -> None:
    refused = httpx.get(launch.base_url + "/", headers={"host": "evil.example:80"}, timeout=30)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "bad_host"


@pytest.mark.parametrize("path", ["/assets/../../secret.txt", "/assets/%2e%2e%2fsecret.txt"])
def test_nothing_outside_the_bundle_is_served(launch: Launch, path: str) -> None:
    answered: list[httpx.Response] = []
    thread = threading.Thread(
        target=lambda: answered.append(httpx.get(launch.base_url + path, timeout=60)),
        daemon=True,
    )
    thread.start()
    launch.attach()  # not a bundle file: it waits for the app, whose static routes refuse it
    thread.join(60)
    assert answered, "no answer"
    assert answered[0].status_code in (400, 401, 404)
    assert "not a bundle file" not in answered[0].text


def test_other_requests_wait_for_the_app_then_reach_it(launch: Launch) -> None:
    answered: list[httpx.Response] = []
    thread = threading.Thread(
        target=lambda: answered.append(
            httpx.get(launch.base_url + "/session", headers=auth(), timeout=60)
        ),
        daemon=True,
    )
    thread.start()
    thread.join(0.5)
    assert thread.is_alive()
    assert not answered
    launch.attach()
    thread.join(60)
    assert answered
    assert answered[0].status_code == 200
    assert isinstance(answered[0].json(), list)
    # The built app's lifespan ran: its store is open, and it serves the page now.
    assert launch.early.app is not None
    health = httpx.get(launch.base_url + "/health", headers=auth(), timeout=30)
    assert health.json()["status"] == "ok"
    assert httpx.get(launch.base_url + "/", timeout=30).status_code == 200


def test_stopping_the_server_closes_the_attached_app(launch: Launch) -> None:
    launch.attach()
    app = launch.early.app
    assert app is not None
    launch.server.stop()
    assert isinstance(app, DirectorApp)
    with pytest.raises(StoreClosed):  # its lifespan closed the store: it cannot open again
        app.state.store.open()


def test_a_failed_build_answers_internal(launch: Launch) -> None:
    launch.server.call(launch.early.fail())
    answer = httpx.get(launch.base_url + "/session", headers=auth(), timeout=30)
    assert answer.status_code == 500
    assert answer.json()["error"]["code"] == "internal"
    assert httpx.get(launch.base_url + "/", timeout=30).status_code == 500
