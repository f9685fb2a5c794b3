"""The chat database, the only user of sqlite3 in the project (DESIGN.md; PROTOCOL 2 and 4).

`Store` is the async API the server and engine use; everything else here is its private parts.
The store imports only `errors` and `protocol` from the rest of the project.
"""

from __future__ import annotations

from director_desktop.store.messages import AddedTurn
from director_desktop.store.portable import SessionExport
from director_desktop.store.store import Store, StoreHealth

__all__ = ["AddedTurn", "SessionExport", "Store", "StoreHealth"]
