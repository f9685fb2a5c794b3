"""`store.media`: the media library's collections and assets (PROTOCOL 6), reached from `Store`.

`MediaRecords` is the async face: each call one job on the store's worker thread, running the
functions of `media_rows`, which also holds the record types. Imports only the store's own
`media_rows` and `records`.
"""

from __future__ import annotations

from typing import Unpack

from director_desktop.store import media_rows as rows
from director_desktop.store.media_rows import (
    AssetChanges,
    AssetKind,
    AssetPage,
    AssetRecord,
    CollectionRecord,
    MediaTotals,
)
from director_desktop.store.records import OnWorker


class MediaRecords:
    """`store.media`: collections and assets, each call one job on the store's worker."""

    def __init__(self, read: OnWorker, write: OnWorker) -> None:
        self._read = read
        self._write = write

    # --- collections ----------------------------------------------------------------------------
    async def collections(self) -> list[CollectionRecord]:
        """Every collection: the default one first, then in the order they were made (by name
        within one second)."""
        return await self._read(rows.list_collections)

    async def collection(self, collection_id: str) -> CollectionRecord | None:
        return await self._read(lambda conn: rows.get_collection(conn, collection_id))

    async def create_collection(self, name: str, description: str = "") -> CollectionRecord:
        return await self._write(lambda conn: rows.create_collection(conn, name, description))

    async def delete_collection(self, collection_id: str) -> None:
        """NotFound, or Conflict for the default collection and for one that holds assets."""
        await self._write(lambda conn: rows.delete_collection(conn, collection_id))

    # --- assets ---------------------------------------------------------------------------------
    async def insert(self, asset: AssetRecord) -> tuple[AssetRecord, bool]:
        """Store a new asset: `(asset, True)`; when the collection already holds the same bytes
        (an import that raced another), `(that asset, False)` and nothing is written."""
        return await self._write(lambda conn: rows.insert_asset(conn, asset))

    async def get(self, asset_id: str) -> AssetRecord | None:
        return await self._read(lambda conn: rows.get_asset(conn, asset_id))

    async def assets(
        self,
        collection_id: str,
        *,
        kind: AssetKind | None = None,
        q: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> AssetPage:
        """A collection's assets newest first, optionally of one kind and whose name contains `q`
        (any case); `limit` per page (None: all), continued from a page's `next_cursor`."""
        return await self._read(
            lambda conn: rows.list_assets(conn, collection_id, kind, q, limit, cursor)
        )

    async def by_sha256(self, collection_id: str, sha256: str) -> AssetRecord | None:
        """The asset of these bytes in the collection (the import's duplicate check)."""
        return await self._read(lambda conn: rows.by_sha256(conn, collection_id, sha256))

    async def update(self, asset_id: str, **changes: Unpack[AssetChanges]) -> AssetRecord:
        return await self._write(lambda conn: rows.update_asset(conn, asset_id, changes))

    async def delete(self, asset_id: str) -> AssetRecord | None:
        """Remove the row; answers it (the library then removes the files it owns), or None."""
        return await self._write(lambda conn: rows.delete_asset(conn, asset_id))

    async def totals(self, collection_id: str | None = None) -> MediaTotals:
        """Counts by kind and sizes, of one collection or (None) the whole library."""
        return await self._read(lambda conn: rows.totals(conn, collection_id))
