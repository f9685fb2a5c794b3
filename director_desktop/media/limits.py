"""The user's media settings (settings.json, key `media`): the upload limit and indexing at import.
Imports `errors` and `user_settings`.
"""

from __future__ import annotations

from typing import Final

from director_desktop.errors import InvalidPayload
from director_desktop.user_settings import UserSettings

DEFAULT_MAX_UPLOAD: Final = 16 * 1024**3


class UploadLimit:
    """The user's media settings (settings.json, key `media`): the largest file an import takes
    (`max_upload_bytes`, which the user may raise) and whether an imported video or audio is
    indexed at once (`index_on_import`, off unless chosen). Each setter keeps the other keys."""

    def __init__(self, user_settings: UserSettings) -> None:
        self._settings = user_settings

    def get(self) -> int:
        raw = self._settings.get("media")
        value = raw.get("max_upload_bytes") if isinstance(raw, dict) else None
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        return DEFAULT_MAX_UPLOAD

    def set(self, value: object) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 1 << 50:
            raise InvalidPayload("max_upload_bytes must be a positive whole number of bytes")
        self._merge(max_upload_bytes=value)
        return value

    def index_on_import(self) -> bool:
        raw = self._settings.get("media")
        return isinstance(raw, dict) and raw.get("index_on_import") is True

    def set_index_on_import(self, value: object) -> bool:
        if not isinstance(value, bool):
            raise InvalidPayload("index_on_import must be true or false")
        self._merge(index_on_import=value)
        return value

    def _merge(self, **fields: object) -> None:
        raw = self._settings.get("media")
        current = dict(raw) if isinstance(raw, dict) else {}
        self._settings.update(media={**current, **fields})
