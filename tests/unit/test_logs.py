"""Logs: JSON lines in the log dir, the previous run kept, the token redacted."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

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


def test_a_full_disk_neither_stops_the_log_thread_nor_the_app(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "small", "64k") as logs_dir:
        setup = logs.configure(logs_dir)
        writer = next(t for t in threading.enumerate() if t.name == "director-log")
        log = logging.getLogger("director_desktop.test")
        padding = "x" * 400
        for i in range(400):  # ~200 KiB into 64 KiB: the writes fail with ENOSPC
            log.warning("filling %d %s", i, padding)  # never raises in the caller
        setup.close()  # writes what it can, stops the thread, and does not raise
        assert not writer.is_alive()
        lines = setup.path.read_text().splitlines()
        assert json.loads(lines[0])["message"].startswith("filling 0 ")
