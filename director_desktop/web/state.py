"""AppState: everything a route or a socket event needs, one per app (no globals).

Built by `web.app.create_app`; the REST routes, the model settings API and the `/chat` events
receive it, so none of them imports the module that wires them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from director_desktop.background import BackgroundTasks
from director_desktop.engine.agents import AgentRegistry
from director_desktop.engine.base import Engine
from director_desktop.engine.turns import TurnRunner
from director_desktop.errors import DirectorError
from director_desktop.jobs import Jobs
from director_desktop.media.library import MediaLibrary
from director_desktop.metrics import Metrics
from director_desktop.settings import Settings
from director_desktop.store import Store
from director_desktop.web.guard import Signer
from director_desktop.web.publisher import Publisher


@dataclass
class AppState:
    settings: Settings
    store: Store
    engine: Engine
    agents: AgentRegistry
    metrics: Metrics
    signer: Signer
    publisher: Publisher
    turns: TurnRunner
    jobs: Jobs
    library: MediaLibrary
    background: BackgroundTasks = field(default_factory=BackgroundTasks)
    """Tasks a route leaves running (watching a load or an import); closed with the app."""
    store_error: DirectorError | None = None
    """Why the store did not open at start-up (the UI shows it); None when it did."""

    @property
    def secrets(self) -> tuple[str, ...]:
        """What no message shown to a client may contain."""
        return (self.settings.token,)
