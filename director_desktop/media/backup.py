"""Back up everything into one archive, and merge an archive back: both as jobs (PROTOCOL 7).

An archive is a zip file in `<data dir>/archives/`:

    manifest.json          {"format": "director-desktop/backup", "version": 1, created_at,
                            app_version, media_files: bool, counts: {...}}
    chats/<session>.json   each chat as its session export (docs/export-format.md, version 2)
    settings.json          the user's settings with every key or token left out (`without_secrets`)
    media/index.json       the library's index: {"collections": [...], "assets": [...]}
    media/files/<asset>/<name>   each asset's file, when the user asked for the media files

Never in an archive: `secrets.json` (API keys and hub tokens live there, or in the keyring), the
launch token, any settings key whose name says key, token, secret or password.

A backup is written into the job's staging folder and moved into `archives/` only once complete,
so a cancelled or failed backup leaves no partial archive. A restore adds and never replaces: a
chat whose id is already here stays as it is; a settings key already set stays; each media file
goes through the library's own import (into the collection of the same id, else of the same name,
else a new one), which keeps the asset already holding the same bytes. A cancelled restore keeps
what it merged so far, each chat and each file whole.

It sits in the media room because it reads and imports through the media library; it also uses
the store's chat export/import, the jobs, and the settings file. Imports `jobs`, `store`,
`protocol`, `errors`, `json_file`, `user_settings` and the room's own library.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any, Final, Literal, TypedDict

from director_desktop import version
from director_desktop.errors import (
    Conflict,
    DiskFull,
    InvalidPayload,
    NotABackup,
    NotFound,
    is_disk_full,
)
from director_desktop.jobs import JobContext
from director_desktop.json_file import read_object
from director_desktop.media.library import MediaLibrary
from director_desktop.protocol import Collection, JobInfo, JobResult, JSONDict, now_iso
from director_desktop.protocol.types import BackupArchive
from director_desktop.store import AssetKind, AssetRecord, Store
from director_desktop.user_settings import UserSettings

FORMAT: Final = "director-desktop/backup"
VERSION: Final = 1
ARCHIVE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.zip$")
SECRET_KEY = re.compile(r"key|token|secret|password|passwd|credential", re.IGNORECASE)
MAX_JSON_ENTRY = 256 * 1024 * 1024  # one chat's export read back; a larger entry is refused
CHUNK = 1024 * 1024


class Counts(TypedDict):
    chats: int
    assets: int
    files: int
    """Media files in the archive (none unless the user asked for them)."""


class Manifest(TypedDict):
    """`manifest.json`: what the archive is and what is in it."""

    format: Literal["director-desktop/backup"]
    version: Literal[1]
    created_at: str
    app_version: str
    media_files: bool
    counts: Counts


class AssetEntry(TypedDict):
    """An asset of `media/index.json`: its row, and its file's member (None: not archived)."""

    id: str
    collection_id: str
    kind: AssetKind
    name: str
    description: str
    sha256: str
    size: int
    mime: str
    length: float
    created_at: int
    file: str | None


class MediaIndex(TypedDict):
    """`media/index.json`: the library's collections and assets."""

    collections: list[Collection]
    assets: list[AssetEntry]


@dataclass(frozen=True)
class ArchiveInfo:
    name: str
    size: int
    created_at: int

    def as_dict(self) -> BackupArchive:
        return {"name": self.name, "size": self.size, "created_at": self.created_at}


def without_secrets(value: Any) -> Any:
    """`value` with every mapping key that names a key, token, secret or password left out, at
    any depth (settings.json holds none today; a key added later must not leak either)."""
    if isinstance(value, dict):
        return {k: without_secrets(v) for k, v in value.items() if not SECRET_KEY.search(str(k))}
    if isinstance(value, list):
        return [without_secrets(v) for v in value]
    return value


def check_archive_name(name: str) -> str:
    if not ARCHIVE_NAME.fullmatch(name):
        raise InvalidPayload("an archive name is letters, digits, '.', '_' or '-', ending .zip")
    return name


def _asset_entry(asset: AssetRecord, file: str | None) -> AssetEntry:
    return {
        "id": asset.id,
        "collection_id": asset.collection_id,
        "kind": asset.kind,
        "name": asset.name,
        "description": asset.description,
        "sha256": asset.sha256,
        "size": asset.size,
        "mime": asset.mime,
        "length": asset.length,
        "created_at": asset.created_at,
        "file": file,
    }


def _safe_member(name: str) -> str:
    """A zip member name usable inside the archive's layout: relative, no `..`."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or "\\" in name:
        raise NotABackup(f"the archive holds an unsafe path {name!r}")
    return name


class Backups:
    """The archives folder, and the backup and restore jobs over the store and the library."""

    def __init__(
        self, store: Store, library: MediaLibrary, settings_file: Path, archives_dir: Path
    ) -> None:
        self._store = store
        self._library = library
        self._settings_file = settings_file
        self._dir = archives_dir

    # --- the folder ----------------------------------------------------------------------------
    def path_of(self, name: str) -> Path:
        path = self._dir / check_archive_name(name)
        if not path.is_file():
            raise NotFound(f"no archive {name!r}")
        return path

    async def list(self) -> list[BackupArchive]:
        def read() -> list[ArchiveInfo]:
            if not self._dir.is_dir():
                return []
            found = []
            for path in self._dir.iterdir():
                if ARCHIVE_NAME.fullmatch(path.name) and path.is_file():
                    stat = path.stat()
                    found.append(ArchiveInfo(path.name, stat.st_size, int(stat.st_mtime)))
            return sorted(found, key=lambda a: (a.created_at, a.name), reverse=True)

        return [a.as_dict() for a in await asyncio.to_thread(read)]

    async def receive(self, name: str, chunks: AsyncIterator[bytes]) -> BackupArchive:
        """An archive the user uploads (to restore it): written beside the folder, checked to
        be a backup, then moved in. A name already there is refused (`conflict`)."""
        check_archive_name(name)
        target = self._dir / name
        if target.exists():
            raise Conflict(f"an archive named {name!r} is already here")
        await asyncio.to_thread(self._dir.mkdir, parents=True, exist_ok=True)
        partial = self._dir / f".{name}.partial"
        try:
            try:  # around the `with`: a full disk may first show when the file is flushed
                with partial.open("wb") as out:
                    async for chunk in chunks:
                        await asyncio.to_thread(out.write, chunk)
            except OSError as exc:
                if is_disk_full(exc):
                    raise DiskFull("the disk is full: the archive was not kept") from exc
                raise
            await asyncio.to_thread(check_backup, partial)
            await asyncio.to_thread(partial.replace, target)
        finally:
            partial.unlink(missing_ok=True)
        stat = target.stat()
        return ArchiveInfo(name, stat.st_size, int(stat.st_mtime)).as_dict()

    # --- backup --------------------------------------------------------------------------------
    async def start_backup(self, *, media_files: bool) -> JobInfo:
        name = f"director-backup-{now_iso()[:19].replace(':', '').replace('-', '')}.zip"

        async def work(ctx: JobContext) -> JobResult:
            staged = ctx.staging("backup.zip")
            await self._write(ctx, staged, media_files=media_files)
            ctx.check()
            await asyncio.to_thread(self._dir.mkdir, parents=True, exist_ok=True)
            target = self._dir / _free_name(self._dir, name)
            await asyncio.to_thread(shutil.move, staged, target)
            return {"archive": target.name}

        return await self._library.jobs.start("backup", "Back up everything", work)

    async def _write(self, ctx: JobContext, path: Path, *, media_files: bool) -> None:
        sessions = await self._store.list_sessions()
        collections = await self._library.collections()
        assets: list[AssetRecord] = []
        for collection in collections:
            assets += (await self._store.media.assets(collection.id)).assets
        files = {a.id for a in assets if media_files and not self._library.missing(a)}
        steps = max(1, len(sessions) + len(files))
        done = 0
        settings = without_secrets(await asyncio.to_thread(read_object, self._settings_file))
        archive = await asyncio.to_thread(zipfile.ZipFile, path, "w", zipfile.ZIP_DEFLATED)
        try:
            for session in sessions:
                ctx.check()
                doc = await self._store.export_session(session["session_id"])
                text = json.dumps(doc, ensure_ascii=False)
                member = f"chats/{session['session_id']}.json"
                await asyncio.to_thread(archive.writestr, member, text)
                done += 1
                ctx.progress(done / steps, f"Chats: {done} of {len(sessions)}")
            index: list[AssetEntry] = []
            for asset in assets:
                stored: str | None = None
                if asset.id in files:
                    ctx.check()
                    stored = f"media/files/{asset.id}/{_file_name(asset)}"
                    ctx.progress(done / steps, f"Copying {asset.name}")
                    source = self._library.file_of(asset)
                    await asyncio.to_thread(_write_file, archive, source, stored, ctx)
                    done += 1
                    ctx.progress(
                        done / steps, f"Media files: {done - len(sessions)} of {len(files)}"
                    )
                index.append(_asset_entry(asset, stored))
            media_index: MediaIndex = {
                "collections": [
                    {"id": c.id, "name": c.name, "description": c.description} for c in collections
                ],
                "assets": index,
            }
            await asyncio.to_thread(archive.writestr, "media/index.json", json.dumps(media_index))
            await asyncio.to_thread(archive.writestr, "settings.json", json.dumps(settings))
            manifest: Manifest = {
                "format": FORMAT,
                "version": VERSION,
                "created_at": now_iso(),
                "app_version": version(),
                "media_files": media_files,
                "counts": {"chats": len(sessions), "assets": len(assets), "files": len(files)},
            }
            await asyncio.to_thread(archive.writestr, "manifest.json", json.dumps(manifest))
        finally:
            await asyncio.to_thread(archive.close)

    # --- restore -------------------------------------------------------------------------------
    async def start_restore(self, name: str) -> JobInfo:
        path = self.path_of(name)
        await asyncio.to_thread(check_backup, path)  # not_a_backup before a job starts

        async def work(ctx: JobContext) -> JobResult:
            return {"restored": await self._restore(ctx, path)}

        return await self._library.jobs.start("restore", f"Restore {name}", work)

    async def _restore(self, ctx: JobContext, path: Path) -> dict[str, int]:
        counts = {
            "chats": 0,
            "chats_already_here": 0,
            "settings": 0,
            "media_files": 0,
            "media_already_here": 0,
        }
        archive = await asyncio.to_thread(zipfile.ZipFile, path)
        try:
            names = [_safe_member(n) for n in archive.namelist()]
            chats = [n for n in names if n.startswith("chats/") and n.endswith(".json")]
            index = _read_json(archive, "media/index.json") if "media/index.json" in names else {}
            entries = [a for a in index.get("assets", []) if isinstance(a, dict) and a.get("file")]
            steps = max(1, len(chats) + len(entries))
            for n, member in enumerate(chats, 1):
                ctx.check()
                doc = await asyncio.to_thread(_read_json, archive, member)
                session = doc.get("session") if isinstance(doc, dict) else None
                sid = session.get("session_id") if isinstance(session, dict) else None
                if isinstance(sid, str) and await self._store.get_session(sid) is not None:
                    counts["chats_already_here"] += 1
                else:
                    await self._store.import_session(doc)
                    counts["chats"] += 1
                ctx.progress(n / steps, f"Chats: {n} of {len(chats)}")
            if "settings.json" in names:
                counts["settings"] = await self._merge_settings(
                    await asyncio.to_thread(_read_json, archive, "settings.json")
                )
            collections = {
                str(c.get("id")): c for c in index.get("collections", []) if isinstance(c, dict)
            }
            for n, entry in enumerate(entries, 1):
                ctx.check()
                member = _safe_member(str(entry["file"]))
                if member not in names:
                    raise NotABackup(f"the archive's index names {member!r}, which it lacks")
                cid = await self._collection_for(collections.get(str(entry.get("collection_id"))))
                imported = await self._library.import_upload(
                    _member_chunks(archive, member),
                    name=str(entry.get("name") or PurePosixPath(member).name),
                    collection_id=cid,
                    size=archive.getinfo(member).file_size,
                )
                counts["media_already_here" if imported.duplicate else "media_files"] += 1
                ctx.progress((len(chats) + n) / steps, f"Media files: {n} of {len(entries)}")
        finally:
            await asyncio.to_thread(archive.close)
        return counts

    async def _merge_settings(self, saved: object) -> int:
        """Settings keys the archive has and this app has not: added; the others stay."""
        if not isinstance(saved, dict):
            return 0
        clean = without_secrets(saved)
        current = await asyncio.to_thread(read_object, self._settings_file)
        missing = {k: v for k, v in clean.items() if k not in current and v is not None}
        if missing:
            await asyncio.to_thread(UserSettings(self._settings_file).update, **missing)
        return len(missing)

    async def _collection_for(self, saved: JSONDict | None) -> str:
        """The collection a restored file goes into: the same id when it is here, else the
        same name, else a new collection with the archived name."""
        if saved is None:
            return "default"
        here = await self._library.collections()
        for collection in here:
            if collection.id == saved.get("id"):
                return collection.id
        for collection in here:
            if collection.name == saved.get("name"):
                return collection.id
        made = await self._library.create_collection(
            str(saved.get("name") or "Restored"), str(saved.get("description") or "")
        )
        return made.id


def check_backup(path: Path) -> None:
    """`not_a_backup` for a file that is not a backup made by this app: not a zip, an unsafe
    member, no manifest, or one of another format or version."""
    try:
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                _safe_member(name)
            manifest = _read_json(archive, "manifest.json")
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise NotABackup("the file is not a backup made by this app") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise NotABackup("the file is not a backup made by this app")
    if manifest.get("version") != VERSION:
        raise NotABackup(f"backup format version {manifest.get('version')!r} is not known here")


def _read_json(archive: zipfile.ZipFile, member: str) -> Any:
    info = archive.getinfo(member)
    if info.file_size > MAX_JSON_ENTRY:
        raise NotABackup(f"{member} is too large")
    try:
        return json.loads(archive.read(member))
    except ValueError as exc:
        raise NotABackup(f"{member} is not valid JSON") from exc


async def _member_chunks(archive: zipfile.ZipFile, member: str) -> AsyncIterator[bytes]:
    source: IO[bytes] = await asyncio.to_thread(archive.open, member)
    try:
        while chunk := await asyncio.to_thread(source.read, CHUNK):
            yield chunk
    finally:
        source.close()


def _write_file(archive: zipfile.ZipFile, source: Path, member: str, ctx: JobContext) -> None:
    # Media is compressed already: stored, not deflated. Copied in pieces so a cancel lands soon.
    info = zipfile.ZipInfo.from_file(source, member)
    info.compress_type = zipfile.ZIP_STORED
    with source.open("rb") as src, archive.open(info, "w", force_zip64=True) as dst:
        while chunk := src.read(CHUNK):
            ctx.check()
            dst.write(chunk)


def _file_name(asset: AssetRecord) -> str:
    name = re.sub(r"[^A-Za-z0-9._ -]+", "_", asset.name).strip(" .") or "file"
    return name[:120]


def _free_name(folder: Path, name: str) -> str:
    stem, n = name.removesuffix(".zip"), 1
    while (folder / name).exists():
        n += 1
        name = f"{stem}-{n}.zip"
    return name
