"""Many clients chatting at once with streamed replies, each keeping its own history; readers
list sessions, search, page and stream a clip with range requests meanwhile.
"""

from __future__ import annotations

import multiprocessing
import random
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from tests.chaos.history import History
from tests.chaos.support import Http, percentile
from tests.integration.support import NS, WAIT, InOrderClient, chat_payload, wait_until

TURN_DEADLINE = 120.0  # a reply under load on a shared 2-core machine; never a timing assertion
"""How long an ack may take, and how long a turn may wait with no turn ending anywhere. A model
answers one turn at a time (llama.cpp's single slot): 500 first turns queue for minutes, and a
turn is stuck only when the queue stops moving, not when it is long."""


GROUP = 100
"""Clients per process. python-socketio's client runs three threads per connection: 500 of them
in one process spent the run queueing for its GIL, so acks sat unread in the socket for minutes
while the server had sent them within seconds; the harness measured itself, not the app."""


@dataclass(frozen=True)
class Target:
    """What a client process needs of the server (picklable, unlike `HeadlessServer`)."""

    base_url: str
    token: str

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Tally:
    turns: int = 0
    latencies: list[float] = field(default_factory=list)
    acked: list[tuple[str, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    duplicated: int = 0
    out_of_order: int = 0
    unnumbered: int = 0
    ended_at: float = 0.0  # when the last client's last turn ended (monotonic: one clock per host)

    def merge(self, other: Tally) -> None:
        self.ended_at = max(self.ended_at, other.ended_at)
        self.turns += other.turns
        self.latencies += other.latencies
        self.acked += other.acked
        self.failures += other.failures
        self.lost += other.lost
        self.duplicated += other.duplicated
        self.out_of_order += other.out_of_order
        self.unnumbered += other.unnumbered


class Progress(Protocol):
    """When a client of any process last saw a turn end (a shared `multiprocessing.Value`)."""

    value: float


class LoadClient:
    """One user: its own session, one turn after another until the deadline."""

    def __init__(self, target: Target, session_id: str, progress: Progress) -> None:
        self.target = target
        self.session_id = session_id
        self.progress = progress
        self.history = History()
        self.turns = 0
        self.latencies: list[float] = []
        self.acked: list[tuple[str, str]] = []
        self.failure: str | None = None
        self.sio = InOrderClient(reconnection=False)
        self._done = threading.Condition()
        self._finals: set[str] = set()
        self.sio.on("chat", self._on_chat, namespace=NS)

    def _on_chat(self, message: dict[str, Any]) -> None:
        self.history.add(message)
        if message.get("status") != "progress":
            if message.get("msg_type") == "output":
                self.progress.value = time.monotonic()
            with self._done:
                self._finals.add(str(message.get("msg_id")))
                self._done.notify_all()

    def connect(self) -> None:
        self.sio.connect(
            self.target.base_url,
            namespaces=[NS],
            auth={"token": self.target.token},
            transports=["websocket"],
            wait_timeout=WAIT * 4,
        )

    def run(self, until: float) -> None:
        try:
            while time.monotonic() < until:
                self.turn()
        except Exception as exc:  # counted, and the scenario fails on it
            self.failure = f"{self.session_id}: {exc!r}"

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
        self.acked.append((self.session_id, data["msg_id"]))
        output = data["output_msg_id"]
        with self._done:
            while not self._done.wait_for(lambda: output in self._finals, 1.0):
                if time.monotonic() - max(started, self.progress.value) > TURN_DEADLINE:
                    raise AssertionError(f"no final snapshot of {output}, and no turn ended")
        self.turns += 1
        self.latencies.append(time.monotonic() - started)

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()
        self.sio.shutdown()
        # python-engineio's client can leave its websocket's socket open after the connection
        # ended (as tests/integration/support.py's ChatClient notes): shut it here.
        ws = getattr(self.sio.eio, "ws", None)
        if ws is not None:
            ws.shutdown()


def settle(http: Http, session_id: str) -> None:
    """Wait until every turn of the session has ended (a turn a failed client gave up on still
    ends); a session never stored answers 404."""

    def ended() -> bool:
        answer = http.get(f"/session/{session_id}")
        return answer.status_code == 404 or all(
            m["status"] != "progress" for m in answer.json()["conversation"]
        )

    wait_until(ended, f"the turns of {session_id} to end", timeout=TURN_DEADLINE)


class Barrier(Protocol):
    def wait(self, timeout: float | None = None) -> int: ...


def run_group(
    target: Target, session_ids: list[str], seconds: float, start: Barrier, progress: Progress
) -> Tally:
    """One process's clients (in a child process): connect, wait for every group, chat for
    `seconds`, then compare each client's history with what the server stored."""
    clients = [LoadClient(target, sid, progress) for sid in session_ids]
    for client in clients:
        client.connect()
    start.wait(TURN_DEADLINE)
    until = time.monotonic() + seconds
    threads = [threading.Thread(target=c.run, args=(until,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tally = Tally(ended_at=time.monotonic())
    http = Http(target)
    try:
        for client in clients:
            settle(http, client.session_id)
            stored = http.get(f"/session/{client.session_id}")
            if stored.status_code == 200:
                tally.lost += client.history.compare(stored.json()["conversation"])
            client.close()
            tally.turns += client.turns
            tally.latencies += client.latencies
            tally.acked += client.acked
            tally.failures += [client.failure] if client.failure else []
            tally.duplicated += client.history.duplicated
            tally.out_of_order += client.history.out_of_order
            tally.unnumbered += client.history.unnumbered
        tally.failures += http.five_xx
    finally:
        http.close()
    return tally


class ClientGroups:
    """Every client, `GROUP` to a child process, chatting for `seconds` once all are connected;
    the test's own process meanwhile reads and samples the server."""

    def __init__(self, target: Target, session_ids: list[str], seconds: float) -> None:
        context = multiprocessing.get_context("spawn")  # never fork a process with threads
        groups = [session_ids[i : i + GROUP] for i in range(0, len(session_ids), GROUP)]
        self._manager = context.Manager()
        start = self._manager.Barrier(len(groups) + 1)
        self._start = start
        progress = self._manager.Value("d", time.monotonic())
        self._pool = ProcessPoolExecutor(len(groups), mp_context=context)
        self.futures = [
            self._pool.submit(run_group, target, group, seconds, start, progress)
            for group in groups
        ]

    def start(self) -> None:
        """Returns when every client is connected and chatting has begun."""
        self._start.wait(TURN_DEADLINE)

    def running(self) -> bool:
        return not all(future.done() for future in self.futures)

    def tally(self) -> Tally:
        total = Tally()
        for future in self.futures:
            total.merge(future.result())
        return total

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)
        self._manager.shutdown()


class Readers:
    """Threads that read while the chat goes on: sessions, search, a page of a conversation, and
    a clip by range requests. Each 5xx is counted by `Http`."""

    def __init__(self, http: Http, session_ids: list[str], clip_url: str | None) -> None:
        self.http, self.session_ids, self.clip_url = http, session_ids, clip_url
        self.requests = 0
        self.bad: list[str] = []

    def run(self, until: float) -> None:
        while time.monotonic() < until:
            try:
                self.read_once()
            except httpx.TimeoutException as exc:  # a read that never came back: a finding
                self.bad.append(f"{exc.request.url.path} timed out after {WAIT:.0f} s")

    def read_once(self) -> None:
        rng = random.Random()
        choice = rng.randrange(4)
        if choice == 0:
            answer = self.http.get("/session")
        elif choice == 1:
            answer = self.http.get("/search", params={"q": "hello"})
        elif choice == 2:
            sid = rng.choice(self.session_ids)
            answer = self.http.get(f"/session/{sid}", params={"limit": 5, "before": 1 << 30})
            if answer.status_code == 404:  # its first turn is not stored yet
                return
        elif self.clip_url is not None:
            start = rng.randrange(0, 20_000)
            answer = self.http.get(
                self.clip_url, headers={"Range": f"bytes={start}-{start + 4095}"}
            )
            self.requests += 1
            if answer.status_code != 206:
                self.bad.append(f"range -> {answer.status_code}")
            return
        else:
            return
        self.requests += 1
        if answer.status_code != 200:
            self.bad.append(f"{answer.request.url.path} -> {answer.status_code}")


def summary(tally: Tally, seconds: float) -> dict[str, float]:
    return {
        "msgs_per_s": tally.turns / seconds if seconds else 0.0,
        "p50": percentile(tally.latencies, 0.5),
        "p99": percentile(tally.latencies, 0.99),
    }
