"""The media index's rows (issue 13): per asset, its scenes, its timed lines of text (speech,
subtitles, scene text, its name) and its state; the record types of the whole index.

The functions `store.index` (`index_records.IndexRecords`) runs on the store's worker thread,
inside the transaction its `write` opens (searching and vectors are `index_search`'s). An index is
written whole, by `replace`, in one transaction: a re-index replaces the old one, a stopped one
leaves it as it was. Files (the scenes' thumbnails) are the media room's business: this keeps the
paths it is given. Imports `errors`, `protocol` and the store's own `codec`.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, TypedDict

from director_desktop.errors import Conflict, InvalidPayload, NotFound
from director_desktop.protocol import WireErrorBody, now_epoch
from director_desktop.store.codec import dumps, loads

IndexStatus = Literal["not_indexed", "indexing", "indexed", "error"]
LineSource = Literal["transcript", "subtitle", "scene", "name"]
SOURCES: Final = ("transcript", "subtitle", "scene", "name")
MAX_LINE: Final = 10_000  # characters of one line's text


@dataclass(frozen=True)
class TimedWord:
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class IndexLine:
    """A line of text at a time of the media: a spoken segment (with its words' times when the
    transcriber gave them), a subtitle, a scene's text, or the asset's name (its whole length).
    Its `start`, `end`, `text` and `words` read as `media.transcript.Segment`'s do."""

    source: LineSource
    start: float
    end: float
    text: str
    words: tuple[TimedWord, ...] = ()
    track: str = ""
    """Which subtitle track it came from ("0:eng", "movie.fr.srt"); "" for the others."""


@dataclass(frozen=True)
class SceneRecord:
    """A shot: from one cut to the next (the last ends with the media), and its thumbnail,
    relative to the media folder."""

    idx: int
    start: float
    end: float
    thumbnail: str | None = None


class IndexSummary(TypedDict, total=False):
    """What an index job indexed, kept with the asset's index state (for the UI)."""

    scenes: int
    lines: dict[str, int]
    """Lines stored per source: transcript, subtitle, name."""
    speech: str
    """Who transcribed the speech, or why it was not."""
    notes: list[str]
    """What was left out and why (no transcriber, a picture subtitle track...)."""
    seconds: float
    """How long the job took."""


@dataclass(frozen=True)
class IndexContent:
    """A whole index of one asset, as an index job writes it at its end."""

    scenes: list[SceneRecord] = field(default_factory=list)
    lines: list[IndexLine] = field(default_factory=list)
    summary: IndexSummary = field(default_factory=lambda: IndexSummary())
    """What was indexed (counts per source, notes such as "no speech-to-text"): for the UI."""
    vectors: Sequence[bytes | None] = ()
    """The lines' embedding vectors (float32 bytes), one per line of `lines` in order (None: that
    line has none), written with them; empty when no embedding model is chosen."""
    vector_model: str = ""
    """The embedding model that made `vectors`."""


@dataclass(frozen=True)
class IndexState:
    asset_id: str
    status: IndexStatus
    job_id: str | None = None
    """The job that wrote the stored index."""
    running: str | None = None
    """The job indexing the asset now (status `indexing`)."""
    indexed_at: int | None = None
    """When the stored index was written; None when there is none (even while indexing)."""
    summary: IndexSummary = field(default_factory=lambda: IndexSummary())
    error: WireErrorBody | None = None


@dataclass(frozen=True)
class LineHit:
    """A line a search found. `score` is BM25's (the negated `bm25()`): higher is better; it
    compares hits of one search, not of two."""

    line_id: int
    asset_id: str
    collection_id: str
    source: LineSource
    track: str
    start: float
    end: float
    text: str
    score: float


# --- on the worker thread ---------------------------------------------------------------------
def get_state(conn: sqlite3.Connection, asset_id: str) -> IndexState:
    row = conn.execute(
        "SELECT asset_id, status, job_id, running, indexed_at, summary, error FROM index_state"
        " WHERE asset_id = ?",
        (asset_id,),
    ).fetchone()
    return IndexState(asset_id, "not_indexed") if row is None else _state(row)


def states(conn: sqlite3.Connection, collection_id: str) -> list[IndexState]:
    """The state of every asset of a collection that has one (others are `not_indexed`)."""
    rows = conn.execute(
        "SELECT s.asset_id, s.status, s.job_id, s.running, s.indexed_at, s.summary, s.error"
        " FROM index_state AS s JOIN assets AS a ON a.id = s.asset_id"
        " WHERE a.collection_id = ? ORDER BY a.created_at DESC, a.id DESC",
        (collection_id,),
    )
    return [_state(row) for row in rows]


def _state(row: tuple[Any, ...]) -> IndexState:
    error = loads(row[6]) if row[6] is not None else None
    return IndexState(
        asset_id=row[0],
        status=row[1],
        job_id=row[2],
        running=row[3],
        indexed_at=row[4],
        summary=loads(row[5]),
        error={"code": str(error["code"]), "message": str(error["message"])} if error else None,
    )


def _require_asset(conn: sqlite3.Connection, asset_id: str) -> str:
    """The asset's collection id; NotFound when the asset is gone (deleted meanwhile)."""
    row = conn.execute("SELECT collection_id FROM assets WHERE id = ?", (asset_id,)).fetchone()
    if row is None:
        raise NotFound(f"no asset {asset_id!r}")
    return str(row[0])


def mark_indexing(conn: sqlite3.Connection, asset_id: str, job_id: str) -> IndexState:
    """An index job started: the asset shows `indexing`; the index it had stays until the job
    writes the new one. Conflict when another job is indexing it."""
    _require_asset(conn, asset_id)
    busy = conn.execute(
        "SELECT 1 FROM index_state WHERE asset_id = ? AND status = 'indexing' AND running != ?",
        (asset_id, job_id),
    ).fetchone()
    if busy is not None:
        raise Conflict("this asset is being indexed already")
    conn.execute(
        "INSERT INTO index_state (asset_id, status, running) VALUES (?, 'indexing', ?)"
        " ON CONFLICT (asset_id) DO UPDATE SET status = 'indexing', running = excluded.running",
        (asset_id, job_id),
    )
    return get_state(conn, asset_id)


def mark_stopped(
    conn: sqlite3.Connection, asset_id: str, job_id: str, error: WireErrorBody | None
) -> IndexState:
    """The job `job_id` ended without writing an index: back to the state before it (cancelled),
    or `error` (failed). Nothing changes if another job has taken over or this one wrote."""
    row = conn.execute(
        "SELECT indexed_at FROM index_state WHERE asset_id = ? AND running = ?"
        " AND status = 'indexing'",
        (asset_id, job_id),
    ).fetchone()
    if row is not None:
        if error is not None:
            conn.execute(
                "UPDATE index_state SET status = 'error', running = NULL, error = ?"
                " WHERE asset_id = ?",
                (dumps(dict(error), "an index error"), asset_id),
            )
        elif row[0] is None:  # there was no index before this job: as if never asked
            conn.execute("DELETE FROM index_state WHERE asset_id = ?", (asset_id,))
        else:
            conn.execute(
                "UPDATE index_state SET status = 'indexed', running = NULL WHERE asset_id = ?",
                (asset_id,),
            )
    return get_state(conn, asset_id)


def sweep(conn: sqlite3.Connection) -> int:
    """At open: an index job a previous process was running is gone; its asset goes back to
    the index it had (or none). Answers how many were swept; writes nothing when none was (an
    open on a full disk must not fail for it)."""
    if (
        conn.execute("SELECT 1 FROM index_state WHERE status = 'indexing' LIMIT 1").fetchone()
        is None
    ):
        return 0
    cursor = conn.execute(
        "UPDATE index_state SET status = CASE WHEN indexed_at IS NULL THEN 'not_indexed'"
        " ELSE 'indexed' END, running = NULL WHERE status = 'indexing'"
    )
    conn.execute("DELETE FROM index_state WHERE status = 'not_indexed' AND error IS NULL")
    return cursor.rowcount


def replace(
    conn: sqlite3.Connection, asset_id: str, job_id: str | None, content: IndexContent
) -> IndexState:
    """Write the asset's whole index in place of the one it had (its vectors go with its old
    lines). NotFound when the asset is gone."""
    collection_id = _require_asset(conn, asset_id)
    scenes = [_checked_scene(scene) for scene in content.scenes]
    if content.vectors and (len(content.vectors) != len(content.lines) or not content.vector_model):
        raise InvalidPayload("an index's vectors are one per line, with their model's name")
    vectors = list(content.vectors) or [None] * len(content.lines)
    kept = [
        (line, vector)
        for line, vector in zip(content.lines, vectors, strict=True)
        if line.text.strip()
    ]
    lines = [_checked_line(line) for line, _ in kept]
    conn.execute("DELETE FROM index_scenes WHERE asset_id = ?", (asset_id,))
    conn.execute("DELETE FROM index_lines WHERE asset_id = ?", (asset_id,))
    conn.executemany(
        "INSERT INTO index_scenes (asset_id, idx, start, end, thumbnail) VALUES (?, ?, ?, ?, ?)",
        [(asset_id, s.idx, s.start, s.end, s.thumbnail) for s in scenes],
    )
    conn.executemany(
        "INSERT INTO index_lines (asset_id, collection_id, source, track, start, end, text, words)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                asset_id,
                collection_id,
                line.source,
                line.track,
                line.start,
                line.end,
                line.text,
                _words_json(line.words),
            )
            for line in lines
        ],
    )
    if content.vectors:
        # One statement wrote the lines: their ids, in order, are the lines' in order.
        ids = [
            row[0]
            for row in conn.execute(
                "SELECT id FROM index_lines WHERE asset_id = ? ORDER BY id", (asset_id,)
            )
        ]
        conn.executemany(
            "INSERT INTO index_vectors (line_id, model, vector) VALUES (?, ?, ?)",
            [
                (line_id, content.vector_model, vector)
                for line_id, (_, vector) in zip(ids, kept, strict=True)
                if vector is not None
            ],
        )
    conn.execute(
        "INSERT INTO index_state (asset_id, status, job_id, running, indexed_at, summary, error)"
        " VALUES (?, 'indexed', ?, NULL, ?, ?, NULL) ON CONFLICT (asset_id) DO UPDATE SET"
        " status = 'indexed', job_id = excluded.job_id, running = NULL,"
        " indexed_at = excluded.indexed_at, summary = excluded.summary, error = NULL",
        (asset_id, job_id, now_epoch(), dumps(content.summary, "an index summary")),
    )
    return get_state(conn, asset_id)


def _checked_scene(scene: SceneRecord) -> SceneRecord:
    _times(scene.start, scene.end)
    if scene.idx < 0:
        raise InvalidPayload("a scene's number is 0 or more")
    return scene


def _checked_line(line: IndexLine) -> IndexLine:
    if line.source not in SOURCES:
        raise InvalidPayload(f"a line's source is one of {', '.join(SOURCES)}")
    _times(line.start, line.end)
    if len(line.text) > MAX_LINE:
        return IndexLine(line.source, line.start, line.end, line.text[:MAX_LINE], (), line.track)
    return line


def _times(start: float, end: float) -> None:
    if not (math.isfinite(start) and math.isfinite(end)) or start < 0 or end < start:
        raise InvalidPayload("a time span is two finite numbers of seconds, 0 ≤ start ≤ end")


def _words_json(words: Sequence[TimedWord]) -> str | None:
    if not words:
        return None
    return dumps([[w.start, w.end, w.text] for w in words], "a line's words")


def _words(raw: str | None) -> tuple[TimedWord, ...]:
    if raw is None:
        return ()
    return tuple(TimedWord(float(s), float(e), str(t)) for s, e, t in loads(raw))


def scenes(conn: sqlite3.Connection, asset_id: str) -> list[SceneRecord]:
    rows = conn.execute(
        "SELECT idx, start, end, thumbnail FROM index_scenes WHERE asset_id = ? ORDER BY idx",
        (asset_id,),
    )
    return [SceneRecord(*row) for row in rows]


def lines(
    conn: sqlite3.Connection, asset_id: str, sources: Iterable[LineSource] | None
) -> list[IndexLine]:
    """The asset's lines in time order (of the given sources), each track's apart."""
    wanted = list(SOURCES if sources is None else sources)
    marks = ", ".join("?" for _ in wanted)
    rows = conn.execute(
        "SELECT source, start, end, text, words, track FROM index_lines"  # noqa: S608 (marks)
        f" WHERE asset_id = ? AND source IN ({marks}) ORDER BY source, track, start, id",
        (asset_id, *wanted),
    )
    return [IndexLine(r[0], r[1], r[2], r[3], _words(r[4]), r[5]) for r in rows]


def transcript(conn: sqlite3.Connection, asset_id: str) -> list[IndexLine]:
    """What was said, in time order: the speech lines when the asset has some, else the lines
    of its first subtitle track (a film's subtitles are its transcript when nobody transcribed
    it)."""
    spoken = lines(conn, asset_id, ("transcript",))
    if spoken:
        return spoken
    subtitles = lines(conn, asset_id, ("subtitle",))
    first = subtitles[0].track if subtitles else ""
    return [line for line in subtitles if line.track == first]
