"""Jobs over HTTP and the socket (docs/protocol.md section 7) on the real app: the job events a
window receives, `GET /jobs`, cancelling a finished job, pause and resume of one that cannot,
and cancelling an upload mid-way (from another request, or by the client giving up) leaving
nothing. A kill mid-import (the job `interrupted` after a restart, nothing half-made) is in
test_media_faults.py.

Slow uploads are streamed bodies whose generator waits on an event the test sets once it has
seen the job: no sleeps, every wait has a deadline.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx

from tests.fixtures.media import MediaFiles, media_files_fixture  # noqa: F401 (the fixture)
from tests.integration.media_support import (
    MULTIPART,
    all_assets,
    jobs_seen,
    multipart_head,
    multipart_tail,
    on_disk,
    uploaded,
    wait_job,
)
from tests.integration.support import WAIT, Live, wait_until

JOB_KEYS = {
    "id",
    "kind",
    "title",
    "status",
    "progress",
    "detail",
    "started_at",
    "finished_at",
    "error",
    "result",
}


class GaveUp(Exception):
    """The client stops sending its upload."""


class SlowUpload:
    """A multipart upload sent from a thread: its first 4 KiB, then nothing until `go` is set;
    then the rest (or, with `give_up`, the client aborts the request)."""

    def __init__(self, base_url: str, headers: dict[str, str], data: bytes, name: str) -> None:
        self.go = threading.Event()
        self.give_up = False
        self.response: httpx.Response | None = None
        self.error: BaseException | None = None
        self._data, self._name = data, name
        self._client = httpx.Client(base_url=base_url, timeout=WAIT)
        self._headers = {**headers, "Content-Type": MULTIPART}
        self._thread = threading.Thread(target=self._send, name="slow upload")
        self._thread.start()

    def _body(self) -> Iterator[bytes]:
        yield multipart_head(self._name)
        yield self._data[:4096]
        assert self.go.wait(WAIT), "the test never let the upload go on"
        if self.give_up:
            raise GaveUp
        yield self._data[4096:]
        yield multipart_tail()

    def _send(self) -> None:
        try:
            self.response = self._client.post(
                "/videodb/collection/default/upload", headers=self._headers, content=self._body()
            )
        except BaseException as error:  # the test thread reads it
            self.error = error

    def finish(self) -> None:
        self.go.set()
        self._thread.join(WAIT)
        assert not self._thread.is_alive(), "the upload did not end"
        self._client.close()


def running_import(live: Live, title: str) -> Any:
    return wait_job(
        live,
        lambda j: j["kind"] == "import" and j["title"] == title and j["status"] == "running",
        f"the import of {title} to run",
    )


def test_an_import_is_a_job_every_window_sees(live: Live, media_files: MediaFiles) -> None:
    watcher = live.client()
    video = uploaded(live, media_files.clip_mp4)
    [job] = [j for j in live.get("/jobs").json() if j["kind"] == "import"]
    assert set(job) == JOB_KEYS
    assert (job["title"], job["status"], job["progress"], job["error"]) == (
        "clip.mp4",
        "done",
        1.0,
        None,
    )
    assert job["result"] == {"asset_id": video["id"], "duplicate": False}
    assert job["finished_at"] >= job["started_at"]

    watcher.wait_event(
        lambda e: e.get("event_type") == "job" and e["job"]["status"] == "done",
        "the job's end",
    )
    states = jobs_seen(watcher, job["id"])
    assert set(states[0]) == JOB_KEYS
    assert states[0]["status"] == "running"
    assert states[-1] == job
    assert [s["status"] for s in states].count("done") == 1
    assert all(s["status"] == "running" for s in states[:-1])

    # A finished job answers its final state to a cancel, and cannot be paused or resumed.
    cancelled = live.http.delete(f"/jobs/{job['id']}", headers=live.headers)
    assert cancelled.status_code == 200
    assert cancelled.json() == job
    for action in ("pause", "resume"):
        refused = live.http.post(f"/jobs/{job['id']}/{action}", headers=live.headers)
        assert refused.status_code == 409, action
        assert refused.json()["error"]["code"] == "not_resumable"
    for method, path in [
        ("DELETE", "/jobs/no-such-job"),
        ("POST", "/jobs/no-such-job/pause"),
        ("POST", "/jobs/no-such-job/resume"),
    ]:
        response = live.http.request(method, path, headers=live.headers)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    assert live.http.delete("/jobs/a%20b", headers=live.headers).status_code == 400


def test_a_running_import_cannot_be_paused(live: Live, media_files: MediaFiles) -> None:
    upload = SlowUpload(live.base_url, live.headers, media_files.clip_mp4.read_bytes(), "a.mp4")
    try:
        job = running_import(live, "a.mp4")
        refused = live.http.post(f"/jobs/{job['id']}/pause", headers=live.headers)
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "not_resumable"
    finally:
        upload.finish()
    assert upload.response is not None
    assert upload.response.status_code == 201, upload.response.text


def test_cancelling_an_upload_mid_way_leaves_nothing(live: Live, media_files: MediaFiles) -> None:
    watcher = live.client()
    upload = SlowUpload(live.base_url, live.headers, media_files.clip_mp4.read_bytes(), "b.mp4")
    try:
        job = running_import(live, "b.mp4")
        wait_until(lambda: on_disk(live) != [], "the job's staging folder")
        assert all(p.startswith("staging/") for p in on_disk(live))
        cancelled = live.http.delete(f"/jobs/{job['id']}", headers=live.headers)
        assert cancelled.status_code == 200
        assert cancelled.json()["status"] == "cancelled"
        assert cancelled.json()["error"] is None
        assert cancelled.json()["finished_at"] is not None
        # Answered once cancelled: nothing is left already.
        assert on_disk(live) == []
    finally:
        upload.finish()
    assert upload.response is not None, upload.error
    assert upload.response.status_code == 409
    assert upload.response.json()["error"]["code"] == "cancelled"
    assert upload.response.json()["message"] == upload.response.json()["error"]["message"]
    assert all_assets(live) == []
    assert on_disk(live) == []
    assert [j["status"] for j in live.get("/jobs").json()] == ["cancelled"]
    watcher.wait_event(
        lambda e: e.get("event_type") == "job" and e["job"]["status"] == "cancelled",
        "the cancelled job's event",
    )
    assert not [e for e in watcher.events if e.get("update") == "videos"]
    # Cancelling again answers the same final state.
    again = live.http.delete(f"/jobs/{job['id']}", headers=live.headers)
    assert again.json() == cancelled.json()


def test_a_client_giving_up_on_its_upload_cancels_the_job(
    live: Live, media_files: MediaFiles
) -> None:
    upload = SlowUpload(live.base_url, live.headers, media_files.clip_mp4.read_bytes(), "c.mp4")
    try:
        job = running_import(live, "c.mp4")
        wait_until(lambda: on_disk(live) != [], "the job's staging folder")
        upload.give_up = True
    finally:
        upload.finish()
    assert isinstance(upload.error, GaveUp)
    ended = wait_job(
        live,
        lambda j: j["id"] == job["id"] and j["status"] != "running",
        "the abandoned import to end",
    )
    assert ended["status"] == "cancelled", ended
    assert ended["error"] is None
    assert on_disk(live) == []
    assert all_assets(live) == []
