"""One import, from the first byte to the stored asset (PROTOCOL 6 and 7), run as a job's work.

The order makes a kill at any point harmless: bytes go to the job's staging folder (SHA-256
computed in the same pass), the file is probed and given a thumbnail there, then moved into
`<media>/<asset id>/` and the asset row is inserted last. Before the row exists nothing reads
that folder, and the job's cleanup removes it on a failure or cancel; a folder left by a kill
between the move and the insert has no row and is removed by `MediaLibrary.open()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import shutil
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from director_desktop.errors import DiskFull, TooLarge, is_disk_full
from director_desktop.jobs import JobContext
from director_desktop.media.ffmpeg import Ffmpeg
from director_desktop.media.files import durable_replace
from director_desktop.media.playable import make_playable, plan, playable_suffix
from director_desktop.media.probe import Probe, mime_of, probe
from director_desktop.media.thumbnail import make_thumbnail
from director_desktop.store import AssetRecord, Store, new_media_id

CHUNK = 1024 * 1024
FREE_MARGIN = 64 * 1024 * 1024
"""Space kept free beyond the file itself: the database and the logs must still be writable."""
ORIGINAL = "original"
THUMBNAIL = "thumbnail.jpg"


@dataclass(frozen=True)
class Staged:
    """Bytes in staging: where, how many, and their SHA-256."""

    path: Path
    size: int
    sha256: str


@dataclass(frozen=True)
class Imported:
    asset: AssetRecord
    duplicate: bool


def check_free_space(folder: Path, size: int) -> None:
    """`disk_full` unless `size` bytes (and a margin) fit on the disk holding `folder`."""
    probe_at = folder
    while not probe_at.exists() and probe_at != probe_at.parent:
        probe_at = probe_at.parent
    free = shutil.disk_usage(probe_at).free
    if size + FREE_MARGIN > free:
        raise DiskFull(
            f"not enough free space: the file needs {readable(size)} and {readable(free)} is free"
        )


def readable(size: int) -> str:
    """`812 KB`, `3.4 MB`, `1.2 GB`: sizes as people read them (decimal units, as file
    managers show them)."""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit in ("bytes", "KB") else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")  # pragma: no cover


class Sink:
    """Writes chunks to a staging file, hashing them in the same pass, off the event loop.

    Each piece is hashed and written at once, in two threads (both let go of the GIL), while
    the caller fetches the next piece: one piece is in flight at a time, so both keep their
    order. Serially the copy ran at ~0.4 of the hash's speed; this way it runs near it.
    """

    def __init__(self, path: Path, *, limit: int, ctx: JobContext, total: int | None) -> None:
        self.path = path
        self._limit = limit
        self._ctx = ctx
        self._total = total
        self._hash = hashlib.sha256()
        self._file: BinaryIO | None = None
        self._pending: asyncio.Task[None] | None = None
        self.size = 0

    async def write(self, data: bytes) -> None:
        if self.size + len(data) > self._limit:
            raise TooLarge(f"the file is larger than the upload limit of {readable(self._limit)}")
        self._ctx.check()
        await self._settle()
        self._pending = asyncio.create_task(self._put(data), name=f"staging {self.path.name}")
        self.size += len(data)
        fraction = self.size / self._total if self._total else None
        self._ctx.progress(fraction, f"{readable(self.size)} copied")

    async def _put(self, data: bytes) -> None:
        await asyncio.gather(
            asyncio.to_thread(self._hash.update, data), asyncio.to_thread(self._write, data)
        )

    async def _settle(self) -> None:
        """Wait for the piece in flight; raises what writing it raised. Shielded: a cancelled
        caller leaves the piece to finish (its threads cannot be stopped) for `abandon`."""
        if self._pending is not None:
            await asyncio.shield(self._pending)
            self._pending = None

    def _write(self, data: bytes) -> None:
        try:  # creating the file can meet a full disk too
            if self._file is None:
                self._file = self.path.open("wb")
            self._file.write(data)
        except OSError as exc:
            raise _translated(exc) from exc

    async def finish(self) -> Staged:
        await self._settle()
        await asyncio.to_thread(self._close, True)
        return Staged(self.path, self.size, self._hash.hexdigest())

    def _close(self, sync: bool) -> None:
        if self._file is None:
            self.path.touch()
            return
        try:
            self._file.flush()
            if sync:
                os.fsync(self._file.fileno())
        except OSError as exc:
            raise _translated(exc) from exc
        finally:
            self._file.close()

    async def abandon(self) -> None:
        """Stop: let the piece in flight end (nothing may write once the job's folder is being
        removed), then close the file."""
        pending, self._pending = self._pending, None
        if pending is not None:
            await asyncio.wait({pending})
            if not pending.cancelled():
                pending.exception()  # seen: what failed is already being raised
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()


def _translated(exc: OSError) -> Exception:
    if is_disk_full(exc):
        return DiskFull("the disk filled up while copying: nothing was kept")
    return exc


async def stage_stream(
    chunks: AsyncIterator[bytes], ctx: JobContext, *, limit: int, total: int | None
) -> Staged:
    """Copy a stream of chunks into staging, hashing as it goes; writes pieces of >= 1 MiB."""
    sink = Sink(ctx.staging(ORIGINAL), limit=limit, ctx=ctx, total=total)
    buffer = bytearray()
    try:
        async for chunk in chunks:
            if not buffer and len(chunk) >= CHUNK:
                await sink.write(bytes(chunk))  # a whole piece already (no copy of a bytes)
                continue
            buffer += chunk
            if len(buffer) >= CHUNK:
                await sink.write(bytes(buffer))
                buffer.clear()
        if buffer:
            await sink.write(bytes(buffer))
        return await sink.finish()
    except BaseException:
        await sink.abandon()
        raise


async def stage_file(source: Path, ctx: JobContext, *, limit: int) -> Staged:
    """Copy a file on this machine into staging, hashing in the same pass."""
    size = (await asyncio.to_thread(source.stat)).st_size
    if size > limit:
        raise TooLarge(f"the file is larger than the upload limit of {readable(limit)}")

    async def chunks() -> AsyncIterator[bytes]:
        with source.open("rb") as handle:
            while data := await asyncio.to_thread(handle.read, 8 * CHUNK):
                yield data

    return await stage_stream(chunks(), ctx, limit=limit, total=size)


async def hash_in_place(source: Path, ctx: JobContext) -> Staged:
    """A file the library references where it is: only read, for its SHA-256."""
    total = (await asyncio.to_thread(source.stat)).st_size

    def digest() -> Staged:
        sha, done = hashlib.sha256(), 0
        with source.open("rb") as handle:
            while data := handle.read(8 * CHUNK):
                ctx.check()
                sha.update(data)
                done += len(data)
                ctx.progress(done / total if total else None, f"{readable(done)} read")
        return Staged(source, done, sha.hexdigest())

    return await asyncio.to_thread(digest)


class Importer:
    """Turns staged bytes into a stored asset (or finds the same bytes already stored)."""

    def __init__(self, store: Store, ffmpeg: Ffmpeg, media_dir: Path) -> None:
        self._store = store
        self._ffmpeg = ffmpeg
        self._media_dir = media_dir

    async def commit(
        self,
        staged: Staged,
        ctx: JobContext,
        *,
        name: str,
        collection_id: str,
        owned: bool,
        after_insert: Callable[[AssetRecord], None] | None = None,
    ) -> Imported:
        existing = await self._store.media.by_sha256(collection_id, staged.sha256)
        if existing is not None:
            return Imported(existing, duplicate=True)
        ctx.progress(None, "Checking the file")
        found = await probe(self._ffmpeg, staged.path)
        asset_id = new_media_id()
        folder = self._media_dir / asset_id
        ctx.on_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
        thumbnail = await self._thumbnail(staged.path, found, ctx)
        remuxed = await self._remux(staged.path, found, ctx)
        await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
        record = AssetRecord(
            id=asset_id,
            collection_id=collection_id,
            kind=found.kind,
            name=name,
            sha256=staged.sha256,
            size=staged.size,
            owned=owned,
            path=str(staged.path),
            mime=mime_of(found),
            length=found.duration if found.kind != "image" else 0.0,
            probe=found.to_json(),
        )
        if owned:
            original = folder / f"{ORIGINAL}{_suffix(name, found)}"
            await asyncio.to_thread(os.replace, staged.path, original)
            record = replace(record, path=original.relative_to(self._media_dir).as_posix())
        if thumbnail is not None:
            await asyncio.to_thread(durable_replace, thumbnail, folder / THUMBNAIL)
            record = replace(record, thumbnail=f"{asset_id}/{THUMBNAIL}")
        if remuxed is not None:
            target = folder / f"playable{playable_suffix(found)}"
            await asyncio.to_thread(durable_replace, remuxed, target)
            record = replace(record, playable=target.relative_to(self._media_dir).as_posix())
        stored, new = await self._store.media.insert(record)
        if not new:  # the same bytes landed meanwhile through another import
            await asyncio.to_thread(shutil.rmtree, folder, True)
            return Imported(stored, duplicate=True)
        if after_insert is not None:
            after_insert(stored)
        return Imported(stored, duplicate=False)

    async def _thumbnail(self, source: Path, found: Probe, ctx: JobContext) -> Path | None:
        ctx.progress(None, "Making a thumbnail")
        return await make_thumbnail(self._ffmpeg, source, found, ctx.staging(THUMBNAIL))

    async def _remux(self, source: Path, found: Probe, ctx: JobContext) -> Path | None:
        """A playable copy when only the container is wrong: fast, so part of the import."""
        if plan(found) != "remux":
            return None
        ctx.progress(None, "Making a playable copy")
        dest = ctx.staging(f"playable{playable_suffix(found)}")
        return await make_playable(
            self._ffmpeg, source, found, dest, lambda f: ctx.progress(f, "Making a playable copy")
        )


def _suffix(name: str, found: Probe) -> str:
    """The original's extension: the user's, when it is a plain one; else one for its kind. Only
    for people browsing the folder: what is served is decided by the probe."""
    suffix = Path(name).suffix.lower()
    if 2 <= len(suffix) <= 6 and suffix[1:].isalnum():
        return suffix
    return {"video": ".mp4", "audio": ".m4a", "image": ".img"}[found.kind]
