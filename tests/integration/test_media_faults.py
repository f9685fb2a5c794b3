"""Faults in the middle of an import, on the real app: a SIGKILL while an upload is being copied
(after a restart the job is `error` `interrupted`, and no asset row, staging file or asset folder
is left), a SIGKILL at random moments of whole imports (each asset is whole or absent), and a disk
that fills: an upload bigger than the free space is refused before a byte is copied (413
`disk_full`), and a chunked upload (no Content-Length, so no check first) that fills the disk
mid-copy ends `disk_full` too; neither leaves anything, and the app goes on serving and storing
chat turns.

The kills use the app as a user runs it (`python -m director_desktop --headless`, in its own
process: tests/live_server.py). A full disk is real: a size-limited tmpfs holds the data dir
(tests/unit/mounts.py; skipped where mounting is not permitted, a failure under
DIRECTOR_TEST_ALL=1). Cancelling mid-copy is in test_jobs_api.py (over HTTP) and
tests/unit/test_media_library.py (the library itself). Every wait is on a signal the app gives
(GET /jobs, files in staging), with a deadline, but the random kills' moments.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.media import (  # noqa: F401 (the fixture)
    MediaFiles,
    make_clip,
    media_files_fixture,
)
from tests.integration.media_support import MULTIPART, multipart_head, multipart_tail
from tests.integration.support import (
    WAIT,
    Baseline,
    Live,
    chat_payload,
    start_live,
    wait_until,
)
from tests.live_server import HeadlessServer, start_headless
from tests.unit.mounts import tmpfs

MIB = 1024 * 1024
KILLS = 6


class SlowUpload:
    """A multipart upload from a thread, its file's bytes made up as they are sent: `first` bytes
    go at once, the rest only once `release` is set (or never, when `stop_after_first`).

    With `declared` the request has a Content-Length (the file's `size`); without, it is sent
    chunked, as a browser's stream would be. The answer (or what the client raised) lands in
    `outcome`.
    """

    def __init__(
        self,
        base_url: str,
        headers: dict[str, str],
        *,
        size: int,
        first: int,
        declared: bool = True,
        collection_id: str = "default",
    ) -> None:
        self.size = size
        self.first = first
        self.sent = threading.Event()  # the first bytes are on their way
        self.release = threading.Event()
        self.stop_after_first = False
        self.outcome: httpx.Response | BaseException | None = None
        head, tail = multipart_head("big.mp4"), multipart_tail()
        self._head, self._tail = head, tail
        extra = {"Content-Length": str(len(head) + size + len(tail))} if declared else {}
        self._request = (
            f"{base_url}/videodb/collection/{collection_id}/upload",
            {**headers, "Content-Type": MULTIPART, **extra},
        )
        self._thread = threading.Thread(target=self._run, name="slow upload", daemon=True)

    def start(self) -> SlowUpload:
        self._thread.start()
        return self

    def _body(self) -> Iterator[bytes]:
        yield self._head
        piece, done = os.urandom(MIB), 0
        while done < self.size:
            if done >= self.first and not self.sent.is_set():
                self.sent.set()
                if not self.release.wait(WAIT) or self.stop_after_first:
                    return  # the body ends short: the server is gone, or the test failed
            step = min(MIB, self.size - done)
            yield piece[:step]
            done += step
        self.sent.set()
        yield self._tail

    def _run(self) -> None:
        url, headers = self._request
        try:
            with httpx.Client(timeout=WAIT * 4) as client:
                self.outcome = client.post(url, content=self._body(), headers=headers)
        except BaseException as exc:  # the test reads it
            self.outcome = exc

    def response(self) -> httpx.Response:
        """The server's answer, once the upload has ended (deadline)."""
        self._thread.join(WAIT * 4)
        assert not self._thread.is_alive(), "the upload did not end"
        assert isinstance(self.outcome, httpx.Response), f"no answer: {self.outcome!r}"
        return self.outcome

    def end(self) -> None:
        """Let the body end (short), and wait for the client to give up."""
        self.stop_after_first = True
        self.release.set()
        self._thread.join(WAIT * 4)
        assert not self._thread.is_alive(), "the upload did not end"


def jobs_of(base_url: str, headers: dict[str, str]) -> list[Any]:
    response = httpx.get(f"{base_url}/jobs", headers=headers, timeout=WAIT)
    assert response.status_code == 200, response.text
    jobs: list[Any] = response.json()
    return jobs


def wait_for_job(base_url: str, headers: dict[str, str], check: Any, what: str) -> Any:
    found: list[Any] = []

    def look() -> bool:
        found[:] = [job for job in jobs_of(base_url, headers) if check(job)]
        return bool(found)

    wait_until(look, what)
    return found[0]


def left_in(data_dir: Path) -> list[str]:
    """Everything under the data dir's staging and media folders."""
    found = []
    for folder in ("staging", "media"):
        root = data_dir / folder
        if root.exists():
            found += [p.relative_to(data_dir).as_posix() for p in root.rglob("*")]
    return sorted(found)


def videos(server: HeadlessServer) -> list[Any]:
    response = httpx.get(
        f"{server.base_url}/videodb/collection/default/video",
        headers=server.auth_headers,
        timeout=WAIT,
    )
    assert response.status_code == 200, response.text
    found: list[Any] = response.json()
    return found


def upload_file(base_url: str, headers: dict[str, str], path: Path) -> httpx.Response:
    with path.open("rb") as handle:
        return httpx.post(
            f"{base_url}/videodb/collection/default/upload",
            headers=headers,
            files={"file": (path.name, handle, "application/octet-stream")},
            timeout=WAIT * 4,
        )


def upload_ignoring_the_kill(base_url: str, headers: dict[str, str], path: Path) -> None:
    with contextlib.suppress(httpx.HTTPError):  # the server was killed under it
        upload_file(base_url, headers, path)


# --- a kill mid-import -----------------------------------------------------------------------


def test_a_kill_mid_copy_leaves_the_job_interrupted_and_nothing_half_made(
    tmp_path: Path, media_files: MediaFiles
) -> None:
    data = tmp_path / "data"
    server = start_headless(data)
    try:
        upload = SlowUpload(server.base_url, server.auth_headers, size=64 * MIB, first=3 * MIB)
        upload.start()
        assert upload.sent.wait(WAIT), "the upload did not start"
        job = wait_for_job(
            server.base_url,
            server.auth_headers,
            lambda j: j["kind"] == "import" and j["status"] == "running" and j["progress"],
            "the import running, with some progress",
        )
        partial = data / "staging" / job["id"] / "original"
        wait_until(lambda: partial.is_file() and partial.stat().st_size >= MIB, "bytes in staging")
        server.kill()
    finally:
        server.kill()
    upload.end()
    assert not isinstance(upload.outcome, httpx.Response), "the dead server answered"
    assert partial.exists(), "the kill left the copy behind, for the restart to clean"

    with start_headless(data) as again:
        after = [j for j in jobs_of(again.base_url, again.auth_headers) if j["id"] == job["id"]]
        assert len(after) == 1, after
        assert after[0]["status"] == "error"
        assert after[0]["error"]["code"] == "interrupted"
        assert videos(again) == []
        assert left_in(data) == []  # no staging file, no asset folder

        # The app goes on: a new upload of a real video is imported whole.
        response = upload_file(again.base_url, again.auth_headers, media_files.clip_mp4)
        assert response.status_code == 201, response.text
        assert [v["id"] for v in videos(again)] == [response.json()["id"]]


@pytest.mark.slow
def test_a_kill_at_random_moments_of_imports_leaves_each_asset_whole_or_absent(
    tmp_path: Path,
) -> None:
    """Kills anywhere in the import (copy, probe, thumbnail, the move, the row): after a restart
    each asset is whole (its file has the bytes uploaded, its thumbnail is there) or absent, and
    nothing else is left in staging or the media folder."""
    video = make_clip(tmp_path / "video.mp4", seconds=8, size="1280x720")
    digest = hashlib.sha256(video.read_bytes()).hexdigest()
    data = tmp_path / "data"
    seed = random.randrange(1 << 30)
    chance = random.Random(seed)

    # One import unkilled, to know how long one takes here.
    with start_headless(data) as server:
        started = time.monotonic()
        response = upload_file(server.base_url, server.auth_headers, video)
        took = time.monotonic() - started
        assert response.status_code == 201, response.text
        first_id = response.json()["id"]
        httpx.delete(
            f"{server.base_url}/videodb/collection/default/video/{first_id}",
            headers=server.auth_headers,
            timeout=WAIT,
        ).raise_for_status()
        jobs_before = {j["id"] for j in jobs_of(server.base_url, server.auth_headers)}

    outcomes = []
    for kill in range(KILLS):
        server = start_headless(data)
        try:
            uploader = threading.Thread(
                target=upload_ignoring_the_kill,
                args=(server.base_url, server.auth_headers, video),
                daemon=True,
            )
            uploader.start()
            # The kill's moment, anywhere in an import's usual span. Not a wait for anything:
            # every moment must leave a consistent library, so no timing can make this pass.
            time.sleep(chance.uniform(0.0, took * 1.2))
        finally:
            server.kill()
        uploader.join(WAIT)
        assert not uploader.is_alive()
        with start_headless(data) as again:
            stored = videos(again)
            ended = [
                (j["status"], (j["error"] or {}).get("code"))
                for j in jobs_of(again.base_url, again.auth_headers)
                if j["id"] not in jobs_before
            ]
            jobs_before |= {j["id"] for j in jobs_of(again.base_url, again.auth_headers)}
            # The kill may land before the job is stored; a stored one is done or interrupted
            # (interrupted with its asset whole, when the kill fell between the asset's row and
            # the job's own last write).
            assert ended in ([], [("done", None)], [("error", "interrupted")]), (kill, seed, ended)
            if ended == [("done", None)]:
                assert len(stored) == 1, (kill, seed, stored)
            for asset in stored:
                folder = data / "media" / asset["id"]
                original = next(folder.glob("original.*"))
                assert hashlib.sha256(original.read_bytes()).hexdigest() == digest, (kill, seed)
                assert (folder / "thumbnail.jpg").is_file(), (kill, seed)
            expected = sorted(
                item
                for asset in stored
                for item in (
                    f"media/{asset['id']}",
                    f"media/{asset['id']}/original.mp4",
                    f"media/{asset['id']}/thumbnail.jpg",
                )
            )
            assert left_in(data) == expected, (kill, seed)
            outcomes.append(len(stored))
            for asset in stored:  # the next round starts from an empty library
                httpx.delete(
                    f"{again.base_url}/videodb/collection/default/video/{asset['id']}",
                    headers=again.auth_headers,
                    timeout=WAIT,
                ).raise_for_status()
    assert len(outcomes) == KILLS


# --- a full disk -----------------------------------------------------------------------------


@contextmanager
def live_on_small_disk(tmp_path: Path, size: str) -> Iterator[Live]:
    """The app in uvicorn with its data dir on a tmpfs of `size`; stopped before the unmount."""
    baseline = Baseline.take()
    with tmpfs(tmp_path / "mnt", size) as mount:
        live = start_live(mount / "data")
        try:
            yield live
        finally:
            live.stop()
    baseline.wait_restored("the server's threads, descriptors and processes to end")


def refused(response: httpx.Response) -> None:
    """413 `disk_full`, in the error envelope with Director's top-level `message`."""
    assert response.status_code == 413, response.text
    body = response.json()
    assert body["error"]["code"] == "disk_full", body
    assert body["message"] == body["error"]["message"]


def chat_turn_stores(live: Live) -> None:
    client = live.client()
    ids = {"session_id": f"s-{uuid.uuid4()}", "conv_id": f"c-{uuid.uuid4()}"}
    ack = client.call("chat", chat_payload("still here after the disk filled", **ids))
    assert ack["ok"] is True, ack
    final = client.final(ack["data"]["output_msg_id"])
    assert final["status"] == "success", final
    stored = live.get(f"/session/{ids['session_id']}").json()
    assert len(stored["conversation"]) == 2


def test_an_upload_bigger_than_the_free_space_is_refused_before_copying(
    tmp_path: Path,
) -> None:
    with live_on_small_disk(tmp_path, "96m") as live:
        free = shutil.disk_usage(live.data_dir).free
        upload = SlowUpload(live.base_url, live.headers, size=free + MIB, first=2 * MIB)
        upload.start()
        # Refused while the client has sent 2 MiB of it: the check, not a filled disk.
        job = wait_for_job(
            live.base_url,
            live.headers,
            lambda j: j["kind"] == "import" and j["status"] == "error",
            "the import refused",
        )
        assert job["error"]["code"] == "disk_full", job
        assert job["progress"] is None, "bytes were copied before the refusal"
        upload.release.set()
        response = upload.response()
        refused(response)
        assert left_in(live.data_dir) == []
        assert live.get("/videodb/collection/default/video").json() == []
        chat_turn_stores(live)


def test_a_chunked_upload_that_fills_the_disk_mid_copy_leaves_nothing(tmp_path: Path) -> None:
    with live_on_small_disk(tmp_path, "96m") as live:
        # No Content-Length: the size is unknown until the disk is full.
        upload = SlowUpload(live.base_url, live.headers, size=160 * MIB, first=0, declared=False)
        upload.release.set()
        upload.start()
        response = upload.response()
        refused(response)
        jobs = jobs_of(live.base_url, live.headers)
        assert [(j["status"], j["error"]["code"]) for j in jobs] == [("error", "disk_full")]
        # Its last progress was the copy's: it filled the disk, no check stopped it first.
        assert jobs[0]["detail"].endswith(" copied"), jobs[0]
        assert left_in(live.data_dir) == []
        assert shutil.disk_usage(live.data_dir).free > 64 * MIB  # the copy's space is back
        assert live.get("/videodb/collection/default/video").json() == []
        assert live.get("/config/media").status_code == 200
        chat_turn_stores(live)
