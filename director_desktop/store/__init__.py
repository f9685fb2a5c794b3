"""The app's database (chats, the media library's rows, jobs), the only user of sqlite3 in the
project (DESIGN.md; PROTOCOL 2, 4, 6 and 7).

`Store` is the async API the server, engine, media and jobs use (`store.media`, `store.jobs` and
`store.index` for the media library's, the jobs' and the media index's rows, with the record types
below); everything else here is its private parts.
The store imports only `errors` and `protocol` from the rest of the project.
"""

from __future__ import annotations

from director_desktop.store.index_rows import (
    IndexContent,
    IndexLine,
    IndexState,
    IndexStatus,
    IndexSummary,
    LineHit,
    LineSource,
    SceneRecord,
    TimedWord,
)
from director_desktop.store.job_records import JobParams, JobRecord
from director_desktop.store.media_rows import (
    DEFAULT_COLLECTION,
    AssetChanges,
    AssetKind,
    AssetPage,
    AssetRecord,
    CollectionRecord,
    MediaTotals,
    ProbeData,
    TrackData,
    new_media_id,
)
from director_desktop.store.messages import AddedTurn
from director_desktop.store.portable import SessionExport
from director_desktop.store.sessions import FocusIds, SessionContext
from director_desktop.store.store import Store, StoreHealth

__all__ = [
    "DEFAULT_COLLECTION",
    "AddedTurn",
    "AssetChanges",
    "AssetKind",
    "AssetPage",
    "AssetRecord",
    "CollectionRecord",
    "FocusIds",
    "IndexContent",
    "IndexLine",
    "IndexState",
    "IndexStatus",
    "IndexSummary",
    "JobParams",
    "JobRecord",
    "LineHit",
    "LineSource",
    "MediaTotals",
    "ProbeData",
    "SceneRecord",
    "SessionContext",
    "SessionExport",
    "Store",
    "StoreHealth",
    "TimedWord",
    "TrackData",
    "new_media_id",
]
