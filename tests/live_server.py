"""Start the real app as a user would on a machine with no screen: `python -m director_desktop
--headless` in a subprocess, waiting for its one URL line (PROTOCOL section 1) with a deadline.

Shared by the integration, e2e (browser) and bench tiers. The interface is stable:

    with start_headless(tmp_path / "data") as server:
        httpx.get(server.base_url + "/health", headers={"Authorization": f"Bearer {server.token}"})

`stop()` sends SIGTERM and asserts the exit code is 0 (the graceful-shutdown promise); `kill()`
sends SIGKILL (a crash). Neither leaves the process behind.
"""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parent.parent
URL_LINE = re.compile(
    r"^Director Desktop at (?P<base>http://127\.0\.0\.1:(?P<port>\d+))/#token=(?P<token>\S+)$"
)
START_DEADLINE = 30.0
STOP_DEADLINE = 10.0
STACKS_DEADLINE = 5.0  # for faulthandler to print a stuck server's threads after SIGABRT
STDERR_FILE = "headless-stderr.txt"  # in the server's log dir


class HeadlessStartError(RuntimeError):
    """The server did not print its URL line in time; the message carries what it printed."""


@dataclass
class HeadlessServer:
    base_url: str
    port: int
    token: str
    process: subprocess.Popen[bytes]
    data_dir: Path
    log_dir: Path
    url_line: str = field(repr=False, default="")

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def page_url(self) -> str:
        return f"{self.base_url}/#token={self.token}"

    def stop(self, timeout: float = STOP_DEADLINE) -> int:
        """SIGTERM, wait, and assert the graceful exit code 0 (PROTOCOL section 1)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            stacks = self._stacks()
            raise AssertionError(
                f"server did not exit within {timeout} s of SIGTERM; where its threads were:\n"
                f"{stacks}"
            ) from None
        finally:
            _close_pipes(self.process)
        assert code == 0, f"server exited with {code} after SIGTERM"
        return code

    def _stacks(self) -> str:
        """A stuck server's threads, as faulthandler prints them on SIGABRT (`start_headless`
        turns it on), then the process is gone: what a hang in CI leaves to read."""
        stderr = self.log_dir / STDERR_FILE
        before = stderr.stat().st_size if stderr.exists() else 0
        self.process.send_signal(signal.SIGABRT)
        try:
            self.process.wait(timeout=STACKS_DEADLINE)
        except subprocess.TimeoutExpired:
            self.kill()
        with stderr.open("rb") as text:
            text.seek(before)
            return text.read().decode(errors="replace")[-20_000:]

    def kill(self) -> None:
        """SIGKILL: the process dies mid-whatever, as in a crash or power loss."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        _close_pipes(self.process)

    def __enter__(self) -> HeadlessServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.process.poll() is not None:
            _close_pipes(self.process)
            return
        if exc_type is None:
            self.stop()
        else:  # a failing test: don't hide its error behind a second one
            self.kill()


def _close_pipes(process: subprocess.Popen[bytes]) -> None:
    for pipe in (process.stdout, process.stderr, process.stdin):
        if pipe is not None and not pipe.closed:
            pipe.close()


def start_headless(
    data_dir: Path,
    *,
    env: Mapping[str, str] | None = None,
    extra_args: Sequence[str] = (),
    log_dir: Path | None = None,
    deadline: float = START_DEADLINE,
) -> HeadlessServer:
    """Start `python -m director_desktop --headless --data-dir D --port 0` and wait for its URL.

    `env` is added to this process's environment. Logs go to `log_dir` (default: beside the data
    dir) so a test run never writes into the user's real log folder.
    """
    data_dir = Path(data_dir)
    log_dir = Path(log_dir) if log_dir else data_dir.parent / (data_dir.name + "-logs")
    args = [sys.executable, "-m", "director_desktop", "--headless", "--data-dir", str(data_dir)]
    args += ["--log-dir", str(log_dir)]
    if "--port" not in extra_args:
        args += ["--port", "0"]
    args += list(extra_args)
    # faulthandler: a server that hangs on SIGTERM is sent SIGABRT and prints its threads.
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONFAULTHANDLER": "1", **(env or {})}
    log_dir.mkdir(parents=True, exist_ok=True)
    # stderr goes to a file, not a pipe: nobody reads a pipe after start-up, and a full pipe would
    # block the server.
    stderr_path = log_dir / STDERR_FILE
    with stderr_path.open("ab") as stderr:
        process = subprocess.Popen(
            args,
            cwd=ROOT,
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
    try:
        line = _read_url_line(process, deadline, stderr_path)
    except BaseException:
        if process.poll() is None:
            process.kill()
        process.wait()
        _close_pipes(process)
        raise
    match = URL_LINE.match(line)
    assert match is not None  # _read_url_line only returns matching lines
    return HeadlessServer(
        base_url=match["base"],
        port=int(match["port"]),
        token=match["token"],
        process=process,
        data_dir=data_dir,
        log_dir=log_dir,
        url_line=line,
    )


def _read_url_line(process: subprocess.Popen[bytes], deadline: float, stderr_path: Path) -> str:
    """Read stdout until the URL line, failing fast with the server's output if it dies."""
    assert process.stdout is not None
    out = bytearray()
    end = time.monotonic() + deadline
    closed = False
    with selectors.DefaultSelector() as sel:
        sel.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < end and b"\n" not in out:
            if not sel.select(timeout=max(0.0, end - time.monotonic())):
                continue
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:  # stdout closed: the process is ending
                closed = True
                break
            out.extend(chunk)
    if b"\n" in out:
        line = out.split(b"\n", 1)[0].decode("utf-8", "replace").rstrip("\r")
        if URL_LINE.match(line):
            return line
        why = f"unexpected first line {line!r}"
    elif closed:
        why = "exited before printing its URL line"
        try:  # stdout closes a moment before the exit code can be read
            process.wait(timeout=STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            why = "closed stdout without printing its URL line"
    else:
        why = f"no URL line within {deadline} s"
    raise HeadlessStartError(
        f"{why} (exit code {process.poll()}); stdout: {_tail(bytes(out))}; "
        f"stderr: {_tail(stderr_path.read_bytes())}"
    )


def _tail(data: bytes, limit: int = 4000) -> str:
    return data[-limit:].decode("utf-8", "replace")
