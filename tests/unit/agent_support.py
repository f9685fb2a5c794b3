"""What the agent tests share: an output message whose commits are only recorded (the turn runner
and the store stand behind it in the app; these tests look at one agent's items), and the
agent's context in a library world (tests/fixtures/media.py)."""

from __future__ import annotations

from director_desktop.engine.agents import AgentContext
from director_desktop.engine.output import OutputMessage
from director_desktop.protocol import JSONDict
from tests.fixtures.media import LibraryWorld


class Committed:
    """An output message's commit: every snapshot it was asked to store, numbered."""

    def __init__(self) -> None:
        self.items: list[JSONDict] = []

    async def __call__(self, snapshot: JSONDict) -> JSONDict:
        stored = {**snapshot, "metadata": {**snapshot["metadata"], "seq": len(self.items) + 1}}
        self.items.append(stored)
        return stored


def context(
    world: LibraryWorld, *, video_id: str | None = None, collection_id: str | None = "default"
) -> AgentContext:
    """An agent's context in session `s1`, its output the reply `o1` of conversation `c1`."""
    message = {
        "session_id": "s1",
        "conv_id": "c1",
        "msg_id": "o1",
        "msg_type": "output",
        "status": "progress",
        "actions": [],
        "agents": [],
        "content": [],
        "metadata": {},
    }
    output = OutputMessage(message, Committed(), min_interval=0.0)  # type: ignore[arg-type]
    return AgentContext(
        "s1", "c1", output, world.store, collection_id=collection_id, video_id=video_id
    )
