"""The Director agent interface: a name, a description, JSON-schema parameters and `run`.

An agent emits content items into the run's output message (through `AgentContext.output`) and
returns an `AgentResult` whose `message` and `data` go back to the model as the tool result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from director_desktop.engine.output import OutputMessage
from director_desktop.protocol import AgentInfo, JSONDict, JSONSchema

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
    """An agent. It may also declare `examples: list[str]` (how a user calls it by `@name`, the
    first shown in the built-in assistant's help) and `from_text(text)` (its arguments read from
    the free text after `@name`, for turns with no model, as a TypedDict of its own): see
    `examples_of` and `arguments_from_text`."""

    name: str
    description: str
    parameters: JSONSchema
    """A JSON schema (type object) describing `run`'s keyword arguments."""

    async def run(self, ctx: AgentContext, **arguments: Any) -> AgentResult: ...


def describe(agent: Agent) -> AgentInfo:
    """The `/agent` listing entry (Director's shape)."""
    return {"name": agent.name, "description": agent.description, "parameters": agent.parameters}


def examples_of(agent: Agent) -> list[str]:
    """The agent's examples (`@frame 0:42`), or none."""
    examples = getattr(agent, "examples", None)
    if isinstance(examples, list | tuple):
        return [e for e in examples if isinstance(e, str)]
    return []


def arguments_from_text(agent: Agent, text: str) -> dict[str, object]:
    """The agent's arguments from the free text after its `@name`: its own `from_text` when it
    has one; else the text as its first required parameter (or nothing when none is)."""
    text = " ".join(text.split())
    from_text = getattr(agent, "from_text", None)
    if callable(from_text):
        found = from_text(text)
        return dict(found) if isinstance(found, Mapping) else {}
    required = agent.parameters.get("required", [])
    return {required[0]: text} if required else {}
