"""The store's one thread: runs jobs in order, hands results to asyncio futures, tidies when idle.

The thread owns the sqlite3 connection, so SQLite never sees two threads and the event loop never
blocks on it. When no job has come for `idle_after` seconds after a write (`idle(True)`), or after
`batch` writes in a row (`idle(False)`), it runs the `idle` job: the store indexes new text for
search then, in one transaction for many messages, and checkpoints the WAL when truly idle.
Imports nothing from the project.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)

Deliver = Callable[[bool, Any], None]
_STOP = object()


class Worker:
    def __init__(
        self,
        name: str,
        *,
        idle: Callable[[bool], None],
        idle_after: float = 0.2,
        batch: int = 256,
    ) -> None:
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()  # orders every submit against the stop
        self._stopped = False
        self._idle = idle
        self._idle_after = idle_after
        self._batch = batch
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    # --- submitting ---------------------------------------------------------------------

    def call(self, job: Callable[[], T], *, write: bool = False) -> T:
        """Run `job` on the thread and wait for it (for open and close, off the event loop)."""
        future: Future[T] = Future()

        def deliver(ok: bool, value: Any) -> None:
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

        self._submit((job, deliver, write))
        return future.result()

    async def run(self, job: Callable[[], T], *, write: bool = False) -> T:
        """Run `job` on the thread; the awaiting task resumes when it is done."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()

        def deliver(ok: bool, value: Any) -> None:
            # A RuntimeError means the loop closed while the job ran: nobody is waiting.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, future, ok, value)

        self._submit((job, deliver, write))
        return await future

    def _submit(self, item: tuple[Callable[[], Any], Deliver, bool]) -> None:
        with self._lock:
            if self._stopped:
                raise WorkerStopped("the store's worker has stopped")
            self._jobs.put(item)

    def stop(self) -> None:
        """Finish the jobs already queued, then end the thread (idempotent)."""
        with self._lock:
            if not self._stopped:
                self._stopped = True
                self._jobs.put(_STOP)
        self._thread.join()

    # --- the thread ---------------------------------------------------------------------

    def _loop(self) -> None:
        writes = 0
        while True:
            try:
                item = self._jobs.get(timeout=self._idle_after if writes else None)
            except queue.Empty:
                writes = self._tidy(idle=True)
                continue
            if item is _STOP:
                return
            job, deliver, write = item
            try:
                result = job()
            except BaseException as error:
                deliver(False, error)
            else:
                deliver(True, result)
            writes += write
            if writes >= self._batch:
                writes = self._tidy(idle=False)

    def _tidy(self, *, idle: bool) -> int:
        try:
            self._idle(idle)
        except Exception:  # never let housekeeping end the thread; the next try may work
            log.exception("store housekeeping failed")
        return 0


class WorkerStopped(RuntimeError):
    pass


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.cancelled():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)
