"""The database schema as ordered migrations, versioned with `PRAGMA user_version`.

Migration N turns a version N-1 database into version N; a fresh file runs them all. Never edit a
shipped migration: add the next one and a fixture of the version before it under
`tests/fixtures/store/`. Imports nothing from the project.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable


def body_of(column: str) -> str:
    """SQL for the text a message contributes to search: its `text` items, newline-joined."""
    concat = "group_concat(json_extract(item.value, '$.text'), char(10))"
    only_text = "json_extract(item.value, '$.type') = 'text'"
    return f"(SELECT {concat} FROM json_each({column}) AS item WHERE {only_text})"  # noqa: S608


_BODY = body_of("NEW.content")

_V1 = f"""
CREATE TABLE sessions (
    id            INTEGER PRIMARY KEY,  -- explicit, so VACUUM keeps the FTS rowids valid
    session_id    TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    video_id      TEXT,
    collection_id TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    touched       INTEGER NOT NULL,     -- store-wide counter: breaks ties of updated_at (seconds)
    last_seq      INTEGER NOT NULL DEFAULT 0,
    metadata      TEXT NOT NULL DEFAULT '{{}}'
);
CREATE INDEX sessions_by_update ON sessions (updated_at DESC, touched DESC);

CREATE TABLE messages (
    id         INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
    msg_id     TEXT NOT NULL,
    conv_id    TEXT NOT NULL,
    msg_type   TEXT NOT NULL,
    status     TEXT NOT NULL,
    actions    TEXT NOT NULL,
    agents     TEXT NOT NULL,
    content    TEXT NOT NULL,
    metadata   TEXT NOT NULL,
    seq        INTEGER NOT NULL,        -- the seq of the latest stored change
    first_seq  INTEGER NOT NULL,        -- the seq of the first store: conversation order
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (session_id, msg_id)
);
CREATE UNIQUE INDEX messages_in_order ON messages (session_id, first_seq);
CREATE UNIQUE INDEX messages_by_seq ON messages (session_id, seq);

CREATE TABLE contexts (
    session_id TEXT PRIMARY KEY REFERENCES sessions (session_id) ON DELETE CASCADE,
    context    TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE prefs (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE VIRTUAL TABLE message_fts USING fts5 (body, tokenize = 'unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE session_fts USING fts5 (name, tokenize = 'unicode61 remove_diacritics 2');

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO message_fts (rowid, body) VALUES (NEW.id, coalesce({_BODY}, ''));
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages
WHEN NEW.content IS NOT OLD.content BEGIN
    UPDATE message_fts SET body = coalesce({_BODY}, '') WHERE rowid = NEW.id;
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    DELETE FROM message_fts WHERE rowid = OLD.id;
END;
CREATE TRIGGER sessions_fts_insert AFTER INSERT ON sessions BEGIN
    INSERT INTO session_fts (rowid, name) VALUES (NEW.id, NEW.name);
END;
CREATE TRIGGER sessions_fts_update AFTER UPDATE OF name ON sessions BEGIN
    UPDATE session_fts SET name = NEW.name WHERE rowid = NEW.id;
END;
CREATE TRIGGER sessions_fts_delete AFTER DELETE ON sessions BEGIN
    DELETE FROM session_fts WHERE rowid = OLD.id;
END;
"""  # noqa: S608 (a constant DDL script)

# v2: the crash sweep at every open looks only at messages still in progress; without this
# partial index it scanned every message of every session.
_V2 = """
CREATE INDEX messages_in_progress ON messages (session_id) WHERE status = 'progress';
"""

# v3: indexing a message's text inside its own transaction cost more than the rest of the append
# (FTS5 writes a new segment per commit). New and changed messages are now queued in fts_pending,
# and the worker indexes the queue in one transaction when idle, every 256 writes, before every
# search and at open and close, so a search never misses a stored message.
_V3 = """
DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_update;
DROP TRIGGER messages_fts_delete;
CREATE TABLE fts_pending (id INTEGER PRIMARY KEY);
CREATE TRIGGER messages_text_new AFTER INSERT ON messages BEGIN
    INSERT OR IGNORE INTO fts_pending (id) VALUES (NEW.id);
END;
CREATE TRIGGER messages_text_changed AFTER UPDATE OF content ON messages
WHEN NEW.content IS NOT OLD.content BEGIN
    INSERT OR IGNORE INTO fts_pending (id) VALUES (NEW.id);
END;
CREATE TRIGGER messages_text_gone AFTER DELETE ON messages BEGIN
    DELETE FROM message_fts WHERE rowid = OLD.id;
    DELETE FROM fts_pending WHERE id = OLD.id;
END;
"""

# v4: the media library (issue 12). Collections hold assets (videos, audio, images); the literal
# id `default` is the collection that exists from the first run (Director's UI asks for it by that
# name). An asset is unique by its bytes within a collection, which is how a second import of the
# same file is recognised. Jobs are the long-running work every window shows (PROTOCOL 7), stored
# so that a restart can tell what was cut off. Assets page newest first by (created_at, id);
# jobs are listed by "unfinished, or finished lately".
_V4 = """
CREATE TABLE collections (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);
INSERT INTO collections (id, name, description, created_at)
VALUES ('default', 'Default Collection', '', CAST(strftime('%s', 'now') AS INTEGER));

CREATE TABLE assets (
    id            TEXT PRIMARY KEY,
    collection_id TEXT NOT NULL REFERENCES collections (id),
    kind          TEXT NOT NULL CHECK (kind IN ('video', 'audio', 'image')),
    name          TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    sha256        TEXT NOT NULL,
    size          INTEGER NOT NULL,
    owned         INTEGER NOT NULL,  -- 1: the library's copy under <data>/media/<id>/; 0: in place
    path          TEXT NOT NULL,     -- owned: relative to <data>/media; in place: absolute
    mime          TEXT NOT NULL,
    length        REAL NOT NULL DEFAULT 0,
    probe         TEXT NOT NULL DEFAULT '{}',
    thumbnail     TEXT,              -- relative to <data>/media, NULL until made
    playable      TEXT,              -- relative to <data>/media, NULL until made (or not needed)
    created_at    INTEGER NOT NULL,
    UNIQUE (collection_id, sha256)
);
CREATE INDEX assets_newest ON assets (collection_id, created_at DESC, id DESC);

CREATE TABLE jobs (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    title       TEXT NOT NULL,
    status      TEXT NOT NULL,
    progress    REAL,
    detail      TEXT NOT NULL DEFAULT '',
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    error       TEXT,                -- {code, message} as JSON
    result      TEXT,                -- a JSON object
    resumable   INTEGER NOT NULL DEFAULT 0,
    params      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX jobs_by_finish ON jobs (finished_at);
"""


def _script(sql: str) -> Callable[[sqlite3.Connection], None]:
    def run(conn: sqlite3.Connection) -> None:
        # executescript would COMMIT the caller's transaction; run statement by statement.
        for statement in _statements(sql):
            conn.execute(statement)

    return run


def _statements(sql: str) -> list[str]:
    statements: list[str] = []
    current = ""
    for line in sql.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        raise ValueError(f"incomplete SQL statement: {current!r}")
    return statements


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    _script(_V1),
    _script(_V2),
    _script(_V3),
    _script(_V4),
]
"""MIGRATIONS[i] upgrades version i to version i + 1."""

CURRENT_VERSION = len(MIGRATIONS)


def version_of(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


Migration = Callable[[sqlite3.Connection], None]


def migrate(
    conn: sqlite3.Connection,
    *,
    target: int = CURRENT_VERSION,
    migrations: list[Migration] = MIGRATIONS,
) -> list[int]:
    """Upgrade to `target`, each step in its own transaction; returns the versions reached."""
    reached: list[int] = []
    version = version_of(conn)
    if version > len(migrations):
        raise NewerSchema(version)
    while version < target:
        conn.execute("BEGIN IMMEDIATE")
        try:
            migrations[version](conn)
            # user_version lives in the file header, so it commits or rolls back with the step.
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        version += 1
        reached.append(version)
    return reached


class NewerSchema(Exception):
    """The file was written by a newer Director Desktop; opening it could lose data."""

    def __init__(self, version: int) -> None:
        super().__init__(f"schema version {version} is newer than {CURRENT_VERSION}")
        self.version = version
