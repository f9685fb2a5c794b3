"""Back up everything and restore, on live servers over HTTP: the archive holds the chats, the
settings without any key or token, the library's index and (asked for) the media files; restore
into a data dir that already has chats, settings and media adds and never replaces; a cancelled
backup leaves no partial archive and nothing in staging. Both run as jobs every window sees."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from director_desktop.secrets_store import SecretStore
from director_desktop.user_settings import UserSettings
from tests.e2e.helpers import turn
from tests.fixtures.media import (
    MediaFiles,
    media_files_fixture,  # noqa: F401 (the fixture)
)
from tests.integration.media_support import all_assets, uploaded, wait_job
from tests.integration.support import Live, wait_until
from tests.unit.mounts import tmpfs

API_KEY = "sk-backup-test-0123456789"
HUB_TOKEN = "hf_backuptesttoken987"


def import_chat(live: Live, session_id: str, name: str, text: str) -> None:
    messages = turn(text, f"reply to {text}", session_id)
    doc = {
        "format": "director-desktop/session",
        "version": 1,
        "session": {"session_id": session_id, "name": name, "metadata": {}},
        "messages": messages,
        "context": None,
    }
    response = live.http.post("/session/import", json=doc, headers=live.headers)
    assert response.status_code in (200, 201), response.text


def finished(live: Live, job_id: str) -> Any:
    return wait_job(
        live,
        lambda j: j["id"] == job_id and j["status"] in ("done", "error", "cancelled"),
        f"job {job_id} to end",
    )


def back_up(live: Live, *, media_files: bool) -> tuple[str, bytes]:
    started = live.http.post("/backup", json={"media_files": media_files}, headers=live.headers)
    assert started.status_code == 202, started.text
    assert started.json()["kind"] == "backup"
    job = finished(live, started.json()["id"])
    assert job["status"] == "done", job
    name = job["result"]["archive"]
    listed = live.get("/backup").json()
    assert [a["name"] for a in listed] == [name]
    download = live.get(f"/backup/{name}")
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/zip"
    assert listed[0]["size"] == len(download.content)
    return name, download.content


def members(archive: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def test_a_backup_holds_chats_settings_media_and_no_key_or_token(
    live_factory: Callable[..., Live], tmp_path: Path, media_files: MediaFiles
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    UserSettings(data / "settings.json").update(
        llm={"provider": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "m"},
        hub={"token": HUB_TOKEN, "endpoint": "https://hub.example"},
        window={"width": 900, "height": 700},
    )
    SecretStore(data / "secrets.json").set("openai:http://127.0.0.1:9/v1", API_KEY)
    live = live_factory(data_dir=data)
    import_chat(live, "chat-one", "First chat", "hello one")
    import_chat(live, "chat-two", "Second chat", "hello two")
    picture = uploaded(live, media_files.still_png)

    _name, archive = back_up(live, media_files=True)

    files = members(archive)
    everything = b"".join(files.values())
    for secret in (API_KEY, HUB_TOKEN, live.token):
        assert secret.encode() not in everything, secret
    manifest = json.loads(files["manifest.json"])
    assert manifest["format"] == "director-desktop/backup"
    assert manifest["counts"] == {"chats": 2, "assets": 1, "files": 1}
    assert {"chats/chat-one.json", "chats/chat-two.json"} <= set(files)
    chat = json.loads(files["chats/chat-one.json"])
    assert chat["session"]["name"] == "First chat"
    assert chat["messages"][0]["content"][0]["text"] == "hello one"
    settings = json.loads(files["settings.json"])
    assert settings["window"] == {"width": 900, "height": 700}
    assert settings["hub"] == {"endpoint": "https://hub.example"}  # its token left out
    assert "secrets.json" not in files
    index = json.loads(files["media/index.json"])
    [asset] = index["assets"]
    assert asset["id"] == picture["id"]
    assert files[asset["file"]] == media_files.still_png.read_bytes()


def test_an_index_only_backup_lists_media_without_their_files(
    live: Live, media_files: MediaFiles
) -> None:
    uploaded(live, media_files.still_png)
    _name, archive = back_up(live, media_files=False)
    files = members(archive)
    [asset] = json.loads(files["media/index.json"])["assets"]
    assert asset["file"] is None
    assert not [n for n in files if n.startswith("media/files/")]


def test_restore_into_a_non_empty_data_dir_adds_and_never_replaces(
    live_factory: Callable[..., Live], tmp_path: Path, media_files: MediaFiles
) -> None:
    first = live_factory(data_dir=tmp_path / "first")
    import_chat(first, "shared-id", "Name in the archive", "from the archive")
    import_chat(first, "only-in-archive", "Archived chat", "archived words")
    uploaded(first, media_files.still_png)
    uploaded(first, media_files.tone_wav)
    UserSettings(tmp_path / "first" / "settings.json").update(
        theme_note={"kept": "archive"}, window={"width": 1}
    )
    name, archive = back_up(first, media_files=True)

    second_dir = tmp_path / "second"
    second_dir.mkdir()
    UserSettings(second_dir / "settings.json").update(window={"width": 2})
    second = live_factory(data_dir=second_dir)
    import_chat(second, "shared-id", "Name here", "already here")
    kept_image = uploaded(second, media_files.still_png)  # the same bytes: already here
    before = second.get("/session/shared-id").json()

    put = second.http.put(f"/backup/{name}", content=archive, headers=second.headers)
    assert put.status_code == 201, put.text
    again = second.http.put(f"/backup/{name}", content=archive, headers=second.headers)
    assert again.json()["error"]["code"] == "conflict"
    started = second.http.post(f"/backup/{name}/restore", headers=second.headers)
    assert started.status_code == 202, started.text
    job = finished(second, started.json()["id"])
    assert job["status"] == "done", job
    assert job["result"]["restored"] == {
        "chats": 1,
        "chats_already_here": 1,
        "settings": 1,
        "media_files": 1,
        "media_already_here": 1,
    }
    # the chat already here is untouched; the other one arrived whole
    assert second.get("/session/shared-id").json() == before
    added = second.get("/session/only-in-archive").json()
    assert added["name"] == "Archived chat"
    assert added["conversation"][0]["content"][0]["text"] == "archived words"
    # settings: a key already set stays, a missing one is added
    restored_settings = json.loads((second_dir / "settings.json").read_text())
    assert restored_settings["window"] == {"width": 2}
    assert restored_settings["theme_note"] == {"kept": "archive"}
    # media: the image already here is the same asset; the sound was added
    assets = all_assets(second)
    assert kept_image["id"] in [a["id"] for a in assets]
    assert sorted(a["name"] for a in assets) == sorted(
        [media_files.still_png.name, media_files.tone_wav.name]
    )

    # restoring the same archive again adds nothing
    started = second.http.post(f"/backup/{name}/restore", headers=second.headers)
    job = finished(second, started.json()["id"])
    assert job["result"]["restored"]["chats"] == 0
    assert job["result"]["restored"]["media_files"] == 0
    assert len(second.get("/session").json()) == 2


def test_a_file_that_is_not_a_backup_is_refused_and_not_kept(live: Live) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("manifest.json", json.dumps({"format": "something-else", "version": 1}))
    refused = live.http.put("/backup/other.zip", content=buffer.getvalue(), headers=live.headers)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "not_a_backup"
    assert live.get("/backup").json() == []
    assert not [p for p in (live.data_dir / "archives").iterdir()]


def test_an_archive_sent_to_a_full_disk_is_disk_full_and_not_kept(
    live_factory: Callable[..., Live], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    with tmpfs(data / "archives", "64k") as archives:
        live = live_factory(data_dir=data)
        sent = live.http.put("/backup/big.zip", content=bytes(512 * 1024), headers=live.headers)
        assert sent.status_code == 413, sent.text
        assert sent.json()["error"]["code"] == "disk_full"
        assert list(archives.iterdir()) == []
        assert live.get("/backup").json() == []


@pytest.mark.parametrize("size", [2 * 1024**3])
def test_a_cancelled_backup_leaves_no_partial_archive(
    live: Live, media_files: MediaFiles, size: int
) -> None:
    picture = uploaded(live, media_files.still_png)
    # The user's file grew huge (sparse: no disk used), so the copy into the archive takes a
    # while: the cancel lands mid-copy.
    [folder] = [p for p in (live.data_dir / "media").iterdir() if p.name == picture["id"]]
    [original] = [p for p in folder.iterdir() if p.suffix == ".png"]
    with original.open("r+b") as f:
        f.truncate(size)
    started = live.http.post("/backup", json={"media_files": True}, headers=live.headers)
    job_id = started.json()["id"]
    wait_job(
        live,
        lambda j: j["id"] == job_id and str(j.get("detail", "")).startswith("Copying"),
        "the backup to copy the file",
    )
    cancelled = live.http.delete(f"/jobs/{job_id}", headers=live.headers)
    assert cancelled.json()["status"] == "cancelled"
    assert live.get("/backup").json() == []
    archives = live.data_dir / "archives"
    assert not archives.exists() or list(archives.iterdir()) == []
    staging = live.data_dir / "staging"
    wait_until(
        lambda: not staging.exists() or not any(staging.rglob("*")),
        "the job's staging folder to be removed",
    )
