"""`Store`: the async face of the chat database, one connection owned by one worker thread.

Every call is a job for the store's one worker thread (`worker.Worker`), which owns the sqlite3
connection; the event loop awaits an asyncio future, so SQLite never blocks the loop and never sees
two threads. Each write is one transaction on that thread, or, for the chat path's appends, one
savepoint of a group commit of the writes queued together (`_group_on_worker`).
Imports `errors`, `protocol` and the store's own modules.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from director_desktop.errors import InvalidPayload, StoreClosed
from director_desktop.protocol import (
    ContentItem,
    Message,
    Prefs,
    SearchHit,
    Session,
    check_id,
    now_epoch,
)
from director_desktop.protocol.inputs import About
from director_desktop.store import (
    deleted_turns,
    director_import,
    index_rows,
    messages,
    opening,
    portable,
    prefs,
    search,
    sessions,
    versions,
)
from director_desktop.store.codec import dumps, loads
from director_desktop.store.connection import transaction, translate
from director_desktop.store.index_records import IndexRecords
from director_desktop.store.job_records import JobRecords
from director_desktop.store.media_records import MediaRecords
from director_desktop.store.messages import AddedTurn
from director_desktop.store.portable import SessionExport
from director_desktop.store.sessions import SessionContext
from director_desktop.store.worker import Outcome, Worker, WorkerStopped

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoreHealth:
    """How the last `open()` went: `ok` is what `/config/check` reports as `db_configured`."""

    ok: bool
    message: str | None = None
    recovered_from: Path | None = None
    swept: int = 0


class Store:
    def __init__(
        self,
        path: Path,
        *,
        backups_dir: Path,
        keep_backups: int = 10,
        busy_timeout: float = 5.0,
    ) -> None:
        self.path = path
        self.backups_dir = backups_dir
        self.keep_backups = keep_backups
        self.busy_timeout = busy_timeout
        self.health = StoreHealth(ok=False, message="not opened yet")
        self._worker: Worker | None = None
        self._conn: sqlite3.Connection | None = None
        self._closed = False
        # The media library's, the jobs' and the media index's rows, in modules of their own
        # (same worker, same file).
        self.media = MediaRecords(self._run, self._write)
        self.jobs = JobRecords(self._run, self._write)
        self.index = IndexRecords(self._run, self._write)

    # --- lifecycle -------------------------------------------------------------------------

    def open(self) -> StoreHealth:
        """Blocking: check, recover, migrate and sweep the file; start the worker thread."""
        if self._closed:
            raise StoreClosed("this store was closed; make a new Store to open it again")
        if self._worker is not None:
            return self.health
        worker = Worker("director-store", idle=self._tidy_on_worker, group=self._group_on_worker)
        try:
            self.health = worker.call(self._open_on_worker)
        except BaseException as error:
            worker.stop()
            raise translate(error) from error
        self._worker = worker
        if not self.health.ok:
            log.warning("chat database: %s", self.health.message)
        return self.health

    def _open_on_worker(self) -> StoreHealth:
        opened = opening.open_database(
            self.path,
            backups_dir=self.backups_dir,
            keep_backups=self.keep_backups,
            busy_timeout=self.busy_timeout,
        )
        try:
            with transaction(opened.conn):
                swept = messages.sweep_interrupted(opened.conn)
                deleted_turns.purge_deleted(opened.conn)  # the undo window ends with the process
                search.index_pending(opened.conn)  # text a crash left unindexed
                index_rows.sweep(opened.conn)  # index jobs a previous process was running
        except BaseException:
            opened.conn.close()
            raise
        self._conn = opened.conn
        return StoreHealth(
            ok=opened.damage is None,
            message=opened.message,
            recovered_from=opened.recovered_from,
            swept=len(swept),
        )

    def close(self) -> None:
        """Idempotent: index pending text, checkpoint the WAL, close the connection, stop."""
        self._closed = True
        worker, self._worker = self._worker, None
        if worker is None:
            return
        try:
            worker.call(self._close_on_worker)
        finally:
            worker.stop()

    def _close_on_worker(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            with transaction(conn):
                search.index_pending(conn)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as error:  # e.g. a full disk: what is committed stays committed
            log.warning("tidying the chat database at close failed: %s", error)
        finally:
            conn.close()

    def _tidy_on_worker(self, idle: bool) -> None:
        conn = self._conn
        if conn is None:
            return
        with transaction(conn):
            search.index_pending(conn)
        if idle:  # nobody is waiting: the moment for the disk sync a checkpoint costs
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    async def _run(
        self,
        job: Callable[[sqlite3.Connection], T],
        *,
        write: bool = False,
        body: Callable[[sqlite3.Connection], T] | None = None,
    ) -> T:
        worker = self._worker
        if worker is None:
            raise StoreClosed("the chat database is closed" if self._closed else "not opened")
        grouped = None if body is None else (lambda: self._job(body))
        try:
            return await worker.run(lambda: self._job(job), write=write, body=grouped)
        except WorkerStopped as error:  # closed between the check and the submit
            raise StoreClosed("the chat database is closed") from error

    def _job(self, job: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._conn
        if conn is None:
            raise StoreClosed("the chat database is closed")
        try:
            return job(conn)
        except BaseException as error:
            raise translate(error) from error

    async def _write(self, job: Callable[[sqlite3.Connection], T], *, groupable: bool = False) -> T:
        """`job` in a transaction of its own, or (`groupable`: the chat path's appends, which
        touch nothing but the database) in a savepoint of a group commit; see `worker`."""

        def in_transaction(conn: sqlite3.Connection) -> T:
            with transaction(conn):
                return job(conn)

        return await self._run(in_transaction, write=True, body=job if groupable else None)

    def _group_on_worker(self, bodies: list[Callable[[], object]]) -> list[Outcome] | None:
        """The worker's group commit: one transaction, each write in a savepoint so a failing
        one is undone alone and answered with its own error. None when the transaction as a
        whole failed: the worker then runs each write alone, as if never grouped."""
        conn = self._conn
        if conn is None:
            return None
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error:
            return None
        outcomes: list[Outcome] = []
        try:
            for body in bodies:
                conn.execute("SAVEPOINT grouped_write")
                try:
                    outcomes.append((True, body()))
                except Exception as error:
                    if not conn.in_transaction:  # SQLite rolled the whole group back
                        return None
                    conn.execute("ROLLBACK TO grouped_write")
                    outcomes.append((False, error))
                conn.execute("RELEASE grouped_write")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            return None
        return outcomes

    # --- sessions ---------------------------------------------------------------------------

    async def get_session(self, session_id: str) -> Session | None:
        return await self._run(lambda conn: sessions.get(conn, session_id))

    async def list_sessions(self, limit: int | None = None) -> list[Session]:
        return await self._run(lambda conn: sessions.list_all(conn, limit))

    async def list_sessions_page(self, limit: int, cursor: str | None) -> sessions.SessionsPage:
        """A page of the listing, pinned first then newest; InvalidPayload for a bad cursor."""
        return await self._run(lambda conn: sessions.list_page(conn, limit, cursor))

    async def pin_session(self, session_id: str, pinned: bool) -> Session:
        return await self._write(lambda conn: sessions.set_pinned(conn, session_id, pinned))

    async def rename_session(self, session_id: str, name: str) -> Session:
        return await self._write(lambda conn: sessions.rename(conn, session_id, name))

    async def name_session_by_model(self, session_id: str, name: str) -> Session | None:
        """A model-made title; None when the user named the session (theirs stands)."""
        return await self._write(lambda conn: sessions.name_by_model(conn, session_id, name))

    async def delete_session(self, session_id: str) -> bool:
        def job(conn: sqlite3.Connection) -> bool:
            prefs.forget_session(conn, session_id)
            return sessions.delete(conn, session_id)

        return await self._write(job)

    # --- the chat path ----------------------------------------------------------------------

    async def add_input(
        self,
        message: Message,
        *,
        session_name: str,
        video_id: str | None = None,
        collection_id: str | None = None,
    ) -> tuple[Message, bool, bool]:
        """Store an input, creating its session if new: `(input, created, duplicate)`.
        A turn stores its pending reply with it through `add_turn`."""
        return await self._write(
            lambda conn: messages.add_input(
                conn,
                message,
                session_name=session_name,
                video_id=video_id,
                collection_id=collection_id,
            )
        )

    async def add_turn(
        self,
        message: Message,
        *,
        session_name: str,
        video_id: str | None = None,
        collection_id: str | None = None,
        pending_output: Message,
        about: About | None = None,
    ) -> AddedTurn:
        """`add_input` with the turn's pending reply (`progress`) in the same transaction, so a
        crash before the run's first snapshot leaves a reply for the start-up sweep to mark
        "Interrupted", never an unanswered input. Answers both as stored; `pending` is None
        for a re-sent input (nothing stored)."""
        return await self._write(
            lambda conn: messages.add_turn(
                conn,
                message,
                session_name=session_name,
                video_id=video_id,
                collection_id=collection_id,
                pending_output=pending_output,
                about=about,
            ),
            groupable=True,
        )

    async def put_message(self, message: Message) -> Message:
        return await self._write(lambda conn: messages.put(conn, message), groupable=True)

    async def get_message(self, session_id: str, msg_id: str) -> Message | None:
        return await self._run(lambda conn: messages.get(conn, session_id, msg_id))

    async def messages_since(self, session_id: str, seq: int) -> list[Message]:
        return await self._run(lambda conn: messages.since(conn, session_id, seq))

    async def last_seq(self, session_id: str) -> int:
        return await self._run(lambda conn: sessions.last_seq(conn, session_id))

    async def conversation(
        self,
        session_id: str,
        *,
        limit: int | None = None,
        before: int | None = None,
        every_branch: bool = False,
    ) -> tuple[list[Message], bool]:
        """The shown path (PROTOCOL 8); `every_branch` adds the turns of branches not shown."""
        return await self._run(
            lambda conn: messages.conversation(
                conn, session_id, limit, before, every_branch=every_branch
            )
        )

    async def conversation_around(
        self, session_id: str, msg_id: str, limit: int
    ) -> tuple[list[Message], bool, bool]:
        return await self._run(lambda conn: messages.around(conn, session_id, msg_id, limit))

    async def sweep_interrupted(self) -> list[Message]:
        return await self._write(messages.sweep_interrupted)

    # --- versions and deleted turns (PROTOCOL 8; see `versions`) ----------------------------

    async def new_version(
        self,
        session_id: str,
        conv_id: str,
        *,
        pending: Message,
        content: list[ContentItem] | None = None,
    ) -> versions.Revised:
        return await self._write(
            lambda conn: versions.new_version(
                conn, session_id, conv_id, pending=pending, content=content
            )
        )

    async def select_version(
        self, session_id: str, msg_id: str, version: int
    ) -> tuple[Message, list[Message]]:
        return await self._write(
            lambda conn: versions.select_version(conn, session_id, msg_id, version)
        )

    async def delete_turn(self, session_id: str, conv_id: str) -> list[Message]:
        return await self._write(lambda conn: deleted_turns.delete_turn(conn, session_id, conv_id))

    async def restore_turn(self, session_id: str, conv_id: str, *, window: int) -> list[Message]:
        return await self._write(
            lambda conn: deleted_turns.restore_turn(conn, session_id, conv_id, window=window)
        )

    async def purge_deleted(self, *, deleted_before: int | None = None) -> int:
        return await self._write(
            lambda conn: deleted_turns.purge_deleted(conn, deleted_before=deleted_before)
        )

    # --- search, export, import -------------------------------------------------------------

    async def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        def job(conn: sqlite3.Connection) -> list[SearchHit]:
            with transaction(conn):
                search.index_pending(conn)  # so a search never misses a stored message
            return search.search(conn, query, limit)

        return await self._run(job)

    async def export_session(self, session_id: str) -> SessionExport:
        return await self._run(lambda conn: portable.export_session(conn, session_id))

    async def export_markdown(self, session_id: str) -> str:
        return await self._run(lambda conn: portable.export_markdown(conn, session_id))

    async def import_session(self, data: object) -> str:
        return await self._write(lambda conn: portable.import_session(conn, data))

    async def import_director_db(self, path: Path) -> list[str]:
        return await self._write(lambda conn: director_import.import_director_db(conn, path))

    # --- the engine's context ---------------------------------------------------------------

    async def get_context(self, session_id: str) -> SessionContext | None:
        def job(conn: sqlite3.Connection) -> SessionContext | None:
            row = conn.execute(
                "SELECT context FROM contexts WHERE session_id = ?", (session_id,)
            ).fetchone()
            return None if row is None else loads(row[0])

        return await self._run(job)

    async def set_context(self, session_id: str, context: SessionContext) -> None:
        if not isinstance(context, dict):
            raise InvalidPayload("a context must be a JSON object")

        def job(conn: sqlite3.Connection) -> None:
            check_id(session_id, "session_id")
            sessions.require(conn, session_id)
            conn.execute(
                "INSERT INTO contexts (session_id, context, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (session_id) DO UPDATE SET context = excluded.context,"
                " updated_at = excluded.updated_at",
                (session_id, dumps(context, "context"), now_epoch()),
            )

        await self._write(job)

    # --- UI prefs ---------------------------------------------------------------------------

    async def get_prefs(self) -> Prefs:
        return await self._run(prefs.get)

    async def patch_prefs(self, patch: object) -> Prefs:
        """Merge a client's patch (checked here: known keys, checked values) into the prefs."""
        return await self._write(lambda conn: prefs.patch(conn, patch))
