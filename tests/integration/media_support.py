"""What the media library's integration tests share: uploads to the live app, what is left on
disk, the jobs a client saw, and a small HTTP server on loopback to download from.

Files come from `tests/fixtures/media.py` (made by the app's own FFmpeg); nothing here stands in
for a part of the project.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.integration.support import ChatClient, Live, wait_until

VIDEO_KEYS = {
    "id",
    "collection_id",
    "name",
    "description",
    "stream_url",
    "player_url",
    "thumbnail_url",
    "length",
}
AUDIO_KEYS = {"id", "collection_id", "name", "length", "url"}
IMAGE_KEYS = {"id", "collection_id", "name", "description", "url"}
EXTRAS = {"kind", "size", "width", "height", "fps", "created_at", "missing"}
"""Our own keys on every asset object (an upload's answer adds `duplicate`)."""
BOUNDARY = "director-test-boundary"


def upload(
    live: Live,
    source: Path | bytes,
    name: str | None = None,
    collection_id: str = "default",
) -> httpx.Response:
    """A multipart upload of a file (or of bytes) in the field `file`."""
    data = source.read_bytes() if isinstance(source, Path) else source
    filename = name or (source.name if isinstance(source, Path) else "upload.bin")
    return live.http.post(
        f"/videodb/collection/{collection_id}/upload",
        headers=live.headers,
        files={"file": (filename, data, "application/octet-stream")},
    )


def uploaded(live: Live, source: Path | bytes, name: str | None = None, **kw: Any) -> Any:
    """Upload a file the library takes and answer the new asset (201)."""
    response = upload(live, source, name, **kw)
    assert response.status_code == 201, response.text
    return response.json()


def multipart_head(filename: str) -> bytes:
    return (
        f"--{BOUNDARY}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()


def multipart_tail() -> bytes:
    return f"\r\n--{BOUNDARY}--\r\n".encode()


MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def on_disk(live: Live) -> list[str]:
    """Every file under the data dir's staging and media folders, relative to the data dir."""
    found = []
    for folder in ("staging", "media"):
        root = live.data_dir / folder
        if root.exists():
            found += [p.relative_to(live.data_dir).as_posix() for p in root.rglob("*")]
    return sorted(found)


def all_assets(live: Live, collection_id: str = "default") -> list[Any]:
    found = []
    for kind in ("video", "audio", "image"):
        response = live.get(f"/videodb/collection/{collection_id}/{kind}")
        assert response.status_code == 200, response.text
        found += response.json()
    return found


def jobs_seen(client: ChatClient, job_id: str) -> list[Any]:
    """Every state of a job that client was told of, in order."""
    return [
        e["job"]
        for e in list(client.events)
        if e.get("event_type") == "job" and e["job"]["id"] == job_id
    ]


def wait_job(live: Live, check: Any, what: str) -> Any:
    """The first job of `GET /jobs` for which `check(job)` holds, waiting for it (deadline)."""
    found: list[Any] = []

    def look() -> bool:
        found[:] = [j for j in live.get("/jobs").json() if check(j)]
        return bool(found)

    wait_until(look, what)
    return found[0]


def path_only(url: str) -> str:
    return url.split("?", 1)[0]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def file_server(directory: Path) -> Iterator[str]:
    """A threaded HTTP server on loopback serving `directory`; yields its base URL."""
    handler = functools.partial(_Quiet, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="test file server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
