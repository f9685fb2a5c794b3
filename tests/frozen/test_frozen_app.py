"""The frozen app (`dist/director-desktop/director-desktop`) as a user starts it: its version,
the bundled UI served headless, llama.cpp running inside the bundle, and `--smoke-test` in a real
window as a user who never ran it (exit 0, the window, one chat turn, the SQLite file in their
per-user data dir, nothing written inside the bundle)."""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import httpx
import pytest

from director_desktop.smoke import MESSAGE
from tests.fixtures.tiny_gguf import write_chat_model
from tests.frozen.support import ROOT, FreshUser, Headless, run_smoke_test, tree

pytestmark = [pytest.mark.frozen, pytest.mark.slow, pytest.mark.timeout(1200)]

StartHeadless = Callable[[list[str], FreshUser, Path], Headless]


def test_version_comes_from_the_bundled_package_metadata(frozen_app: Path) -> None:
    done = subprocess.run(
        [str(frozen_app), "--version"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"director-desktop {metadata.version('director-desktop')}"


def test_headless_serves_the_bundled_ui_and_stops_on_sigterm(
    frozen_app: Path, fresh_user: FreshUser, headless: StartHeadless, tmp_path: Path
) -> None:
    app = headless([str(frozen_app)], fresh_user, tmp_path / "data")
    health = app.get("/health")
    assert health == {"status": "ok", "version": metadata.version("director-desktop"), "db": "ok"}
    assert httpx.get(f"{app.base_url}/health", timeout=30).status_code == 401  # no token

    page = app.request("GET", "/")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    bundled = sorted((ROOT / "frontend_dist" / "assets").iterdir())
    assert bundled, "frontend_dist/assets is empty"
    for asset in bundled[:3]:
        served = app.request("GET", f"/assets/{asset.name}")
        assert served.status_code == 200, asset.name
        assert served.content == asset.read_bytes(), asset.name
    assert app.stop() == 0


def test_embedded_llama_cpp_runs_inside_the_bundle(
    frozen_app: Path, fresh_user: FreshUser, headless: StartHeadless, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    (data_dir / "models").mkdir(parents=True)
    write_chat_model(str(data_dir / "models" / "tiny.gguf"))
    app = headless([str(frozen_app)], fresh_user, data_dir)
    answer = app.request(
        "POST", "/config/models/test", json={"provider": "embedded", "model": "tiny.gguf"}
    )
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["ok"] is True, result
    assert result["provider"] == "embedded"
    assert result["model"] == "tiny.gguf"
    assert app.stop() == 0


def test_smoke_test_as_a_fresh_user(frozen_app: Path, fresh_user: FreshUser) -> None:
    bundle_before = tree(frozen_app.parent)
    finished = run_smoke_test([str(frozen_app)], fresh_user)
    assert finished.returncode == 0, finished.stderr[-4000:]
    assert "smoke test passed" in finished.stderr

    database = fresh_user.data_dir / "director.sqlite3"
    assert database.is_file(), f"no database in the per-user data dir {fresh_user.data_dir}"
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT msg_type, status, content FROM messages").fetchall()
    assert any(kind == "input" and MESSAGE in content for kind, _, content in rows), rows
    assert any(kind == "output" and status == "success" for kind, status, _ in rows), rows
    assert any(fresh_user.log_dir.glob("*.log")), "no log file in the per-user log dir"
    assert tree(frozen_app.parent) == bundle_before, "the app wrote inside its bundle"
