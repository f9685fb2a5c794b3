"""SIGKILL at a random moment of a chat turn, an import or an indexing job, then a restart on
the same data dir; what each kill leaves is checked by tests/chaos/invariants.py.
"""

from __future__ import annotations

import json
import random
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.chaos.invariants import read_db
from tests.chaos.support import Http, restart
from tests.integration.support import WAIT, ChatClient, chat_payload, wait_until
from tests.integration.test_media_faults import MIB, SlowUpload
from tests.live_server import HeadlessServer

SLOW = {"DIRECTOR_ASSISTANT_PACE": "0.05"}  # a reply streams for seconds: time to kill mid-run


@dataclass
class KillLog:
    acked: list[tuple[str, str]] = field(default_factory=list)
    landed: int = 0  # kills that hit the work they aimed at (it was still running)
    five_xx: list[str] = field(default_factory=list)


def jobs(server: HeadlessServer) -> list[Any]:
    answer = httpx.get(f"{server.base_url}/jobs", headers=server.auth_headers, timeout=WAIT)
    assert answer.status_code == 200, answer.text
    found: list[Any] = answer.json()
    return found


def running_job(server: HeadlessServer, kind: str) -> Callable[[], bool]:
    return lambda: any(j["kind"] == kind and j["status"] == "running" for j in jobs(server))


def kill_mid_run(server: HeadlessServer, rng: random.Random, log: KillLog) -> HeadlessServer:
    client = ChatClient(server.base_url)
    try:
        client.connect(server.token)
        ack = client.call("chat", chat_payload("tell me everything"))
        assert ack["ok"], ack
        log.acked.append((ack["data"]["session_id"], ack["data"]["msg_id"]))
        output = ack["data"]["output_msg_id"]
        client.wait_for(
            lambda ms: any(m.get("msg_id") == output for m in ms), "the first streamed snapshot"
        )
        time.sleep(rng.uniform(0, 0.5))  # the kill's random moment, not a wait for a result
        running = all(m["status"] == "progress" for m in client.snapshots(output))
        server.kill()
    finally:
        client.close()
    log.landed += running
    return restart(server, **SLOW)


def kill_mid_import(server: HeadlessServer, rng: random.Random, log: KillLog) -> HeadlessServer:
    upload = SlowUpload(
        server.base_url, server.auth_headers, size=16 * MIB, first=rng.randrange(1, 8) * MIB
    )
    upload.start()
    assert upload.sent.wait(WAIT), "the upload did not start"
    wait_until(running_job(server, "import"), "the import job to run")
    server.kill()
    upload.end()
    server = restart(server, **SLOW)
    log.landed = interrupted(server.data_dir, "import")
    return server


def kill_mid_index(
    server: HeadlessServer, rng: random.Random, log: KillLog, clip: Path
) -> HeadlessServer:
    http = Http(server)
    try:
        flag = http.request("PATCH", "/config/media", json={"index_on_import": True})
        assert flag.status_code == 200, flag.text
        done = threading.Event()

        def post() -> None:
            try:
                http.request(
                    "POST",
                    "/videodb/collection/default/upload",
                    files={
                        "file": (f"{rng.randrange(1 << 30)}.mp4", unique(clip, rng), "video/mp4")
                    },
                    timeout=WAIT * 4,
                )
            except httpx.HTTPError:
                pass  # the server was killed under it
            finally:
                done.set()

        thread = threading.Thread(target=post, daemon=True)
        thread.start()
        # Indexing a clip takes well under a second here: the kill follows the first sight of
        # the running job, and whether it landed is read back from the job's stored end.
        wait_until(running_job(server, "index"), "the index job to run", timeout=WAIT * 4)
        server.kill()  # the upload's answer may come before or after: both are fine
        done.wait(WAIT)
        log.five_xx += http.five_xx
    finally:
        http.close()
    server = restart(server, **SLOW)
    log.landed = interrupted(server.data_dir, "index")
    return server


def interrupted(data_dir: Path, kind: str) -> int:
    """How many jobs of `kind` the kills cut off (stored as `error` `interrupted` at restart)."""
    conn = read_db(data_dir)
    try:
        rows = conn.execute("SELECT error FROM jobs WHERE kind = ? AND status = 'error'", (kind,))
        return sum(json.loads(e or "{}").get("code") == "interrupted" for (e,) in rows)
    finally:
        conn.close()


def unique(clip: Path, rng: random.Random) -> bytes:
    """The clip with a `free` box of random bytes at its end (players skip it): a new asset each
    time, not a duplicate of the last one."""
    return clip.read_bytes() + struct.pack(">I", 16) + b"free" + rng.randbytes(8)


DOWNLOAD_REPO = "chaos/tiny-GGUF"
DOWNLOAD_FILE = "tiny-q8_0.gguf"


def kill_mid_download(
    server: HeadlessServer, rng: random.Random, log: KillLog, hub: Any, model: bytes
) -> HeadlessServer:
    """Hold the hub's answer at a random byte of the file, kill, restart: the job must come back
    paused (resumable) or ended, never running, with no partial model in the models folder."""
    hub.hold(rng.randrange(1, len(model) - 1))
    answer = httpx.post(
        f"{server.base_url}/config/models/downloads",
        headers=server.auth_headers,
        json={"repo": DOWNLOAD_REPO, "file": DOWNLOAD_FILE},
        timeout=WAIT,
    )
    if answer.status_code >= 500:
        log.five_xx.append(f"download -> {answer.status_code} {answer.text[:200]}")
    assert answer.status_code == 202, answer.text
    assert hub.wait_held(WAIT), "the download did not reach the held byte"
    server.kill()
    hub.release()
    server = restart(server, **SLOW, HF_ENDPOINT=hub.endpoint)
    after = [job for job in jobs(server) if job["kind"] == "download"]
    log.landed += sum(1 for job in after if job["status"] == "paused")
    # Cancel the paused download, so the next one starts afresh and staging is left empty.
    for job in after:
        if job["status"] == "paused":
            cancelled = httpx.delete(
                f"{server.base_url}/jobs/{job['id']}", headers=server.auth_headers, timeout=WAIT
            )
            assert cancelled.status_code == 200, cancelled.text
    return server
