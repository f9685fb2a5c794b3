"""Job rows (PROTOCOL 7): long-running work stored like messages, so a restart knows what was cut.

`JobRecords`, reached as `store.jobs`, is the async face the `jobs` room uses; the functions below
it run on the store's worker thread. A record is frozen: the `jobs` room makes a new one for each
change, so a record handed to the worker never changes under it. Imports `errors`, `protocol` and
the store's own `codec` and `records`.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field, replace
from typing import Any, Final, TypedDict

from director_desktop.errors import DuplicateId, InvalidPayload, NotFound
from director_desktop.protocol import (
    JobInfo,
    JobResult,
    JobStatus,
    WireErrorBody,
    check_id,
    now_epoch,
)
from director_desktop.store.codec import dumps, loads
from director_desktop.store.records import OnWorker

STATUSES: Final[tuple[JobStatus, ...]] = (
    "queued",
    "running",
    "paused",
    "done",
    "error",
    "cancelled",
)
FINISHED: Final[tuple[JobStatus, ...]] = ("done", "error", "cancelled")
RECENT_SECONDS: Final = 3600
# Finished jobs are shown for an hour; their rows are kept a week (for a look in the file when
# something went wrong) and then dropped by the start-up sweep, so the table stays small.
KEEP_FINISHED_SECONDS: Final = 7 * 24 * 3600
INTERRUPTED_MESSAGE: Final = "Director Desktop stopped before this job finished"


class JobParams(TypedDict, total=False):
    """What a resumable job needs to start again after a restart: the keys its kind fills (as
    `JobResult` holds each kind's result). Stored with the job, never sent to a window."""

    repo: str
    """A model download (`engine/llm/downloads.py`): the hub repository and the file in it."""
    file: str
    revision: str
    """A download: the commit the revision asked for resolved to (the branch when unknown)."""
    name: str
    """A download: the file's name in the models folder."""
    size: int | None
    """A download: the file's size and SHA-256 as the hub gave them, when it did."""
    sha256: str | None


@dataclass(frozen=True)
class JobRecord:
    id: str
    kind: str
    title: str
    status: JobStatus
    started_at: int
    progress: float | None = None
    detail: str = ""
    finished_at: int | None = None
    error: WireErrorBody | None = None
    result: JobResult | None = None
    resumable: bool = False
    params: JobParams = field(default_factory=lambda: JobParams())
    """What a resumable job needs to start again after a restart."""

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def info(self) -> JobInfo:
        """The job as the wire carries it (PROTOCOL 7)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "status": self.status,
            "progress": self.progress,
            "detail": self.detail,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "error": None if self.error is None else {**self.error},
            "result": None if self.result is None else self.result.copy(),
        }


class JobRecords:
    """`store.jobs`: each call one job on the store's worker."""

    def __init__(self, read: OnWorker, write: OnWorker) -> None:
        self._read = read
        self._write = write

    async def insert(self, job: JobRecord) -> None:
        await self._write(lambda conn: insert(conn, job))

    async def update(self, job: JobRecord) -> None:
        """Store the job's changing fields (status, progress, detail, finish, error, result,
        params); NotFound for an unknown id."""
        await self._write(lambda conn: update(conn, job))

    async def get(self, job_id: str) -> JobRecord | None:
        return await self._read(lambda conn: get(conn, job_id))

    async def recent(self, within: int = RECENT_SECONDS) -> list[JobRecord]:
        """The unfinished jobs and those finished in the last `within` seconds, newest first."""
        since = now_epoch() - within
        return await self._read(lambda conn: recent(conn, since))

    async def unfinished(self) -> list[JobRecord]:
        return await self._read(unfinished)

    async def sweep(self) -> list[JobRecord]:
        """At start-up: every job still `queued` or `running` was cut off by the process's end.
        A resumable one becomes `paused`, any other `error` with code `interrupted`; answers
        those changed. Finished jobs older than a week are dropped."""
        now = now_epoch()
        return await self._write(lambda conn: sweep(conn, now))


# --- on the worker thread ---------------------------------------------------------------------
_COLUMNS = (
    "id, kind, title, status, progress, detail, started_at, finished_at, error, result,"
    " resumable, params"
)


def _values(job: JobRecord) -> tuple[Any, ...]:
    check_id(job.id, "job id")
    if job.status not in STATUSES:
        raise InvalidPayload(f"a job's status is one of {', '.join(STATUSES)}")
    return (
        job.id,
        job.kind,
        job.title,
        job.status,
        job.progress,
        job.detail,
        job.started_at,
        job.finished_at,
        None if job.error is None else dumps(job.error, "a job's error"),
        None if job.result is None else dumps(job.result, "a job's result"),
        int(job.resumable),
        dumps(job.params, "a job's params"),
    )


def _record(row: tuple[Any, ...]) -> JobRecord:
    return JobRecord(
        id=row[0],
        kind=row[1],
        title=row[2],
        status=row[3],
        progress=row[4],
        detail=row[5],
        started_at=row[6],
        finished_at=row[7],
        error=None if row[8] is None else loads(row[8]),
        result=None if row[9] is None else loads(row[9]),
        resumable=bool(row[10]),
        params=loads(row[11]),
    )


def insert(conn: sqlite3.Connection, job: JobRecord) -> None:
    values = _values(job)
    if conn.execute("SELECT 1 FROM jobs WHERE id = ?", (job.id,)).fetchone():
        raise DuplicateId(f"a job {job.id!r} already exists")
    conn.execute(
        f"INSERT INTO jobs ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
        values,
    )


def update(conn: sqlite3.Connection, job: JobRecord) -> None:
    job_id, _, _, status, progress, detail, _, finished_at, error, result, _, params = _values(job)
    cursor = conn.execute(
        "UPDATE jobs SET status = ?, progress = ?, detail = ?, finished_at = ?, error = ?,"
        " result = ?, params = ? WHERE id = ?",
        (status, progress, detail, finished_at, error, result, params, job_id),
    )
    if cursor.rowcount == 0:
        raise NotFound(f"no job {job_id!r}")


def get(conn: sqlite3.Connection, job_id: str) -> JobRecord | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM jobs WHERE id = ?",  # noqa: S608 (constant columns)
        (job_id,),
    ).fetchone()
    return None if row is None else _record(row)


def recent(conn: sqlite3.Connection, since: int) -> list[JobRecord]:
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM jobs"  # noqa: S608 (constant columns)
        " WHERE finished_at IS NULL OR finished_at >= ? ORDER BY started_at DESC, rowid DESC",
        (since,),
    )
    return [_record(row) for row in rows]


def unfinished(conn: sqlite3.Connection) -> list[JobRecord]:
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM jobs"  # noqa: S608 (constant columns)
        " WHERE finished_at IS NULL ORDER BY started_at DESC, rowid DESC"
    )
    return [_record(row) for row in rows]


def sweep(conn: sqlite3.Connection, now: int) -> list[JobRecord]:
    cut = [
        _record(row)
        for row in conn.execute(
            f"SELECT {_COLUMNS} FROM jobs"  # noqa: S608 (constant columns)
            " WHERE status IN ('queued', 'running') ORDER BY started_at, rowid"
        )
    ]
    changed = [_interrupted(job, now) for job in cut]
    for job in changed:
        update(conn, job)
    conn.execute(
        "DELETE FROM jobs WHERE finished_at IS NOT NULL AND finished_at < ?",
        (now - KEEP_FINISHED_SECONDS,),
    )
    return changed


def _interrupted(job: JobRecord, now: int) -> JobRecord:
    if job.resumable:
        return replace(job, status="paused")
    error: WireErrorBody = {"code": "interrupted", "message": INTERRUPTED_MESSAGE}
    return replace(job, status="error", finished_at=now, error=error)
