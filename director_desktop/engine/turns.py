"""TurnRunner: one chat turn, from a validated input to the final stored snapshot.

It stores the input, publishes it, and runs the engine as an asyncio task keyed by
`(session_id, conv_id)` (never by socket). Every snapshot is stored before it is published, and a
turn that fails anywhere after its input was stored ends with a stored non-`progress` message.
It reaches clients only through the `Publisher` web hands in, naming sessions, never rooms or
sockets, so it is tested without a network.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import cast

from director_desktop.engine.base import Engine, Publisher, Turn
from director_desktop.engine.output import STREAM_INTERVAL, OutputMessage
from director_desktop.engine.revisions import TurnRevisions
from director_desktop.engine.titles import SessionTitler
from director_desktop.errors import (
    Conflict,
    DirectorError,
    DuplicateId,
    NotFound,
    StoreDiskFull,
    StoreLocked,
)
from director_desktop.metrics import Metrics
from director_desktop.protocol import (
    ChatAck,
    ChatInput,
    ContentItem,
    Message,
    MessageMetadata,
    Session,
    VersionAck,
    new_id,
    sanitize,
    text_item,
)
from director_desktop.store import Store

log = logging.getLogger(__name__)

HISTORY_LIMIT = 50
REASONING = "Reasoning the message..."
SESSION_NAME_CHARS = 60
FINAL_RETRY_FIRST = 0.25
FINAL_RETRY_MAX = 2.0  # also how long a close may wait on a final snapshot the store refuses


@dataclass
class Run:
    """A turn in progress. `stop()` cancels only the engine's task, so the driver survives to
    store the final snapshot."""

    key: tuple[str, str]
    output_msg_id: str
    driver: asyncio.Task[None] | None = None
    engine_task: asyncio.Task[None] | None = None
    stop_requested: bool = False
    interrupted: bool = False  # stopped by shutdown, not by the user
    outcome: str = "running"
    started: float = field(default_factory=time.monotonic)
    first_input: Message | None = None  # set when this turn made its session: it gets a title


class TurnRunner:
    def __init__(
        self,
        store: Store,
        engine: Engine,
        publisher: Publisher,
        *,
        metrics: Metrics | None = None,
        stream_interval: float = STREAM_INTERVAL,
        secrets: tuple[str, ...] = (),
    ) -> None:
        self._store = store
        self._engine = engine
        self._publisher = publisher
        self._metrics = metrics or Metrics()
        self._stream_interval = stream_interval
        self._secrets = secrets
        self._runs: dict[tuple[str, str], Run] = {}
        self._closing = False
        self.titles = SessionTitler(store, engine, publisher)
        self.revisions = TurnRevisions(store, publisher, self.is_running)

    # --- queries -------------------------------------------------------------------------------
    def is_running(self, session_id: str, conv_id: str | None = None) -> bool:
        if conv_id is not None:
            return (session_id, conv_id) in self._runs
        return any(key[0] == session_id for key in self._runs)

    @property
    def running(self) -> list[tuple[str, str]]:
        return list(self._runs)

    # --- the chat event ------------------------------------------------------------------------
    async def submit(self, chat: ChatInput) -> ChatAck:
        """Store the input, publish it, start its run; answers the ack's data.

        Raises `DirectorError` before anything is stored (conflict, duplicate id, store
        failure); after that, failures end the run, not the call.
        """
        key = (chat.session_id, chat.conv_id)
        if key in self._runs:
            return await self._resend_or_conflict(chat, self._runs[key])
        if self._closing:
            raise DirectorError("the server is shutting down", code="unavailable")
        # Reserve the key before the first await, so a concurrent `chat` for it is a conflict.
        run = Run(key=key, output_msg_id=new_id())
        self._runs[key] = run
        try:
            added = await self._store.add_turn(
                self._input_message(chat, run.output_msg_id),
                session_name=session_name(chat),
                video_id=chat.video_id,
                collection_id=chat.collection_id,
                about=chat.about,
                pending_output=pending_reply(chat, run.output_msg_id),
            )
        except BaseException:
            del self._runs[key]
            raise
        stored = added.input
        if added.pending is None:  # a re-sent input: acked with the ids it was stored with
            del self._runs[key]
            return self._ack(stored, stored.get("metadata", {}).get("output_msg_id"))
        self._metrics.message("input")
        log.info(
            "input stored",
            extra={"session_id": chat.session_id, "conv_id": chat.conv_id, "chars": len(chat.text)},
        )
        await self._publisher.message(stored)
        if added.created:
            run.first_input = stored
            await self._publisher.sessions_changed()
        run.driver = asyncio.create_task(
            self._drive(run, chat, stored, added.pending), name=f"run {key}"
        )
        return self._ack(stored, run.output_msg_id)

    async def _resend_or_conflict(self, chat: ChatInput, run: Run) -> ChatAck:
        existing = await self._store.get_message(chat.session_id, chat.msg_id)
        if existing is None:
            raise Conflict("a reply to this conversation is still being written")
        if existing.get("conv_id") != chat.conv_id:
            raise DuplicateId("this msg_id is already used by another message")
        return self._ack(existing, run.output_msg_id)

    @staticmethod
    def _ack(message: Message, output_msg_id: object) -> ChatAck:
        return {
            "session_id": message["session_id"],
            "conv_id": message["conv_id"],
            "msg_id": message["msg_id"],
            "output_msg_id": output_msg_id if isinstance(output_msg_id, str) else None,
        }

    @staticmethod
    def _input_message(chat: ChatInput, output_msg_id: str) -> Message:
        # The client's metadata as the parser left it (no `seq`, `first_seq` or `timestamp`:
        # the store sets those); its own keys ride along unchecked, as `MessageMetadata` says.
        metadata = cast(MessageMetadata, {**chat.metadata, "output_msg_id": output_msg_id})
        return {
            "session_id": chat.session_id,
            "conv_id": chat.conv_id,
            "msg_id": chat.msg_id,
            "msg_type": "input",
            "status": "success",
            "actions": [],
            "agents": list(chat.agents),
            "content": chat.content,
            # The output's id rides on the input, so a re-sent input acks the same ids later.
            "metadata": metadata,
        }

    # --- the run -------------------------------------------------------------------------------
    async def _drive(
        self, run: Run, chat: ChatInput, stored_input: Message, pending: Message
    ) -> None:
        output = OutputMessage(
            pending_reply(chat, run.output_msg_id),
            self._commit,
            min_interval=self._stream_interval,
        )
        error: BaseException | None = None
        # The history read is queued on the store now, so it runs while the pending reply and
        # the first snapshot are published instead of after them. An engine that never reads
        # `turn.history` skips it.
        history: asyncio.Task[list[Message]] | None = None
        if self._engine.wants_history:
            history = asyncio.create_task(self._history(stored_input, pending))
        try:
            # The reply was stored with the input ("Reasoning the message...", no content yet):
            # it is the run's first snapshot, emitted as stored, with no write of its own.
            output.committed(pending)
            await self._publisher.message(pending)
            past = await history if history is not None else []
            turn = Turn(chat.session_id, chat.conv_id, chat, stored_input, output, past)
            if not run.stop_requested:
                run.engine_task = asyncio.create_task(self._engine.run(turn))
                await run.engine_task
        except asyncio.CancelledError:
            if not (run.engine_task is not None and run.engine_task.cancelled()):
                error = asyncio.CancelledError()  # the driver itself was cancelled: shutdown
        except Exception as exc:
            error = exc
        finally:
            if history is not None:  # the turn failed before it needed the history: drop it
                history.cancel()
                await asyncio.gather(history, return_exceptions=True)
        await self._finish(run, output, error)

    async def _history(self, stored_input: Message, pending: Message) -> list[Message]:
        """The shown messages up to the turn's own pending reply, but its input: for a turn run
        again (regenerate, edit), what came before it on its branch, never the turns after."""
        before = pending["metadata"].get("first_seq", 0) + 1
        messages, _ = await self._store.conversation(
            stored_input["session_id"], limit=HISTORY_LIMIT + 1, before=before
        )
        msg_id = stored_input["msg_id"]
        return [m for m in messages if m.get("msg_id") != msg_id][-HISTORY_LIMIT:]

    async def _finish(self, run: Run, output: OutputMessage, error: BaseException | None) -> None:
        if run.interrupted:
            error = asyncio.CancelledError()
        elif run.stop_requested and error is not None:
            # An engine may turn the cancellation into its own error; the user asked to stop.
            log.info("stopped run ended with %s", type(error).__name__)
            error = None
        if run.stop_requested and error is None:
            run.outcome = "stopped"
            _settle(output, "not_generated", "Stopped")
            output.message["metadata"]["stopped"] = True
        elif error is not None:
            run.outcome = "interrupted" if isinstance(error, asyncio.CancelledError) else "error"
            self._explain_failure(output, error)
        else:
            run.outcome = "success"
            _settle(output, "success", None)
        try:
            await self._store_final(output)
        finally:
            seconds = time.monotonic() - run.started
            self._metrics.run_finished(run.outcome, seconds)
            self._runs.pop(run.key, None)
            if run.outcome == "success" and run.first_input is not None:
                self.titles.after_first_reply(run.key[0], run.first_input, output.message)
            log.info(
                "run finished",
                extra={"session_id": run.key[0], "conv_id": run.key[1], "outcome": run.outcome},
            )

    async def _store_final(self, output: OutputMessage) -> None:
        """Store (then show) the final snapshot. A store that cannot take it for a reason that
        passes (a full disk, a file locked by another process) is asked again, backing off, until
        it does or the app closes: the reply then ends in every window as soon as the user makes
        room, with no restart and no spinner left turning. Any other failure, or closing, leaves
        the message to the next start's sweep (PROTOCOL section 4)."""
        pause = FINAL_RETRY_FIRST
        while True:
            try:
                await output.flush()
                return
            except (StoreDiskFull, StoreLocked) as exc:
                if self._closing:
                    log.error("final snapshot not stored", extra={"error": exc.code})
                    return
                log.warning("final snapshot waits for the store", extra={"error": exc.code})
                await asyncio.sleep(pause)
                pause = min(pause * 2, FINAL_RETRY_MAX)
            except Exception as exc:
                log.error("final snapshot not stored", extra={"error": type(exc).__name__})
                return

    def _explain_failure(self, output: OutputMessage, error: BaseException) -> None:
        if isinstance(error, DirectorError):
            code, text = error.code, sanitize(error.message, secrets=self._secrets)
        elif isinstance(error, asyncio.CancelledError):
            code, text = "interrupted", "The app was closing, so this reply was interrupted."
        else:
            code, text = "internal", "Something went wrong while writing this reply."
            log.error("run failed", exc_info=error)
        self._metrics.error(code)
        _settle(output, "error", "Interrupted" if code == "interrupted" else "Failed")
        output.add_content(text_item(text, status="error", status_message=code))
        output.message["metadata"]["error_type"] = code

    async def _commit(self, snapshot: Message) -> Message:
        """`OutputMessage`'s commit: store (taking the next seq), then publish."""
        stored = await self._store.put_message(snapshot)
        self._metrics.message("snapshot")
        await self._publisher.message(stored)
        return stored

    # --- regenerate and edit (PROTOCOL 8) ------------------------------------------------------
    async def revise(
        self, session_id: str, conv_id: str, content: list[ContentItem] | None = None
    ) -> VersionAck:
        """Regenerate a turn's reply (`content` None) or edit its input and run it again: a new
        version of the reply (and of the input when edited), every old one kept."""
        # A switch of versions may hide a later turn that is still being written: one at a time.
        if self.is_running(session_id):
            raise Conflict("a reply in this chat is still being written; stop it first")
        if self._closing:
            raise DirectorError("the server is shutting down", code="unavailable")
        key = (session_id, conv_id)
        run = Run(key=key, output_msg_id="")
        self._runs[key] = run  # reserved before the first await, as `submit` does
        try:
            session = await self._store.get_session(session_id)
            if session is None:
                raise NotFound(f"no session {session_id!r}")
            revised = await self._store.new_version(
                session_id, conv_id, pending=_pending(session_id, conv_id, ""), content=content
            )
        except BaseException:
            del self._runs[key]
            raise
        run.output_msg_id = revised.output["msg_id"]
        for message in revised.changed:
            if message["msg_id"] != run.output_msg_id:  # the run publishes its pending reply
                await self._publisher.message(message)
        chat = replayed_input(revised.input, session)
        run.driver = asyncio.create_task(
            self._drive(run, chat, revised.input, revised.output), name=f"run {key}"
        )
        ack = self._ack(revised.input, run.output_msg_id)
        return {**ack, "version": revised.version}

    # --- stop, delete, shutdown ----------------------------------------------------------------
    async def stop(self, session_id: str, conv_id: str) -> bool:
        """Cancel a run; True once its `not_generated` snapshot is stored."""
        run = self._runs.get((session_id, conv_id))
        if run is None or run.driver is None:
            return False
        run.stop_requested = True
        if run.engine_task is not None:
            run.engine_task.cancel()
        await asyncio.shield(run.driver)
        return run.outcome == "stopped"

    async def stop_session(self, session_id: str) -> None:
        """Stop every run of a session (before it is deleted)."""
        await asyncio.gather(
            *(self.stop(sid, conv) for sid, conv in list(self._runs) if sid == session_id)
        )

    async def wait_idle(self) -> None:
        """Return once every run started so far has stored its final snapshot."""
        while drivers := [run.driver for run in self._runs.values() if run.driver is not None]:
            await asyncio.wait(drivers)
        await self.titles.wait_idle()

    async def close(self) -> None:
        """Stop every run, storing each one's final snapshot; refuses new turns from now on."""
        self._closing = True
        drivers = []
        for run in list(self._runs.values()):
            run.stop_requested = run.interrupted = True
            if run.engine_task is not None:
                run.engine_task.cancel()
            if run.driver is not None:
                drivers.append(run.driver)
        await asyncio.gather(*drivers, return_exceptions=True)
        await self.titles.close()
        await self.revisions.close()


def _settle(output: OutputMessage, status: str, item_message: str | None) -> None:
    """Give the message its final status and end every item still in `progress`."""
    output.set_status(status)
    item_status = "success" if status == "success" else status
    for index, item in enumerate(output.content):
        if item.get("status") == "progress":
            output.update_content(index, status=item_status, status_message=item_message)


def pending_reply(chat: ChatInput, output_msg_id: str) -> Message:
    """A turn's reply as stored with its input: every engine's run starts from this snapshot."""
    return _pending(chat.session_id, chat.conv_id, output_msg_id)


def _pending(session_id: str, conv_id: str, output_msg_id: str) -> Message:
    return {
        "session_id": session_id,
        "conv_id": conv_id,
        "msg_id": output_msg_id,
        "msg_type": "output",
        "status": "progress",
        "actions": [REASONING],
        "agents": [],
        "content": [],
        "metadata": {},
    }


def session_name(chat: ChatInput) -> str:
    """A new session's name: the first 60 characters of its first message's text."""
    text = " ".join(chat.text.split())
    return text[:SESSION_NAME_CHARS] or "New chat"


# The server's keys of a stored input, which a run again of it must not carry as the client's.
_SERVER_KEYS = frozenset(MessageMetadata.__optional_keys__)


def replayed_input(stored: Message, session: Session) -> ChatInput:
    """A stored input as the `ChatInput` a run again of its turn starts from (regenerate,
    edit); the media it is about are the session's."""
    metadata = {k: v for k, v in stored["metadata"].items() if k not in _SERVER_KEYS}
    return ChatInput(
        content=stored["content"],
        session_id=stored["session_id"],
        conv_id=stored["conv_id"],
        msg_id=stored["msg_id"],
        agents=list(stored["agents"]),
        collection_id=session.get("collection_id"),
        video_id=session.get("video_id"),
        metadata=metadata,
    )
