"""OutputMessage: the output message of one run, which engines and agents change and push.

Every push goes through the `Commit` callback the turn runner hands in: it stores the snapshot
(giving it the session's next `seq`) and then emits it. Streaming pushes are throttled to one
stored snapshot per `min_interval` seconds; `flush()` always commits what is pending.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Unpack, cast

from director_desktop.protocol import ContentItem, Message, text_item

Commit = Callable[[Message], Awaitable[Message]]
"""Store a message snapshot, emit it, and return the stored version (with `metadata.seq`)."""

STREAM_INTERVAL = 0.05  # PROTOCOL section 4: at most one stored snapshot per ~50 ms per run


class OutputMessage:
    def __init__(
        self,
        message: Message,
        commit: Commit,
        *,
        min_interval: float = STREAM_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.message = message
        self._commit = commit
        self._min_interval = min_interval
        self._clock = clock
        self._last_commit = float("-inf")
        self._dirty = False

    # --- reading -----------------------------------------------------------------------------
    @property
    def session_id(self) -> str:
        return self.message["session_id"]

    @property
    def conv_id(self) -> str:
        return self.message["conv_id"]

    @property
    def msg_id(self) -> str:
        return self.message["msg_id"]

    @property
    def content(self) -> list[ContentItem]:
        return self.message["content"]

    @property
    def status(self) -> str:
        return self.message["status"]

    # --- changing ----------------------------------------------------------------------------
    def add_action(self, action: str) -> None:
        self.message["actions"].append(action)
        self._dirty = True

    def add_agent(self, name: str) -> None:
        if name not in self.message["agents"]:
            self.message["agents"].append(name)
            self._dirty = True

    def add_content(self, item: ContentItem) -> int:
        """Append a content item; returns its index for later updates."""
        self.content.append(item)
        self._dirty = True
        return len(self.content) - 1

    def update_content(self, index: int, **fields: Unpack[ContentItem]) -> None:
        self.content[index].update(fields)
        self._dirty = True

    def text_index(self, agent_name: str = "assistant") -> int:
        """The index of the run's answer text item, created (in progress) on first use."""
        for index, item in enumerate(self.content):
            if item.get("type") == "text" and item.get("agent_name") == agent_name:
                return index
        return self.add_content(text_item("", status="progress", agent_name=agent_name))

    def append_text(self, delta: str, agent_name: str = "assistant") -> None:
        index = self.text_index(agent_name)
        self.content[index]["text"] = str(self.content[index].get("text") or "") + delta
        self._dirty = True

    def set_status(self, status: str) -> None:
        self.message["status"] = status
        self._dirty = True

    def snapshot(self) -> Message:
        """A copy later changes to the live message cannot reach (it is stored and emitted
        while the run goes on changing `message`)."""
        # A structural copy of a Message, key for key: a Message.
        return cast(Message, {key: _json_copy(item) for key, item in self.message.items()})

    # --- pushing -----------------------------------------------------------------------------
    async def push(self) -> bool:
        """Commit if the throttle allows; returns whether a snapshot was stored and emitted."""
        if not self._dirty or self._clock() - self._last_commit < self._min_interval:
            return False
        await self.flush()
        return True

    async def flush(self) -> Message:
        """Commit now, whatever the throttle says (steps, tool results and the final snapshot)."""
        stored = await self._commit(self.snapshot())
        self.committed(stored)
        return stored

    def committed(self, stored: Message) -> None:
        """Note that this version of the message was stored (as `stored`), by `flush` or by
        whoever stored it first (the turn runner stores the reply with its input)."""
        self.message["metadata"] = stored.get("metadata", {}).copy()
        self._last_commit = self._clock()
        self._dirty = False


def _json_copy(value: object) -> object:
    """A structural copy of JSON data: new dicts and lists at every depth, the immutable leaves
    (str, int, float, bool, None) shared. `copy.deepcopy` did the same at ~5x the CPU (its memo
    and per-type dispatch), paid on every stored snapshot: up to 22 per turn when streaming."""
    if isinstance(value, dict):
        return {key: _json_copy(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_copy(item) for item in value]
    return value
