"""UserSettings: the choices a user made that outlive a launch (model provider, model, window
geometry), kept in `<data dir>/settings.json` (a `json_file`: written atomically, a damaged one
set aside and the defaults used).

Keys are owned by their users: `llm` (engine), `window` (window). The composition root builds one
UserSettings per launch and hands it to both, so one lock orders every read-merge-write of the
file and no key loses an update to another's.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from director_desktop.errors import DirectorError
from director_desktop.json_file import read_object, write_atomically


class UserSettings:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def get(self, key: str) -> object:
        """A key's value as the file holds it (None when absent): unchecked, since a person may
        have edited the file; its owner checks it."""
        with self._lock:
            return self._read().get(key)

    def update(self, **values: object) -> None:
        """Merge top-level keys (a None value removes the key) and write the file atomically."""
        with self._lock:
            data = self._read()
            for key, value in values.items():
                if value is None:
                    data.pop(key, None)
                else:
                    data[key] = value
            self._write(data)

    def _read(self) -> dict[str, Any]:
        try:
            return read_object(self.path)
        except OSError as exc:
            raise DirectorError(
                f"could not read settings: {exc.strerror}", code="settings_io"
            ) from exc

    def _write(self, data: dict[str, object]) -> None:
        try:
            write_atomically(self.path, data)
        except OSError as exc:
            raise DirectorError(
                f"could not save settings: {exc.strerror}", code="settings_io"
            ) from exc
