"""Many clients chatting at once with streamed replies, each keeping its own history; readers
list sessions, search, page and stream a clip with range requests meanwhile.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.chaos.history import History
from tests.chaos.support import Http, percentile
from tests.integration.support import NS, WAIT, InOrderClient, chat_payload
from tests.live_server import HeadlessServer

TURN_DEADLINE = 120.0  # a reply under load on a shared 2-core machine; never a timing assertion


@dataclass
class Tally:
    turns: int = 0
    latencies: list[float] = field(default_factory=list)
    acked: list[tuple[str, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class LoadClient:
    """One user: its own session, one turn after another until the deadline."""

    def __init__(self, server: HeadlessServer, tally: Tally) -> None:
        self.server = server
        self.tally = tally
        self.session_id = f"load-{uuid.uuid4()}"
        self.history = History()
        self.sio = InOrderClient(reconnection=False)
        self._done = threading.Condition()
        self._finals: set[str] = set()
        self.sio.on("chat", self._on_chat, namespace=NS)

    def _on_chat(self, message: dict[str, Any]) -> None:
        self.history.add(message)
        if message.get("status") != "progress":
            with self._done:
                self._finals.add(str(message.get("msg_id")))
                self._done.notify_all()

    def connect(self) -> None:
        self.sio.connect(
            self.server.base_url,
            namespaces=[NS],
            auth={"token": self.server.token},
            transports=["websocket"],
            wait_timeout=WAIT * 4,
        )

    def run(self, until: float) -> None:
        try:
            while time.monotonic() < until:
                self.turn()
        except Exception as exc:  # counted, and the scenario fails on it
            with self.tally.lock:
                self.tally.failures.append(f"{self.session_id}: {exc!r}")

    def turn(self) -> None:
        started = time.monotonic()
        text = f"hello {random.randrange(1 << 30)}"
        ack = self.sio.call(
            "chat",
            chat_payload(text, session_id=self.session_id),
            namespace=NS,
            timeout=TURN_DEADLINE,
        )
        if not ack.get("ok"):
            raise AssertionError(f"chat refused: {ack}")
        data = ack["data"]
        with self.tally.lock:
            self.tally.acked.append((self.session_id, data["msg_id"]))
        output = data["output_msg_id"]
        with self._done:
            if not self._done.wait_for(lambda: output in self._finals, TURN_DEADLINE):
                raise AssertionError(f"no final snapshot of {output}")
        with self.tally.lock:
            self.tally.turns += 1
            self.tally.latencies.append(time.monotonic() - started)

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()
        self.sio.shutdown()
        # python-engineio's client can leave its websocket's socket open after the connection
        # ended (as tests/integration/support.py's ChatClient notes): shut it here.
        ws = getattr(self.sio.eio, "ws", None)
        if ws is not None:
            ws.shutdown()


class Readers:
    """Threads that read while the chat goes on: sessions, search, a page of a conversation, and
    a clip by range requests. Each 5xx is counted by `Http`."""

    def __init__(self, http: Http, clients: list[LoadClient], clip_url: str | None) -> None:
        self.http, self.clients, self.clip_url = http, clients, clip_url
        self.requests = 0
        self.bad: list[str] = []

    def run(self, until: float) -> None:
        rng = random.Random()
        while time.monotonic() < until:
            choice = rng.randrange(4)
            if choice == 0:
                answer = self.http.get("/session")
            elif choice == 1:
                answer = self.http.get("/search", params={"q": "hello"})
            elif choice == 2:
                sid = rng.choice(self.clients).session_id
                answer = self.http.get(f"/session/{sid}", params={"limit": 5, "before": 1 << 30})
                if answer.status_code == 404:  # its first turn is not stored yet
                    continue
            elif self.clip_url is not None:
                start = rng.randrange(0, 20_000)
                answer = self.http.get(
                    self.clip_url, headers={"Range": f"bytes={start}-{start + 4095}"}
                )
                if answer.status_code != 206:
                    self.bad.append(f"range -> {answer.status_code}")
                self.requests += 1
                continue
            else:
                continue
            self.requests += 1
            if answer.status_code != 200:
                self.bad.append(f"{answer.request.url.path} -> {answer.status_code}")


def summary(tally: Tally, seconds: float) -> dict[str, float]:
    return {
        "msgs_per_s": tally.turns / seconds if seconds else 0.0,
        "p50": percentile(tally.latencies, 0.5),
        "p99": percentile(tally.latencies, 0.99),
    }
