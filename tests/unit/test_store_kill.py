"""SIGKILL at a random moment, 20 times: the file stays intact and no reported write is lost."""

from __future__ import annotations

import asyncio
import os
import random
import selectors
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from store_support import new_store

WRITER = Path(__file__).resolve().parent / "store_writer.py"
KILLS = 20


def read_reports(proc: subprocess.Popen[str], count: int, deadline: float) -> list[str]:
    """Read `count` lines from the writer, failing at the deadline instead of hanging."""
    assert proc.stdout is not None
    lines: list[str] = []
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while len(lines) < count:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"the writer reported {len(lines)} of {count} lines in time"
            if selector.select(timeout=remaining):
                line = proc.stdout.readline()
                assert line, f"the writer exited early with {proc.poll()}"
                lines.append(line)
    return lines


async def check_reported(data_dir: Path, reported: list[tuple[str, str, int]]) -> None:
    store = new_store(data_dir)
    health = store.open()
    assert health.ok, health.message
    for session_id, msg_id, seq in reported:
        stored = await store.get_message(session_id, msg_id)
        assert stored is not None, f"committed write {session_id}/{msg_id} (seq {seq}) is lost"
        assert stored["metadata"]["seq"] >= seq
    store.close()


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_no_committed_write(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    rng = random.Random()
    seed = rng.randrange(1 << 30)
    rng.seed(seed)
    reported: list[tuple[str, str, int]] = []
    env = {**os.environ, "PYTHONPATH": str(WRITER.parent)}
    for kill in range(KILLS):
        proc = subprocess.Popen(
            [sys.executable, str(WRITER), str(data_dir)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            deadline = time.monotonic() + 60
            assert read_reports(proc, 1, deadline) == ["ready\n"]
            # A random number of committed writes, then the kill lands wherever the writer is.
            lines = read_reports(proc, rng.randrange(1, 400), deadline)
            proc.send_signal(signal.SIGKILL)
            assert proc.wait(timeout=30) == -signal.SIGKILL
            assert proc.stdout is not None
            lines += proc.stdout.readlines()  # reports already in the pipe count too
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        for line in lines:
            if not line.endswith("\n"):  # killed halfway through printing it: not a report
                continue
            session_id, msg_id, seq = line.split()
            reported.append((session_id, msg_id, int(seq)))
        conn = sqlite3.connect(data_dir / "director.sqlite3")
        try:
            result = conn.execute("PRAGMA integrity_check").fetchall()
        finally:
            conn.close()
        assert result == [("ok",)], f"kill {kill} (seed {seed}): {result}"
        asyncio.run(check_reported(data_dir, reported))
    assert len(reported) >= KILLS
