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


# v5: the media index (issue 13), kept apart from the chats' search. Per asset: its scenes (shot
# cuts, a thumbnail each), its lines (speech, subtitles, scene text, its name) with their times
# and an FTS5 index of their text ranked by bm25(), the embedding vectors of lines for semantic
# search, and the state of its index. Everything hangs off the asset with ON DELETE CASCADE, and
# the lines' FTS rows follow their lines by trigger (a cascaded delete fires them too), so
# deleting an asset deletes its index. The lines' FTS is written in the transaction that stores
# them: an index job writes once, at its end, unlike the chat path's many small appends (v3).
# `collection_id` is the asset's, copied so that a collection's search needs no join to filter.
_V5 = """
CREATE TABLE index_state (
    asset_id   TEXT PRIMARY KEY REFERENCES assets (id) ON DELETE CASCADE,
    status     TEXT NOT NULL CHECK (status IN ('not_indexed', 'indexing', 'indexed', 'error')),
    job_id     TEXT,               -- the job that wrote the stored index
    running    TEXT,               -- the job indexing it now (status 'indexing')
    indexed_at INTEGER,            -- when the stored index was written; NULL: none is
    summary    TEXT NOT NULL DEFAULT '{}',  -- what was indexed: counts per source, notes
    error      TEXT                -- {code, message} of the last run, when it failed
);

CREATE TABLE index_scenes (
    asset_id  TEXT NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    idx       INTEGER NOT NULL,
    start     REAL NOT NULL,
    end       REAL NOT NULL,
    thumbnail TEXT,                -- relative to <data>/media
    PRIMARY KEY (asset_id, idx)
) WITHOUT ROWID;

CREATE TABLE index_lines (
    id            INTEGER PRIMARY KEY,
    asset_id      TEXT NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    collection_id TEXT NOT NULL,
    source        TEXT NOT NULL CHECK (source IN ('transcript', 'subtitle', 'scene', 'name')),
    track         TEXT NOT NULL DEFAULT '',  -- which subtitle track ("0:eng", "movie.fr.srt")
    start         REAL NOT NULL,
    end           REAL NOT NULL,
    text          TEXT NOT NULL,
    words         TEXT             -- [[start, end, text], ...] as JSON, when known
);
CREATE INDEX index_lines_of_asset ON index_lines (asset_id, source, start);
CREATE INDEX index_lines_of_collection ON index_lines (collection_id);

CREATE VIRTUAL TABLE index_lines_fts USING fts5 (
    text, content = 'index_lines', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER index_lines_new AFTER INSERT ON index_lines BEGIN
    INSERT INTO index_lines_fts (rowid, text) VALUES (NEW.id, NEW.text);
END;
CREATE TRIGGER index_lines_changed AFTER UPDATE OF text ON index_lines BEGIN
    INSERT INTO index_lines_fts (index_lines_fts, rowid, text) VALUES ('delete', OLD.id, OLD.text);
    INSERT INTO index_lines_fts (rowid, text) VALUES (NEW.id, NEW.text);
END;
CREATE TRIGGER index_lines_gone AFTER DELETE ON index_lines BEGIN
    INSERT INTO index_lines_fts (index_lines_fts, rowid, text) VALUES ('delete', OLD.id, OLD.text);
END;

-- One vector per line, keyed by the line's id (a semantic search reads them all in id order,
-- in batches: a rowid table keeps the 1.5 KiB blobs out of the key's B-tree).
CREATE TABLE index_vectors (
    line_id INTEGER PRIMARY KEY REFERENCES index_lines (id) ON DELETE CASCADE,
    model   TEXT NOT NULL,         -- the embedding model's name: vectors of two never mix
    vector  BLOB NOT NULL          -- float32, little-endian, unit length
);
"""

# v6: pinned chats (issue 15). `pinned_at` is when the user pinned the session (epoch seconds);
# NULL: not pinned. Every listing, paged or whole, puts pinned sessions first and orders each
# group by last activity; this index is that order, so a page is a walk along it from a cursor,
# never a sort of every session. It replaces `sessions_by_update`, which no query uses any more
# (one index less to move on every message, since every message moves `updated_at`).
_V6 = """
ALTER TABLE sessions ADD COLUMN pinned_at INTEGER;
DROP INDEX sessions_by_update;
CREATE INDEX sessions_listing ON sessions (
    pinned_at IS NULL, updated_at DESC, touched DESC, id DESC
);
"""


# v7: versions of a message and the branches they make (issue 15, PROTOCOL section 8). The
# `messages` row stays the version shown; the others are kept in `message_versions` (an output's
# row says which version of its input it answers). `turns` records, per conv_id, the turn it
# followed and the version of that turn's reply it followed, and when it was deleted (undo
# window) or purged. A changed version queues its message for the chat search, whose body then
# holds the text of every version. Turns stored before v7 get their row when first needed.
_V7 = """
CREATE TABLE message_versions (
    session_id    TEXT NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
    msg_id        TEXT NOT NULL,
    version       INTEGER NOT NULL,
    input_version INTEGER,
    status        TEXT NOT NULL,
    actions       TEXT NOT NULL,
    agents        TEXT NOT NULL,
    content       TEXT NOT NULL,
    metadata      TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (session_id, msg_id, version)
) WITHOUT ROWID;
CREATE TABLE turns (
    session_id     TEXT NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
    conv_id        TEXT NOT NULL,
    parent_conv_id TEXT,
    parent_version INTEGER,
    deleted_at     INTEGER,
    purged         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (session_id, conv_id)
) WITHOUT ROWID;
CREATE INDEX turns_deleted ON turns (deleted_at) WHERE deleted_at IS NOT NULL;
CREATE TRIGGER message_versions_new AFTER INSERT ON message_versions BEGIN
    INSERT OR IGNORE INTO fts_pending (id) SELECT id FROM messages
    WHERE session_id = NEW.session_id AND msg_id = NEW.msg_id;
END;
CREATE TRIGGER message_versions_gone AFTER DELETE ON message_versions BEGIN
    INSERT OR IGNORE INTO fts_pending (id) SELECT id FROM messages
    WHERE session_id = OLD.session_id AND msg_id = OLD.msg_id;
END;
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
    _script(_V5),
    _script(_V6),
    _script(_V7),
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
