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

    python bench/baselines/socketio_bare.py --db PATH --updates N [--port 0]

Prints "READY <port>" once listening; exits on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import datetime
import json
import socket
import sqlite3
import time
from typing import Any

import socketio
import uvicorn

REPLY = (
    "Here is a reply of a comparable size, streamed a few words at a time so that "
    "every piece is one stored and emitted snapshot of the output message. "
)
SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
  session_id TEXT PRIMARY KEY, name TEXT, created_at INTEGER, updated_at INTEGER, last_seq INTEGER);
CREATE TABLE IF NOT EXISTS messages (
  session_id TEXT, msg_id TEXT, conv_id TEXT, msg_type TEXT, status TEXT, seq INTEGER,
  body TEXT, PRIMARY KEY (session_id, msg_id));
"""


class Store:
    """One WAL connection used on the event loop's thread, as better-sqlite3 is used in Node."""

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = NORMAL")
        self.conn.executescript(SCHEMA)

    def create_session(self, session_id: str, name: str) -> None:
        now = int(time.time())
        self.conn.execute(
            "INSERT OR IGNORE INTO sessions VALUES (?, ?, ?, ?, 0)", (session_id, name, now, now)
        )

    def store(self, message: dict[str, Any]) -> dict[str, Any]:
        """Take the session's next seq and replace the message's row, in one transaction."""
        conn = self.conn
        conn.execute("BEGIN")
        try:
            (seq,) = conn.execute(
                "UPDATE sessions SET last_seq = last_seq + 1, updated_at = ? "
                "WHERE session_id = ? RETURNING last_seq",
                (int(time.time()), message["session_id"]),
            ).fetchone()
            message["metadata"] = {
                **message["metadata"],
                "seq": seq,
                "timestamp": datetime.datetime.now(datetime.UTC).isoformat(),
            }
            conn.execute(
                "INSERT OR REPLACE INTO messages VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    message["session_id"],
                    message["msg_id"],
                    message["conv_id"],
                    message["msg_type"],
                    message["status"],
                    seq,
                    json.dumps(message),
                ),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return message


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
        db.create_session(session_id, text[:60])
        stored = db.store(
            {
                "session_id": session_id,
                "conv_id": conv_id,
                "msg_id": msg_id,
                "msg_type": "input",
                "status": "success",
                "actions": [],
                "agents": [],
                "content": payload["content"],
                "metadata": {},
            }
        )
        await sio.enter_room(sid, room, namespace="/chat")
        await sio.emit("chat", stored, to=room, namespace="/chat")
        out_id = f"{msg_id}.out"
        # The reply runs after the ack, as server.js's async handler continues after `reply()`.
        sio.start_background_task(reply, session_id, conv_id, out_id, room)
        return {
            "ok": True,
            "data": {
                "session_id": session_id,
                "conv_id": conv_id,
                "msg_id": msg_id,
                "output_msg_id": out_id,
            },
        }

    async def reply(session_id: str, conv_id: str, out_id: str, room: str) -> None:
        out: dict[str, Any] = {
            "session_id": session_id,
            "conv_id": conv_id,
            "msg_id": out_id,
            "msg_type": "output",
            "status": "progress",
            "actions": ["Reasoning the message..."],
            "agents": [],
            "content": [],
            "metadata": {},
        }
        await sio.emit("chat", db.store(copy.deepcopy(out)), to=room, namespace="/chat")
        item: dict[str, Any] = {
            "type": "text",
            "status": "progress",
            "status_message": None,
            "agent_name": "assistant",
            "text": "",
        }
        out["content"].append(item)
        pieces = updates - 2
        for i in range(pieces):
            await asyncio.sleep(0)  # a stream yields between pieces, as server.js does
            start = (i * 8) % len(REPLY)
            item["text"] += REPLY[start : start + 8]
            await sio.emit("chat", db.store(copy.deepcopy(out)), to=room, namespace="/chat")
        await asyncio.sleep(0)
        if pieces == 0:
            item["text"] = REPLY
        out["status"] = item["status"] = "success"
        await sio.emit("chat", db.store(copy.deepcopy(out)), to=room, namespace="/chat")

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
    args = parser.parse_args()
    app = create_app(Store(args.db), args.updates, os.environ.get("BENCH_TOKEN", ""))
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
