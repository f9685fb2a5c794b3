"""The Director agent interface: a name, a description, JSON-schema parameters and `run`.

An agent emits content items into the run's output message (through `AgentContext.output`) and
returns an `AgentResult` whose `message` and `data` go back to the model as the tool result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from director_desktop.engine.output import OutputMessage
from director_desktop.protocol import AgentInfo, JSONDict

if TYPE_CHECKING:
    from director_desktop.store import Store


@dataclass
class AgentResult:
    status: Literal["success", "error"]
    message: str
    data: JSONDict = field(default_factory=dict)
    """Whatever the agent found, for the model: free-form per agent, sent as JSON text."""


@dataclass
class AgentContext:
    session_id: str
    conv_id: str
    output: OutputMessage
    store: Store
    collection_id: str | None = None
    video_id: str | None = None


class Agent(Protocol):
    name: str
    description: str
    parameters: JSONDict
    """A JSON schema (type object) describing `run`'s keyword arguments."""

    async def run(self, ctx: AgentContext, **arguments: Any) -> AgentResult: ...


def describe(agent: Agent) -> AgentInfo:
    """The `/agent` listing entry (Director's shape)."""
    return {"name": agent.name, "description": agent.description, "parameters": agent.parameters}
