"""Smoke test of a launch (`director-desktop --smoke-test`): CI and the frozen build run it.

Once the real window's page reports ready, sends one chat turn through the UI's own path (text
into the composer, Enter on it), waits for the reply to show in the page, checks through the
REST API that the session was stored, and answers the exit code (non-zero with the reason on
stderr). Imports only `window` (the page) from the project; talks HTTP with the standard library.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from collections.abc import Callable
from typing import Any

from director_desktop.window import AppWindow, PageError

MESSAGE = "Hello from the smoke test"
TURN_TIMEOUT = 90.0
POLL = 0.05

COMPOSER = "document.querySelector('[data-testid=composer]')"
TYPE_JS = (
    "(() => { const t = " + COMPOSER + "; if (!t) return false; t.focus(); t.value = %s;"
    " t.dispatchEvent(new Event('input', {bubbles: true})); return true; })()"
)
# The send button enables once the composer's model holds the text (after Vue re-renders).
SEND_ENABLED_JS = "!!document.querySelector('button.send:not([disabled])')"
ENTER_JS = (
    "(() => { const t = " + COMPOSER + "; t.focus(); return t.dispatchEvent(new KeyboardEvent("
    "'keydown', {key: 'Enter', code: 'Enter', keyCode: 13, bubbles: true, cancelable: true})); })()"
)
# The newest assistant message once it is no longer in progress: its id, status and text.
REPLY_JS = (
    "(() => { const all = document.querySelectorAll('.assistant[data-msg-id]');"
    " const m = all[all.length - 1]; if (!m || m.dataset.status === 'progress') return null;"
    " return {msg_id: m.dataset.msgId, status: m.dataset.status, text: m.innerText.trim()}; })()"
)


class SmokeFailure(Exception):
    pass


class SmokeTest:
    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.token = token

    def __call__(self, window: AppWindow) -> int:
        try:
            self.run(window)
        except (SmokeFailure, PageError, OSError, ValueError) as exc:
            print(f"smoke test failed: {exc}", file=sys.stderr, flush=True)
            return 1
        print("smoke test passed", file=sys.stderr, flush=True)
        return 0

    def run(self, window: AppWindow) -> None:
        if not window.page_ready():
            raise SmokeFailure("the page never reported ready")
        if window.evaluate(TYPE_JS % json.dumps(MESSAGE)) is not True:
            raise SmokeFailure("no composer in the page")
        _wait("the send button to enable", lambda: window.evaluate(SEND_ENABLED_JS), 10)
        window.evaluate(ENTER_JS)
        reply = _wait("the reply to arrive in the page", lambda: window.evaluate(REPLY_JS))
        if reply.get("status") != "success":
            raise SmokeFailure(f"the reply ended {reply.get('status')!r}: {reply.get('text')!r}")
        self.check_stored(str(reply["msg_id"]))

    def check_stored(self, reply_id: str) -> None:
        session_id = self.get("/prefs").get("current_session")
        if not session_id:
            raise SmokeFailure("no current session in /prefs")
        session = self.get(f"/session/{session_id}")
        stored = {m.get("msg_id"): m for m in session.get("conversation", [])}
        inputs = [m for m in stored.values() if m.get("msg_type") == "input"]
        if not any(MESSAGE in json.dumps(m.get("content")) for m in inputs):
            raise SmokeFailure(f"the message is not stored in session {session_id}")
        output = stored.get(reply_id)
        if output is None or output.get("status") != "success":
            raise SmokeFailure(f"the reply {reply_id} is not stored as a success")

    def get(self, path: str) -> Any:
        request = urllib.request.Request(  # noqa: S310 - our own loopback server
            self.base_url + path, headers={"Authorization": f"Bearer {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            return json.loads(answer.read())


def _wait(what: str, check: Callable[[], Any], timeout: float = TURN_TIMEOUT) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(POLL)
    raise SmokeFailure(f"timed out after {timeout} s waiting for {what}")
