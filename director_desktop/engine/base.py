"""The engine seam: what the turn runner asks of an engine, what an engine is given, and the
Publisher through which the engine reaches clients (web implements it).

An engine (the built-in assistant, the reasoning loop over a model) runs one turn: it reads the
turn's input and history and changes `turn.output`, pushing snapshots as it goes. It never decides
the final status on failure: the handler does, so every turn ends with a non-`progress` message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from director_desktop.engine.output import OutputMessage
from director_desktop.protocol import ChatInput, Message, ProviderStatus


@dataclass
class Turn:
    session_id: str
    conv_id: str
    input: ChatInput
    input_message: Message
    output: OutputMessage
    history: list[Message] = field(default_factory=list)
    """Earlier messages of the session, oldest first (latest snapshots), not including this turn."""
    images: list[str] = field(default_factory=list)
    """`data:` URLs of the images attached to the input, for a model that sees them (vision.py)."""


class Publisher(Protocol):
    """How stored changes reach the windows. `web` implements it (rooms, retries, signing); the
    engine names only sessions. Never raises for a delivery that failed: what was stored is
    replayed by `reconnect`."""

    async def message(self, message: Message) -> None:
        """A stored message, to every window showing its session."""
        ...

    async def sessions_changed(self) -> None:
        """The session list changed (a session was created)."""
        ...


class Engine(Protocol):
    """Runs turns. `run` returns normally on success (the handler then marks the output
    `success` if still `progress`), raises `asyncio.CancelledError` when stopped, and raises any
    other exception on failure (the handler stores an `error` output explaining it)."""

    wants_history: bool
    """Whether `run` reads `turn.history`; the runner skips the read for an engine that does not."""

    async def run(self, turn: Turn) -> None: ...

    def status(self) -> ProviderStatus:
        """What `/config/...` shows about the engine: provider, model, load state, error."""
        ...

    @property
    def llm_configured(self) -> bool:
        """`/config/check`'s `llm_configured`: the chosen provider answers."""
        ...

    async def start(self) -> None:
        """Begin loading in the background; never waits on a model."""
        ...

    async def close(self) -> None: ...
