"""Model downloads (PROTOCOL 7) end to end: the real app in uvicorn, pointed by `HF_ENDPOINT` at a
local hub double (tests/fixtures/hub_double.py) that speaks the hub's wire format — model info
with sizes and LFS sha256, `resolve` with its 302 to a file store on another host name, range
requests — serving a tiny GGUF the test generates. The double cuts the connection, holds a
download mid-file, corrupts a byte and refuses with 401/403/404; a real tmpfs fills up."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from director_desktop.composition import build_library
from director_desktop.engine.agents import default_registry
from director_desktop.engine.router import build_model_router
from director_desktop.server import Server
from director_desktop.settings import Settings, build_settings
from director_desktop.store import Store
from director_desktop.user_settings import UserSettings
from director_desktop.web.app import create_app
from tests.fixtures.hub_double import COMMIT, HubDouble, hub_double
from tests.fixtures.tiny_gguf import write_chat_model
from tests.integration.support import WAIT, Baseline, wait_until
from tests.unit.mounts import tmpfs

REPO = "test-org/Tiny-Chat-GGUF"
FILE = "tiny-chat-f32.gguf"


@dataclass
class App:
    settings: Settings
    http: httpx.Client
    server: Server

    def job(self, job_id: str) -> dict[str, Any]:
        jobs = self.http.get("/jobs").json()
        return next(j for j in jobs if j["id"] == job_id)

    def wait_job(self, job_id: str, *statuses: str) -> dict[str, Any]:
        wait_until(lambda: self.job(job_id)["status"] in statuses, f"the job to be {statuses}")
        return self.job(job_id)

    def staging(self) -> list[Path]:
        root = self.settings.staging_dir
        return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []

    def models(self) -> list[str]:
        root = self.settings.models_dir
        return sorted(p.name for p in root.iterdir()) if root.exists() else []

    def stop(self) -> None:
        self.http.close()
        self.server.stop()


def start_app(data_dir: Path, endpoint: str) -> App:
    settings = build_settings(
        data_dir=data_dir, log_dir=data_dir / "logs", environ={"HF_ENDPOINT": endpoint}
    )
    server = Server.bind(settings.host, 0)
    settings = replace(settings, port=server.port)
    store = Store(settings.db_path, backups_dir=settings.backups_dir)
    agents = default_registry()
    user_settings = UserSettings(settings.user_settings_path)
    router = build_model_router(settings, store, agents, user_settings, detect_local=False)
    library = build_library(settings, store, user_settings)
    server.start(create_app(settings, store, router, agents, library))
    http = httpx.Client(
        base_url=f"http://127.0.0.1:{server.port}",
        headers={"Authorization": f"Bearer {settings.token}"},
        timeout=WAIT,
    )
    return App(settings, http, server)


@pytest.fixture(scope="module")
def model_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return Path(write_chat_model(str(tmp_path_factory.mktemp("gguf") / FILE))).read_bytes()


@pytest.fixture
def hub(model_bytes: bytes) -> Iterator[HubDouble]:
    with hub_double() as double:
        double.add(REPO, FILE, model_bytes)
        double.add(REPO, "README.md", b"# tiny\n")
        yield double


@pytest.fixture
def apps(tmp_path: Path) -> Iterator[Callable[..., App]]:
    baseline = Baseline.take()
    started: list[App] = []

    def start(endpoint: str, data_dir: Path | None = None) -> App:
        app = start_app(data_dir or tmp_path / "data", endpoint)
        started.append(app)
        return app

    yield start
    for app in started:
        app.stop()
    baseline.wait_restored("the servers' threads and descriptors to end")


@pytest.fixture
def app(apps: Callable[..., App], hub: HubDouble) -> App:
    return apps(hub.endpoint)


def download(app: App, repo: str = REPO, file: str = FILE) -> dict[str, Any]:
    response = app.http.post("/config/models/downloads", json={"repo": repo, "file": file})
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["kind"] == "download"
    assert job["status"] == "running"
    return job


def error_of(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()
    return response.status_code, body["error"]["code"], body["error"]["message"]


# --- listing --------------------------------------------------------------------------------------
def test_the_hub_listing_names_each_gguf_with_its_live_size_and_sha256(
    app: App, hub: HubDouble, model_bytes: bytes
) -> None:
    for repo in (REPO, f"https://huggingface.co/{REPO}", f"{hub.endpoint}/{REPO}/blob/main/{FILE}"):
        response = app.http.get("/config/models/hub", params={"repo": repo})
        assert response.status_code == 200, response.text
        listing = response.json()
        assert listing["repo"] == REPO
        assert listing["files"] == [
            {
                "file": FILE,
                "size": len(model_bytes),
                "sha256": hashlib.sha256(model_bytes).hexdigest(),
            }
        ]
        assert listing["gated"] is False
    assert listing["file"] == FILE  # the file a pasted file link named
    assert (
        app.http.get("/config/models/hub", params={"repo": "not a repo"}).json()["error"]["code"]
        == "bad_repo"
    )


def test_the_catalogue_says_what_the_hub_no_longer_has(app: App) -> None:
    """The double has none of the catalogue's repositories: every entry says so, by code."""
    answer = app.http.get("/config/models/catalogue").json()
    assert answer["version"] >= 1
    assert answer["endpoint"] == app.settings.hf_endpoint
    kinds = {e["kind"] for e in answer["entries"]}
    assert kinds == {"chat", "whisper", "embedding"}
    for entry in answer["entries"]:
        assert entry["hub_error"]["code"] == "hub_not_found", entry
        assert entry["size"] is None
        assert entry["fit"] in ("fits", "tight", "too_big", "unknown")
    assert sum(e["recommended"] for e in answer["entries"]) == 1


def test_the_catalogue_reads_sizes_and_hashes_live(
    app: App, hub: HubDouble, model_bytes: bytes
) -> None:
    hub.add("ggerganov/whisper.cpp", "ggml-base.en.bin", b"ggml" + b"\0" * 1000)
    entries = app.http.get("/config/models/catalogue").json()["entries"]
    base = next(e for e in entries if e["file"] == "ggml-base.en.bin")
    assert base["size"] == 1004
    assert base["sha256"] == hashlib.sha256(b"ggml" + b"\0" * 1000).hexdigest()
    assert base["hub_error"] is None
    tiny = next(e for e in entries if e["file"] == "ggml-tiny.en.bin")  # same repo, file gone
    assert tiny["hub_error"]["code"] == "hub_not_found"
    assert "no longer has ggml-tiny.en.bin" in tiny["hub_error"]["message"]


# --- downloading ----------------------------------------------------------------------------------
def test_a_download_lands_in_the_models_folder_checked_and_listed(
    app: App, hub: HubDouble, model_bytes: bytes
) -> None:
    job = app.wait_job(download(app)["id"], "done", "error")
    assert job["status"] == "done", job
    assert job["result"] == {"model": FILE}
    assert (app.settings.models_dir / FILE).read_bytes() == model_bytes
    listed = app.http.get("/config/models").json()["models"]
    assert [(m["file"], m["error"]) for m in listed] == [(FILE, None)]
    assert app.staging() == []
    paths = [s.path for s in hub.seen]
    assert f"/{REPO}/resolve/{COMMIT}/{FILE}" in paths  # pinned to the commit it listed
    assert any(p.startswith("/cdn/") for p in paths)  # followed the redirect


def test_a_connection_cut_mid_file_resumes_with_a_range(
    app: App, hub: HubDouble, model_bytes: bytes
) -> None:
    hub.cut_after = [100_000, 300_000]
    job = app.wait_job(download(app)["id"], "done", "error")
    assert job["status"] == "done", job
    assert hub.ranges() == [None, "bytes=100000-", "bytes=300000-"]
    assert (app.settings.models_dir / FILE).read_bytes() == model_bytes


def test_pause_keeps_the_partial_file_and_resume_asks_for_the_rest(
    app: App, hub: HubDouble, model_bytes: bytes
) -> None:
    hub.hold_at = 200_000
    job_id = download(app)["id"]
    assert hub.wait_held()
    wait_until(lambda: (app.job(job_id)["progress"] or 0) > 0.3, "progress to be reported")
    moving = app.job(job_id)
    assert "of" in moving["detail"], moving  # "200.0 KB of 470.0 KB · … /s · … left"
    paused = app.http.post(f"/jobs/{job_id}/pause").json()
    assert paused["status"] == "paused"
    assert [p.stat().st_size for p in app.staging()] == [200_000]
    assert app.models() == []
    hub.release()
    assert app.http.post(f"/jobs/{job_id}/resume").json()["status"] == "running"
    job = app.wait_job(job_id, "done", "error")
    assert job["status"] == "done", job
    assert hub.ranges() == [None, "bytes=200000-"]
    assert (app.settings.models_dir / FILE).read_bytes() == model_bytes
    assert app.staging() == []


def test_a_download_stopped_by_a_restart_comes_back_paused_and_resumes(
    apps: Callable[..., App], hub: HubDouble, model_bytes: bytes, tmp_path: Path
) -> None:
    hub.hold_at = 150_000
    first = apps(hub.endpoint, tmp_path / "data")
    job_id = download(first)["id"]
    assert hub.wait_held()
    wait_until(lambda: (first.job(job_id)["progress"] or 0) > 0.2, "progress to be reported")
    first.stop()
    hub.release()
    second = apps(hub.endpoint, tmp_path / "data")
    assert second.job(job_id)["status"] == "paused"
    assert [p.stat().st_size for p in second.staging()] == [150_000]
    assert second.http.post(f"/jobs/{job_id}/resume").json()["status"] == "running"
    job = second.wait_job(job_id, "done", "error")
    assert job["status"] == "done", job
    assert hub.ranges()[-1] == "bytes=150000-"
    assert (second.settings.models_dir / FILE).read_bytes() == model_bytes


def test_cancel_leaves_no_staging_file_and_no_model(app: App, hub: HubDouble) -> None:
    hub.hold_at = 100_000
    job_id = download(app)["id"]
    assert hub.wait_held()
    wait_until(lambda: (app.job(job_id)["progress"] or 0) > 0.1, "progress to be reported")
    assert app.http.delete(f"/jobs/{job_id}").json()["status"] == "cancelled"
    assert app.staging() == []
    assert app.models() == []


def test_a_corrupted_byte_is_a_hash_mismatch_and_nothing_is_kept(app: App, hub: HubDouble) -> None:
    hub.corrupt = True
    job = app.wait_job(download(app)["id"], "done", "error")
    assert job["status"] == "error"
    assert job["error"]["code"] == "hash_mismatch"
    assert "SHA-256" in job["error"]["message"]
    assert app.models() == []
    assert app.staging() == []


# --- refusals -------------------------------------------------------------------------------------
def test_a_gated_repository_says_where_to_accept_and_where_to_put_a_token(
    app: App, hub: HubDouble, model_bytes: bytes
) -> None:
    hub.gated[REPO] = "hf_test_token"
    for response in (
        app.http.get("/config/models/hub", params={"repo": REPO}),
        app.http.post("/config/models/downloads", json={"repo": REPO, "file": FILE}),
    ):
        status, code, message = error_of(response)
        assert (status, code) == (403, "hub_unauthorized")
        assert f"{hub.endpoint}/{REPO}" in message  # where to accept the licence
        assert "Hugging Face token" in message  # where to put a token
    assert app.http.put("/config/models/hub/token", json={"token": "wrong"}).status_code == 200
    status, code, message = error_of(app.http.get("/config/models/hub", params={"repo": REPO}))
    assert (status, code) == (403, "hub_unauthorized")
    assert "refused" in message
    answer = app.http.put("/config/models/hub/token", json={"token": "hf_test_token"}).json()
    assert answer["has_token"] is True
    assert "hf_test_token" not in app.http.get("/config/models/catalogue").text
    job = app.wait_job(download(app)["id"], "done", "error")
    assert job["status"] == "done", job
    # The token goes to the hub, never to the file store the hub redirects to.
    assert {s.authorization for s in hub.seen if s.path.startswith("/cdn/")} == {None}
    assert "Bearer hf_test_token" in {s.authorization for s in hub.seen if "/resolve/" in s.path}


def test_an_unknown_repository_or_file_is_404(app: App) -> None:
    status, code, _ = error_of(app.http.get("/config/models/hub", params={"repo": "no/such"}))
    assert (status, code) == (404, "hub_not_found")
    response = app.http.post("/config/models/downloads", json={"repo": REPO, "file": "x.gguf"})
    assert error_of(response)[:2] == (404, "hub_not_found")
    assert app.http.get("/jobs").json() == []


def test_no_network_is_hub_unreachable(apps: Callable[..., App]) -> None:
    app = apps("http://127.0.0.1:9")  # the discard port: nothing listens
    status, code, message = error_of(app.http.get("/config/models/hub", params={"repo": REPO}))
    assert (status, code) == (503, "hub_unreachable")
    assert "network" in message
    catalogue = app.http.get("/config/models/catalogue").json()
    assert {e["hub_error"]["code"] for e in catalogue["entries"]} == {"hub_unreachable"}


def fill(mount: Path, name: str, leave: int) -> None:
    """Fill the tmpfs until about `leave` bytes are free (a real full disk, not a double). The
    app writes to the same disk meanwhile (its store), so the filler stops at a full disk too."""
    import errno
    import shutil

    with (mount / name).open("wb", buffering=0) as filler:
        while (room := shutil.disk_usage(mount).free - leave) > 0:
            try:
                filler.write(b"\0" * min(room, 1 << 20))
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                return


def test_a_full_disk_is_refused_first_and_a_disk_filling_up_keeps_nothing(
    apps: Callable[..., App], hub: HubDouble, tmp_path: Path, model_bytes: bytes
) -> None:
    with tmpfs(tmp_path / "mnt", "16M") as mount:
        app = apps(hub.endpoint, mount / "data")
        app.http.get("/jobs")  # the store is open
        fill(mount, "filler-1", len(model_bytes) // 2)
        response = app.http.post("/config/models/downloads", json={"repo": REPO, "file": FILE})
        status, code, message = error_of(response)
        assert (status, code) == (413, "disk_full")
        assert "free" in message
        assert app.http.get("/jobs").json() == []
        assert hub.ranges() == []
        (mount / "filler-1").unlink()
        # Enough room when it starts; the disk fills while it downloads.
        hub.hold_at = 100_000
        job_id = download(app)["id"]
        assert hub.wait_held()
        fill(mount, "filler-2", 64 * 1024)
        hub.release()
        job = app.wait_job(job_id, "done", "error")
        assert job["status"] == "error"
        assert job["error"]["code"] == "disk_full", job
        assert app.staging() == []
        assert app.models() == []
        app.stop()


def test_a_disk_that_fills_before_the_last_bytes_are_flushed_is_disk_full_too(
    apps: Callable[..., App], hub: HubDouble, tmp_path: Path
) -> None:
    """A file whose tail (16 bytes) is smaller than the write buffer: the full disk first shows
    when the file is closed and its buffer flushed, not in a write (a CI run once saw `internal`
    here). Only the staging folder is on the small disk, so the store still has room to record
    how the job ended. The tail lands in the buffer unless that buffer was within 16 bytes of
    full; either way the job must end `disk_full`."""
    page = 4096
    hold = 50 * page  # a page boundary: the tail needs a fresh page of the disk
    hub.add(REPO, "tail.gguf", bytes(hold + 16))
    data = tmp_path / "data"
    with tmpfs(data / "staging", "1M") as staging:
        app = apps(hub.endpoint, data)
        hub.hold(hold)
        job_id = download(app, file="tail.gguf")["id"]
        assert hub.wait_held()

        def written() -> int:  # what reached the disk; at most one buffer (8 KiB) is held back
            return sum(p.stat().st_size for p in staging.rglob("*") if p.is_file())

        wait_until(lambda: written() > hold - 2 * page, "the client to write what it was sent")
        fill(staging, "filler", 0)
        hub.release()
        job = app.wait_job(job_id, "done", "error")
        assert job["status"] == "error"
        assert job["error"] is not None
        assert job["error"]["code"] == "disk_full", job
        assert [p.name for p in app.staging()] == ["filler"]  # the part file is gone
        assert app.models() == []
        app.stop()


# --- model imports are jobs too -------------------------------------------------------------------
def test_a_model_import_and_upload_are_import_jobs_their_imports_views_of_them(
    app: App, model_bytes: bytes, tmp_path: Path
) -> None:
    source = tmp_path / "picked.gguf"
    source.write_bytes(model_bytes)
    started = app.http.post("/config/models/import", json={"path": str(source)})
    assert started.status_code == 202, started.text
    import_id = started.json()["id"]
    job = app.wait_job(import_id, "done", "error")
    assert (job["kind"], job["status"], job["result"]) == (
        "import",
        "done",
        {"model": "picked.gguf"},
    )
    view = app.http.get(f"/config/models/imports/{import_id}").json()
    assert (view["state"], view["bytes"], view["progress"]) == ("done", len(model_bytes), 1.0)
    uploaded = app.http.post(
        "/config/models/upload", params={"name": "picked.gguf"}, content=model_bytes
    )
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["file"] == "picked-2.gguf"
    upload_job = app.job(uploaded.json()["id"])
    assert (upload_job["kind"], upload_job["status"]) == ("import", "done")
    assert app.models() == ["picked-2.gguf", "picked.gguf"]
    assert app.staging() == []


def test_a_refused_upload_is_an_import_job_in_error_and_keeps_nothing(app: App) -> None:
    refused = app.http.post(
        "/config/models/upload", params={"name": "bad.gguf"}, content=b"GGUF" + b"\0" * 100
    )
    assert error_of(refused)[:2] == (400, "model_corrupt")
    jobs = app.http.get("/jobs").json()
    assert [(j["kind"], j["status"], j["error"]["code"]) for j in jobs] == [
        ("import", "error", "model_corrupt")
    ]
    imports = app.http.get("/config/models/imports").json()["imports"]
    assert [(i["state"], i["error"]["code"]) for i in imports] == [("error", "model_corrupt")]
    assert app.models() == []
    assert app.staging() == []
