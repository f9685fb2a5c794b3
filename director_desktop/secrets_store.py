"""SecretStore: API keys for model servers, kept out of SQLite, settings.json and the logs.

The OS keyring (macOS Keychain, Windows Credential Locker, the Secret Service on Linux) when one
is usable; otherwise a user-only (0600) JSON file in the data dir (a `json_file`: written
atomically, a damaged one set aside). Values are never logged or put in an exception message.
The one user of `keyring`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from pathlib import Path
from typing import Literal

from director_desktop.errors import DirectorError
from director_desktop.json_file import read_object, write_atomically

log = logging.getLogger(__name__)

SERVICE = "Director Desktop"
Backend = Literal["keyring", "file"]


def _usable_keyring() -> bool:
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:  # pragma: no cover - keyring is a pinned dependency
        return False
    backend = keyring.get_keyring()
    return not isinstance(backend, fail.Keyring) and float(getattr(backend, "priority", 0)) > 0


class SecretStore:
    def __init__(self, path: Path, *, use_keyring: bool = True) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._keyring = use_keyring and _usable_keyring()

    @property
    def backend(self) -> Backend:
        return "keyring" if self._keyring else "file"

    def get(self, name: str) -> str | None:
        if self._keyring:
            try:
                import keyring

                value = keyring.get_password(SERVICE, name)
                if value is not None:
                    return str(value)
            except Exception as exc:  # a locked or absent keyring daemon: use the file
                log.warning("keyring unavailable (%s); using the key file", type(exc).__name__)
        with self._lock:
            stored = self._read().get(name)
        return stored if isinstance(stored, str) else None

    def set(self, name: str, value: str) -> Backend:
        """Store a secret; returns where it went."""
        if self._keyring:
            try:
                import keyring

                keyring.set_password(SERVICE, name, value)
                self._forget_in_file(name)
                return "keyring"
            except Exception as exc:
                log.warning("keyring refused the key (%s); using the key file", type(exc).__name__)
        with self._lock:
            data = self._read()
            data[name] = value
            self._write(data)
        return "file"

    def delete(self, name: str) -> None:
        if self._keyring:
            with contextlib.suppress(Exception):
                import keyring

                keyring.delete_password(SERVICE, name)
        self._forget_in_file(name)

    def _forget_in_file(self, name: str) -> None:
        with self._lock:
            data = self._read()
            if data.pop(name, None) is not None:
                self._write(data)

    def _read(self) -> dict[str, object]:
        try:
            return read_object(self.path)
        except OSError:
            log.warning("the key file is unreadable; starting a new one")
            return {}

    def _write(self, data: dict[str, object]) -> None:
        try:
            write_atomically(self.path, data)
        except OSError as exc:
            raise DirectorError(
                f"could not save the key: {exc.strerror}", code="secrets_io"
            ) from exc
