"""TurnRevisions: showing another version of a message, deleting a turn and undoing that
(PROTOCOL section 8). Regenerate and edit start runs, so they live on the `TurnRunner`.

Every change is stored before it is published, so a second window and a replay see the same
thing. A deleted turn is purged `undo_seconds` after its deletion (a timer here), or at the
next start (the store's open). Imports the store, `errors` and `protocol`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from director_desktop.engine.base import Publisher
from director_desktop.errors import Conflict
from director_desktop.protocol import Message, SelectVersionAck, now_epoch
from director_desktop.store import Store
from director_desktop.store.deleted_turns import UNDO_SECONDS
from director_desktop.store.versions import version_of

log = logging.getLogger(__name__)

IsRunning = Callable[[str, str | None], bool]


class TurnRevisions:
    def __init__(
        self,
        store: Store,
        publisher: Publisher,
        is_running: IsRunning,
        *,
        undo_seconds: int = UNDO_SECONDS,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._is_running = is_running
        self.undo_seconds = undo_seconds
        self._timers: set[asyncio.TimerHandle] = set()
        self._purges: set[asyncio.Task[int]] = set()
        self.purged = asyncio.Event()
        """Set each time a purge the timer started has ended (what tests wait on)."""

    async def select_version(self, session_id: str, msg_id: str, version: int) -> SelectVersionAck:
        # A run writes the snapshots of its turn, and a switch may hide a later turn: wait.
        if self._is_running(session_id, None):
            raise Conflict("a reply in this chat is still being written; stop it first")
        shown, changed = await self._store.select_version(session_id, msg_id, version)
        await self._publish(changed)
        now, count = version_of(shown)
        return {"session_id": session_id, "msg_id": msg_id, "version": now, "versions": count}

    async def delete_turn(self, session_id: str, conv_id: str) -> list[Message]:
        """Hide a turn's messages (`metadata.deleted`); purged after the undo window."""
        if self._is_running(session_id, conv_id):
            raise Conflict("this reply is still being written; stop it first")
        changed = await self._store.delete_turn(session_id, conv_id)
        await self._publish(changed)
        self._purge_later()
        return changed

    async def restore_turn(self, session_id: str, conv_id: str) -> list[Message]:
        changed = await self._store.restore_turn(session_id, conv_id, window=self.undo_seconds)
        await self._publish(changed)
        return changed

    async def _publish(self, changed: list[Message]) -> None:
        for message in changed:
            await self._publisher.message(message)

    def _purge_later(self) -> None:
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle | None = None

        def due() -> None:
            assert handle is not None
            self._timers.discard(handle)
            task = loop.create_task(
                self._store.purge_deleted(deleted_before=now_epoch() - self.undo_seconds)
            )
            self._purges.add(task)
            task.add_done_callback(self._purged)

        # One second past the window: deletions are stamped in whole seconds.
        handle = loop.call_later(self.undo_seconds + 1, due)
        self._timers.add(handle)

    def _purged(self, task: asyncio.Task[int]) -> None:
        self._purges.discard(task)
        self.purged.set()
        if not task.cancelled() and task.exception() is not None:
            # The next start purges what is left; nothing the user can see depends on it.
            log.warning("purging deleted turns failed", exc_info=task.exception())

    async def close(self) -> None:
        """Cancel the pending purges (the next start does them) and wait for running ones."""
        for handle in self._timers:
            handle.cancel()
        self._timers.clear()
        await asyncio.gather(*self._purges, return_exceptions=True)
