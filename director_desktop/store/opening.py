"""Opening the database file: create it privately, check it, recover it, back it up, migrate it.

Runs on the store's worker thread. A damaged file is moved aside (never deleted) and the newest good
backup restored, or a fresh store started; the problem is returned for the health report.
Imports `errors` and the store's own `backups`, `connection` and `schema`.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from director_desktop.errors import StoreCorrupt, StoreError
from director_desktop.store import backups, schema
from director_desktop.store.connection import configure, open_plain, translate

log = logging.getLogger(__name__)


@dataclass
class Opened:
    conn: sqlite3.Connection
    damage: str | None = None  # the file was damaged and replaced: not a clean open
    recovered_from: Path | None = None
    notes: list[str] = field(default_factory=list)  # worth telling, but the open was clean

    @property
    def message(self) -> str | None:
        said = [text for text in (self.damage, *self.notes) if text]
        return " ".join(said) or None


def open_database(
    path: Path, *, backups_dir: Path, keep_backups: int, busy_timeout: float
) -> Opened:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    elif path.stat().st_mode & 0o077:
        path.chmod(0o600)  # a copied-in file: the chats are the user's alone (WAL/SHM follow it)
    try:
        opened = Opened(_connect_checked(path, busy_timeout))
    except StoreCorrupt as damage:
        opened = _recover(path, backups_dir, busy_timeout, damage)
    try:
        _migrate(opened.conn, backups_dir)
    except BaseException:
        opened.conn.close()
        raise
    _daily_backup(opened, backups_dir, keep_backups)
    return opened


def _daily_backup(opened: Opened, backups_dir: Path, keep_backups: int) -> None:
    """Once a day; a failure (say, a full disk) is reported but does not stop the chats opening."""
    try:
        if not backups.has_daily(backups_dir):
            backups.take(opened.conn, backups_dir, backups.DAILY)
        backups.prune(backups_dir, keep_backups)
    except (OSError, sqlite3.Error) as error:
        failure = translate(error)
        log.warning("daily backup failed: %s", failure)
        note = f"The daily backup failed: {getattr(failure, 'message', failure)}"
        opened.notes.append(note)


def _connect_checked(path: Path, busy_timeout: float) -> sqlite3.Connection:
    """Connect and run quick_check; StoreCorrupt when SQLite cannot read the file cleanly."""
    try:
        conn = open_plain(path, busy_timeout=busy_timeout)
    except sqlite3.Error as error:
        raise translate(error) from error
    try:
        _refuse_newer(schema.version_of(conn))
        configure(conn)
        rows = conn.execute("PRAGMA quick_check").fetchall()
    except BaseException as error:
        conn.close()
        raise translate(error) from error
    if rows != [("ok",)]:
        conn.close()
        raise StoreCorrupt("quick_check: " + "; ".join(str(r[0]) for r in rows[:3]))
    return conn


def _recover(path: Path, backups_dir: Path, busy_timeout: float, damage: StoreError) -> Opened:
    aside = _move_aside(path)
    log.error("chat database damaged (%s); moved to %s", damage.message, aside)
    for candidate in backups.backups(backups_dir):
        if backups.is_good(candidate):
            backups.restore(candidate, path)
            return Opened(
                _connect_checked(path, busy_timeout),
                damage=(
                    f"The chat database was damaged and was moved to {aside.name}; "
                    f"the backup {candidate.name} was restored."
                ),
                recovered_from=candidate,
            )
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    return Opened(
        _connect_checked(path, busy_timeout),
        damage=(
            f"The chat database was damaged and was moved to {aside.name}; "
            "no good backup was found, so a new empty one was started."
        ),
    )


def _move_aside(path: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    os.replace(path, aside)
    for extra in ("-wal", "-shm"):
        companion = path.with_name(path.name + extra)
        if companion.exists():
            os.replace(companion, aside.with_name(aside.name + extra))
    return aside


def _refuse_newer(version: int) -> None:
    """Checked before anything is written, so a newer app's file is left exactly as it was."""
    if version > schema.CURRENT_VERSION:
        raise StoreError(
            f"the chat database was written by a newer Director Desktop (schema {version}, "
            f"this one knows {schema.CURRENT_VERSION}); it was left untouched",
            code="store_too_new",
        )


def _migrate(conn: sqlite3.Connection, backups_dir: Path) -> None:
    version = schema.version_of(conn)
    if version == schema.CURRENT_VERSION:
        return
    if version > 0:
        backup = backups.take(
            conn, backups_dir, f"before-v{schema.CURRENT_VERSION}-from-v{version}"
        )
        log.info("backed up the chat database to %s before migrating", backup)
    reached = schema.migrate(conn)
    log.info("chat database migrated from version %d to %s", version, reached[-1])
