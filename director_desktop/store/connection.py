"""The one sqlite3 connection: how it is opened, how a transaction runs, how failures are named.

Owns the translation of sqlite3 and OS failures into the store's stable error codes
(`errors.StoreReadOnly`, `StoreDiskFull`, `StoreLocked`, `StoreCorrupt`). Imports only `errors`.
"""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from director_desktop.errors import (
    DirectorError,
    StoreCorrupt,
    StoreDiskFull,
    StoreError,
    StoreLocked,
    StoreReadOnly,
)

# sqlite3 result codes (the primary code is the low byte of the extended one).
SQLITE_BUSY = 5
SQLITE_LOCKED = 6
SQLITE_READONLY = 8
SQLITE_IOERR = 10
SQLITE_CORRUPT = 11
SQLITE_FULL = 13
SQLITE_CANTOPEN = 14
SQLITE_NOTADB = 26


WAL_AUTOCHECKPOINT_PAGES = 8192  # ~32 MiB
WAL_SIZE_LIMIT = 16 * 1024 * 1024  # what a reset WAL file is truncated back to


def connect(path: Path, *, busy_timeout: float) -> sqlite3.Connection:
    """Open `path` in autocommit mode (transactions are explicit) with the pragmas of DESIGN.md."""
    return configure(open_plain(path, busy_timeout=busy_timeout))


def open_plain(path: Path, *, busy_timeout: float) -> sqlite3.Connection:
    """A connection that has not written anything yet (not even the switch to WAL)."""
    conn = sqlite3.connect(
        str(path), timeout=busy_timeout, isolation_level=None, check_same_thread=True
    )
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
    return conn


def configure(conn: sqlite3.Connection) -> sqlite3.Connection:
    try:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreLocked(f"could not switch the database to WAL mode (it stays {mode})")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        # A checkpoint syncs the file to disk; left to SQLite it happens every 1,000 pages, inside
        # whichever append crosses the mark (a stall of the chat path). The worker checkpoints when
        # idle instead; this larger mark is only the safety net of a long burst.
        conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}")
        conn.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")
    except BaseException:
        conn.close()
        raise
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE … COMMIT, rolled back on any failure, so nothing is ever half-applied.

    IMMEDIATE takes the write lock up front: a writer in another process makes us wait
    (busy_timeout) at BEGIN instead of failing mid-transaction after reads.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        # SQLite may already have rolled back by itself (e.g. after SQLITE_FULL).
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def translate(error: BaseException) -> BaseException:
    """The project error for a sqlite3 or OS failure; anything else is returned unchanged."""
    if isinstance(error, DirectorError):
        return error
    if isinstance(error, sqlite3.Error):
        return _from_sqlite(error)
    if isinstance(error, OSError):
        return _from_os(error)
    return error


def _from_sqlite(error: sqlite3.Error) -> StoreError:
    code = getattr(error, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(error)
    if primary == SQLITE_FULL or "disk is full" in text:
        return StoreDiskFull("the disk holding the chat database is full; nothing was saved")
    if primary == SQLITE_READONLY or "readonly" in text:
        return StoreReadOnly("the chat database is on a read-only location; nothing was saved")
    if primary in (SQLITE_BUSY, SQLITE_LOCKED) or "locked" in text:
        return StoreLocked("the chat database is locked by another program; nothing was saved")
    if primary in (SQLITE_CORRUPT, SQLITE_NOTADB) or "malformed" in text:
        return StoreCorrupt("the chat database file is damaged")
    if primary == SQLITE_CANTOPEN:
        return StoreReadOnly("the chat database file cannot be opened or created there")
    return StoreError(f"the chat database failed: {text}")


def _from_os(error: OSError) -> StoreError:
    if error.errno == errno.ENOSPC:
        return StoreDiskFull("the disk holding the chat database is full")
    if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return StoreReadOnly(f"the data folder is not writable ({error.strerror})")
    if error.errno in (errno.ENOTDIR, errno.EEXIST):
        return StoreReadOnly("the data folder cannot be created: part of its path is a file")
    return StoreError(f"the chat database could not be reached ({error.strerror})")
