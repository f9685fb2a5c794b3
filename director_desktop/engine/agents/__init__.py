"""Agents: the Director agent interface (`base`), the registry, and the agents that need no media.

`default_registry()` lists the agents every engine offers; the media issue registers its video
agents there too. The agents import `errors`, `protocol`, the engine's `output` and, for
typing only, the store; never web or server.
"""

from __future__ import annotations

from director_desktop.engine.agents.base import Agent, AgentContext, AgentResult, describe
from director_desktop.engine.agents.registry import AgentRegistry, default_registry

__all__ = [
    "Agent",
    "AgentContext",
    "AgentRegistry",
    "AgentResult",
    "default_registry",
    "describe",
]
