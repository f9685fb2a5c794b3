"""The built-in offline assistant: the engine that answers when no model is configured.

It needs no model: it says what the app can do, lists the agents, explains how to add a model,
and runs any agent named with `@` (or tagged in the input's `agents`). Its reply is streamed in
pieces through `OutputMessage.push()`, so the streaming path (throttle, store-then-emit, stop) is
the same one a model's tokens take. An agent's arguments come from the text after its `@name`
(`arguments_from_text`), and it works on the turn's media focus (the input's collection and
video, else the session's last ones). Imports the engine's `agents` and `base`, `errors`,
`protocol`, and the store for typing only; never web or server.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from director_desktop.engine.agents import Agent, AgentContext, AgentRegistry, AgentResult
from director_desktop.engine.agents.base import arguments_from_text, examples_of
from director_desktop.engine.agents.focus import MediaFocus, media_focus
from director_desktop.engine.agents.registry import MENTION
from director_desktop.engine.base import Turn
from director_desktop.errors import DirectorError
from director_desktop.protocol import ProviderStatus

if TYPE_CHECKING:
    from director_desktop.store import Store

DEFAULT_PACE = 0.015  # seconds between streamed pieces: readable, and quick on a slow machine
WORDS_PER_PIECE = 3


class BuiltinAssistant:
    """An `Engine` with no model. `pace` is the pause between streamed pieces (configuration:
    tests that must stop or drop a run mid-stream set it higher)."""

    wants_history = False  # it answers each input on its own

    provider = "builtin"

    def __init__(
        self,
        store: Store,
        agents: AgentRegistry,
        *,
        models_dir: Path | None = None,
        pace: float = DEFAULT_PACE,
    ) -> None:
        self._store = store
        self._agents = agents
        self._models_dir = models_dir
        self._pace = pace

    # --- the Engine protocol -------------------------------------------------------------------
    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    @property
    def llm_configured(self) -> bool:
        return True  # the built-in assistant always answers

    def status(self) -> ProviderStatus:
        return {
            "provider": self.provider,
            "model": None,
            "state": "ready",
            "error": None,
            "progress": None,
            "context_length": None,
        }

    async def run(self, turn: Turn) -> None:
        names = self.mentioned_agents(turn)
        if not names:
            await self.stream(turn, self.help_text())
            return
        focus = await media_focus(self._store, turn.session_id, turn.input)
        for name in names:
            await self._run_agent(turn, name, focus)

    # --- agents --------------------------------------------------------------------------------
    def mentioned_agents(self, turn: Turn) -> list[str]:
        """Agents tagged in `agents` or named with `@` in the text, known ones only, in order."""
        wanted = [*turn.input.agents, *MENTION.findall(turn.input.text)]
        seen: list[str] = []
        for name in wanted:
            if name in self._agents and name not in seen:
                seen.append(name)
        return seen

    async def _run_agent(self, turn: Turn, name: str, focus: MediaFocus) -> None:
        agent = self._agents.get(name)
        output = turn.output
        output.add_action(f"Running @{name} agent")
        output.add_agent(name)
        await output.flush()
        ctx = AgentContext(
            session_id=turn.session_id,
            conv_id=turn.conv_id,
            output=output,
            store=self._store,
            collection_id=focus.collection_id,
            video_id=focus.video_id,
        )
        try:
            result = await agent.run(ctx, **self._arguments(turn, name))
        except DirectorError as exc:  # said in the reply, like an agent's own refusal
            result = AgentResult("error", exc.message)
        await output.flush()
        verdict = "finished" if result.status == "success" else "could not finish"
        await self.stream(turn, f"@{name} {verdict}: {result.message}")

    def _arguments(self, turn: Turn, name: str) -> dict[str, object]:
        """Without a model, the agent reads its arguments from the text around the mention
        (`@frame 0:42` → `{"at": 42}`); an agent that cannot takes it as its one string."""
        rest = MENTION.sub(lambda m: "" if m.group(1) == name else m.group(0), turn.input.text)
        return arguments_from_text(self._agents.get(name), rest)

    # --- the reply -----------------------------------------------------------------------------
    async def stream(self, turn: Turn, text: str) -> None:
        """Append `text` to the answer in pieces, pushing (throttled) after each."""
        for piece in pieces(text):
            turn.output.append_text(piece)
            await turn.output.push()
            await asyncio.sleep(self._pace)
        await turn.output.flush()

    def help_text(self) -> str:
        agents = "\n".join(_listed(agent) for agent in self._agents) or "- (none yet)"
        models = (
            f"`{self._models_dir}`" if self._models_dir else "the `models` folder of your data dir"
        )
        return (
            "Hello! I'm Director's built-in assistant. No language model is set up yet, so I "
            "can't hold a conversation, but I can still run agents for you.\n\n"
            "**What I can do now**\n"
            "- Run an agent: type `@` and its name, then what it should do, for example "
            "`@search_chats holiday video`.\n"
            "- Keep every chat on this computer: nothing leaves it.\n\n"
            f"**Agents available**\n{agents}\n\n"
            "**Add a model to chat freely**\n"
            f"- Put a GGUF model file (`.gguf`) in {models}, then choose it in the model "
            "settings; it runs on this computer, offline.\n"
            "- Or connect an OpenAI-compatible server (Ollama, LM Studio, llama.cpp's server, "
            "vLLM, or a cloud API with a key) in the model settings."
        )


def _listed(agent: Agent) -> str:
    """An agent in the help: its name, what it does (the description's first sentence: the
    rest is for a model), and one example of calling it."""
    examples = examples_of(agent) or [f"@{agent.name}"]
    first = re.split(r"(?<=[.!?])\s", agent.description.strip(), maxsplit=1)[0]
    return f"- **@{agent.name}**: {first} Example: `{examples[0]}`"


def pieces(text: str, words: int = WORDS_PER_PIECE) -> Iterator[str]:
    """Split text into runs of a few words, keeping every character (spaces and newlines)."""
    tokens = re.findall(r"\S+\s*|\s+", text)
    for start in range(0, len(tokens), words):
        yield "".join(tokens[start : start + words])
