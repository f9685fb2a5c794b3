"""Searching the media index (issue 13): full-text search over the lines (FTS5, ranked by BM25),
and the lines' embedding vectors for a semantic search (stored, and read back in batches).

Functions `store.index` runs on the store's worker thread; the record types are `index_rows`'.
User text never reaches FTS5 as syntax: words become quoted phrases (the chats' search rule).
Imports `errors` and the store's own `index_rows` and `search`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any, Final

from director_desktop.errors import InvalidPayload
from director_desktop.store.index_rows import LineHit, LineSource
from director_desktop.store.search import fts_query

MAX_SEARCH: Final = 1000


def any_words(text: str) -> str | None:
    """`text` as an FTS5 query matching any of its words (each a quoted phrase)."""
    words = [word for word in text.split() if any(ch.isalnum() for ch in word)]
    if not words:
        return None
    return " OR ".join('"' + word.replace('"', '""') + '"' for word in words)


def search(
    conn: sqlite3.Connection,
    text: str,
    *,
    collection_id: str | None,
    asset_id: str | None,
    sources: Sequence[LineSource] | None,
    limit: int,
) -> list[LineHit]:
    """The lines best matching `text` (BM25), of one asset, one collection or (neither) the
    library: those with every word first; when none has them all, those with any."""
    if not 1 <= limit <= MAX_SEARCH:
        raise InvalidPayload(f"limit is 1-{MAX_SEARCH}")
    for query in (fts_query(text), any_words(text)):
        if query is None:
            return []
        hits = _search(conn, query, collection_id, asset_id, sources, limit)
        if hits:
            return hits
    return []


def _search(
    conn: sqlite3.Connection,
    query: str,
    collection_id: str | None,
    asset_id: str | None,
    sources: Sequence[LineSource] | None,
    limit: int,
) -> list[LineHit]:
    where = ["index_lines_fts MATCH ?"]
    args: list[object] = [query]
    if asset_id is not None:
        # An asset's lines are written by one statement, so their ids are one range: FTS5
        # then reads only that range's matches instead of the whole library's (100,000 lines,
        # a common word: 13 ms to 0.3 ms).
        first, last = conn.execute(
            "SELECT min(id), max(id) FROM index_lines WHERE asset_id = ?", (asset_id,)
        ).fetchone()
        if first is None:
            return []
        where += ["index_lines_fts.rowid BETWEEN ? AND ?", "l.asset_id = ?"]
        args += [first, last, asset_id]
    if collection_id is not None:
        where.append("l.collection_id = ?")
        args.append(collection_id)
    if sources is not None:
        where.append(f"l.source IN ({', '.join('?' for _ in sources)})")
        args += list(sources)
    rows = conn.execute(
        "SELECT l.id, l.asset_id, l.collection_id, l.source, l.track, l.start, l.end, l.text,"  # noqa: S608
        " bm25(index_lines_fts) AS rank FROM index_lines_fts"
        " JOIN index_lines AS l ON l.id = index_lines_fts.rowid"
        f" WHERE {' AND '.join(where)} ORDER BY rank LIMIT ?",
        (*args, limit),
    )
    return [_hit(row, -float(row[8])) for row in rows]


def _hit(row: tuple[Any, ...], score: float) -> LineHit:
    return LineHit(
        line_id=int(row[0]),
        asset_id=row[1],
        collection_id=row[2],
        source=row[3],
        track=row[4],
        start=float(row[5]),
        end=float(row[6]),
        text=row[7],
        score=round(score, 6),
    )


def put_vectors(conn: sqlite3.Connection, model: str, vectors: Iterable[tuple[int, bytes]]) -> int:
    """Store lines' embedding vectors (float32 bytes) made by `model`, replacing theirs (a line
    has one vector, of the model chosen last)."""
    if not model:
        raise InvalidPayload("vectors need the name of the model that made them")
    cursor = conn.executemany(
        "INSERT OR REPLACE INTO index_vectors (line_id, model, vector) VALUES (?, ?, ?)",
        [(line_id, model, vector) for line_id, vector in vectors],
    )
    return cursor.rowcount


def line_ids(
    conn: sqlite3.Connection, asset_id: str, *, without_model: str | None = None
) -> list[tuple[int, str]]:
    """`(line id, text)` of the asset's lines, those without a vector of `without_model` only
    when it is given (what an embedding pass still has to do)."""
    if without_model is None:
        rows = conn.execute(
            "SELECT id, text FROM index_lines WHERE asset_id = ? ORDER BY id", (asset_id,)
        )
    else:
        rows = conn.execute(
            "SELECT l.id, l.text FROM index_lines AS l LEFT JOIN index_vectors AS v"
            " ON v.line_id = l.id AND v.model = ? WHERE l.asset_id = ? AND v.line_id IS NULL"
            " ORDER BY l.id",
            (without_model, asset_id),
        )
    return [(int(row[0]), str(row[1])) for row in rows]


def vectors(
    conn: sqlite3.Connection,
    model: str,
    *,
    collection_id: str | None,
    asset_id: str | None,
    after: int,
    batch: int,
) -> list[tuple[int, bytes]]:
    """A batch of `(line id, vector)` of `model` in the scope, line ids above `after`: the
    caller walks them all in batches of bounded memory."""
    where = ["v.model = ?", "v.line_id > ?"]
    args: list[object] = [model, after]
    if asset_id is not None:
        where.append("l.asset_id = ?")
        args.append(asset_id)
    if collection_id is not None:
        where.append("l.collection_id = ?")
        args.append(collection_id)
    # CROSS JOIN keeps the vectors the outer loop: read in id order from `after`, the batch stops
    # at its limit (with the lines outside, each batch sorted a whole collection's lines again).
    rows = conn.execute(
        "SELECT v.line_id, v.vector FROM index_vectors AS v"  # noqa: S608 (constant parts)
        " CROSS JOIN index_lines AS l ON l.id = v.line_id"
        f" WHERE {' AND '.join(where)} ORDER BY v.line_id LIMIT ?",
        (*args, batch),
    )
    return [(int(row[0]), bytes(row[1])) for row in rows]


def hits_of(conn: sqlite3.Connection, scored: Sequence[tuple[int, float]]) -> list[LineHit]:
    """The lines of `(line id, score)` pairs, in the order given (a semantic search's)."""
    found: list[LineHit] = []
    for line_id, score in scored:
        row = conn.execute(
            "SELECT id, asset_id, collection_id, source, track, start, end, text"
            " FROM index_lines WHERE id = ?",
            (line_id,),
        ).fetchone()
        if row is not None:
            found.append(_hit(row, score))
    return found
