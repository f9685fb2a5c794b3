"""ModelLibrary: the GGUF files in `<data dir>/models/`, and importing new ones as jobs.

A file is imported by path (the native file dialog: copied, or linked when asked and the system
allows) or streamed in by an HTTP upload. Either way it is an `import` job (PROTOCOL 7): the bytes
go to the job's staging folder, its GGUF header is checked (and that the file holds all the
tensor data the header describes), and only then is it moved into place, so a half-copied or
foreign file never shows up as a model; a failed or cancelled import keeps nothing. Errors name
the user's file, never the staging file. The first version's Import objects
(`/config/models/imports...`) are views of those jobs.
Imports `gguf_info`, `errors`, `jobs` and `protocol` (the wire shapes); standard library otherwise.
"""

from __future__ import annotations

import asyncio
import builtins
import os
import re
import shutil
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from director_desktop.engine.llm.gguf_info import read_gguf_info
from director_desktop.errors import (
    DirectorError,
    DiskFull,
    InvalidPayload,
    ModelError,
    NotAvailable,
    NotFound,
    is_disk_full,
)
from director_desktop.jobs import JobContext, Jobs
from director_desktop.protocol import JobInfo, JobResult, ModelFile, ModelImport, WireErrorBody

SUFFIX = ".gguf"
DOWNLOAD_SUFFIXES = (".gguf", ".bin")  # GGUF models; whisper.cpp's ggml `.bin` files
CHUNK = 4 * 1024 * 1024
KIND = "import"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ ()+-]")


@dataclass
class ImportJob:
    """What an import job's Import view adds to the job: the file, the method, the bytes."""

    id: str
    file: str
    total: int | None
    done: int = 0
    method: str = "upload"

    def as_dict(self, job: JobInfo) -> ModelImport:
        """The Import of PROTOCOL's first version, read from its job."""
        state = {"done": "done", "error": "error", "cancelled": "error"}.get(
            job["status"], "running"
        )
        error: WireErrorBody | None = job["error"]
        if job["status"] == "cancelled":
            error = {"code": "cancelled", "message": "the import was cancelled"}
        progress = job["progress"]
        if progress is None and self.total:
            progress = min(self.done / self.total, 1.0)
        return {
            "id": self.id,
            "file": self.file,
            "method": self.method,
            "bytes": self.done,
            "total": self.total,
            "progress": 1.0 if state == "done" else progress,
            "state": state,
            "error": error,
        }


def safe_file_name(name: str) -> str:
    """A plain `.gguf` file name from what a client sent (no folders, no odd characters)."""
    base = _base_name(name)
    if not base.lower().endswith(SUFFIX):
        raise InvalidPayload("a model must be a .gguf file", code="not_gguf")
    clean = _SAFE_NAME.sub("_", base)
    if clean.startswith(".") or len(clean) > 200:
        raise InvalidPayload("that file name cannot be used for a model")
    return clean


def download_name(path: str) -> str:
    """The name a file downloaded from a hub repository gets in the models folder: its base
    name, a `.gguf` model or a whisper `.bin`."""
    base = _base_name(path)
    if not base.lower().endswith(DOWNLOAD_SUFFIXES):
        raise InvalidPayload(
            "only .gguf models (and whisper .bin files) can be downloaded", code="not_gguf"
        )
    clean = _SAFE_NAME.sub("_", base)
    if clean.startswith(".") or len(clean) > 200:
        raise InvalidPayload("that file name cannot be used for a model")
    return clean


class ModelLibrary:
    def __init__(self, models_dir: Path, jobs: Jobs | None = None) -> None:
        self.dir = models_dir
        self.imports: dict[str, ImportJob] = {}
        self._jobs = jobs
        self._names_lock = threading.Lock()

    def attach_jobs(self, jobs: Jobs) -> None:
        """The app's jobs (the web hands them in: the router is built before them)."""
        self._jobs = jobs

    @property
    def jobs(self) -> Jobs:
        if self._jobs is None:
            raise NotAvailable("model imports are not available")
        return self._jobs

    # --- listing -------------------------------------------------------------------------------
    def list(self) -> list[ModelFile]:
        """Every `.gguf` in the folder with size and context length (or why it cannot be read)."""
        if not self.dir.is_dir():
            return []
        models: list[ModelFile] = []
        for path in sorted(self.dir.iterdir(), key=lambda p: p.name.lower()):
            if path.name.startswith(".") or path.suffix.lower() != SUFFIX:
                continue
            entry: ModelFile = {"file": path.name, "linked": path.is_symlink()}
            try:
                info = read_gguf_info(path)
            except ModelError as exc:
                entry |= {"size": _size(path), "context_length": None, "error": exc.message}
            else:
                entry |= info.as_dict() | {"error": None}
            models.append(entry)
        return models

    def path_of(self, file: str) -> Path:
        """The path of a model in the folder; `not_found` for anything else."""
        name = safe_file_name(file)
        path = self.dir / name
        if name != file or not path.exists():
            raise NotFound(f"there is no model {file!r} in the models folder")
        return path

    def delete(self, file: str) -> None:
        self.path_of(file).unlink()

    def adopt(self, source: Path, name: str) -> Path:
        """Move a finished, checked file (a download's staging file) into the folder under a
        free name, in one rename, so the folder never shows it half-written. Across file
        systems it is copied to a hidden `.part` beside its final name first."""
        self.dir.mkdir(parents=True, exist_ok=True)
        part = self.dir / f".adopt-{uuid.uuid4().hex}.part"
        try:
            os.replace(source, part)
        except OSError:  # another file system (EXDEV): copy, then rename
            try:
                shutil.copyfile(source, part)
            except BaseException:
                part.unlink(missing_ok=True)
                raise
            source.unlink(missing_ok=True)
        with self._names_lock:
            final = self._destination(name)
            os.replace(part, final)
        return final

    # --- importing -----------------------------------------------------------------------------
    def record(self, job_id: str) -> ImportJob:
        try:
            return self.imports[job_id]
        except KeyError:
            raise NotFound("there is no such import") from None

    async def view(self, job_id: str) -> ModelImport:
        record = self.record(job_id)
        return record.as_dict(await self.jobs.get(job_id))

    async def views(self) -> builtins.list[ModelImport]:
        return [await self.view(job_id) for job_id in list(self.imports)]

    def _destination(self, name: str) -> Path:
        """A free name in the folder: `model.gguf`, then `model-2.gguf`, ..."""
        stem, suffix = os.path.splitext(name)
        candidate, n = self.dir / name, 2
        while candidate.exists():
            candidate, n = self.dir / f"{stem}-{n}{suffix}", n + 1
        return candidate

    def _finish(self, record: ImportJob, part: Path, label: str) -> JobResult:
        """Check the header of a finished staging file and move it into place. `label` is the
        user's name for the file: errors name it, never the staging file."""
        read_gguf_info(part, display_name=label)
        final = self.adopt(part, record.file)
        record.file = final.name
        return {"model": final.name}

    async def import_path(self, source: Path, *, link: bool = False) -> ModelImport:
        """Start copying (or linking) a `.gguf` from anywhere on disk as an import job; answers
        its Import at once (`running`, or `done` when linked)."""
        name, size = await asyncio.to_thread(self._check_source, source)
        record = ImportJob(id="", file=name, total=size, method="link" if link else "copy")

        async def work(ctx: JobContext) -> JobResult:
            if link and await asyncio.to_thread(self._try_link, record, source):
                return {"model": record.file}
            record.method = "copy"
            return await asyncio.to_thread(self._copy, record, source, ctx)

        info = await self.jobs.start(KIND, name, work)
        record.id = info["id"]
        self.imports[record.id] = record
        return record.as_dict(await self.jobs.get(record.id))

    def _check_source(self, source: Path) -> tuple[str, int]:
        name = safe_file_name(source.name)
        info = read_gguf_info(source)  # a clear error before anything is copied
        self.dir.mkdir(parents=True, exist_ok=True)
        return name, info.size

    def _try_link(self, record: ImportJob, source: Path) -> bool:
        with self._names_lock:
            final = self._destination(record.file)
            try:
                final.symlink_to(source.absolute())
            except OSError:  # e.g. Windows without the symlink privilege: copy instead
                return False
        record.file, record.done = final.name, record.total or 0
        return True

    def _copy(self, record: ImportJob, source: Path, ctx: JobContext) -> JobResult:
        part = ctx.staging("import.part")
        try:
            with source.open("rb") as src, part.open("wb") as dst:
                while chunk := src.read(CHUNK):
                    ctx.check()  # a cancel: the job removes its staging folder
                    dst.write(chunk)
                    record.done += len(chunk)
                    ctx.progress(_fraction(record), f"{_mb(record.done)} copied")
            shutil.copystat(source, part)
        except OSError as exc:
            raise _write_error(exc) from exc
        ctx.progress(1.0, "checking the file")
        return self._finish(record, part, source.name)

    async def upload(
        self,
        file_name: str,
        total: int | None,
        chunks: AsyncIterator[bytes],
        on_start: Callable[[str], None] = lambda _id: None,
    ) -> JobInfo:
        """An HTTP upload streamed into an import job; answers the job once it is `done`, raises
        its error otherwise (`import_incomplete` for a body shorter than `total`)."""
        name = safe_file_name(file_name)
        label = _base_name(file_name)
        self.dir.mkdir(parents=True, exist_ok=True)
        record = ImportJob(id="", file=name, total=total, method="upload")

        async def work(ctx: JobContext) -> JobResult:
            record.id = ctx.job_id
            self.imports[record.id] = record
            on_start(record.id)
            part = ctx.staging("upload.part")
            handle = await asyncio.to_thread(part.open, "wb")
            try:
                async for chunk in chunks:
                    try:
                        await asyncio.to_thread(handle.write, chunk)
                    except OSError as exc:
                        raise _write_error(exc) from exc
                    record.done += len(chunk)
                    ctx.progress(_fraction(record), f"{_mb(record.done)} received")
            finally:
                await asyncio.to_thread(handle.close)
            if total is not None and record.done != total:
                raise DirectorError(
                    f"the upload ended after {record.done} of {total} bytes",
                    code="import_incomplete",
                )
            ctx.progress(1.0, "checking the file")
            return await asyncio.to_thread(self._finish, record, part, label)

        return await self.jobs.run(KIND, name, work)


def _base_name(name: str) -> str:
    """The file name a client sent, without any folders (Windows or POSIX)."""
    return Path(name.replace("\\", "/")).name.strip()


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def _fraction(record: ImportJob) -> float | None:
    return record.done / record.total if record.total else None


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def _write_error(exc: OSError) -> DirectorError:
    if is_disk_full(exc):
        return DiskFull("the disk filled up while copying the model: nothing was kept")
    return DirectorError(f"could not write the model file: {exc.strerror}", code="import_failed")
