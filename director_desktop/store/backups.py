"""Backups of the chat database: taken with SQLite's backup API, named by time, pruned to N.

A backup is written to a temporary name and renamed when complete, so a half-written copy never
looks like a good one. Imports nothing from the project.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

PREFIX = "director-"
SUFFIX = ".sqlite3"
DAILY = "daily"


def _stamp(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%S%fZ")


def backups(backups_dir: Path) -> list[Path]:
    """Complete backups, newest first (names start with a sortable UTC time)."""
    if not backups_dir.is_dir():
        return []
    found = [
        p for p in backups_dir.iterdir() if p.name.startswith(PREFIX) and p.name.endswith(SUFFIX)
    ]
    return sorted(found, key=lambda p: p.name, reverse=True)


def take(conn: sqlite3.Connection, backups_dir: Path, reason: str) -> Path:
    """Copy the open database into `backups_dir`; the copy is a standalone rollback-journal file."""
    backups_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = datetime.now(UTC)
    target = backups_dir / f"{PREFIX}{_stamp(now)}-{reason}{SUFFIX}"
    partial = target.with_name(target.name + ".partial")
    os.close(os.open(partial, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600))
    try:
        dest = sqlite3.connect(str(partial), isolation_level=None)
        try:
            conn.backup(dest)
            # The copy inherits WAL mode; a single self-contained file is what a backup should be.
            dest.execute("PRAGMA journal_mode = DELETE")
        finally:
            dest.close()
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target


def has_daily(backups_dir: Path, today: datetime | None = None) -> bool:
    day = (today or datetime.now(UTC)).strftime("%Y%m%d")
    return any(
        p.name.startswith(f"{PREFIX}{day}") and f"-{DAILY}" in p.name for p in backups(backups_dir)
    )


def prune(backups_dir: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` backups; returns what was deleted."""
    removed = backups(backups_dir)[max(keep, 1) :]
    for old in removed:
        old.unlink(missing_ok=True)
    return removed


def is_good(path: Path) -> bool:
    """A backup SQLite can read whose quick_check is clean."""
    try:
        conn = sqlite3.connect(path.as_uri() + "?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        rows = conn.execute("PRAGMA quick_check").fetchall()
        return rows == [("ok",)]
    except sqlite3.Error:
        return False
    finally:
        conn.close()


def restore(backup: Path, target: Path) -> None:
    """Copy `backup` into a fresh file at `target` with the backup API (target must not exist)."""
    os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    source = sqlite3.connect(backup.as_uri() + "?mode=ro", uri=True)
    dest = sqlite3.connect(str(target), isolation_level=None)
    try:
        source.backup(dest)
    finally:
        dest.close()
        source.close()
