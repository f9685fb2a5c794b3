"""Settings → Backup in the browser: "Back up everything" runs as a job and lists its archive;
"Restore from a file" uploads an archive and merges it, adding what is missing and leaving what
is here as it was. Screenshots in light and dark."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import App
from tests.e2e.helpers import api, import_session, turn

pytestmark = pytest.mark.e2e


def open_backup(app: App) -> None:
    app.page.get_by_test_id("open-settings").click()
    app.page.get_by_role("dialog", name="Settings").wait_for()
    app.page.get_by_test_id("backup-panel").scroll_into_view_if_needed()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_back_up_then_restore_from_a_file(
    app: App, artifacts_dir: Path, tmp_path: Path, theme: str
) -> None:
    api(app.server, "PATCH", "/prefs", json={"theme": theme})
    kept = import_session(app.server, "Chat before the backup", turn("kept words", "kept reply"))
    app.open()
    page = app.page
    open_backup(app)
    page.get_by_test_id("backup-start").click()
    result = page.get_by_test_id("backup-result")
    result.filter(has_text="Backed up as").wait_for()
    [archive] = api(app.server, "GET", "/backup")
    assert archive["name"] in result.inner_text()
    page.get_by_test_id("archives").get_by_text(archive["name"]).wait_for()
    page.screenshot(path=str(artifacts_dir / f"e2e-backup-{theme}.png"))

    # The archive, as the user would keep it on disk, restored into this same data dir after
    # a new chat was made: nothing is replaced, and the chat already here stays.
    download = httpx.get(
        f"{app.server.base_url}/backup/{archive['name']}",
        headers=app.server.auth_headers,
        timeout=10,
    )
    saved = tmp_path / "my backup (1).zip"
    saved.write_bytes(download.content)
    api(app.server, "PATCH", f"/session/{kept}", json={"name": "Renamed after the backup"})
    page.get_by_test_id("restore-input").set_input_files(str(saved))
    result.filter(has_text="Restored:").wait_for()
    assert "0 chats added" in result.inner_text()
    assert "already here" in result.inner_text()
    names = sorted(a["name"] for a in api(app.server, "GET", "/backup"))
    assert names == sorted([archive["name"], "my-backup-1-.zip"])
    assert api(app.server, "GET", f"/session/{kept}")["name"] == "Renamed after the backup"
    page.screenshot(path=str(artifacts_dir / f"e2e-restore-{theme}.png"))
    app.assert_clean()
