"""Director's stack, the baseline of bench/chat_bench.py: Flask + Flask-SocketIO in threading mode,
as VideoDB Director's backend runs it, doing per chat message the same work as Director Desktop.

Per message: store the input, emit it to the session's room, ack, then UPDATES output snapshots,
each stored (taking the session's next seq) and then emitted to the room: the first "progress"
with the action "Reasoning the message...", the middle ones appending a piece of text, the last
one "success". Storage follows Director's `SQLiteDB` pattern: a new `sqlite3` connection for each
operation, the default journal mode (rollback journal, synchronous=FULL), commit, close. The
handler runs synchronously inside the event's thread, as Director's `ChatHandler.chat` does, so
the ack (sent when the handler returns) arrives after the final snapshot.
(Director itself emits before it stores and emits to the sender only; here every change is stored
then emitted to the room, so the three servers do identical work.)

    python bench/baselines/director_stack.py --db PATH --updates N [--port 0]

Prints "READY <port>" once listening; exits on SIGTERM/SIGINT or when stdin closes.
Not part of the app: it imports Flask, which only requirements/bench.txt installs.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sqlite3
import sys
import threading
import time
from typing import Any

from flask import Flask
from flask_socketio import SocketIO, join_room  # type: ignore[import-untyped]
from turn_work import (
    SCHEMA,
    chat_ack,
    create_session,
    input_message,
    reply_snapshots,
    store_change,
)
from werkzeug.serving import WSGIRequestHandler


class DirectorStyleDB:
    """Director's SQLite access pattern: every operation opens its own connection."""

    def __init__(self, path: str) -> None:
        self.path = path
        with self._connect() as conn:
            conn.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def create_session(self, session_id: str, name: str) -> None:
        conn = self._connect()
        try:
            create_session(conn, session_id, name)
            conn.commit()
        finally:
            conn.close()

    def store(self, message: dict[str, Any]) -> dict[str, Any]:
        """Take the session's next seq and replace the message's row, in one transaction."""
        conn = self._connect()
        try:
            stored = store_change(conn, message)
            conn.commit()
        finally:
            conn.close()
        return stored


def create_app(db: DirectorStyleDB, updates: int, token: str) -> tuple[Flask, SocketIO]:
    app = Flask(__name__)
    sio = SocketIO(
        app,
        async_mode="threading",
        cors_allowed_origins="*",
        max_http_buffer_size=4 * 1024 * 1024,
    )

    @sio.on("connect", namespace="/chat")  # type: ignore[untyped-decorator]
    def connect(auth: Any = None) -> bool:
        return isinstance(auth, dict) and auth.get("token") == token

    @sio.on("chat", namespace="/chat")  # type: ignore[untyped-decorator]
    def chat(payload: Any) -> dict[str, Any]:
        if not isinstance(payload, dict) or not payload.get("session_id"):
            return {"ok": False, "error": {"code": "invalid_payload", "message": "bad input"}}
        session_id, conv_id, msg_id = payload["session_id"], payload["conv_id"], payload["msg_id"]
        room = f"session:{session_id}"
        text = " ".join(str(c.get("text", "")) for c in payload["content"])
        db.create_session(session_id, text[:60])
        stored = db.store(input_message(session_id, conv_id, msg_id, payload["content"]))
        join_room(room)
        sio.emit("chat", stored, to=room, namespace="/chat")
        out_id = f"{msg_id}.out"
        # The reply is written by the event's own thread before the handler returns, as
        # Director's `TurnRunner.chat` does; so the ack (sent on return) follows the reply.
        reply(session_id, conv_id, out_id, room)
        return chat_ack(session_id, conv_id, msg_id, out_id)

    def reply(session_id: str, conv_id: str, out_id: str, room: str) -> None:
        for snapshot in reply_snapshots(session_id, conv_id, out_id, updates):
            sio.emit("chat", db.store(snapshot), to=room, namespace="/chat")

    return app, sio


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--updates", type=int, default=2)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--nodelay",
        action="store_true",
        help="set TCP_NODELAY on every connection (Director does not; without it Nagle's "
        "algorithm and the client's delayed ACK hold small websocket frames ~40 ms)",
    )
    args = parser.parse_args()
    if args.updates < 2:
        parser.error("--updates must be at least 2")
    app, sio = create_app(DirectorStyleDB(args.db), args.updates, os.environ.get("BENCH_TOKEN", ""))
    port = args.port or free_port()

    def shutdown(*_: object) -> None:
        os._exit(0)  # Werkzeug's dev server has no clean stop from another thread

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)

    def exit_when_stdin_closes() -> None:
        sys.stdin.read()
        shutdown()

    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    threading.Thread(target=announce, args=(port,), daemon=True).start()
    extra: dict[str, Any] = {"request_handler": NoDelayHandler} if args.nodelay else {}
    sio.run(app, host="127.0.0.1", port=port, allow_unsafe_werkzeug=True, log_output=False, **extra)


class NoDelayHandler(WSGIRequestHandler):
    """Werkzeug's handler with Nagle's algorithm off, as Node's ws and uvicorn have it."""

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def free_port() -> int:
    # Werkzeug binds by number, so the port is picked here; the bench runs on loopback only and
    # fails loudly if another process takes the port in between.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def announce(port: int) -> None:
    """Print READY once the port accepts connections (Werkzeug has no readiness hook)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                print(f"READY {port}", flush=True)
                return
        except OSError:
            time.sleep(0.05)
    print("NOT READY", flush=True)


if __name__ == "__main__":
    main()
