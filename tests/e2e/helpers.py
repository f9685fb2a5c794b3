"""Helpers for the browser tests: the server's own HTTP API (for setting up and checking state)
and building session exports to import."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from playwright.sync_api import Page

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


# Scrolls the thread to its top, again on every poll until more messages are shown: the thread
# loads the previous page when scrolled near its top, one load at a time, so a scroll made while
# a load is in flight is ignored and the next poll makes it again.
_SCROLL_UNTIL_MORE = """n => {
  if (document.querySelectorAll('article.message').length > n) return true
  const el = document.querySelector('.thread')
  el.scrollTop = 0
  el.dispatchEvent(new Event('scroll'))
  return false
}"""


def load_all_older(page: Page, first_text: str) -> None:
    """Load older pages until the message containing `first_text` is shown, as a reader does:
    by scrolling up. (Clicking "Load older messages" races the load that scrolling the button
    into view starts: the button is gone once the last page is in, and the click waits forever.)"""
    first = page.locator("article.message", has_text=first_text)
    while not first.count():
        shown = page.locator("article.message").count()
        page.wait_for_function(_SCROLL_UNTIL_MORE, arg=shown)
