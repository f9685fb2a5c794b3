"""How the record classes reached as `store.media` and `store.jobs` get to the database.

They are handed the `Store`'s own `_run` (a read on the worker thread) and `_write` (a write in a
transaction of its own there) rather than the `Store`, so they never import `store.py` (which
builds them) and SQLite still sees one thread. Imports nothing from the project.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

T = TypeVar("T")


class OnWorker(Protocol):
    """Run `job` with the store's connection on its worker thread; await its answer."""

    def __call__(self, job: Callable[[sqlite3.Connection], T], /) -> Awaitable[T]: ...
