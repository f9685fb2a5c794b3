"""Logs: structured (JSON lines), rotating log files in the per-user log dir.

Each launch starts a fresh `director-desktop.log` and keeps the previous run's as `.log.1` (and
older ones up to `BACKUPS`), so a user reporting a crash can send the run that crashed. Message
text and tokens are never logged at INFO: code logs ids and sizes only, and a filter redacts the
launch token wherever it might appear anyway. Records are handed to a queue on the logging
thread and formatted and written by a writer thread (`director-log`), so the event loop never
waits on the disk; the writer flushes once the queue is drained (a burst costs one flush, not one
per record), and `LogSetup.close()` writes what is queued and stops that thread. Imports nothing
from the project.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import logging.handlers
import queue
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

LOG_NAME = "director-desktop.log"
MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 3
_STANDARD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's terminal colouring of the same message
}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and any `extra=` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value if isinstance(value, int | float | bool | None) else str(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class RedactFilter(logging.Filter):
    """Replace secrets (the launch token) in a record's rendered message and arguments."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        text = record.getMessage()
        if any(secret in text for secret in self._secrets):
            for secret in self._secrets:
                text = text.replace(secret, "[redacted]")
            record.msg, record.args = text, None
        return True


class _Enqueue(logging.handlers.QueueHandler):
    """Queue a record with its message rendered now (its arguments may change later), but not
    formatted: the stock `prepare` formats it on the caller's thread, and would fold the
    traceback into the message where `JsonFormatter` keeps it apart."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        copied = copy.copy(record)
        copied.msg, copied.args = record.getMessage(), None
        return copied


class _RollingFile(logging.handlers.RotatingFileHandler):
    """The stock rotating file, formatting each record once: the stock `shouldRollover` formats
    it a second time to measure it, and asks the file system (two `stat`s and a seek) on every
    record. Here the file's size is kept as records are written, and the stream is flushed by
    the writer thread when its queue is drained, not after every record."""

    def __init__(self, path: Path, *, max_bytes: int, backups: int) -> None:
        super().__init__(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
        self._size = path.stat().st_size

    def doRollover(self) -> None:
        # On a full disk closing the file fails while flushing it, yet leaves it closed: the
        # stock rollover would keep that closed stream, and every later write would fail.
        stream, self.stream = self.stream, None
        if stream is not None:
            with contextlib.suppress(OSError, ValueError):
                stream.close()
        super().doRollover()  # renames the files and opens a fresh one
        self._size = 0

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
            size = len(line.encode("utf-8"))
            if self.maxBytes > 0 and self._size > 0 and self._size + size > self.maxBytes:
                self.doRollover()
            if self.stream is None:  # closed by a rollover that could not reopen: try again
                self.stream = self._open()
            self.stream.write(line)
            self._size += size
        except Exception:
            self.handleError(record)


class _Writer:
    """The `director-log` thread: writes queued records through `handler`, flushing whenever
    the queue runs dry. `stop()` writes what was queued before it, then joins."""

    def __init__(
        self, records: queue.SimpleQueue[logging.LogRecord | None], handler: logging.Handler
    ) -> None:
        self._records = records
        self._handler = handler
        self._thread = threading.Thread(target=self._run, name="director-log", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            record = self._records.get()
            while record is not None:
                if record.levelno >= self._handler.level:
                    self._handler.handle(record)
                try:
                    record = self._records.get_nowait()
                except queue.Empty:
                    break
            # A full disk: the thread lives on, records still come, each reports its own failure
            # (ValueError: a stream a failed rollover left closed).
            with contextlib.suppress(OSError, ValueError):
                self._handler.flush()
            if record is None:
                return

    def stop(self) -> None:
        self._records.put(None)
        self._thread.join()


class LogSetup:
    """What `configure` installed; `close()` writes what is queued, stops the listener thread
    and removes the handler (tests, and a clean shutdown). Idempotent."""

    def __init__(self, file_handler: logging.Handler, path: Path, level: int) -> None:
        self.file_handler = file_handler
        self.path = path
        records: queue.SimpleQueue[logging.LogRecord | None] = queue.SimpleQueue()
        self.handler: logging.Handler = _Enqueue(records)
        self._writer: _Writer | None = _Writer(records, file_handler)
        self._previous_level = logging.getLogger().level
        logging.getLogger().setLevel(level)
        logging.getLogger().addHandler(self.handler)

    def close(self) -> None:
        root = logging.getLogger()
        if self.handler in root.handlers:
            root.removeHandler(self.handler)
            root.setLevel(self._previous_level)
        if self._writer is not None:
            self._writer.stop()  # writes every record queued before it, then joins
            self._writer = None
        self.handler.close()
        with contextlib.suppress(OSError, ValueError):  # a full disk must not fail quitting
            self.file_handler.close()


def configure(
    log_dir: Path,
    *,
    secrets: Iterable[str] = (),
    level: int = logging.INFO,
    max_bytes: int = MAX_BYTES,
) -> LogSetup:
    """Log to `<log_dir>/director-desktop.log`, rolling the previous run's file over first."""
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / LOG_NAME
    handler = _RollingFile(path, max_bytes=max_bytes, backups=BACKUPS)
    if path.stat().st_size > 0:
        handler.doRollover()  # keep the previous run whole, start this one fresh
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactFilter(secrets))
    return LogSetup(handler, path, level)
