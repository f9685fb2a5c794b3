"""Helpers for the browser tests: the server's own HTTP API (for setting up and checking state)
and building session exports to import."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.live_server import HeadlessServer


def api(server: HeadlessServer, method: str, path: str, **kwargs: Any) -> Any:
    response = httpx.request(
        method, server.base_url + path, headers=server.auth_headers, timeout=10, **kwargs
    )
    response.raise_for_status()
    return response.json()


def turn(user_text: str, reply_text: str, session_id: str = "imported") -> list[dict[str, Any]]:
    """One stored turn (input + finished output) as an export's `messages` carries it."""
    conv = str(uuid.uuid4())
    base = {"session_id": session_id, "conv_id": conv, "agents": [], "actions": []}
    return [
        {
            **base,
            "msg_id": str(uuid.uuid4()),
            "msg_type": "input",
            "status": "success",
            "content": [{"type": "text", "text": user_text, "status": "success"}],
            "metadata": {},
        },
        {
            **base,
            "msg_id": str(uuid.uuid4()),
            "msg_type": "output",
            "status": "success",
            "actions": ["Reasoning the message..."],
            "content": [
                {
                    "type": "text",
                    "text": reply_text,
                    "status": "success",
                    "status_message": None,
                    "agent_name": "assistant",
                }
            ],
            "metadata": {},
        },
    ]


def import_session(server: HeadlessServer, name: str, messages: list[dict[str, Any]]) -> str:
    """Restore a session through `POST /session/import`, as a user importing an export would."""
    doc = {
        "format": "director-desktop/session",
        "version": 1,
        "session": {"session_id": str(uuid.uuid4()), "name": name, "metadata": {}},
        "messages": messages,
        "context": None,
    }
    return str(api(server, "POST", "/session/import", json=doc)["session_id"])
