"""Builders shared by the model tests: tiny GGUF files, turns with a recording commit, and a
provider wrapper that records what the model was sent (it delegates every call to the real one)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

from director_desktop.engine.base import Turn
from director_desktop.engine.llm.base import ChatMessage, ChatProvider, StreamEvent, ToolSpec
from director_desktop.engine.output import OutputMessage
from director_desktop.engine.turns import pending_reply
from director_desktop.protocol import ChatInput, JSONDict
from tests.fixtures.tiny_gguf import write_chat_model, write_tool_caller


def models(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "chat": folder / "tiny-chat.gguf",
        "long": folder / "tiny-long.gguf",
        "endless": folder / "tiny-endless.gguf",
        "tool": folder / "tiny-tool.gguf",
    }
    write_chat_model(str(paths["chat"]))
    write_chat_model(str(paths["long"]), eos_bias=-4.0)  # replies of a few hundred tokens
    write_chat_model(str(paths["endless"]), eos_bias=-30.0)  # never ends by itself
    write_tool_caller(str(paths["tool"]))
    return paths


class Snapshots:
    """The commit callback of a turn: keeps every snapshot, numbering them like the store."""

    def __init__(self) -> None:
        self.items: list[JSONDict] = []
        self.text_seen = asyncio.Event()

    async def __call__(self, snapshot: JSONDict) -> JSONDict:
        stored = {**snapshot, "metadata": {**snapshot["metadata"], "seq": len(self.items) + 1}}
        self.items.append(stored)
        if any(i.get("text") for i in snapshot["content"] if i.get("agent_name") == "assistant"):
            self.text_seen.set()
        return stored


def make_turn(
    text: str,
    snapshots: Snapshots,
    *,
    history: list[JSONDict] | None = None,
    session_id: str = "s1",
    min_interval: float = 0.0,
    agents: list[str] | None = None,
) -> Turn:
    conv_id = f"c-{uuid.uuid4()}"
    chat = ChatInput(
        content=[{"type": "text", "text": text}],
        session_id=session_id,
        conv_id=conv_id,
        msg_id=f"m-{uuid.uuid4()}",
        agents=agents or [],
    )
    message = pending_reply(chat, f"out-{uuid.uuid4()}")  # as the handler starts every run
    return Turn(
        session_id=session_id,
        conv_id=conv_id,
        input=chat,
        input_message={},
        output=OutputMessage(message, snapshots, min_interval=min_interval),
        history=history or [],
    )


class Recording:
    """The real provider, with a record of every request it was given."""

    def __init__(self, inner: ChatProvider) -> None:
        self.inner = inner
        self.name = inner.name
        self.requests: list[tuple[list[ChatMessage], list[ToolSpec]]] = []

    @property
    def state(self) -> Any:
        return self.inner.state

    @property
    def context_length(self) -> int:
        return self.inner.context_length

    async def start(self) -> None:
        await self.inner.start()

    async def ready(self) -> None:
        await self.inner.ready()

    async def close(self) -> None:
        await self.inner.close()

    async def stream_chat(
        self, messages: list[ChatMessage], tools: list[ToolSpec], *, max_tokens: int
    ) -> AsyncGenerator[StreamEvent, None]:
        self.requests.append(([dict(m) for m in messages], list(tools)))
        stream = self.inner.stream_chat(messages, tools, max_tokens=max_tokens)
        async with contextlib.aclosing(stream):
            async for event in stream:
                yield event
