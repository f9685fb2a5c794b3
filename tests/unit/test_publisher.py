"""web/publisher.py over a real TurnRunner, Store and python-socketio server: a session's
messages go to its room, list changes to everyone, media paths are signed at delivery only, and an
emit that raises is retried, then given up without losing anything (it was stored first)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import socketio

from director_desktop.engine.agents import default_registry
from director_desktop.engine.assistant import BuiltinAssistant
from director_desktop.engine.turns import TurnRunner
from director_desktop.metrics import Metrics
from director_desktop.protocol import JSONDict, parse_chat_input, text_item
from director_desktop.store import Store
from director_desktop.web.guard import Signer
from director_desktop.web.publisher import Publisher, room_of, text_only
from director_desktop.web.wire import NAMESPACE, socket_server


class FlakyServer:
    """The app's real Socket.IO server, whose next `fail` emits raise as a dropped transport
    would (a stand-in for the network, not for our code); every emit is recorded."""

    def __init__(self) -> None:
        self.real = socket_server(["http://127.0.0.1:1"])
        self.fail = 0
        self.sent: list[tuple[str, Any, Any]] = []

    async def emit(self, event: str, data: Any, **kwargs: Any) -> None:
        if self.fail:
            self.fail -= 1
            raise ConnectionError("transport gone")
        self.sent.append((event, data, kwargs.get("room", kwargs.get("to"))))
        assert kwargs["namespace"] == NAMESPACE
        await self.real.emit(event, data, **kwargs)


def run_with(tmp_path: Path, body: Any) -> None:
    async def main() -> None:
        store = Store(tmp_path / "director.sqlite3", backups_dir=tmp_path / "backups")
        await asyncio.to_thread(store.open)
        sio, metrics = FlakyServer(), Metrics()
        publisher = Publisher(sio, Signer("t" * 32), metrics)  # type: ignore[arg-type]
        turns = TurnRunner(store, BuiltinAssistant(store, default_registry()), publisher)
        try:
            await body(turns, store, sio, metrics)
        finally:
            await turns.close()
            await asyncio.to_thread(store.close)

    asyncio.run(main())


def chat(text: str) -> Any:
    return parse_chat_input({"content": [{"type": "text", "text": text}], "session_id": "s1"})


def test_messages_go_to_their_sessions_room_and_list_changes_to_everyone(tmp_path: Path) -> None:
    async def body(turns: TurnRunner, _store: Store, sio: FlakyServer, _m: Metrics) -> None:
        ack = await turns.submit(chat("hello"))
        await turns.wait_idle()
        chats = [(data, room) for event, data, room in sio.sent if event == "chat"]
        assert chats[0][0]["msg_id"] == ack["msg_id"]
        assert {room for _, room in chats} == {room_of("s1")}
        updates = [(data, room) for event, data, room in sio.sent if event == "event"]
        assert updates == [({"event_type": "update_data", "update": "sessions"}, None)]

    run_with(tmp_path, body)


def test_an_emit_is_retried_then_given_up_without_losing_anything(tmp_path: Path) -> None:
    async def body(turns: TurnRunner, store: Store, sio: FlakyServer, metrics: Metrics) -> None:
        sio.fail = 2  # the input's emit fails twice, then gets through
        ack = await turns.submit(chat("hi"))
        assert metrics.emit_retries == 2
        assert sio.sent[0][1]["msg_id"] == ack["msg_id"]
        await turns.wait_idle()
        sio.fail = 4  # every attempt of the next input's emit fails
        second = await turns.submit(chat("again"))
        assert metrics.emit_failures == 1
        assert second["msg_id"] not in [data.get("msg_id") for _, data, _ in sio.sent]
        assert await store.get_message("s1", second["msg_id"]) is not None  # stored anyway
        await turns.wait_idle()

    run_with(tmp_path, body)


def _message(*content: JSONDict) -> JSONDict:
    return {"msg_id": "m1", "session_id": "s1", "content": list(content), "metadata": {}}


def test_only_messages_with_media_items_are_copied_to_sign_their_paths() -> None:
    assert text_only(_message(text_item("/media/not-a-path-in-text")))
    assert text_only(_message())
    assert not text_only(_message(text_item("a"), {"type": "video", "video": {}}))
    assert not text_only({"event_type": "update_data", "update": "sessions"})
    assert not text_only({"messages": [_message(text_item("a"))]})
    publisher = Publisher(socketio.AsyncServer(async_mode="asgi"), Signer("t" * 32), Metrics())
    plain = _message(text_item("see /media/x"))
    assert publisher.sign(plain) is plain
    video = _message({"type": "video", "video": {"stream_url": "/media/a1"}})
    signed = publisher.sign(video)
    assert signed["content"][0]["video"]["stream_url"].startswith("/media/a1?sig=")
    assert video["content"][0]["video"]["stream_url"] == "/media/a1"  # the stored copy stays plain
