"""The static bundle: served without the token from `frontend_dist/`, a placeholder page when the
bundle is not built, and the frozen app's copy under `sys._MEIPASS`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from director_desktop.web.app import frontend_dir
from tests.integration.support import Live


def test_unbuilt_bundle_serves_a_placeholder(
    live_factory: Callable[..., Live], tmp_path: Path
) -> None:
    live = live_factory(bundle_dir=tmp_path / "not-built")
    page = live.http.get("/")
    assert page.status_code == 200
    assert "not built" in page.text
    missing = live.http.get("/assets/index.js")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    assert live.http.get("/favicon.ico").status_code == 204
    assert live.get("/health").status_code == 200  # the API runs regardless


def test_built_bundle_is_served(live_factory: Callable[..., Live], tmp_path: Path) -> None:
    bundle = tmp_path / "dist"
    (bundle / "assets").mkdir(parents=True)
    (bundle / "index.html").write_text("<!doctype html><title>built</title>")
    (bundle / "assets" / "app.js").write_text("console.log(1)")
    live = live_factory(bundle_dir=bundle)
    assert "built" in live.http.get("/").text
    script = live.http.get("/assets/app.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.headers["x-content-type-options"] == "nosniff"
    assert live.http.get("/assets/../index.html").status_code in (
        200,
        404,
    )  # never outside the bundle
    assert live.http.get("/assets/%2e%2e/%2e%2e/etc/passwd").status_code == 404


def test_bundle_location_from_source_and_frozen(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert frontend_dir() == Path(__file__).resolve().parents[2] / "frontend_dist"
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert frontend_dir() == tmp_path / "frontend_dist"
