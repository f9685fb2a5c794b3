"""The UI's prefs (PROTOCOL `/prefs`): known keys only, merged, `drafts` merged per session id.

Synchronous functions over the worker's connection; the caller holds the transaction.
Imports `errors`, `protocol` and the store's own `codec`.
"""

from __future__ import annotations

import sqlite3
from typing import Literal, cast

from director_desktop.errors import InvalidPayload, TooLarge
from director_desktop.protocol import Prefs, check_id
from director_desktop.store.codec import dumps, loads

MAX_PREFS_BYTES = 1024 * 1024
Theme = Literal["system", "light", "dark"]
THEMES: tuple[Theme, ...] = ("system", "light", "dark")
DEFAULTS: Prefs = {
    "current_session": None,
    "drafts": {},
    "theme": "system",
    "sidebar_collapsed": False,
}


def _current_session(value: object) -> str | None:
    return None if value is None else check_id(value, "current_session")


def _theme(value: object) -> Theme:
    for theme in THEMES:
        if value == theme:
            return theme
    raise InvalidPayload(f"theme must be one of {', '.join(THEMES)}")


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidPayload("sidebar_collapsed must be true or false")
    return value


def get(conn: sqlite3.Connection) -> Prefs:
    stored = {key: loads(value) for key, value in conn.execute("SELECT key, value FROM prefs")}
    # Safe: every row was written by `patch`, one known key with its checked value each.
    return cast(Prefs, {**DEFAULTS, **stored})


def patch(conn: sqlite3.Connection, change: object) -> Prefs:
    """Merge `change` into the stored prefs; on any bad key or size nothing is written."""
    if not isinstance(change, dict):
        raise InvalidPayload("prefs must be a JSON object")
    unknown = sorted(set(change) - DEFAULTS.keys())
    if unknown:
        raise InvalidPayload(f"unknown prefs keys: {', '.join(map(str, unknown))}")
    merged = get(conn)
    for key, value in change.items():
        if key == "drafts":
            merged["drafts"] = _merge_drafts(merged["drafts"], value)
        elif key == "current_session":
            merged["current_session"] = _current_session(value)
        elif key == "theme":
            merged["theme"] = DEFAULTS["theme"] if value is None else _theme(value)
        else:
            merged["sidebar_collapsed"] = (
                DEFAULTS["sidebar_collapsed"] if value is None else _flag(value)
            )
    size = len(dumps(merged, "prefs").encode("utf-8"))
    if size > MAX_PREFS_BYTES:
        raise TooLarge(f"prefs would be {size} bytes; the limit is {MAX_PREFS_BYTES}")
    for key in change:
        _write(conn, key, merged.get(key))
    return merged


def _merge_drafts(current: dict[str, str], change: object) -> dict[str, str]:
    if change is None:
        return {}
    if not isinstance(change, dict):
        raise InvalidPayload("drafts must be an object of session id to text")
    drafts = dict(current)
    for session_id, text in change.items():
        check_id(session_id, "drafts key")
        if text is None:
            drafts.pop(session_id, None)
        elif isinstance(text, str):
            drafts[session_id] = text
        else:
            raise InvalidPayload("a draft must be a string, or null to delete it")
    return drafts


def _write(conn: sqlite3.Connection, key: str, value: object) -> None:
    if value == DEFAULTS.get(key):
        conn.execute("DELETE FROM prefs WHERE key = ?", (key,))
    else:
        conn.execute(
            "INSERT INTO prefs (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, dumps(value, key)),
        )


def forget_session(conn: sqlite3.Connection, session_id: str) -> None:
    """A deleted session leaves no draft behind (`current_session` is the UI's to change)."""
    drafts = get(conn)["drafts"]
    if session_id in drafts:
        _write(conn, "drafts", {k: v for k, v in drafts.items() if k != session_id})
