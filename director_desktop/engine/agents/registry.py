"""AgentRegistry: the agents an engine may run, by name, in the order they were registered.

Imports the agent modules, `errors` and `protocol`.
"""

from __future__ import annotations

from collections.abc import Iterator

from director_desktop.engine.agents.base import Agent, describe
from director_desktop.engine.agents.search_chats import SearchChatsAgent
from director_desktop.errors import NotFound
from director_desktop.protocol import AgentInfo


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


def default_registry() -> AgentRegistry:
    """The agents that need nothing but the store."""
    return AgentRegistry([SearchChatsAgent()])
