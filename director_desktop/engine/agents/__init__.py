"""Agents: the Director agent interface (`base`), the registry, and the agents themselves.

`default_registry(library)` lists the agents every engine offers: `search_chats`, and with the
media library the video agents (`stream_video`, `frame`, `editing`, `download`), which share
`params` (ids and times, never paths), `work` (their content item, long work as jobs),
`media_items` (the items that show assets) and `focus` (the turn's collection and video). The
agents import `errors`, `protocol`, `media`, `jobs`, the store and the engine's `output`; never
web or server.
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
