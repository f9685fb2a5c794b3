"""The ASGI types, defined once, and what the process asks of the app it serves.

The server (uvicorn's thread), the launcher (the window) and web's guard all speak these; none of
them needs the others to name them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Protocol

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class ServedApp(Protocol):
    """The composed app as the server and the launcher see it."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None: ...

    async def before_shutdown(self) -> None:
        """End long-lived connections, so shutdown does not wait out a long poll."""
        ...

    def run_active(self) -> bool:
        """A reply is being written (the window asks before closing)."""
        ...


AppFactory = Callable[[int], ServedApp]
"""Builds the app for the port the server bound (the composition root's `Composition.app`)."""
