"""MediaLibrary: the user's collections and their videos, audio and images (PROTOCOL 6), offline.

Everything reaches a file through an asset id and `file_of`/`served_file`, which refuse paths
that leave the media folder (`..`, symlinks out of it). Imports are jobs (`media.importer`), so
every window sees their progress and any can cancel; a video the window cannot play gets a
playable copy (remuxed within the import, or transcoded by a job of its own). Changes the UI
lists are announced through `announce`, which web hands in. A link's download is
`downloads.py`'s, the user's media settings `limits.py`'s.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path, PurePosixPath

from director_desktop.errors import (
    DirectorError,
    InvalidPayload,
    NotFound,
)
from director_desktop.jobs import JobContext, Jobs
from director_desktop.media.downloads import (
    checked_url,
    content_length,
    name_from_url,
    open_url,
    read_all,
    refuse_pages,
)
from director_desktop.media.ffmpeg import Ffmpeg
from director_desktop.media.importer import (
    Imported,
    Importer,
    Staged,
    check_free_space,
    hash_in_place,
    stage_file,
    stage_stream,
)
from director_desktop.media.limits import UploadLimit as UploadLimit
from director_desktop.media.playable import make_playable, plan, playable_mime, playable_suffix
from director_desktop.media.probe import Probe
from director_desktop.protocol import FfmpegStatus, JobInfo, JobResult, MediaStatus, UpdateEvent
from director_desktop.store import (
    AssetKind,
    AssetPage,
    AssetRecord,
    CollectionRecord,
    Store,
)

log = logging.getLogger(__name__)

Announce = Callable[[UpdateEvent], Awaitable[None]]
AfterImport = Callable[[AssetRecord], Awaitable[None]]


class MediaLibrary:
    def __init__(
        self,
        store: Store,
        jobs: Jobs,
        ffmpeg: Ffmpeg,
        *,
        media_dir: Path,
        limit: UploadLimit,
        announce: Announce | None = None,
        after_import: AfterImport | None = None,
    ) -> None:
        self._store = store
        self.jobs = jobs
        self._ffmpeg = ffmpeg
        self.media_dir = media_dir
        self.limit = limit
        self._announce = announce
        self._after_import_hook = after_import
        self._importer = Importer(store, ffmpeg, media_dir)
        self._transcodes: set[asyncio.Task[JobInfo]] = set()

    @property
    def store(self) -> Store:
        """The store the library keeps its records in (the media index keeps its own there)."""
        return self._store

    @property
    def ffmpeg(self) -> Ffmpeg:
        """The FFmpeg the library runs; agents that make new files run the same one."""
        return self._ffmpeg

    def attach(self, announce: Announce) -> None:
        """Announce list changes through `announce` from now on (the web's Publisher)."""
        self._announce = announce

    def attach_after_import(self, hook: AfterImport | None) -> None:
        """Call `hook` with each new video or audio an import adds (not a duplicate, not a file
        an agent made), from within the import job (the composition root: index it)."""
        self._after_import_hook = hook

    async def open(self) -> None:
        """Remove asset folders no row names (a kill between an import's move and its insert)."""
        folders = await asyncio.to_thread(_folders, self.media_dir)
        for name in folders:
            if await self._store.media.get(name) is None:
                log.info("removing an asset folder with no asset", extra={"asset_id": name})
                await asyncio.to_thread(shutil.rmtree, self.media_dir / name, True)

    # --- collections -------------------------------------------------------------------------
    async def collections(self) -> list[CollectionRecord]:
        return await self._store.media.collections()

    async def collection(self, collection_id: str) -> CollectionRecord:
        found = await self._store.media.collection(collection_id)
        if found is None:
            raise NotFound("no such collection")
        return found

    async def create_collection(self, name: str, description: str) -> CollectionRecord:
        created = await self._store.media.create_collection(name, description)
        await self._changed("collections")
        return created

    async def delete_collection(self, collection_id: str) -> None:
        await self._store.media.delete_collection(collection_id)
        await self._changed("collections")

    # --- assets --------------------------------------------------------------------------------
    async def assets(
        self,
        collection_id: str,
        kind: AssetKind | None,
        *,
        q: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> AssetPage:
        await self.collection(collection_id)
        return await self._store.media.assets(
            collection_id, kind=kind, q=q, limit=limit, cursor=cursor
        )

    async def asset(
        self, asset_id: str, *, collection_id: str | None = None, kind: AssetKind | None = None
    ) -> AssetRecord:
        """The asset, refused (`not_found`) when it is in another collection or of another kind
        than the route names: an id is no key to another collection's files."""
        found = await self._store.media.get(asset_id)
        if found is None or (collection_id is not None and found.collection_id != collection_id):
            raise NotFound("no such asset in this collection")
        if kind is not None and found.kind != kind:
            raise NotFound(f"no such {kind} in this collection")
        return found

    async def delete_asset(self, asset: AssetRecord) -> None:
        """Forget the asset; its folder goes too (the original only when the library owns it:
        a file referenced in place is never deleted)."""
        await self._store.media.delete(asset.id)
        await asyncio.to_thread(shutil.rmtree, self.media_dir / asset.id, True)
        await self._changed("videos", asset.collection_id)

    def missing(self, asset: AssetRecord) -> bool:
        """The asset's file is gone (a file referenced in place that was moved or deleted)."""
        try:
            return not self.file_of(asset).is_file()
        except NotFound:
            return True

    def file_of(self, asset: AssetRecord) -> Path:
        """The asset's original. Owned files must resolve inside the media folder: a path with
        `..` or a symlink out of it is refused, whatever the database says."""
        if asset.owned:
            return self._inside(asset.path)
        return Path(asset.path)

    def served_file(self, asset: AssetRecord) -> tuple[Path, str]:
        """What `GET /media/{id}` serves: the playable copy when there is one, and its type."""
        if asset.playable:
            probe = Probe.from_json(asset.probe)
            return self._inside(asset.playable), playable_mime(probe)
        return self.file_of(asset), asset.mime

    def thumbnail_file(self, asset: AssetRecord) -> Path:
        if not asset.thumbnail:
            raise NotFound("this asset has no thumbnail")
        return self._inside(asset.thumbnail)

    def _inside(self, relative: str) -> Path:
        root = self.media_dir.resolve()
        path = (root / PurePosixPath(relative)).resolve()
        if not path.is_relative_to(root):
            raise NotFound("the asset's file is outside the media folder")
        return path

    # --- imports -------------------------------------------------------------------------------
    async def import_upload(
        self, chunks: AsyncIterator[bytes], *, name: str, collection_id: str, size: int | None
    ) -> Imported:
        """An upload, as a job from its first byte; answers once the asset is probed and has its
        thumbnail. Cancelling the caller (the client went away) cancels the job."""
        await self.collection(collection_id)
        limit = self.limit.get()

        async def work(ctx: JobContext) -> JobResult:
            if size is not None:
                check_free_space(self.media_dir, size)
            staged = await stage_stream(chunks, ctx, limit=limit, total=size)
            return await self._commit(staged_name=name, ctx=ctx, staged=staged, cid=collection_id)

        return await self._run_import(name, work)

    async def import_url(self, url: str, *, collection_id: str) -> Imported:
        """A plain http(s) file, downloaded as an import job."""
        parsed = checked_url(url)
        await self.collection(collection_id)
        limit = self.limit.get()
        name = name_from_url(parsed) or "download"

        async def work(ctx: JobContext) -> JobResult:
            ctx.progress(None, "Connecting")
            response = await asyncio.to_thread(open_url, url)
            try:
                refuse_pages(response.headers)
                total = content_length(response.headers)
                if total is not None:
                    check_free_space(self.media_dir, total)
                staged = await stage_stream(read_all(response), ctx, limit=limit, total=total)
            finally:
                response.close()
            return await self._commit(staged_name=name, ctx=ctx, staged=staged, cid=collection_id)

        return await self._run_import(name, work)

    async def import_path(self, path: Path, *, collection_id: str, reference: bool) -> JobInfo:
        """A file on this machine the user picked: copied into the library, or referenced where
        it is. Starts the job and answers it at once (the page follows it through job events)."""
        await self.collection(collection_id)
        if not path.is_absolute() or not await asyncio.to_thread(path.is_file):
            raise NotFound("no such file (choose one with the file dialog)")
        limit = self.limit.get()

        async def work(ctx: JobContext) -> JobResult:
            if reference:
                staged = await hash_in_place(path, ctx)
                imported = await self._importer.commit(
                    staged, ctx, name=path.name, collection_id=collection_id, owned=False
                )
            else:
                check_free_space(self.media_dir, (await asyncio.to_thread(path.stat)).st_size)
                staged = await stage_file(path, ctx, limit=limit)
                return await self._commit(
                    staged_name=path.name, ctx=ctx, staged=staged, cid=collection_id
                )
            return await self._after_import(imported, by_import=True)

        return await self.jobs.start("import", path.name, work)

    async def add_made(
        self, path: Path, *, name: str, collection_id: str, ctx: JobContext
    ) -> AssetRecord:
        """A file a job made in its staging folder (a frame, a clip, an edit) as a new asset the
        library owns: probed, given a thumbnail, moved in, announced, like an import. The same
        bytes already in the collection answer that asset. `name` ends with the file's suffix."""
        if not await asyncio.to_thread(_made_in, path, ctx.folder):
            raise InvalidPayload("only a file made in the job's staging folder becomes an asset")
        await self.collection(collection_id)
        staged = await hash_in_place(path, ctx)
        imported = await self._importer.commit(
            staged, ctx, name=name, collection_id=collection_id, owned=True
        )
        await self._after_import(imported)
        return imported.asset

    async def _commit(
        self, *, staged_name: str, ctx: JobContext, staged: Staged, cid: str
    ) -> JobResult:
        imported = await self._importer.commit(
            staged, ctx, name=staged_name, collection_id=cid, owned=True
        )
        return await self._after_import(imported, by_import=True)

    async def _after_import(self, imported: Imported, *, by_import: bool = False) -> JobResult:
        if not imported.duplicate:
            await self._changed("videos", imported.asset.collection_id)
            self._make_playable_later(imported.asset)
            if by_import and imported.asset.kind != "image":
                await self._call_after_import(imported.asset)
        return {"asset_id": imported.asset.id, "duplicate": imported.duplicate}

    async def _call_after_import(self, asset: AssetRecord) -> None:
        """The hook's failure (the asset being indexed already, say) never fails the import."""
        if self._after_import_hook is None:
            return
        try:
            await self._after_import_hook(asset)
        except DirectorError as exc:
            log.warning(
                "the after-import step failed", extra={"asset_id": asset.id, "code": exc.code}
            )

    async def _run_import(
        self, name: str, work: Callable[[JobContext], Awaitable[JobResult]]
    ) -> Imported:
        job = await self.jobs.run("import", name, work)
        result = job["result"] or {}
        asset = await self.asset(str(result["asset_id"]))
        return Imported(asset, duplicate=bool(result.get("duplicate")))

    # --- playable copies -----------------------------------------------------------------------
    def _make_playable_later(self, asset: AssetRecord) -> None:
        if asset.playable or asset.kind == "image":
            return
        probe = Probe.from_json(asset.probe)
        if plan(probe) != "transcode":
            return
        task = asyncio.create_task(self._transcode(asset, probe), name=f"transcode {asset.id}")
        self._transcodes.add(task)
        task.add_done_callback(self._transcodes.discard)

    async def _transcode(self, asset: AssetRecord, probe: Probe) -> JobInfo:
        async def work(ctx: JobContext) -> JobResult:
            dest = ctx.staging(f"playable{playable_suffix(probe)}")
            made = await make_playable(
                self._ffmpeg,
                self.file_of(asset),
                probe,
                dest,
                lambda f: ctx.progress(f, "Making a version the window can play"),
            )
            if made is None:
                return {"asset_id": asset.id}
            target = self.media_dir / asset.id / f"playable{playable_suffix(probe)}"
            await asyncio.to_thread(os.replace, made, target)
            if await self._store.media.get(asset.id) is None:  # deleted meanwhile
                await asyncio.to_thread(target.unlink, True)
                return {"asset_id": asset.id}
            relative = target.relative_to(self.media_dir).as_posix()
            await self._store.media.update(asset.id, playable=relative)
            await self._changed("videos", asset.collection_id)
            return {"asset_id": asset.id}

        return await self.jobs.start("transcode", f"Making {asset.name} playable", work)

    async def close(self) -> None:
        for task in list(self._transcodes):
            task.cancel()
        await asyncio.gather(*self._transcodes, return_exceptions=True)

    # --- status --------------------------------------------------------------------------------
    async def status(self) -> MediaStatus:
        health = await self._ffmpeg.health()
        totals = await self._store.media.totals()
        ffmpeg: FfmpegStatus = {
            "ok": health.working,
            "version": health.version or None,
            "error": health.problem or None,
        }
        return {
            "ffmpeg": ffmpeg,
            "library": {"assets": totals.count, "bytes": totals.size},
            "max_upload_bytes": self.limit.get(),
            "index_on_import": self.limit.index_on_import(),
        }

    def usable(self) -> bool:
        """`videodb_configured`: the library can store files (its folder is writable, or can be
        made). FFmpeg's health is reported by `status`, so it never hides plain chat."""
        target = self.media_dir if self.media_dir.exists() else self.media_dir.parent
        return target.is_dir() and os.access(target, os.W_OK)

    async def _changed(self, update: str, collection_id: str | None = None) -> None:
        event: UpdateEvent = {"event_type": "update_data", "update": update}
        if collection_id is not None:
            event["collection_id"] = collection_id
        if self._announce is not None:
            await self._announce(event)


def _made_in(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def _folders(media_dir: Path) -> list[str]:
    try:
        return [entry.name for entry in os.scandir(media_dir) if entry.is_dir()]
    except FileNotFoundError:
        return []
