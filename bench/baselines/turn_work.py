"""The work per chat message that the Python baselines of bench/chat_bench.py share with each
other and with `server.js`: the schema, the reply text, storing one change under the session's
next seq, and the snapshots a turn's reply goes through.

Imported by `director_stack.py` and `socketio_bare.py` (run as scripts from this folder) and by
`chat_bench.py` (for the reply text its own engine writes).
"""

from __future__ import annotations

import copy
import datetime
import json
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

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


def create_session(conn: sqlite3.Connection, session_id: str, name: str) -> None:
    now = int(time.time())
    conn.execute(
        "INSERT OR IGNORE INTO sessions VALUES (?, ?, ?, ?, 0)", (session_id, name, now, now)
    )


def store_change(conn: sqlite3.Connection, message: dict[str, Any]) -> dict[str, Any]:
    """Take the session's next seq and replace the message's row; the caller commits."""
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
    return message


def input_message(session_id: str, conv_id: str, msg_id: str, content: Any) -> dict[str, Any]:
    return {
        "session_id": session_id,
        "conv_id": conv_id,
        "msg_id": msg_id,
        "msg_type": "input",
        "status": "success",
        "actions": [],
        "agents": [],
        "content": content,
        "metadata": {},
    }


def chat_ack(session_id: str, conv_id: str, msg_id: str, out_id: str) -> dict[str, Any]:
    """The `chat` event's ack once the input is stored (PROTOCOL section 3)."""
    return {
        "ok": True,
        "data": {
            "session_id": session_id,
            "conv_id": conv_id,
            "msg_id": msg_id,
            "output_msg_id": out_id,
        },
    }


def reply_snapshots(
    session_id: str, conv_id: str, out_id: str, updates: int
) -> Iterator[dict[str, Any]]:
    """The `updates` snapshots of a turn's reply, each a copy of its own: `progress` with the
    action "Reasoning the message...", `updates - 2` that each append a piece of the reply,
    and the final one with status `success`."""
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
    yield copy.deepcopy(out)
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
        start = (i * 8) % len(REPLY)
        item["text"] += REPLY[start : start + 8]
        yield copy.deepcopy(out)
    if pieces == 0:
        item["text"] = REPLY
    out["status"] = item["status"] = "success"
    yield copy.deepcopy(out)
