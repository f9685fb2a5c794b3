"""Background tasks: coroutines started and left to run, kept and accounted for until they end.

asyncio keeps only a weak reference to a task, so one nobody holds can vanish mid-run, and an
exception nobody awaits is reported late or never. A `BackgroundTasks` holds each task until it
is done, logs an exception the task ends with, and on `aclose()` cancels what is left and waits
for it. Imports nothing from the project.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class BackgroundTasks:
    """The tasks one owner started in the background; `aclose()` them in its `close()`."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    def __len__(self) -> int:
        """The tasks still running."""
        return len(self._tasks)

    @property
    def closed(self) -> bool:
        return self._closed

    def spawn(self, coro: Coroutine[Any, Any, T], *, name: str) -> asyncio.Task[T]:
        """Run `coro` as the task `name`, held until it is done. RuntimeError once closed."""
        if self._closed:
            coro.close()  # never awaited, and never to be: say so without a warning
            raise RuntimeError(f"cannot start {name!r}: its background tasks are closed")
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    async def wait(self) -> None:
        """Wait, without cancelling them, until the tasks end (those they start too)."""
        while pending := self._others():
            await asyncio.wait(pending)

    async def aclose(self) -> None:
        """Refuse new tasks, cancel those running and wait until they end. Idempotent."""
        self._closed = True
        while pending := self._others():
            for task in pending:
                task.cancel()
            await asyncio.wait(pending)

    def _others(self) -> set[asyncio.Task[Any]]:
        # A task that waits for its own siblings must not wait for itself.
        return self._tasks - {asyncio.current_task()}

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("background task %r failed", task.get_name(), exc_info=exc)
