"""What the chaos scenarios share: the app as a user runs it (`python -m director_desktop
--headless`, tests/live_server.py), an HTTP client that counts every 5xx it ever sees, a model
or a clip put in place through the app's own routes, and the server's memory.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import httpx

from tests.fixtures.tiny_gguf import write_chat_model
from tests.integration.support import WAIT, wait_until
from tests.live_server import HeadlessServer, start_headless

TINY_MODEL = "tiny-chat.gguf"


class Reachable(Protocol):
    """A running app's address and credentials (`HeadlessServer`, or `load.Target`)."""

    @property
    def base_url(self) -> str: ...

    @property
    def auth_headers(self) -> dict[str, str]: ...


class Http:
    """httpx with the launch token, counting answers by status class (a 5xx is never fine)."""

    def __init__(self, server: Reachable, *, timeout: float = WAIT) -> None:
        self.base_url = server.base_url
        self.client = httpx.Client(base_url=server.base_url, timeout=timeout)
        self.headers = server.auth_headers
        self.five_xx: list[str] = []
        self.answers = 0
        self._lock = threading.Lock()

    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {**self.headers, **kw.pop("headers", {})}
        response = self.client.request(method, path, headers=headers, **kw)
        with self._lock:
            self.answers += 1
            if response.status_code >= 500:
                self.five_xx.append(
                    f"{method} {path} -> {response.status_code} {response.text[:200]}"
                )
        return response

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("GET", path, **kw)

    def close(self) -> None:
        self.client.close()


@contextmanager
def headless(data_dir: Path, **env: str) -> Iterator[HeadlessServer]:
    """The app in its own process; killed (not stopped) if the block fails."""
    with start_headless(data_dir, env=env) as server:
        yield server


def restart(server: HeadlessServer, **env: str) -> HeadlessServer:
    """The same data dir, port and token: what a user's relaunch looks like to an open page."""
    return start_headless(
        server.data_dir,
        env=env,
        extra_args=(
            "--port",
            str(server.port),
            f"--token={server.token}",
        ),  # a token may start with "-"
        log_dir=server.log_dir,
    )


def split_explained(five_xx: list[str], codes: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """Split 5xx answers into those carrying one of `codes` in the error envelope (the app's
    stable answer to the fault the scenario injected: a killed FFmpeg, a full disk under the
    database) and the rest, which the table counts as 5xx."""
    explained = [e for e in five_xx if any(f'"code":"{code}"' in e for code in codes)]
    return explained, [e for e in five_xx if e not in explained]


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def use_tiny_model(server: HeadlessServer, http: Http) -> str:
    """Write a random-weight GGUF into the models folder and choose it; wait until it is ready."""
    models = server.data_dir / "models"
    models.mkdir(parents=True, exist_ok=True)
    write_chat_model(str(models / TINY_MODEL))
    chosen = http.request(
        "PUT", "/config/models/choice", json={"provider": "embedded", "model": TINY_MODEL}
    )
    assert chosen.status_code == 200, chosen.text
    state: list[str] = []

    def ready() -> bool:
        status = http.get("/config/models/status").json()
        state[:] = [status["state"], str(status.get("error"))]
        return bool(status["state"] in ("ready", "error"))

    wait_until(ready, "the tiny model to load", timeout=WAIT * 4)
    assert state[0] == "ready", state
    return TINY_MODEL


def upload_file(http: Http, path: Path, name: str | None = None) -> httpx.Response:
    return http.request(
        "POST",
        "/videodb/collection/default/upload",
        files={"file": (name or path.name, path.read_bytes(), "application/octet-stream")},
        timeout=WAIT * 4,
    )


def wait_jobs_settled(http: Http, timeout: float = WAIT * 4) -> list[Any]:
    """Wait until no job is queued or running; answer the jobs."""
    jobs: list[Any] = []

    def settled() -> bool:
        jobs[:] = http.get("/jobs").json()
        return all(j["status"] not in ("queued", "running") for j in jobs)

    wait_until(settled, "every job to finish", timeout=timeout)
    return jobs


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class Stopwatch:
    def __init__(self) -> None:
        self.start = time.monotonic()

    def seconds(self) -> float:
        return time.monotonic() - self.start
