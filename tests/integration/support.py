"""What the integration tests drive: the real app in uvicorn on a free loopback port (real Store
on a temp SQLite file, the built-in assistant) and real clients (python-socketio's client over a
websocket, httpx). The fixtures in conftest.py start and stop them.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import engineio
import httpx
import socketio

from director_desktop.composition import build_library
from director_desktop.engine.agents import default_registry
from director_desktop.engine.assistant import BuiltinAssistant
from director_desktop.server import Server
from director_desktop.settings import build_settings
from director_desktop.store import Store
from director_desktop.user_settings import UserSettings
from director_desktop.web.app import DirectorApp, create_app

NS = "/chat"
WAIT = 15.0  # deadline for any wait on the server; generous for a loaded 2-core machine
SLOW_PACE = 0.05  # seconds between streamed pieces: a run lasts a few seconds, long enough to catch


def open_fds() -> set[int]:
    return {int(name) for name in os.listdir("/proc/self/fd")}


def wait_until(check: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    """Poll a condition with a deadline (a readiness signal, not a sleep to win a race)."""
    end = time.monotonic() + timeout
    while not check():
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


class _InOrderEngineIO(engineio.Client):  # type: ignore[misc]  # engineio ships no types
    """python-engineio's client hands every message to a thread of its own, so under load the
    handlers run in the order the threads are scheduled, not the order the server sent: a
    client's record would show the test machine's scheduler, not the app. Here each message is
    handled on the read loop, as it arrives (handlers must not block: they record and return)."""

    def _trigger_event(self, event: str, *args: Any, **kwargs: Any) -> Any:
        if event == "message":
            kwargs["run_async"] = False
        return super()._trigger_event(event, *args, **kwargs)


class InOrderClient(socketio.Client):  # type: ignore[misc]  # python-socketio ships no types
    """A Socket.IO client whose handlers see messages in the order they arrived."""

    def _engineio_client_class(self) -> type[engineio.Client]:
        return _InOrderEngineIO


class ChatClient:
    """A python-socketio client on `/chat` that records what the server sends it."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.sio = InOrderClient(reconnection=False)
        self.messages: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.connect_errors: list[Any] = []
        self._cond = threading.Condition()
        self.sio.on("chat", self._on_chat, namespace=NS)
        self.sio.on("event", self._on_event, namespace=NS)
        self.sio.on("connect_error", self._on_connect_error, namespace=NS)

    def _on_chat(self, data: dict[str, Any]) -> None:
        with self._cond:
            self.messages.append(data)
            self._cond.notify_all()

    def _on_event(self, data: dict[str, Any]) -> None:
        with self._cond:
            self.events.append(data)
            self._cond.notify_all()

    def _on_connect_error(self, data: Any) -> None:
        self.connect_errors.append(data)

    def connect(
        self,
        token: str | None,
        *,
        headers: dict[str, str] | None = None,
        transports: tuple[str, ...] = ("websocket",),
    ) -> None:
        self.sio.connect(
            self.base_url,
            namespaces=[NS],
            auth=None if token is None else {"token": token},
            transports=list(transports),
            headers=headers or {},
            wait_timeout=WAIT,
        )

    def call(self, event: str, payload: Any = None, *, timeout: float = WAIT) -> dict[str, Any]:
        args = () if payload is None else (payload,)
        ack: dict[str, Any] = self.sio.call(event, *args, namespace=NS, timeout=timeout)
        return ack

    def emit_raw(self, event: str, *args: Any, timeout: float = WAIT) -> Any:
        """An event with any number of arguments (bad-input tests)."""
        done = threading.Event()
        result: list[Any] = []

        def callback(*data: Any) -> None:
            result.append(data[0] if len(data) == 1 else list(data))
            done.set()

        # A tuple is sent as that many arguments: (None,) is one JSON null, () is none at all.
        self.sio.emit(event, tuple(args) if args else None, namespace=NS, callback=callback)
        assert done.wait(timeout), f"no ack for {event}"
        return result[0]

    def wait_for(self, check: Callable[[list[dict[str, Any]]], bool], what: str) -> None:
        end = time.monotonic() + WAIT
        with self._cond:
            while not check(self.messages):
                left = end - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out waiting for {what}; got {self.summary()}")
                self._cond.wait(left)

    def wait_event(self, check: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        end = time.monotonic() + WAIT
        with self._cond:
            while True:
                for event in self.events:
                    if check(event):
                        return event
                left = end - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out waiting for {what}; got {self.events}")
                self._cond.wait(left)

    def snapshots(self, msg_id: str) -> list[dict[str, Any]]:
        with self._cond:
            return [m for m in self.messages if m.get("msg_id") == msg_id]

    def final(self, msg_id: str) -> dict[str, Any]:
        """Wait for the message's non-progress snapshot and return it."""
        self.wait_for(
            lambda ms: any(m.get("msg_id") == msg_id and m.get("status") != "progress" for m in ms),
            f"the final snapshot of {msg_id}",
        )
        return [m for m in self.snapshots(msg_id) if m["status"] != "progress"][-1]

    def latest(self) -> dict[str, dict[str, Any]]:
        """What a client keeps: per msg_id, the snapshot with the highest seq."""
        kept: dict[str, dict[str, Any]] = {}
        with self._cond:
            for message in self.messages:
                seq = message.get("metadata", {}).get("seq")
                old = kept.get(message["msg_id"])
                if seq is not None and (old is None or old["metadata"]["seq"] < seq):
                    kept[message["msg_id"]] = message
        return kept

    def summary(self) -> list[tuple[Any, Any, Any]]:
        return [
            (m.get("msg_id"), m.get("status"), m.get("metadata", {}).get("seq"))
            for m in self.messages
        ]

    def close(self) -> None:
        if self.sio.connected:
            if self.sio.eio.current_transport == "polling":
                # a polling client's disconnect() waits out its pending long poll (~30 s)
                self.sio.eio.disconnect(abort=True)
            else:
                self.sio.disconnect()
        self.sio.shutdown()
        # When the server ends the connection, python-engineio's client leaves its websocket
        # object's socket open (its read loop exits without closing it, and websocket-client's
        # close() skips a connection it already saw end): shut it down here.
        ws = getattr(self.sio.eio, "ws", None)
        if ws is not None:
            ws.shutdown()


def text_of(message: dict[str, Any]) -> str:
    return "".join(
        str(item.get("text") or "")
        for item in message.get("content", [])
        if item.get("type") == "text"
    )


def chat_payload(text: str, **ids: Any) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": text}], **ids}


@dataclass
class Live:
    base_url: str
    port: int
    token: str
    app: DirectorApp
    server: Server
    data_dir: Path
    http: httpx.Client
    _clients: list[ChatClient] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def client(self, *, connect: bool = True) -> ChatClient:
        client = ChatClient(self.base_url)
        self._clients.append(client)
        if connect:
            client.connect(self.token)
        return client

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.get(path, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def stop(self) -> None:
        for client in self._clients:
            client.close()
        self.http.close()
        self.server.stop()


def start_live(data_dir: Path, *, pace: float = 0.0, bundle_dir: Path | None = None) -> Live:
    settings = build_settings(data_dir=data_dir, log_dir=data_dir / "logs", environ={})
    server = Server.bind(settings.host, 0)
    settings = settings.__class__(**{**settings.__dict__, "port": server.port})
    store = Store(settings.db_path, backups_dir=settings.backups_dir)
    agents = default_registry()
    engine = BuiltinAssistant(store, agents, models_dir=settings.models_dir, pace=pace)
    app = create_app(
        settings,
        store,
        engine,
        agents,
        build_library(settings, store, UserSettings(settings.user_settings_path)),
        bundle_dir=bundle_dir,
    )
    server.start(app)
    base_url = f"http://127.0.0.1:{server.port}"
    return Live(
        base_url,
        server.port,
        settings.token,
        app,
        server,
        data_dir,
        httpx.Client(base_url=base_url, timeout=WAIT),
    )


def child_pids() -> set[int]:
    """Processes whose parent is this one (a leaked subprocess shows up here)."""
    me, found = os.getpid(), set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me:
            found.add(int(entry))
    return found


def warm_up_event_loop() -> None:
    """uvloop opens one process-wide pipe pair (libuv's) on its first loop and keeps it for the
    life of the process; open it before a leak baseline so only per-server resources count."""
    try:
        import uvloop
    except ImportError:
        return
    loop = uvloop.new_event_loop()
    loop.close()


def leftovers(threads_before: set[int | None], fds_before: set[int]) -> str:
    threads = [
        t.name for t in threading.enumerate() if t.ident not in threads_before and t.is_alive()
    ]
    fds = {}
    for fd in open_fds() - fds_before:
        try:
            fds[fd] = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
    return f"threads {threads}, fds {fds}, children {child_pids()}"


@dataclass
class Baseline:
    """This process's threads, descriptors and child processes before a test starts servers, to
    check that stopping them gave every one back."""

    threads: set[int | None]
    fds: set[int]
    children: set[int]

    @classmethod
    def take(cls) -> Baseline:
        warm_up_event_loop()
        return cls({t.ident for t in threading.enumerate()}, open_fds(), child_pids())

    def wait_restored(self, what: str) -> None:
        """Wait (deadline WAIT) until nothing is left beyond the baseline; else fail naming what
        was left behind."""
        try:
            wait_until(
                lambda: (
                    {t.ident for t in threading.enumerate() if t.is_alive()} <= self.threads
                    and open_fds() <= self.fds
                    and child_pids() <= self.children
                ),
                what,
            )
        except AssertionError:
            raise AssertionError(f"left behind: {leftovers(self.threads, self.fds)}") from None
