"""Builders shared by the unit tests (store, engine): wire-shape messages, opened stores."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from director_desktop.store import Store


def new_store(data_dir: Path, **options: Any) -> Store:
    return Store(data_dir / "director.sqlite3", backups_dir=data_dir / "backups", **options)


def input_message(session_id: str, text: str, *, msg_id: str | None = None, **extra: Any) -> Any:
    return {
        "session_id": session_id,
        "conv_id": extra.pop("conv_id", None) or f"conv-{uuid.uuid4()}",
        "msg_id": msg_id or f"in-{uuid.uuid4()}",
        "msg_type": "input",
        "agents": [],
        "content": [{"type": "text", "text": text}],
        "metadata": {},
        **extra,
    }


def output_message(
    session_id: str,
    conv_id: str,
    text: str,
    *,
    msg_id: str | None = None,
    status: str = "success",
    item_status: str | None = None,
) -> Any:
    return {
        "session_id": session_id,
        "conv_id": conv_id,
        "msg_id": msg_id or f"out-{uuid.uuid4()}",
        "msg_type": "output",
        "status": status,
        "actions": ["Reasoning the message..."],
        "agents": [],
        "content": [
            {
                "type": "text",
                "status": item_status or status,
                "status_message": None,
                "agent_name": "assistant",
                "text": text,
            }
        ],
        "metadata": {},
    }


def pending_output(session_id: str, conv_id: str, msg_id: str) -> Any:
    """An output message as a turn starts it: status progress, nothing in it yet."""
    return {
        "session_id": session_id,
        "conv_id": conv_id,
        "msg_id": msg_id,
        "msg_type": "output",
        "status": "progress",
        "actions": [],
        "agents": [],
        "content": [],
        "metadata": {},
    }
