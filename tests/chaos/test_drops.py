"""Sockets dropped at random moments (the TCP connection shut under the client, no goodbye),
`scale.drops` times, by clients that chat meanwhile; after each drop the client connects again
and asks for what it missed with `reconnect {since_seq}`, half the time a stale `since_seq`
(anywhere from 0 to what it last saw). Its history, kept as PROTOCOL section 4 says, must end
equal to what the server stored: nothing lost."""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio

from tests.chaos.history import History
from tests.chaos.invariants import check_data_dir, check_serving
from tests.chaos.report import Report, Row
from tests.chaos.scale import Scale
from tests.chaos.support import Http, headless
from tests.integration.support import NS, WAIT, InOrderClient, chat_payload, wait_until
from tests.live_server import HeadlessServer

pytestmark = pytest.mark.slow
WORKERS = 4


class Dropper:
    """One user whose connection keeps dropping; one session, many turns."""

    def __init__(self, server: HeadlessServer, rng: random.Random) -> None:
        self.server, self.rng = server, rng
        self.session_id = f"drops-{uuid.uuid4()}"
        self.history = History()
        self.acked: list[tuple[str, str]] = []
        self.stale = 0
        self.drops = 0
        self.errors: list[str] = []

    def connect(self) -> socketio.Client:
        sio = InOrderClient(reconnection=False)
        sio.on("chat", lambda m: self.history.add(m, replayed=True), namespace=NS)
        sio.connect(
            self.server.base_url,
            namespaces=[NS],
            auth={"token": self.server.token},
            transports=["websocket"],
            wait_timeout=WAIT,
        )
        return sio

    def catch_up(self, sio: socketio.Client, *, stale: bool) -> None:
        since = self.history.last_seq
        if stale and since:
            since = self.rng.randrange(0, since)
            self.stale += 1
        ack = sio.call(
            "reconnect",
            {"session_id": self.session_id, "since_seq": since},
            namespace=NS,
            timeout=WAIT,
        )
        if not ack["ok"] and ack["error"]["code"] != "not_found":  # not_found: nothing sent yet
            self.errors.append(f"reconnect: {ack}")

    def cycle(self) -> None:
        raw: socket.socket | None = None
        sio = self.connect()
        try:
            self.catch_up(sio, stale=self.rng.random() < 0.5)
            if not self.acked or self.rng.random() < 0.5:
                ack = sio.call(
                    "chat",
                    chat_payload("go on", session_id=self.session_id),
                    namespace=NS,
                    timeout=WAIT,
                )
                if ack["ok"]:
                    self.acked.append((self.session_id, ack["data"]["msg_id"]))
                else:
                    self.errors.append(f"chat: {ack}")
            time.sleep(self.rng.uniform(0, 0.3))  # the drop's random moment
            raw = drop(sio)
            self.drops += 1
        finally:
            close(sio)
        if raw is not None:
            raw.close()

    def settle(self, http: Http) -> list[str]:
        """Wait for every turn to end, catch up once more, and compare with the server."""

        def ended() -> bool:
            stored = http.get(f"/session/{self.session_id}").json()["conversation"]
            return all(m["status"] != "progress" for m in stored)

        wait_until(ended, f"the turns of {self.session_id} to end", timeout=WAIT * 4)
        sio = self.connect()
        try:
            self.catch_up(sio, stale=False)
        finally:
            close(sio)
        stored = http.get(f"/session/{self.session_id}").json()["conversation"]
        return self.history.compare(stored)


def drop(sio: socketio.Client) -> socket.socket | None:
    """Shut the TCP connection under the client: no close frame, no disconnect packet. Answers
    the raw socket, which the caller closes: the websocket client forgets it after the error."""
    ws: Any = getattr(sio.eio, "ws", None)
    if ws is None or ws.sock is None:
        return None
    raw: socket.socket = ws.sock
    with contextlib.suppress(OSError):  # already gone
        raw.shutdown(socket.SHUT_RDWR)
    return raw


def close(sio: socketio.Client) -> None:
    if sio.connected:
        with contextlib.suppress(Exception):  # a dropped socket may fail its goodbye
            sio.disconnect()
    sio.shutdown()
    ws: Any = getattr(sio.eio, "ws", None)
    if ws is not None:
        ws.shutdown()


def test_socket_drops_and_stale_since_seq(
    tmp_path: Path, scale: Scale, report: Report, request: pytest.FixtureRequest
) -> None:
    seed = random.randrange(1 << 30)
    with headless(tmp_path / "data", DIRECTOR_ASSISTANT_PACE="0.02") as server:
        http = Http(server)
        droppers = [Dropper(server, random.Random(seed + n)) for n in range(WORKERS)]
        per_worker = -(-scale.drops // WORKERS)

        def work(dropper: Dropper) -> None:
            try:
                for _ in range(per_worker):
                    dropper.cycle()
            except (socketio.exceptions.SocketIOError, httpx.HTTPError, OSError) as exc:
                dropper.errors.append(repr(exc))

        threads = [threading.Thread(target=work, args=(d,)) for d in droppers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        lost = [entry for d in droppers for entry in d.settle(http)]
        check_serving(server.base_url, server.token)
        five_xx = list(http.five_xx)
        http.close()
    acked = [pair for d in droppers for pair in d.acked]
    findings = check_data_dir(server.data_dir, acked)
    errors = [e for d in droppers for e in d.errors]
    drops = sum(d.drops for d in droppers)
    report.add(
        Row(
            "socket-drops",
            f"TCP shut under {WORKERS} chatting clients at random moments, then reconnect with "
            f"since_seq, stale half the time (seed {seed})",
            drops,
            f"{len(acked)} turns acknowledged, {sum(d.stale for d in droppers)} stale catch-ups, "
            f"{errors.__len__()} client errors",
            lost=len(lost) + len(findings.lost),
            stuck=findings.stuck,
            five_xx=len(five_xx),
            nodeid=request.node.nodeid,
        )
    )
    assert errors == [], errors[:5]
    assert lost == [], lost[:10]
    assert findings.problems() == []
    assert five_xx == []
    assert drops >= scale.drops
