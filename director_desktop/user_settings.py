"""UserSettings: the choices a user made that outlive a launch (model provider, model, window
geometry), kept in `<data dir>/settings.json` and written atomically (temp file + fsync + rename),
so a crash mid-write leaves the previous file intact. Imports nothing from the project but errors.

Keys are owned by their users: `llm` (engine), `window` (window). A file that does not parse is
moved aside (never deleted) and the defaults are used.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any, ClassVar

from director_desktop.errors import DirectorError


class UserSettings:
    # One lock per file for the whole process: the window (geometry) and the engine (model
    # choice) each hold a UserSettings for the same file, and a read-merge-write by one must not
    # interleave with the other's, or one key silently loses its update.
    _locks: ClassVar[dict[Path, threading.Lock]] = {}
    _locks_guard: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path: Path) -> None:
        self.path = path
        with self._locks_guard:
            self._lock = self._locks.setdefault(path.resolve(), threading.Lock())

    def load(self) -> dict[str, Any]:
        with self._lock:
            return self._read()

    def get(self, key: str, default: Any = None) -> Any:
        return self.load().get(key, default)

    def update(self, **values: Any) -> dict[str, Any]:
        """Merge top-level keys (a None value removes the key) and write the file atomically."""
        with self._lock:
            data = self._read()
            for key, value in values.items():
                if value is None:
                    data.pop(key, None)
                else:
                    data[key] = value
            self._write(data)
            return data

    def _read(self) -> dict[str, Any]:
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise DirectorError(
                f"could not read settings: {exc.strerror}", code="settings_io"
            ) from exc
        try:
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError("not an object")
        except ValueError:
            self.path.replace(self.path.with_suffix(".json.unreadable"))
            return {}
        return data

    def _write(self, data: dict[str, Any]) -> None:
        try:
            write_json_atomically(self.path, data)
        except OSError as exc:
            raise DirectorError(
                f"could not save settings: {exc.strerror}", code="settings_io"
            ) from exc


def write_json_atomically(path: Path, data: object) -> None:
    """Write JSON so that a crash leaves either the old file or the new one, never half of one:
    a user-only temp file beside it (mkstemp makes it 0600), fsync, then rename over. Raises
    OSError; callers give it their own error code."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
