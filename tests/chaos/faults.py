"""The machinery of the environmental faults: a database lock held by another process, a disk
that fills, a damaged database file, and FFmpeg processes found and killed under a job.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.integration.support import WAIT

HOLD_LOCK = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()  # until the test closes our stdin
conn.execute("ROLLBACK")
"""


@contextmanager
def locked_by_another_process(db_path: Path) -> Iterator[None]:
    """Another process holds an EXCLUSIVE transaction on the database until the block ends."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(db_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "locked\n"
        yield
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=WAIT)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()


def fill_disk(where: Path) -> Path:
    """Write a file until the file system under `where` has no byte left (what the user's other
    programs did); answers the filler, to remove when the disk should have room again."""
    filler = where / "filler.bin"
    fd = os.open(filler, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600)
    try:
        for size in (1 << 20, 4096, 1):  # big writes, then the last page, then the last bytes
            block = b"\0" * size
            try:
                while True:
                    os.write(fd, block)
            except OSError:
                continue
    finally:
        os.close(fd)
    return filler


def damage(db_path: Path) -> None:
    """Overwrite the middle of the database file with garbage (a bad sector, a torn copy)."""
    size = db_path.stat().st_size
    with db_path.open("r+b") as handle:
        handle.seek(max(0, size // 2 - 2048))
        handle.write(os.urandom(4096))
    with db_path.open("r+b") as handle:  # and the header, so even the first page is wrong
        handle.write(b"this is not a database file")


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if int(stat[1]) == pid and "ffmpeg" in comm:
            found.append(int(entry.name))
    return found


def kill_ffmpeg_under(pid: int) -> int:
    """SIGKILL every FFmpeg the app runs now; answers how many."""
    killed = 0
    for child in children_of(pid):
        try:
            os.kill(child, signal.SIGKILL)
            killed += 1
        except ProcessLookupError:
            continue
    return killed
