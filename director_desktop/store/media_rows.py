"""The media library's rows (PROTOCOL 6): collections and the assets in them, as records and SQL.

The record types, and the functions `store.media` (`media_records.MediaRecords`) runs on the
store's worker thread, inside the transaction its `write` opens. Files are not this module's
business: it keeps the paths the media library gives it. Imports `errors`, `protocol` and the
store's own `codec`.
"""

from __future__ import annotations

import math
import re
import secrets
import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Final, Literal, TypedDict

from director_desktop.errors import Conflict, DuplicateId, InvalidPayload, NotFound
from director_desktop.protocol import check_id, now_epoch
from director_desktop.store.codec import dumps, loads

AssetKind = Literal["video", "audio", "image"]
KINDS: Final = ("video", "audio", "image")
DEFAULT_COLLECTION: Final = "default"
MAX_COLLECTION_NAME: Final = 200
MAX_DESCRIPTION: Final = 5000
MAX_ASSET_NAME: Final = 1000
_SHA256 = re.compile(r"[0-9a-f]{64}")


class TrackData(TypedDict):
    """One audio or subtitle track in `ProbeData`."""

    codec: str
    language: str | None


class ProbeData(TypedDict, total=False):
    """An asset's `probe` column: what `media.probe.Probe.to_json` writes (empty until probed)."""

    kind: AssetKind
    container: str
    duration: float
    width: int | None
    height: int | None
    fps: float | None
    rotation: int
    video_codec: str | None
    audio_codec: str | None
    audio_tracks: list[TrackData]
    subtitle_tracks: list[TrackData]
    bitrate: int | None
    size: int
    pixel_format: str | None
    video_stream: int | None
    audio_stream: int | None


@dataclass(frozen=True)
class CollectionRecord:
    id: str
    name: str
    description: str
    created_at: int


@dataclass(frozen=True)
class AssetRecord:
    """One stored asset. `path` is relative to the media folder when `owned`, else absolute;
    `thumbnail` and `playable` are relative to the media folder, None until made."""

    id: str
    collection_id: str
    kind: AssetKind
    name: str
    sha256: str
    size: int
    owned: bool
    path: str
    mime: str
    description: str = ""
    length: float = 0.0
    probe: ProbeData = field(default_factory=lambda: ProbeData())
    thumbnail: str | None = None
    playable: str | None = None
    created_at: int = field(default_factory=now_epoch)


class AssetChanges(TypedDict, total=False):
    """What `MediaRecords.update` may change; a key left out is left as it is."""

    name: str
    description: str
    thumbnail: str | None
    playable: str | None
    probe: ProbeData
    length: float


@dataclass(frozen=True)
class AssetPage:
    assets: list[AssetRecord]
    next_cursor: str | None
    """Pass it back as `cursor` for the page after this one; None on the last page."""


@dataclass(frozen=True)
class MediaTotals:
    videos: int
    audios: int
    images: int
    size: int
    """Bytes of every asset, referenced ones included."""
    owned_size: int
    """Bytes of the files the library holds under its media folder."""

    @property
    def count(self) -> int:
        return self.videos + self.audios + self.images


def new_media_id() -> str:
    """An id for an asset or a collection: a UUIDv7 (RFC 9562), whose text sorts by creation
    time to the millisecond, so assets made within one second still list newest first by
    (created_at, id)."""
    millis = time.time_ns() // 1_000_000 & (1 << 48) - 1
    rand_a, rand_b = secrets.randbits(12), secrets.randbits(62)
    return str(uuid.UUID(int=millis << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b))


# --- on the worker thread ---------------------------------------------------------------------
def list_collections(conn: sqlite3.Connection) -> list[CollectionRecord]:
    rows = conn.execute(
        "SELECT id, name, description, created_at FROM collections"
        " ORDER BY id != ?, created_at, name, id",
        (DEFAULT_COLLECTION,),
    )
    return [CollectionRecord(*row) for row in rows]


def get_collection(conn: sqlite3.Connection, collection_id: str) -> CollectionRecord | None:
    row = conn.execute(
        "SELECT id, name, description, created_at FROM collections WHERE id = ?",
        (collection_id,),
    ).fetchone()
    return None if row is None else CollectionRecord(*row)


def require_collection(conn: sqlite3.Connection, collection_id: str) -> CollectionRecord:
    found = get_collection(conn, collection_id)
    if found is None:
        raise NotFound(f"no collection {collection_id!r}")
    return found


def create_collection(
    conn: sqlite3.Connection, name: object, description: object
) -> CollectionRecord:
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_COLLECTION_NAME:
        raise InvalidPayload(f"a collection name is 1-{MAX_COLLECTION_NAME} characters")
    record = CollectionRecord(new_media_id(), name, _description(description), now_epoch())
    conn.execute(
        "INSERT INTO collections (id, name, description, created_at) VALUES (?, ?, ?, ?)",
        (record.id, record.name, record.description, record.created_at),
    )
    return record


def delete_collection(conn: sqlite3.Connection, collection_id: str) -> None:
    if collection_id == DEFAULT_COLLECTION:
        raise Conflict("the default collection cannot be deleted")
    collection = require_collection(conn, collection_id)
    held = conn.execute(
        "SELECT count(*) FROM assets WHERE collection_id = ?", (collection_id,)
    ).fetchone()[0]
    if held:
        raise Conflict(
            f"the collection {collection.name!r} has non-zero videos/audios/images ({held});"
            " delete them first"
        )
    conn.execute("DELETE FROM collections WHERE id = ?", (collection_id,))


_ASSET_COLUMNS = (
    "id, collection_id, kind, name, description, sha256, size, owned, path, mime, length, probe,"
    " thumbnail, playable, created_at"
)


def _asset(row: tuple[Any, ...]) -> AssetRecord:
    return AssetRecord(
        id=row[0],
        collection_id=row[1],
        kind=row[2],
        name=row[3],
        description=row[4],
        sha256=row[5],
        size=row[6],
        owned=bool(row[7]),
        path=row[8],
        mime=row[9],
        length=float(row[10]),
        probe=loads(row[11]),
        thumbnail=row[12],
        playable=row[13],
        created_at=row[14],
    )


def get_asset(conn: sqlite3.Connection, asset_id: str) -> AssetRecord | None:
    row = conn.execute(
        f"SELECT {_ASSET_COLUMNS} FROM assets WHERE id = ?",  # noqa: S608 (constant columns)
        (asset_id,),
    ).fetchone()
    return None if row is None else _asset(row)


def by_sha256(conn: sqlite3.Connection, collection_id: str, sha256: str) -> AssetRecord | None:
    row = conn.execute(
        f"SELECT {_ASSET_COLUMNS} FROM assets"  # noqa: S608 (constant columns)
        " WHERE collection_id = ? AND sha256 = ?",
        (collection_id, sha256),
    ).fetchone()
    return None if row is None else _asset(row)


def insert_asset(conn: sqlite3.Connection, asset: AssetRecord) -> tuple[AssetRecord, bool]:
    _check_asset(asset)
    require_collection(conn, asset.collection_id)
    existing = by_sha256(conn, asset.collection_id, asset.sha256)
    if existing is not None:
        return existing, False
    if get_asset(conn, asset.id) is not None:
        raise DuplicateId(f"an asset {asset.id!r} already exists")
    conn.execute(
        f"INSERT INTO assets ({_ASSET_COLUMNS})"  # noqa: S608 (constant columns)
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            asset.id,
            asset.collection_id,
            asset.kind,
            asset.name,
            asset.description,
            asset.sha256,
            asset.size,
            int(asset.owned),
            asset.path,
            asset.mime,
            asset.length,
            dumps(asset.probe, "an asset's probe"),
            asset.thumbnail,
            asset.playable,
            asset.created_at,
        ),
    )
    return asset, True


def _check_asset(asset: AssetRecord) -> None:
    check_id(asset.id, "asset id")
    if asset.kind not in KINDS:
        raise InvalidPayload(f"an asset's kind is one of {', '.join(KINDS)}")
    _name(asset.name)
    _description(asset.description)
    _length(asset.length)
    if not _SHA256.fullmatch(asset.sha256):
        raise InvalidPayload("an asset's sha256 is 64 lower-case hex digits")
    if asset.size < 0 or not asset.path or not asset.mime:
        raise InvalidPayload("an asset needs a size, a path and a MIME type")


def _name(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_ASSET_NAME:
        raise InvalidPayload(f"an asset name is 1-{MAX_ASSET_NAME} characters")
    return value


def _description(value: object) -> str:
    if not isinstance(value, str) or len(value) > MAX_DESCRIPTION:
        raise InvalidPayload(f"a description is text of at most {MAX_DESCRIPTION} characters")
    return value


def _length(value: object) -> float:
    if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise InvalidPayload("an asset's length is a number of seconds, 0 or more")
    return float(value)


def _made_file(value: object) -> str | None:
    if value is not None and (not isinstance(value, str) or not value):
        raise InvalidPayload("a thumbnail or playable version is a path, or None")
    return value


def list_assets(
    conn: sqlite3.Connection,
    collection_id: str,
    kind: str | None,
    q: str | None,
    limit: int | None,
    cursor: str | None,
) -> AssetPage:
    require_collection(conn, collection_id)
    where: list[str] = ["collection_id = ?"]
    args: list[object] = [collection_id]
    if kind is not None:
        if kind not in KINDS:
            raise InvalidPayload(f"kind is one of {', '.join(KINDS)}")
        where.append("kind = ?")
        args.append(kind)
    if q:
        # SQLite's own lower() and LIKE fold ASCII only; names are anyone's language.
        conn.create_function("casefold", 1, _casefold, deterministic=True)
        where.append("instr(casefold(name), ?) > 0")
        args.append(q.casefold())
    if cursor is not None:
        created_at, after_id = _parse_cursor(cursor)
        # Keyset paging: a page starts strictly after the last row of the one before, so rows
        # inserted meanwhile never shift a page (no row is skipped or shown twice).
        where.append("(created_at < ? OR (created_at = ? AND id < ?))")
        args += [created_at, created_at, after_id]
    if limit is not None and limit < 1:
        raise InvalidPayload("limit must be 1 or more")
    rows = conn.execute(
        f"SELECT {_ASSET_COLUMNS} FROM assets WHERE {' AND '.join(where)}"  # noqa: S608
        " ORDER BY created_at DESC, id DESC LIMIT ?",
        (*args, -1 if limit is None else limit + 1),
    ).fetchall()
    assets = [_asset(row) for row in rows[: limit if limit is not None else None]]
    more = limit is not None and len(rows) > limit
    last = assets[-1] if more else None
    return AssetPage(assets, None if last is None else f"{last.created_at}:{last.id}")


def _casefold(value: object) -> str | None:
    return value.casefold() if isinstance(value, str) else None


def _parse_cursor(cursor: str) -> tuple[int, str]:
    created_at, _, after_id = cursor.partition(":")
    if not created_at.isdigit() or not after_id:
        raise InvalidPayload("cursor is not one this server gave")
    return int(created_at), after_id


# Each changeable key and how its value is checked and stored.
_CHANGES: Final = {
    "name": _name,
    "description": _description,
    "thumbnail": _made_file,
    "playable": _made_file,
    "probe": lambda value: dumps(value, "an asset's probe"),
    "length": _length,
}


def update_asset(conn: sqlite3.Connection, asset_id: str, changes: AssetChanges) -> AssetRecord:
    unknown = set(changes) - _CHANGES.keys()
    if unknown:
        raise InvalidPayload(f"an asset cannot change {', '.join(sorted(unknown))}")
    if changes:
        keys = sorted(changes)
        values = [_CHANGES[key](changes[key]) for key in keys]  # type: ignore[literal-required]
        cursor = conn.execute(
            f"UPDATE assets SET {', '.join(f'{key} = ?' for key in keys)} WHERE id = ?",  # noqa: S608
            (*values, asset_id),
        )
        if cursor.rowcount == 0:
            raise NotFound(f"no asset {asset_id!r}")
    found = get_asset(conn, asset_id)
    if found is None:
        raise NotFound(f"no asset {asset_id!r}")
    return found


def delete_asset(conn: sqlite3.Connection, asset_id: str) -> AssetRecord | None:
    found = get_asset(conn, asset_id)
    if found is not None:
        conn.execute("DELETE FROM assets WHERE id = ?", (asset_id,))
    return found


def totals(conn: sqlite3.Connection, collection_id: str | None) -> MediaTotals:
    where = "" if collection_id is None else " WHERE collection_id = ?"
    sums = (
        "coalesce(sum(kind = 'video'), 0), coalesce(sum(kind = 'audio'), 0),"
        " coalesce(sum(kind = 'image'), 0), coalesce(sum(size), 0),"
        " coalesce(sum(CASE WHEN owned THEN size END), 0)"
    )
    row = conn.execute(
        f"SELECT {sums} FROM assets{where}",  # noqa: S608 (constant parts)
        () if collection_id is None else (collection_id,),
    ).fetchone()
    return MediaTotals(*(int(value) for value in row))
