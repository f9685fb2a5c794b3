"""A small JSON object file the app owns (settings.json, the key file): read it, set a damaged one
aside, write it atomically and user-only.

A write leaves either the old file or the new one, never half of one: a user-only temp file
beside it (mkstemp makes it 0600), fsync, then rename over. A file that does not parse as a JSON
object is moved to `<name>.json.unreadable` (never deleted: a person may recover what it held),
and reading starts from an empty object.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def read_object(path: Path) -> dict[str, Any]:
    # Unchecked: each key's owner checks its value.
    """The file's object; `{}` when it does not exist or was damaged (then set aside). Raises
    OSError when it exists but cannot be read; callers give it their own error code."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        aside = path.with_suffix(".json.unreadable")
        log.warning("%s is damaged; set aside as %s", path.name, aside.name)
        path.replace(aside)
        return {}
    return data


def write_atomically(path: Path, data: object) -> None:
    """Write `data` as JSON so that a crash leaves the old file or the new one. Raises OSError."""
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
