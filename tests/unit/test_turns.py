"""TurnRunner over a real Store: store-then-publish, runs keyed by conversation, stop, failures
ending in a stored non-progress message, shutdown. The engine's Publisher seam is what `web/`
implements; here it records what would be published (web's own Publisher, with its rooms and
retries, is tested in test_publisher.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from director_desktop.engine.agents import default_registry
from director_desktop.engine.assistant import BuiltinAssistant
from director_desktop.engine.base import Engine, Turn
from director_desktop.engine.turns import TurnRunner, session_name
from director_desktop.errors import AgentFailed, Conflict, DuplicateId
from director_desktop.metrics import Metrics
from director_desktop.protocol import JSONDict, parse_chat_input
from director_desktop.store import Store


class Published:
    """Records what the runner publishes: ("chat", message) and ("sessions", None)."""

    def __init__(self) -> None:
        self.items: list[tuple[str, JSONDict | None]] = []
        self.changed = asyncio.Event()

    async def message(self, message: JSONDict) -> None:
        self.items.append(("chat", message))
        self.changed.set()

    async def sessions_changed(self) -> None:
        self.items.append(("sessions", None))
        self.changed.set()

    def chats(self) -> list[JSONDict]:
        return [p for e, p in self.items if e == "chat" and p is not None]

    async def wait(self, check: Callable[[], bool]) -> None:
        async with asyncio.timeout(15):
            while not check():
                self.changed.clear()
                await self.changed.wait()


class FailingEngine:
    """An Engine whose run streams a little text and then fails with `error`."""

    wants_history = False

    def __init__(self, error: BaseException) -> None:
        self.error = error

    async def run(self, turn: Turn) -> None:
        turn.output.append_text("half an ans")
        await turn.output.flush()
        raise self.error

    def status(self) -> JSONDict:
        return {}

    @property
    def llm_configured(self) -> bool:
        return True

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None


def streamed(message: JSONDict) -> bool:
    """An output snapshot that already carries some answer text."""
    return message["msg_type"] == "output" and any(i.get("text") for i in message["content"])


def chat(text: str, **ids: str) -> Any:
    return parse_chat_input({"content": [{"type": "text", "text": text}], **ids})


def run_with(
    tmp_path: Path,
    body: Callable[[TurnRunner, Store, Published, Metrics], Awaitable[None]],
    *,
    engine: Callable[[Store], Engine] | None = None,
    pace: float = 0.0,
) -> None:
    async def main() -> None:
        store = Store(tmp_path / "director.sqlite3", backups_dir=tmp_path / "backups")
        await asyncio.to_thread(store.open)
        published, metrics = Published(), Metrics()
        chosen = engine(store) if engine else BuiltinAssistant(store, default_registry(), pace=pace)
        handler = TurnRunner(store, chosen, published, metrics=metrics, secrets=("tok-secret",))
        try:
            await body(handler, store, published, metrics)
        finally:
            await handler.close()
            await asyncio.to_thread(store.close)

    asyncio.run(main())


async def finished(handler: TurnRunner) -> None:
    async with asyncio.timeout(15):
        await handler.wait_idle()


def test_a_turn_is_stored_then_emitted(tmp_path: Path) -> None:
    async def body(handler: TurnRunner, store: Store, published: Published, _m: Metrics) -> None:
        ack = await handler.submit(chat("hello", session_id="s1"))
        await finished(handler)
        chats = published.chats()
        assert chats[0]["msg_id"] == ack["msg_id"]
        assert all(m["session_id"] == "s1" for m in chats)
        assert published.items[1] == ("sessions", None)  # the input created the session
        seqs = [m["metadata"]["seq"] for m in chats]
        assert seqs == list(range(1, len(chats) + 1))  # every stored change was emitted, in order
        stored = await store.messages_since("s1", 0)
        assert stored == [chats[0], chats[-1]]  # what was emitted is what is stored
        assert chats[-1]["status"] == "success"
        assert chats[-1]["msg_id"] == ack["output_msg_id"]

    run_with(tmp_path, body)


def test_stop_keeps_partial_text(tmp_path: Path) -> None:
    async def body(handler: TurnRunner, store: Store, published: Published, _m: Metrics) -> None:
        ack = await handler.submit(chat("go on", session_id="s1", conv_id="c1"))
        await published.wait(lambda: any(streamed(c) for c in published.chats()))
        assert await handler.stop("s1", "c1") is True
        stored = await store.get_message("s1", ack["output_msg_id"])
        assert stored is not None
        assert stored["status"] == "not_generated"
        assert stored["metadata"]["stopped"] is True
        assert stored["content"][0]["text"]
        assert stored["content"][0]["status"] == "not_generated"
        assert not handler.is_running("s1")
        assert await handler.stop("s1", "c1") is False

    run_with(tmp_path, body, pace=0.05)


@pytest.mark.parametrize(
    ("error", "code", "shown"),
    [
        (RuntimeError("disk /home/me/x.db broke tok-secret"), "internal", "Something went wrong"),
        (
            AgentFailed("the agent gave up at /home/me/x.db"),
            "agent_failed",
            "the agent gave up at [path]",
        ),
    ],
)
def test_engine_failure_ends_in_a_stored_error(
    tmp_path: Path, error: Exception, code: str, shown: str
) -> None:
    async def body(
        handler: TurnRunner, store: Store, published: Published, metrics: Metrics
    ) -> None:
        ack = await handler.submit(chat("fail please", session_id="s1"))
        await finished(handler)
        stored = await store.get_message("s1", ack["output_msg_id"])
        assert stored is not None
        assert stored["status"] == "error"
        assert stored["metadata"]["error_type"] == code
        assert stored["content"][0] == {
            "type": "text",
            "status": "error",
            "status_message": "Failed",
            "agent_name": "assistant",
            "text": "half an ans",
        }
        assert shown in stored["content"][1]["text"]
        assert "/home/me" not in str(stored)
        assert "tok-secret" not in str(stored)
        assert metrics.runs["error"] == 1

    run_with(tmp_path, body, engine=lambda _store: FailingEngine(error))


def test_conflict_resend_and_duplicate(tmp_path: Path) -> None:
    async def body(handler: TurnRunner, store: Store, published: Published, _m: Metrics) -> None:
        first = await handler.submit(chat("one", session_id="s1", conv_id="c1", msg_id="m1"))
        assert (
            await handler.submit(chat("one", session_id="s1", conv_id="c1", msg_id="m1")) == first
        )
        with pytest.raises(Conflict):
            await handler.submit(chat("two", session_id="s1", conv_id="c1", msg_id="m2"))
        await handler.stop("s1", "c1")
        assert (
            await handler.submit(chat("one", session_id="s1", conv_id="c1", msg_id="m1")) == first
        )
        with pytest.raises(DuplicateId):
            await handler.submit(chat("one", session_id="s1", conv_id="c2", msg_id="m1"))
        assert len(await store.messages_since("s1", 0)) == 2

    run_with(tmp_path, body, pace=0.05)


def test_close_interrupts_runs_with_a_stored_error(tmp_path: Path) -> None:
    async def body(
        handler: TurnRunner, store: Store, published: Published, metrics: Metrics
    ) -> None:
        ack = await handler.submit(chat("long", session_id="s1"))
        await published.wait(lambda: len(published.chats()) >= 2)
        await handler.close()
        stored = await store.get_message("s1", ack["output_msg_id"])
        assert stored is not None
        assert stored["status"] == "error"
        assert stored["metadata"]["error_type"] == "interrupted"
        assert metrics.runs["interrupted"] == 1
        with pytest.raises(Exception, match="shutting down"):
            await handler.submit(chat("too late", session_id="s1"))

    run_with(tmp_path, body, pace=0.05)


def test_session_name() -> None:
    assert session_name(chat("  many   words\nhere ")) == "many words here"
    assert session_name(chat("x" * 100)) == "x" * 60
    empty = parse_chat_input({"content": [{"type": "image", "image": {}}]})
    assert session_name(empty) == "New chat"


class ConvertingEngine(FailingEngine):
    """An Engine that turns a cancellation into its own error, as a model binding may."""

    def __init__(self) -> None:
        super().__init__(RuntimeError("unused"))
        self.streaming = asyncio.Event()

    async def run(self, turn: Turn) -> None:
        turn.output.append_text("partial")
        await turn.output.flush()
        self.streaming.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            raise RuntimeError("generation aborted by callback") from None


def test_stop_wins_over_an_error_the_engine_raises_when_cancelled(tmp_path: Path) -> None:
    engine = ConvertingEngine()

    async def body(handler: TurnRunner, store: Store, _p: Published, metrics: Metrics) -> None:
        ack = await handler.submit(chat("go", session_id="s1", conv_id="c1"))
        await engine.streaming.wait()
        assert await handler.stop("s1", "c1") is True
        stored = await store.get_message("s1", ack["output_msg_id"])
        assert stored is not None
        assert stored["status"] == "not_generated"
        assert stored["content"][0]["text"] == "partial"
        assert metrics.runs["stopped"] == 1

    run_with(tmp_path, body, engine=lambda _store: engine)


class HistoryEngine(FailingEngine):
    """Records the history each turn got, and answers."""

    def __init__(self, wants_history: bool) -> None:
        super().__init__(RuntimeError("unused"))
        self.wants_history = wants_history
        self.histories: list[list[JSONDict]] = []

    async def run(self, turn: Turn) -> None:
        self.histories.append(turn.history)
        turn.output.append_text("ok")


@pytest.mark.parametrize("wants_history", [True, False])
def test_history_is_read_only_for_engines_that_want_it(tmp_path: Path, wants_history: bool) -> None:
    engine = HistoryEngine(wants_history)
    acks: list[JSONDict] = []

    async def body(handler: TurnRunner, store: Store, published: Published, _m: Metrics) -> None:
        acks.append(await handler.submit(chat("one", session_id="s1")))
        await finished(handler)
        acks.append(await handler.submit(chat("two", session_id="s1")))
        await finished(handler)
        chats = published.chats()
        # the reply stored with the input is the run's first snapshot, emitted as stored
        # without reading it back: "Reasoning the message...", then the answer
        assert [m["msg_id"] for m in chats[:3]] == [
            acks[0]["msg_id"],
            *[acks[0]["output_msg_id"]] * 2,
        ]
        assert chats[1]["status"] == "progress"
        assert chats[1]["actions"] == ["Reasoning the message..."]
        assert chats[1]["content"] == []
        assert chats[1]["metadata"]["seq"] == chats[0]["metadata"]["seq"] + 1
        assert chats[2]["status"] == "success"
        assert chats[2]["metadata"]["seq"] == chats[1]["metadata"]["seq"] + 1

    run_with(tmp_path, body, engine=lambda _store: engine)
    ids = [[m["msg_id"] for m in history] for history in engine.histories]
    if wants_history:
        # everything stored in the session but the turn's own input, its pending reply included
        assert ids == [
            [acks[0]["output_msg_id"]],
            [acks[0]["msg_id"], acks[0]["output_msg_id"], acks[1]["output_msg_id"]],
        ]
    else:
        assert ids == [[], []]


def test_the_session_keeps_the_last_video_and_collection_it_was_given(tmp_path: Path) -> None:
    async def body(handler: TurnRunner, store: Store, _p: Published, _m: Metrics) -> None:
        def said(text: str, **about: str | None) -> Any:
            payload = {"content": [{"type": "text", "text": text}], "session_id": "s1", **about}
            return parse_chat_input(payload)

        await handler.submit(said("first", video_id="v1", collection_id="c1"))
        await finished(handler)
        await handler.submit(said("about another", video_id="v2"))
        await finished(handler)
        session = await store.get_session("s1")
        assert session is not None
        assert (session["video_id"], session["collection_id"]) == ("v2", "c1")
        await handler.submit(said("no keys: nothing changes"))
        await finished(handler)
        await handler.submit(said("cleared", video_id=None))
        await finished(handler)
        session = await store.get_session("s1")
        assert session is not None
        assert (session["video_id"], session["collection_id"]) == (None, "c1")

    run_with(tmp_path, body)
