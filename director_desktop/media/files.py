"""Files FFmpeg writes for the library appear whole or not at all.

`atomic_output(dest)` hands out a temporary path beside `dest`; the block that fills it ending
well renames it over `dest` (after an fsync, so a power cut leaves the old file or the new one),
and any failure or cancellation removes it, leaving `dest` as it was. Imports nothing from the
project.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path


@contextlib.asynccontextmanager
async def atomic_output(dest: Path) -> AsyncIterator[Path]:
    """A temporary path beside `dest`, moved to `dest` when the block ends without error."""
    temp = dest.with_name(f".{dest.stem}.{secrets.token_hex(6)}.part{dest.suffix}")
    try:
        yield temp
        await asyncio.to_thread(_flush, temp)
        # The rename itself runs here, not in a thread: a cancellation that arrives after it
        # could not take it back, and a cancelled caller must find nothing at dest.
        os.replace(temp, dest)
    finally:
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)


def durable_replace(source: Path, dest: Path) -> None:
    """Move a finished file (written by FFmpeg into staging) to `dest` after an fsync, so a power
    cut after the rename can never leave an empty or torn file under the library's name."""
    _flush(source)
    os.replace(source, dest)


def has_content(path: Path) -> bool:
    """A file exists at `path` and is not empty."""
    try:
        return path.stat().st_size > 0
    except OSError:
        return False


def _flush(path: Path) -> None:
    with path.open("rb+") as file:
        os.fsync(file.fileno())
