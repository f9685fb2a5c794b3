"""The bare python-socketio baseline of bench/chat_bench.py: the issue's "bare prototype".

`server.js` (Node's socket.io + better-sqlite3) translated line for line to python-socketio's
`AsyncServer` in an `ASGIApp` under uvicorn, with the app's uvicorn settings (uvloop, httptools,
websockets-sansio, no permessage-deflate). Per chat message the same work as the other servers:
store the input, emit it to the session's room, ack, then UPDATES output snapshots, each stored
(taking the session's next seq) and then emitted to the room.

What it leaves out, on purpose, is everything the app adds around that work: no store thread
(SQLite runs on the event loop, as better-sqlite3 runs on Node's one thread), no validation,
no guard, no logs, no metrics, no pending reply, no emit retries. The gap between this server
and Node is the floor python-socketio and uvicorn set; the gap between the app and this server
is what the app's guarantees cost.

With `--store-thread` the same server keeps SQLite off the event loop, as the app does (so a
slow or locked disk never stalls every client): each store call runs on one worker thread and
is awaited. Nothing else changes. The gap between it and the plain server is what that one
guarantee costs any python-socketio server: the floor under the app's own round trip.

    python bench/baselines/socketio_bare.py --db PATH --updates N [--port 0] [--store-thread]

Prints "READY <port>" once listening; exits on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import socketio
import uvicorn
from turn_work import (
    SCHEMA,
    chat_ack,
    create_session,
    input_message,
    reply_snapshots,
    store_change,
)

T = TypeVar("T")


class Store:
    """One WAL connection, used on the event loop's thread as better-sqlite3 is used in Node,
    or (`threaded`) on one worker thread of its own, as the app's store is."""

    def __init__(self, path: str, *, threaded: bool = False) -> None:
        self._worker = ThreadPoolExecutor(max_workers=1) if threaded else None
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = NORMAL")
        self.conn.executescript(SCHEMA)

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """`work(*args)`: here, or on the store's thread when it has one."""
        if self._worker is None:
            return work(*args)
        return await asyncio.get_running_loop().run_in_executor(self._worker, work, *args)

    def create_session(self, session_id: str, name: str) -> None:
        create_session(self.conn, session_id, name)

    def store(self, message: dict[str, Any]) -> dict[str, Any]:
        """Take the session's next seq and replace the message's row, in one transaction."""
        self.conn.execute("BEGIN")
        try:
            stored = store_change(self.conn, message)
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        return stored


def create_app(db: Store, updates: int, token: str) -> socketio.ASGIApp:
    sio = socketio.AsyncServer(
        async_mode="asgi", cors_allowed_origins="*", max_http_buffer_size=4 * 1024 * 1024
    )

    @sio.on("connect", namespace="/chat")  # type: ignore[untyped-decorator]
    async def connect(sid: str, environ: Any, auth: Any = None) -> bool:
        return isinstance(auth, dict) and auth.get("token") == token

    @sio.on("chat", namespace="/chat")  # type: ignore[untyped-decorator]
    async def chat(sid: str, payload: Any) -> dict[str, Any]:
        if not isinstance(payload, dict) or not isinstance(payload.get("content"), list):
            return {"ok": False, "error": {"code": "invalid_payload", "message": "bad input"}}
        session_id, conv_id, msg_id = payload["session_id"], payload["conv_id"], payload["msg_id"]
        room = f"session:{session_id}"
        text = " ".join(str(c.get("text", "")) for c in payload["content"])
        await db.run(db.create_session, session_id, text[:60])
        stored = await db.run(
            db.store, input_message(session_id, conv_id, msg_id, payload["content"])
        )
        await sio.enter_room(sid, room, namespace="/chat")
        await sio.emit("chat", stored, to=room, namespace="/chat")
        out_id = f"{msg_id}.out"
        # The reply runs after the ack, as server.js's async handler continues after `reply()`.
        sio.start_background_task(reply, session_id, conv_id, out_id, room)
        return chat_ack(session_id, conv_id, msg_id, out_id)

    async def reply(session_id: str, conv_id: str, out_id: str, room: str) -> None:
        for n, snapshot in enumerate(reply_snapshots(session_id, conv_id, out_id, updates)):
            if n:
                await asyncio.sleep(0)  # a stream yields between pieces, as server.js does
            await sio.emit("chat", await db.run(db.store, snapshot), to=room, namespace="/chat")

    return socketio.ASGIApp(sio)


class _Ready(uvicorn.Server):
    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        assert sockets is not None
        print(f"READY {sockets[0].getsockname()[1]}", flush=True)


def main() -> None:
    import os

    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--updates", type=int, default=2)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--store-thread", action="store_true", help="SQLite on a worker thread")
    args = parser.parse_args()
    store = Store(args.db, threaded=args.store_thread)
    app = create_app(store, args.updates, os.environ.get("BENCH_TOKEN", ""))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        loop="auto",
        http="auto",
        ws="auto",
        ws_per_message_deflate=False,
        server_header=False,
    )
    _Ready(config).run(sockets=[sock])  # uvicorn exits on SIGTERM/SIGINT


if __name__ == "__main__":
    main()
