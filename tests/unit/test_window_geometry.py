"""What the window remembers in settings.json (`window` key) and how it reads it back."""

from __future__ import annotations

from pathlib import Path

import pytest

from director_desktop.user_settings import UserSettings
from director_desktop.window import Geometry, open_external, prepare_environment


def test_geometry_round_trips_through_settings_json(tmp_path: Path) -> None:
    store = UserSettings(tmp_path / "settings.json")
    store.update(window=Geometry(1000, 700, 40, 30).to_json())
    assert Geometry.from_json(UserSettings(tmp_path / "settings.json").get("window")) == Geometry(
        1000, 700, 40, 30
    )


@pytest.mark.parametrize(
    "value",
    [
        None,
        "1000x700",
        {"width": 1000},
        {"width": "wide", "height": 700},
        {"width": 10, "height": 10},  # smaller than the minimum: would hide the UI
        {"width": 10**6, "height": 700},
    ],
)
def test_unusable_geometry_is_ignored(value: object) -> None:
    assert Geometry.from_json(value) is None


def test_position_is_optional() -> None:
    assert Geometry.from_json({"width": 900, "height": 600}) == Geometry(900, 600, None, None)


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "file:///etc/passwd", "http://127.0.0.1:8000/x", "http://localhost/"],
)
def test_only_links_to_other_web_origins_leave_the_app(url: str) -> None:
    assert open_external(url) is False


def test_dmabuf_renderer_is_disabled_unless_the_user_chose(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("WEBKIT_DISABLE_DMABUF_RENDERER", raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    prepare_environment({"WEBKIT_DISABLE_DMABUF_RENDERER": "0"})
    import os

    assert "WEBKIT_DISABLE_DMABUF_RENDERER" not in os.environ
    prepare_environment({})
    assert os.environ["WEBKIT_DISABLE_DMABUF_RENDERER"] == "1"


def test_page_answers_unwrap_values_and_errors() -> None:
    from director_desktop.window.page import PageError, unwrap, wrap

    assert wrap("1 + 1;").startswith("JSON.stringify(")
    assert unwrap('{"ok": true, "value": [1, "a"]}') == [1, "a"]
    assert unwrap('"{\\"ok\\": true, \\"value\\": 2}"') == 2  # encoded twice (WebView2)
    assert unwrap('{"ok": true}') is None  # undefined
    with pytest.raises(PageError, match="ReferenceError"):
        unwrap('{"ok": false, "error": "ReferenceError: x is not defined"}')
    with pytest.raises(PageError):
        unwrap(None)
