"""Model downloads as resumable jobs (PROTOCOL 7, "Model downloads").

A download asks the hub for the file's size and SHA-256 first, checks the free space, then starts
a `download` job that fetches `{endpoint}/{repo}/resolve/{revision}/{file}` with plain HTTP range
requests (the hub's own client would use Xet for many files, which no local double speaks; range
requests on `resolve` serve every file, through its redirect to the file store). The bytes go to
the job's staging folder; a pause (or a restart: the job comes back `paused`) keeps them, and the
next run asks only for the rest. A dropped connection is retried from where it stopped. The whole
file is then checked against the hub's sha256 (and a `.gguf` against its header) before it is
moved into the models folder in one rename; a mismatch keeps nothing.
Imports `errors`, `jobs`, `protocol`, `store` and this package's `hub`, `library` and `gguf_info`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from director_desktop.engine.llm.gguf_info import read_gguf_info
from director_desktop.engine.llm.hub import HubClient, HubFile, check_repo, check_revision
from director_desktop.engine.llm.library import ModelLibrary, download_name
from director_desktop.errors import (
    DiskFull,
    HashMismatch,
    HubNotFound,
    HubUnreachable,
    InvalidPayload,
    is_disk_full,
)
from director_desktop.jobs import JobContext, Jobs, Work
from director_desktop.protocol import JobInfo, JobResult, JSONDict
from director_desktop.store import JobParams

if TYPE_CHECKING:  # imported where used: ~40 ms no launch needs (issue 17)
    import httpx

KIND = "download"
CHUNK = 1024 * 1024
RETRIES = 5
# Reads may stall on a slow link; a connection that sends nothing for this long is retried.
DOWNLOAD_TIMEOUT = (60.0, 15.0)  # seconds: an answer, a connection
PART = "download.part"
PROGRESS_EVERY = 0.25  # seconds between progress reports (jobs store ~4 a second anyway)


class ModelDownloads:
    def __init__(
        self,
        jobs: Jobs,
        library: ModelLibrary,
        hub: HubClient,
        staging_dir: Path,
        *,
        retry_pause: float = 0.5,
    ) -> None:
        self.jobs = jobs
        self.library = library
        self.hub = hub
        self.staging_dir = staging_dir
        self._retry_pause = retry_pause
        jobs.register(KIND, self.work)

    async def start(self, repo: str, file: str, revision: str = "main") -> JobInfo:
        """Check the file on the hub and the free space, then start its job (answered at once)."""
        check_repo(repo)
        check_revision(revision)
        name = download_name(file)
        info = await self.hub.repo(repo, revision)
        found = info.file(file)
        if found is None:
            raise HubNotFound(f"{repo} has no file {file!r} at {revision}")
        await asyncio.to_thread(self._check_space, found)
        params: JobParams = {
            "repo": repo,
            "file": file,
            "revision": info.commit or revision,
            "name": name,
            "size": found.size,
            "sha256": found.sha256,
        }
        return await self.jobs.start(
            KIND, f"Downloading {name}", self.work(params), resumable=True, params=params
        )

    def _check_space(self, found: HubFile) -> None:
        if found.size is None:
            return
        self.staging_dir.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(self.staging_dir).free
        if free < found.size:
            raise DiskFull(
                f"{found.path} needs {_size(found.size)} but only {_size(free)} is free; "
                "free some space and try again"
            )

    def work(self, params: JobParams) -> Work:
        """The job's work, rebuilt from its params (also after a restart)."""

        async def run(ctx: JobContext) -> JobResult:
            return await _Download(self, ctx, params).run()

        return run


class _Download:
    def __init__(self, owner: ModelDownloads, ctx: JobContext, params: JobParams) -> None:
        self.hub = owner.hub
        self.library = owner.library
        self.retry_pause = owner._retry_pause
        self.ctx = ctx
        self.repo = str(params["repo"])
        self.file = str(params["file"])
        self.revision = str(params["revision"])
        self.name = str(params["name"])
        size, sha = params.get("size"), params.get("sha256")
        self.size = size if isinstance(size, int) else None
        self.sha256 = sha if isinstance(sha, str) else None
        self.hasher = hashlib.sha256()
        self.have = 0
        self._started = time.monotonic()
        self._start_bytes = 0

    async def run(self) -> JobResult:
        import httpx

        part = self.ctx.staging(PART)
        self.have = await asyncio.to_thread(_rehash, part, self.hasher)
        self._started, self._start_bytes = time.monotonic(), self.have
        failures = 0
        while not self._complete():
            before = self.have
            try:
                await self._fetch(part)
            except httpx.TransportError as exc:  # refused, dropped, timed out
                error = self.hub.unreachable(exc)
            except HubUnreachable as exc:  # the hub answered 5xx
                error = exc
            else:
                if self._complete():
                    break
                error = HubUnreachable(f"the download of {self.name} stopped short")
            failures = 1 if self.have > before else failures + 1  # progress: a fresh budget
            if failures > RETRIES:
                raise error
            self.ctx.progress(self._fraction(), f"connection lost; retrying ({failures})")
            await asyncio.sleep(self.retry_pause * 2 ** (failures - 1))
        self.ctx.progress(1.0 if self.size else None, "checking the file")
        await asyncio.to_thread(self._verify, part)
        final = await asyncio.to_thread(self.library.adopt, part, self.name)
        return {"model": final.name}

    def _complete(self) -> bool:
        return self.size is not None and self.have >= self.size

    async def _fetch(self, part: Path) -> None:
        """One request for the rest of the file, run in a thread: a blocking client moves
        bytes at about twice the speed of an asyncio one here (no event loop hop per read).
        A pause, a cancel or a shutdown stops it between reads; one stuck waiting for data is
        woken by closing its socket. Whatever arrived is on disk, so the next request asks
        only for the rest."""
        transfer = _Transfer()
        future = asyncio.ensure_future(asyncio.to_thread(self._fetch_blocking, part, transfer))
        try:
            # Progress is told from here, a few times a second, so a transfer waiting for data
            # still shows how far it got (the thread itself never hops to the loop).
            while not future.done():
                await asyncio.wait({future}, timeout=PROGRESS_EVERY)
                self.ctx.progress(self._fraction(), self._detail())
            future.result()
        except asyncio.CancelledError:
            transfer.stop()
            await asyncio.wait({future})
            if not future.cancelled():
                future.exception()  # the read the stop cut short: expected, not news
            raise

    def _fetch_blocking(self, part: Path, transfer: _Transfer) -> None:
        url = self.hub.resolve_url(self.repo, self.revision, self.file)
        headers = {"Range": f"bytes={self.have}-"} if self.have else {}
        with (
            self.hub.blocking_client(DOWNLOAD_TIMEOUT) as client,
            client.stream("GET", url, headers=headers) as response,
        ):
            transfer.attach(response)
            if response.status_code == 416 and self.have:  # nothing left: check it all
                self.size = self.size or self.have
                return
            self.hub.check(response, self.repo)
            self._learn_size(response)
            if self.have and response.status_code != 206:  # the range was ignored
                _truncate(part)
                self.hasher, self.have = hashlib.sha256(), 0
                self._start_bytes = 0
            # The guard is outside the file's `with`: a full disk may first show when the
            # buffered file is flushed on close, not in a write.
            with _disk_full_kept_nothing(), part.open("ab") as sink:
                for chunk in response.iter_bytes():
                    sink.write(chunk)
                    self.hasher.update(chunk)
                    self.have += len(chunk)
                    if transfer.stopped:
                        return
        if self.size is None:  # no size known anywhere: the server's end of body is the end
            self.size = self.have

    def _learn_size(self, response: httpx.Response) -> None:
        """The size and hash the redirect carried, when the model info gave none."""
        for answer in (*response.history, response):
            linked = answer.headers.get("x-linked-size")
            if self.size is None and linked and linked.isdigit():
                self.size = int(linked)
            etag = answer.headers.get("x-linked-etag", "").strip('"').removeprefix("W/").strip('"')
            if self.sha256 is None and len(etag) == 64:
                self.sha256 = etag

    def _fraction(self) -> float | None:
        return self.have / self.size if self.size else None

    def _detail(self) -> str:
        elapsed = time.monotonic() - self._started
        rate = (self.have - self._start_bytes) / elapsed if elapsed > 0 else 0.0
        text = f"{_size(self.have)} of {_size(self.size)}" if self.size else _size(self.have)
        if rate > 0:
            text += f" · {_size(int(rate))}/s"
            if self.size:
                text += f" · {_eta((self.size - self.have) / rate)} left"
        return text

    def _verify(self, part: Path) -> None:
        if self.size is not None and self.have != self.size:
            raise HubUnreachable(f"{self.name} arrived with {self.have} of {self.size} bytes")
        digest = self.hasher.hexdigest()
        if self.sha256 is not None and digest != self.sha256.lower():
            raise HashMismatch(
                f"{self.name} does not match the hub's SHA-256 (the download was altered or "
                "damaged on the way); nothing was kept"
            )
        if self.name.lower().endswith(".gguf"):
            read_gguf_info(part, display_name=self.name)


class _Transfer:
    """A running request's stop switch, set from the event loop, read by its thread."""

    def __init__(self) -> None:
        self.stopped = False
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None

    def attach(self, response: httpx.Response) -> None:
        stream = response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        with self._lock:
            self._socket = sock if isinstance(sock, socket.socket) else None
            stopped = self.stopped
        if stopped:
            self._wake()

    def stop(self) -> None:
        with self._lock:
            self.stopped = True
        self._wake()

    def _wake(self) -> None:
        """A read waiting for data returns at once once its socket is shut down."""
        with self._lock:
            sock = self._socket
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


@contextlib.contextmanager
def _disk_full_kept_nothing() -> Iterator[None]:
    """Opening, writing or closing the part file on a full disk is `disk_full` (the job's
    staging folder, and so the part, is removed when it ends in an error)."""
    try:
        yield
    except OSError as exc:
        if is_disk_full(exc):
            raise DiskFull("the disk filled up during the download; nothing was kept") from exc
        raise


def _rehash(part: Path, hasher: hashlib._Hash) -> int:
    """Hash what an earlier run left (a pause, a restart); answers its size."""
    if not part.exists():
        return 0
    done = 0
    with part.open("rb") as source:
        while block := source.read(CHUNK):
            hasher.update(block)
            done += len(block)
    return done


def _truncate(part: Path) -> None:
    with part.open("wb"):
        pass


def _size(n: int | None) -> str:
    if n is None:
        return "?"
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def _eta(seconds: float) -> str:
    if seconds < 60:
        return f"{max(int(seconds), 1)} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60)} min"


def check_download(body: JSONDict) -> tuple[str, str, str]:
    """`{"repo", "file", "revision"?}` from a request body."""
    repo, file, revision = body.get("repo"), body.get("file"), body.get("revision", "main")
    if not isinstance(repo, str) or not isinstance(file, str) or not isinstance(revision, str):
        raise InvalidPayload('a download is {"repo": "owner/name", "file": "...gguf"}')
    return check_repo(repo), file, check_revision(revision or "main")
