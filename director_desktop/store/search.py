"""Full-text search over session names and message text (FTS5), with snippets.

User text never reaches FTS5 as syntax: every word becomes a quoted phrase, so `AND`, `"`, `*`, `(`
or `NEAR` are searched for, not parsed. Matches are plain text with hits wrapped in `**`
(markdown bold: the UI renders it through its sanitized markdown path).
Imports `protocol` and the store's own `schema`.
"""

from __future__ import annotations

import sqlite3

from director_desktop.protocol import SearchHit
from director_desktop.store.schema import body_of

MARK = "**"
_SNIPPET_WORDS = 12


MIN_PREFIX = 3


def fts_query(text: str) -> str | None:
    """Each word as a quoted phrase (all must match); the last one, while being typed, also as a
    prefix once it has 3 characters (a 1-2 letter prefix matches most of the index)."""
    words = [word for word in text.split() if any(ch.isalnum() for ch in word)]
    if not words:
        return None
    phrases = ['"' + word.replace('"', '""') + '"' for word in words]
    if len(words[-1]) >= MIN_PREFIX:
        phrases[-1] += "*"
    return " ".join(phrases)


# A message's searchable body is the text of every version of it (PROTOCOL 8): the one shown,
# then those kept in `message_versions`.
_KEPT_TEXT = (
    f"(SELECT group_concat({body_of('v.content')}, char(10))"  # noqa: S608 (constant SQL)
    " FROM message_versions AS v WHERE v.session_id = m.session_id AND v.msg_id = m.msg_id)"
)
_PENDING_TEXT = (
    f"SELECT m.id, coalesce({body_of('m.content')}, '')"  # noqa: S608 (constant SQL)
    f" || coalesce(char(10) || {_KEPT_TEXT}, '')"
    " FROM fts_pending AS p JOIN messages AS m ON m.id = p.id"
)
_INDEX_PENDING = "INSERT OR REPLACE INTO message_fts (rowid, body) " + _PENDING_TEXT


def index_pending(conn: sqlite3.Connection) -> bool:
    """Index the text of messages stored since the last call, in the caller's transaction."""
    if conn.execute("SELECT 1 FROM fts_pending LIMIT 1").fetchone() is None:
        return False
    conn.execute(_INDEX_PENDING)
    conn.execute("DELETE FROM fts_pending")
    return True


def search(conn: sqlite3.Connection, text: str, limit: int) -> list[SearchHit]:
    """Matching session names (best match first), then matching messages (newest first)."""
    query = fts_query(text)
    if query is None or limit < 1:
        return []
    hits: list[SearchHit] = [
        {"session_id": row[0], "name": row[1], "msg_id": None, "snippet": row[2]}
        for row in conn.execute(
            "SELECT s.session_id, s.name, snippet(session_fts, 0, ?, ?, '…', ?)"
            " FROM session_fts JOIN sessions AS s ON s.id = session_fts.rowid"
            " WHERE session_fts MATCH ? ORDER BY rank LIMIT ?",
            (MARK, MARK, _SNIPPET_WORDS, query, limit),
        )
    ]
    # Newest first, not by rank: FTS5 then walks the matches in rowid order and stops at the
    # limit, where ranking must score every match (a common word in 100,000 messages: ~300 ms).
    rows = conn.execute(
        "SELECT hit.rowid, m.session_id, s.name, m.msg_id, hit.snippet FROM"
        " (SELECT rowid, snippet(message_fts, 0, ?, ?, '…', ?) AS snippet FROM message_fts"
        "  WHERE message_fts MATCH ? ORDER BY rowid DESC LIMIT ?) AS hit"
        " JOIN messages AS m ON m.id = hit.rowid"
        " JOIN sessions AS s ON s.session_id = m.session_id"
        " WHERE json_extract(m.metadata, '$.deleted') IS NULL",  # a deleted turn is not found
        (MARK, MARK, _SNIPPET_WORDS, query, limit - len(hits)),
    ).fetchall()
    rows.sort(key=lambda row: -int(row[0]))  # the page, not the matches, is sorted here
    hits += [
        {"session_id": row[1], "name": row[2], "msg_id": row[3], "snippet": row[4]} for row in rows
    ]
    return hits
