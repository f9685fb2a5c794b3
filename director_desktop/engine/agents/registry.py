"""AgentRegistry: the agents an engine may run, by name, in the order they were registered.

`default_registry(library)` builds every engine's agents: the ones that need only the store
(`search_chats`), and, when the composition root hands in the media library, the video agents.
Imports the agent modules, `errors`, `protocol`, and `media` for typing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from director_desktop.engine.agents.base import Agent, describe
from director_desktop.engine.agents.search_chats import SearchChatsAgent
from director_desktop.errors import NotFound
from director_desktop.protocol import AgentInfo

if TYPE_CHECKING:
    from director_desktop.engine.agents.model import AgentModel
    from director_desktop.engine.speech import SpeechSettings
    from director_desktop.media.indexer import MediaIndexer
    from director_desktop.media.library import MediaLibrary


MENTION = re.compile(r"(?<![\w@])@([A-Za-z_][A-Za-z0-9_]*)")
"""An agent named in text with `@` (not an e-mail address)."""


def mentioned(text: str) -> list[str]:
    """The names after `@` in `text`, in order (known or not)."""
    return MENTION.findall(text)


class AgentRegistry:
    def __init__(self, agents: list[Agent] | None = None) -> None:
        self._agents: dict[str, Agent] = {}
        for agent in agents or []:
            self.register(agent)

    def register(self, agent: Agent) -> None:
        if agent.name in self._agents:
            raise ValueError(f"an agent named {agent.name!r} is already registered")
        self._agents[agent.name] = agent

    def get(self, name: str) -> Agent:
        try:
            return self._agents[name]
        except KeyError:
            raise NotFound(f"there is no agent named @{name}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._agents

    def __iter__(self) -> Iterator[Agent]:
        return iter(self._agents.values())

    def __len__(self) -> int:
        return len(self._agents)

    @property
    def names(self) -> list[str]:
        return list(self._agents)

    def describe_all(self) -> list[AgentInfo]:
        """`GET /agent`: `[{name, description, parameters}]`."""
        return [describe(agent) for agent in self._agents.values()]


def default_registry(
    library: MediaLibrary | None = None,
    *,
    speech: SpeechSettings | None = None,
    indexer: MediaIndexer | None = None,
    model: AgentModel | None = None,
) -> AgentRegistry:
    """`search_chats`, plus the video agents when there is a media library to work on. `speech`
    (the user's speech to text choice) goes to the agents that listen, `model` (the user's chat
    model) to those that read or write text with it."""
    agents: list[Agent] = [SearchChatsAgent()]
    if library is not None:
        agents += video_agents(library, speech=speech, indexer=indexer, model=model)
    return AgentRegistry(agents)


def video_agents(
    library: MediaLibrary,
    *,
    speech: SpeechSettings | None = None,
    indexer: MediaIndexer | None = None,
    model: AgentModel | None = None,
) -> list[Agent]:
    """The agents that work on the library's videos, in the order the help lists them."""
    from director_desktop.engine.agents.censor import CensorAgent
    from director_desktop.engine.agents.download import DownloadAgent
    from director_desktop.engine.agents.editing import EditingAgent
    from director_desktop.engine.agents.frame import FrameAgent
    from director_desktop.engine.agents.index_agent import index_agents
    from director_desktop.engine.agents.prompt_clip import PromptClipAgent
    from director_desktop.engine.agents.stream_video import StreamVideoAgent
    from director_desktop.engine.agents.subtitle import SubtitleAgent
    from director_desktop.engine.agents.summarize import SummarizeVideoAgent
    from director_desktop.engine.agents.transcription_agent import TranscriptionAgent
    from director_desktop.media.indexer import MediaIndexer

    indexer = indexer or MediaIndexer(library.store, library, speech=speech)
    return [
        *index_agents(library, indexer),
        StreamVideoAgent(library),
        FrameAgent(library),
        TranscriptionAgent(library, speech),
        EditingAgent(library),
        PromptClipAgent(library, indexer, model),
        SubtitleAgent(library, indexer, model),
        CensorAgent(library, indexer),
        SummarizeVideoAgent(library, indexer, model),
        DownloadAgent(library),
    ]
