"""The single-instance lock (`director_desktop/instance.py`): one app per data dir, a second
launch hands over to the first, and a lock left by a killed process is recovered."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from director_desktop.instance import InstanceLock, ask_running_instance

# A process that takes the lock, says so, and waits to be killed.
HOLDER = """
import sys, threading
from pathlib import Path
from director_desktop.instance import InstanceLock
lock = InstanceLock.acquire(Path(sys.argv[1]))
assert lock is not None
lock.listen(lambda: None)
print("held", flush=True)
threading.Event().wait()
"""


def test_a_second_acquire_is_refused_while_held(tmp_path: Path) -> None:
    lock_path = tmp_path / "director.lock"
    first = InstanceLock.acquire(lock_path)
    assert first is not None
    try:
        assert InstanceLock.acquire(lock_path) is None
    finally:
        first.release()
    again = InstanceLock.acquire(lock_path)
    assert again is not None
    again.release()


def test_release_is_idempotent_and_removes_the_instance_file(tmp_path: Path) -> None:
    lock = InstanceLock.acquire(tmp_path / "director.lock")
    assert lock is not None
    lock.listen(lambda: None)
    assert lock.info_path.exists()
    lock.release()
    lock.release()
    assert not lock.info_path.exists()


def test_the_instance_file_is_private_to_the_user(tmp_path: Path) -> None:
    with InstanceLock.acquire(tmp_path / "director.lock") as lock:  # type: ignore[union-attr]
        lock.listen(lambda: None)
        mode = stat.S_IMODE(lock.info_path.stat().st_mode)
        info = json.loads(lock.info_path.read_text())
    assert mode == 0o600
    assert set(info) == {"pid", "port", "secret"}
    assert len(info["secret"]) >= 32


def test_a_second_launch_asks_the_first_to_raise(tmp_path: Path) -> None:
    lock_path = tmp_path / "director.lock"
    raised = threading.Event()
    with InstanceLock.acquire(lock_path) as lock:  # type: ignore[union-attr]
        lock.listen(raised.set)
        assert ask_running_instance(lock_path, timeout=5) is True
        assert raised.is_set()


def test_a_wrong_secret_raises_nothing(tmp_path: Path) -> None:
    import socket

    lock_path = tmp_path / "director.lock"
    raised = threading.Event()
    with InstanceLock.acquire(lock_path) as lock:  # type: ignore[union-attr]
        lock.listen(raised.set)
        port = json.loads(lock.info_path.read_text())["port"]
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            conn.sendall(b"RAISE not-the-secret\n")
            assert conn.recv(16) == b"NO\n"
    assert not raised.is_set()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_lock_left_by_a_killed_process_is_recovered(tmp_path: Path) -> None:
    lock_path = tmp_path / "director.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        assert InstanceLock.acquire(lock_path) is None
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    # The lock file and a stale instance file are still there; neither blocks the next launch.
    assert lock_path.exists()
    assert lock_path.with_name("director.instance").exists()
    result = ask_running_instance(lock_path, timeout=5)
    assert isinstance(result, InstanceLock)
    result.release()
