"""Logs: JSON lines in the log dir, the previous run kept, the token redacted."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

import pytest
from mounts import tmpfs

from director_desktop import logs


def test_json_lines_and_previous_run_kept(tmp_path: Path) -> None:
    first = logs.configure(tmp_path, secrets=["sekret-token"])
    logging.getLogger("director_desktop.test").info("first run", extra={"session_id": "s1"})
    first.close()
    second = logs.configure(tmp_path, secrets=["sekret-token"])
    logging.getLogger("director_desktop.test").warning("second run token=%s", "sekret-token")
    second.close()

    current = [json.loads(line) for line in (tmp_path / logs.LOG_NAME).read_text().splitlines()]
    previous = [
        json.loads(line) for line in (tmp_path / f"{logs.LOG_NAME}.1").read_text().splitlines()
    ]
    assert [e["message"] for e in previous] == ["first run"]
    assert previous[0]["session_id"] == "s1"
    assert previous[0]["level"] == "INFO"
    assert current[0]["message"] == "second run token=[redacted]"
    assert "sekret-token" not in (tmp_path / logs.LOG_NAME).read_text()


def test_close_removes_the_handler(tmp_path: Path) -> None:
    before = list(logging.getLogger().handlers)
    setup = logs.configure(tmp_path / "new" / "dir")
    assert setup.handler in logging.getLogger().handlers
    setup.close()
    assert logging.getLogger().handlers == before
    setup.close()  # idempotent


def test_written_off_the_caller_thread_and_stopped_by_close(tmp_path: Path) -> None:
    setup = logs.configure(tmp_path)
    assert "director-log" in [t.name for t in threading.enumerate()]
    assert setup.handler is not setup.file_handler  # the caller only queues
    log = logging.getLogger("director_desktop.test")
    args = ["before"]
    log.info("n=%d %s", 1, args)
    args[0] = "after"  # the message is rendered when logged, not when written
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed", extra={"session_id": "s1"})
    for i in range(200):
        log.info("many %d", i)
    setup.close()
    assert "director-log" not in [t.name for t in threading.enumerate()]

    entries = [json.loads(line) for line in setup.path.read_text().splitlines()]
    assert entries[0]["message"] == "n=1 ['before']"
    assert entries[1]["message"] == "failed"
    assert entries[1]["session_id"] == "s1"
    assert "ValueError: boom" in entries[1]["exception"]
    assert [e["message"] for e in entries[2:]] == [f"many {i}" for i in range(200)]


def test_a_full_file_rolls_over_and_keeps_every_line(tmp_path: Path) -> None:
    setup = logs.configure(tmp_path, max_bytes=2000)
    log = logging.getLogger("director_desktop.test")
    for i in range(100):
        log.info("line %03d", i)
    setup.close()

    files = [tmp_path / logs.LOG_NAME, *(tmp_path / f"{logs.LOG_NAME}.{n}" for n in (1, 2, 3))]
    assert all(f.exists() for f in files)  # rolled over by size, up to the kept BACKUPS
    assert all(f.stat().st_size <= 2000 for f in files)
    kept = [
        json.loads(line)["message"] for f in reversed(files) for line in f.read_text().splitlines()
    ]
    # The newest lines, in order and whole; the oldest went with the backups beyond BACKUPS.
    assert kept == [f"line {i:03d}" for i in range(100 - len(kept), 100)]
    assert len(kept) > 30


@pytest.mark.parametrize(
    "max_bytes", [logs.MAX_BYTES, 62_000], ids=["one file", "rolling over when full"]
)
def test_a_full_disk_neither_stops_the_log_thread_nor_the_app(
    tmp_path: Path, max_bytes: int
) -> None:
    with tmpfs(tmp_path / "small", "64k") as logs_dir:
        setup = logs.configure(logs_dir, max_bytes=max_bytes)
        writer = next(t for t in threading.enumerate() if t.name == "director-log")
        log = logging.getLogger("director_desktop.test")
        padding = "x" * 400
        for batch in range(20):  # ~200 KiB into 64 KiB: the writes fail with ENOSPC
            for i in range(20):
                log.warning("filling %d %s", batch * 20 + i, padding)  # never raises here
            # Let the writer drain the queue and flush between bursts, as it does in the app.
            deadline = time.monotonic() + 10
            while not setup.handler.queue.empty() and time.monotonic() < deadline:  # type: ignore[attr-defined]
                threading.Event().wait(0.001)
            assert writer.is_alive()
        setup.close()  # writes what it can, stops the thread, and does not raise
        assert not writer.is_alive()
        written = [
            json.loads(line)["message"]
            for path in sorted(logs_dir.glob(f"{logs.LOG_NAME}*"))
            for line in path.read_text().splitlines()
            if line.endswith("}")  # a line the full disk cut short is not a record
        ]
        assert written
        assert all(message.startswith("filling ") for message in written)


def test_a_rollover_on_a_full_disk_leaves_a_file_to_write_to(tmp_path: Path) -> None:
    """Deterministic: the handler is driven directly, flushing after every record as the
    writer thread does when its queue runs dry. A flush may fail for want of space (OSError),
    never for a stream a failed rollover left closed (ValueError, which ended the thread)."""
    with tmpfs(tmp_path / "small", "64k") as logs_dir:
        setup = logs.configure(logs_dir, max_bytes=62_000)
        handler = setup.file_handler
        full = 0
        for i in range(400):
            record = logging.makeLogRecord({"msg": f"filling {i} " + "x" * 400, "levelno": 30})
            handler.handle(record)
            try:
                handler.flush()
            except OSError:
                full += 1
        assert full > 0  # the disk did fill up
        rolled = sorted(p.name for p in logs_dir.glob(f"{logs.LOG_NAME}.*"))
        assert rolled  # and the file rolled over on it
        setup.close()
