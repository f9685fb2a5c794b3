"""Moving sessions in and out: versioned JSON and Markdown export, JSON and director.db import.

Imports `errors`, `protocol` and the store's own modules.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from director_desktop.protocol import JSONDict


def export_session(conn: sqlite3.Connection, session_id: str) -> JSONDict:
    raise NotImplementedError


def export_markdown(conn: sqlite3.Connection, session_id: str) -> str:
    raise NotImplementedError


def import_session(conn: sqlite3.Connection, data: object) -> str:
    raise NotImplementedError


def import_director_db(conn: sqlite3.Connection, path: Path) -> list[str]:
    raise NotImplementedError
