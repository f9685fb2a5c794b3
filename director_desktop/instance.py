"""Instance: one app per data dir, and how a second launch hands over to the first.

The first launch holds an OS file lock on `<data dir>/director.lock` (fcntl on POSIX, msvcrt on
Windows), which the OS drops when the process dies, so a crashed run (even kill -9) leaves no
lock to clean up. It also listens on a loopback port and writes that port and a random secret to
`<data dir>/director.instance` (readable by the user only). A second launch that finds the lock
taken sends `RAISE <secret>` there; the first raises its window and answers `OK`. Imports nothing
from the project.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import os
import secrets
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

INSTANCE_FILE = "director.instance"
ANSWER_TIMEOUT = 3.0


class InstanceLock:
    """The held lock; `listen()` starts answering second launches; `release()` is idempotent."""

    def __init__(self, path: Path, handle: IO[bytes]) -> None:
        self.path = path
        self._handle: IO[bytes] | None = handle
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._secret = secrets.token_urlsafe(32)
        self._closing = False

    @property
    def info_path(self) -> Path:
        return self.path.with_name(INSTANCE_FILE)

    @classmethod
    def acquire(cls, path: Path) -> InstanceLock | None:
        """Take the lock, or None when a live process holds it."""
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle = open(path, "a+b")  # noqa: SIM115 - held open for the life of the lock
        if not _try_lock(handle):
            handle.close()
            return None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n".encode())
        handle.flush()
        return cls(path, handle)

    def listen(self, on_raise: Callable[[], None]) -> None:
        """Answer second launches on a loopback port; `on_raise` runs on the listener thread."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(4)
        self._listener = sock
        _write_private(
            self.info_path,
            json.dumps({"pid": os.getpid(), "port": sock.getsockname()[1], "secret": self._secret}),
        )
        self._thread = threading.Thread(
            target=self._serve, args=(sock, on_raise), name="instance", daemon=True
        )
        self._thread.start()

    def _serve(self, sock: socket.socket, on_raise: Callable[[], None]) -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:  # closed by release()
                return
            if self._closing:
                conn.close()
                return
            with conn:
                conn.settimeout(ANSWER_TIMEOUT)
                try:
                    line = conn.recv(256).decode("ascii", "replace").strip()
                    verb, _, secret = line.partition(" ")
                    if verb != "RAISE" or not hmac.compare_digest(secret, self._secret):
                        conn.sendall(b"NO\n")
                        continue
                    log.info("a second launch asked to raise the window")
                    on_raise()
                    conn.sendall(b"OK\n")
                except Exception:
                    log.exception("could not answer a second launch")

    def release(self) -> None:
        if self._listener is not None:
            port = self._listener.getsockname()[1]
            self._closing = True
            # close() alone does not wake a thread blocked in accept() on Linux: connect to it.
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                pass
            self._listener.close()
            self._listener = None
        if self._thread is not None:
            self._thread.join(ANSWER_TIMEOUT)
            self._thread = None
        if self._handle is None:
            return
        try:
            self.info_path.unlink(missing_ok=True)
        finally:
            _unlock(self._handle)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> InstanceLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def ask_running_instance(lock_path: Path, timeout: float = 10.0) -> InstanceLock | bool:
    """Ask the instance holding `lock_path` to raise its window. True once it answered; the lock
    itself when the other instance went away meanwhile (this launch is now the first); False when
    it never answered within `timeout`."""
    deadline = time.monotonic() + timeout
    info_path = lock_path.with_name(INSTANCE_FILE)
    while time.monotonic() < deadline:
        if _send_raise(info_path):
            return True
        lock = InstanceLock.acquire(lock_path)
        if lock is not None:
            return lock
        # The holder is between taking the lock and listening: its start-up takes milliseconds.
        time.sleep(0.05)
    return False


def _send_raise(info_path: Path) -> bool:
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
        port, secret = int(info["port"]), str(info["secret"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=ANSWER_TIMEOUT) as conn:
            conn.sendall(f"RAISE {secret}\n".encode("ascii"))
            return conn.recv(16).startswith(b"OK")
    except OSError:
        return False


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


if sys.platform == "win32":
    import msvcrt

    def _try_lock(handle: IO[bytes]) -> bool:
        handle.seek(0)
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(handle: IO[bytes]) -> None:
        handle.seek(0)
        with contextlib.suppress(OSError):
            msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(handle: IO[bytes]) -> bool:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True

    def _unlock(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
