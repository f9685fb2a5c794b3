"""The store's one thread: runs jobs in order, hands results to asyncio futures, tidies when idle.

The thread owns the sqlite3 connection, so SQLite never sees two threads and the event loop never
blocks on it. When no job has come for `idle_after` seconds after a write (`idle(True)`), or after
`batch` writes in a row (`idle(False)`), it runs the `idle` job: the store indexes new text for
search then, in one transaction for many messages, and checkpoints the WAL when truly idle.

Group commit: a write submitted with a `body` (the write without its own transaction) may run
with the other such writes already queued behind it, handed together to the `group` callback
(the store runs them in one transaction, each in a savepoint of its own). Each write still gets
its own result or exception, and every waiter is answered only after the group's COMMIT, so
"stored before emitted" holds. When `group` answers None (the transaction as a whole failed:
BEGIN, COMMIT, or an error SQLite answered by rolling everything back), each write of the group
runs again on its own, exactly as if it had never been grouped.
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
Outcome = tuple[bool, Any]
Group = Callable[[list[Callable[[], Any]]], list[Outcome] | None]
"""Run these write bodies in one transaction: each one's (ok, value), or None to run them alone."""
MAX_GROUP = 32
_STOP = object()


class _Job:
    __slots__ = ("body", "deliver", "future", "job", "loop", "write")

    def __init__(
        self,
        job: Callable[[], Any],
        deliver: Deliver,
        write: bool,
        body: Callable[[], Any] | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        future: asyncio.Future[Any] | None = None,
    ) -> None:
        self.job, self.deliver, self.write, self.body = job, deliver, write, body
        self.loop, self.future = loop, future


class Worker:
    def __init__(
        self,
        name: str,
        *,
        idle: Callable[[bool], None],
        idle_after: float = 0.2,
        batch: int = 256,
        group: Group | None = None,
    ) -> None:
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()  # orders every submit against the stop
        self._stopped = False
        self._idle = idle
        self._idle_after = idle_after
        self._batch = batch
        self._group = group
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

        self._submit(_Job(job, deliver, write))
        return future.result()

    async def run(
        self, job: Callable[[], T], *, write: bool = False, body: Callable[[], T] | None = None
    ) -> T:
        """Run `job` on the thread; the awaiting task resumes when it is done. A write that
        gives its `body` (`job` without the transaction) may be committed in a group."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()

        def deliver(ok: bool, value: Any) -> None:
            # A RuntimeError means the loop closed while the job ran: nobody is waiting.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, future, ok, value)

        self._submit(_Job(job, deliver, write, body, loop, future))
        return await future

    def _submit(self, item: _Job) -> None:
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
        held: Any = None  # an item taken off the queue while gathering a group
        while True:
            if held is not None:
                item, held = held, None
            else:
                try:
                    item = self._jobs.get(timeout=self._idle_after if writes else None)
                except queue.Empty:
                    writes = self._tidy(idle=True)
                    continue
            if item is _STOP:
                return
            group = [item]
            if item.body is not None and self._group is not None:
                while len(group) < MAX_GROUP:
                    try:
                        queued = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                    if queued is _STOP or queued.body is None:
                        held = queued
                        break
                    group.append(queued)
            if len(group) == 1:
                _deliver(item, *_outcome(item.job))
            else:
                self._run_group(group)
            writes += sum(job.write for job in group)
            if writes >= self._batch:
                writes = self._tidy(idle=False)

    def _run_group(self, group: list[_Job]) -> None:
        assert self._group is not None
        try:
            outcomes = self._group([job.body for job in group if job.body is not None])
        except BaseException:  # a bug in the callback: nothing is known, run them alone
            log.exception("store group commit failed")
            outcomes = None
        if outcomes is None or len(outcomes) != len(group):
            outcomes = [_outcome(job.job) for job in group]
        # One wake-up per event loop for the whole group, not one per write.
        settle: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], bool, Any]]] = {}
        for job, (ok, value) in zip(group, outcomes, strict=True):
            if job.loop is not None and job.future is not None:
                settle.setdefault(job.loop, []).append((job.future, ok, value))
            else:
                _deliver(job, ok, value)
        for loop, items in settle.items():
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody is waiting
                loop.call_soon_threadsafe(_settle_all, items)

    def _tidy(self, *, idle: bool) -> int:
        try:
            self._idle(idle)
        except Exception:  # never let housekeeping end the thread; the next try may work
            log.exception("store housekeeping failed")
        return 0


class WorkerStopped(RuntimeError):
    pass


def _outcome(job: Callable[[], Any]) -> Outcome:
    try:
        return True, job()
    except BaseException as error:
        return False, error


def _deliver(job: _Job, ok: bool, value: Any) -> None:
    job.deliver(ok, value)


def _settle_all(items: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    for future, ok, value in items:
        _settle(future, ok, value)


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.cancelled():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)
