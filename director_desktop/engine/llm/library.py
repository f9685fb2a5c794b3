"""ModelLibrary: the GGUF files in `<data dir>/models/`, and importing new ones with progress.

A file is imported by path (the native file dialog: copied, or linked when asked and the system
allows) or streamed in by an HTTP upload. Either way it is written to a hidden `.part` file, its
GGUF header is checked (and that the file holds all the tensor data the header describes), and
only then is it renamed into place, so a half-copied or foreign file never shows up as a model.
Errors name the user's file, never the `.part`. Progress is kept per import job for the UI to poll.
Imports `gguf_info`, `errors` and `protocol` (the wire shapes); standard library otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal

from director_desktop.engine.llm.gguf_info import read_gguf_info
from director_desktop.errors import DirectorError, InvalidPayload, ModelError, NotFound
from director_desktop.protocol import ModelFile, ModelImport, WireErrorBody

SUFFIX = ".gguf"
CHUNK = 4 * 1024 * 1024
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ ()+-]")
JobState = Literal["running", "done", "error"]


@dataclass
class ImportJob:
    id: str
    file: str
    total: int | None
    done: int = 0
    state: JobState = "running"
    error: str | None = None
    code: str | None = None
    method: str = "upload"
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)

    def as_dict(self) -> ModelImport:
        progress = self.done / self.total if self.total else None
        if self.state == "done":
            progress = 1.0
        error: WireErrorBody | None = None
        if self.error is not None:  # `_fail` sets `code` with it: the fallback is never used
            error = {"code": self.code or "import_failed", "message": self.error}
        return {
            "id": self.id,
            "file": self.file,
            "method": self.method,
            "bytes": self.done,
            "total": self.total,
            "progress": progress,
            "state": self.state,
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


class ModelLibrary:
    def __init__(self, models_dir: Path) -> None:
        self.dir = models_dir
        self.jobs: dict[str, ImportJob] = {}
        self._copies: dict[str, asyncio.Future[None]] = {}
        self._names_lock = threading.Lock()

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

    # --- importing -----------------------------------------------------------------------------
    def _job(self, file: str, total: int | None, method: str) -> ImportJob:
        job = ImportJob(id=uuid.uuid4().hex, file=file, total=total, method=method)
        self.jobs[job.id] = job
        return job

    def job(self, job_id: str) -> ImportJob:
        try:
            return self.jobs[job_id]
        except KeyError:
            raise NotFound("there is no such import") from None

    def _destination(self, name: str) -> Path:
        """A free name in the folder: `model.gguf`, then `model-2.gguf`, ..."""
        stem, suffix = name[: -len(SUFFIX)], name[-len(SUFFIX) :]
        candidate, n = self.dir / name, 2
        while candidate.exists():
            candidate, n = self.dir / f"{stem}-{n}{suffix}", n + 1
        return candidate

    def _finish(self, job: ImportJob, part: Path, label: str) -> None:
        """Check the header of a finished `.part` file and move it into place.

        `label` is the user's name for the file: errors name it, never the hidden `.part`.
        """
        try:
            read_gguf_info(part, display_name=label)
        except ModelError as exc:
            part.unlink(missing_ok=True)
            self._fail(job, exc)
            return
        with self._names_lock:
            final = self._destination(job.file)
            os.replace(part, final)
        job.file, job.state = final.name, "done"

    @staticmethod
    def _fail(job: ImportJob, exc: DirectorError) -> None:
        job.state, job.error, job.code = "error", exc.message, exc.code

    async def import_path(self, source: Path, *, link: bool = False) -> ImportJob:
        """Start copying (or linking) a `.gguf` from anywhere on disk; returns the running job."""
        job = await asyncio.to_thread(self._start_import, source, link)
        if job.state == "running":
            loop = asyncio.get_running_loop()
            self._copies[job.id] = loop.run_in_executor(None, self._copy, job, source)
        return job

    async def wait(self, job_id: str) -> ImportJob:
        """The job once it is no longer running."""
        copy = self._copies.get(job_id)
        if copy is not None:
            await asyncio.shield(copy)
        return self.job(job_id)

    def _start_import(self, source: Path, link: bool) -> ImportJob:
        name = safe_file_name(source.name)
        info = read_gguf_info(source)  # a clear error before anything is copied
        self.dir.mkdir(parents=True, exist_ok=True)
        job = self._job(name, info.size, "link" if link else "copy")
        if not (link and self._try_link(job, source.absolute())):
            job.method = "copy"
        return job

    def _try_link(self, job: ImportJob, source: Path) -> bool:
        with self._names_lock:
            final = self._destination(job.file)
            try:
                final.symlink_to(source)
            except OSError:  # e.g. Windows without the symlink privilege: copy instead
                return False
        job.file, job.done, job.state = final.name, job.total or 0, "done"
        return True

    def _copy(self, job: ImportJob, source: Path) -> None:
        part = self.dir / f".import-{job.id}.part"
        try:
            with source.open("rb") as src, part.open("wb") as dst:
                while chunk := src.read(CHUNK):
                    if job._cancel.is_set():
                        raise DirectorError("the import was cancelled", code="cancelled")
                    dst.write(chunk)
                    job.done += len(chunk)
            shutil.copystat(source, part)
        except OSError as exc:
            part.unlink(missing_ok=True)
            self._fail(job, DirectorError(f"copy failed: {exc.strerror}", code="import_failed"))
            return
        except DirectorError as exc:
            part.unlink(missing_ok=True)
            self._fail(job, exc)
            return
        self._finish(job, part, source.name)

    def begin_upload(self, file_name: str, total: int | None) -> Upload:
        name = safe_file_name(file_name)
        self.dir.mkdir(parents=True, exist_ok=True)
        job = self._job(name, total, "upload")
        return Upload(self, job, self.dir / f".upload-{job.id}.part", _base_name(file_name))

    def cancel(self, job_id: str) -> None:
        self.job(job_id)._cancel.set()


class Upload:
    """An HTTP upload being streamed to disk: `write` each chunk, then `finish` or `abort`."""

    def __init__(self, library: ModelLibrary, job: ImportJob, part: Path, label: str) -> None:
        self.library = library
        self.job = job
        self.part = part
        self.label = label  # the name the client sent, for messages
        self._handle: BinaryIO | None = part.open("wb")

    async def write(self, chunk: bytes) -> None:
        if self._handle is None:
            raise DirectorError("the upload is closed", code="import_failed")
        if self.job._cancel.is_set():
            raise DirectorError("the import was cancelled", code="cancelled")
        try:
            await asyncio.to_thread(self._handle.write, chunk)
        except OSError as exc:  # disk full, folder gone
            raise DirectorError(
                f"could not write the model file: {exc.strerror}", code="import_failed"
            ) from exc
        self.job.done += len(chunk)

    async def finish(self) -> ImportJob:
        self._close()
        if self.job.total is not None and self.job.done != self.job.total:
            self.abort(
                DirectorError(
                    f"the upload ended after {self.job.done} of {self.job.total} bytes",
                    code="import_incomplete",
                )
            )
            return self.job
        await asyncio.to_thread(self.library._finish, self.job, self.part, self.label)
        return self.job

    def abort(self, error: DirectorError) -> None:
        self._close()
        self.part.unlink(missing_ok=True)
        ModelLibrary._fail(self.job, error)

    def _close(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError):
                self._handle.close()
            self._handle = None


def _base_name(name: str) -> str:
    """The file name a client sent, without any folders (Windows or POSIX)."""
    return Path(name.replace("\\", "/")).name.strip()


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None
