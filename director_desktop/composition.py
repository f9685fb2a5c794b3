"""The composition root: every part of one launch, each built once, wired here and nowhere else.

`Composition(settings)` is cheap: it holds the settings and the user's settings file, which the
window needs before the server exists. `app(port)` builds the rest (store, media library, the
agents working on it, the built-in assistant, the model router, the web app) once the server's
port is bound. The server stack is imported inside `app`, on the server's start-up thread, so the
window opens (and loads the page, `web/early.py`) without waiting for those imports. What a launch
never needs before the user acts is built on first use: the key store (`deferred_secrets`).
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from director_desktop.settings import Settings
from director_desktop.user_settings import UserSettings

if TYPE_CHECKING:
    from director_desktop.media.indexer import MediaIndexer
    from director_desktop.media.library import AfterImport, MediaLibrary
    from director_desktop.secrets_store import SecretStore
    from director_desktop.store import AssetRecord, Store
    from director_desktop.web.app import DirectorApp


class Composition:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.user_settings = UserSettings(settings.user_settings_path)
        self._app: DirectorApp | None = None

    def app(self, port: int) -> DirectorApp:
        """The app serving this launch on `port` (already bound). Built once."""
        if self._app is not None:
            raise RuntimeError("the app of this launch is already built")
        from director_desktop.engine.agents import default_registry
        from director_desktop.engine.agents.model import AgentModel
        from director_desktop.engine.assistant import DEFAULT_PACE, BuiltinAssistant
        from director_desktop.engine.llm.embeddings import EmbeddingSettings
        from director_desktop.engine.router import build_model_router
        from director_desktop.engine.speech import SpeechSettings
        from director_desktop.media.indexer import MediaIndexer
        from director_desktop.media.scene_text import SceneReader
        from director_desktop.store import Store
        from director_desktop.web.app import create_app

        settings = replace(self.settings, port=port)
        store = Store(settings.db_path, backups_dir=settings.backups_dir)
        # The library comes first: the video agents work on it. One key store for the model
        # and the speech settings; the indexer hears speech through the user's current choice.
        library = build_library(settings, store, self.user_settings)
        secrets = deferred_secrets(settings.secrets_path)
        speech = SpeechSettings(self.user_settings, secrets, settings.models_dir)
        # The embedding model (settings.json `embedding`) makes searches semantic too.
        embeddings = EmbeddingSettings(self.user_settings, settings.models_dir)
        # Tesseract, when installed, reads the text on screen of each scene into the index.
        indexer = MediaIndexer(
            store,
            library,
            speech=speech,
            embeddings=embeddings,
            scene_reader=SceneReader.locate(settings.env),
            read_scenes=True,
        )
        library.attach_after_import(index_on_import(library, indexer))
        # The agents reach the user's chat model through a handle bound to the router below.
        agent_model = AgentModel()
        agents = default_registry(library, speech=speech, indexer=indexer, model=agent_model)
        # `DIRECTOR_ASSISTANT_PACE` (seconds between streamed pieces) slows the built-in
        # assistant down for tests that must catch a run mid-stream.
        pace = settings.env.get("DIRECTOR_ASSISTANT_PACE")
        assistant = BuiltinAssistant(
            store,
            agents,
            models_dir=settings.models_dir,
            pace=float(pace) if pace else DEFAULT_PACE,
        )
        # The router answers with the model chosen in settings.json, else with the assistant.
        engine = build_model_router(
            settings,
            store,
            agents,
            self.user_settings,
            assistant=assistant,
            secrets=secrets,
            speech=speech,
            media=library,
        )
        agent_model.attach(lambda: engine.provider)
        self._app = create_app(settings, store, engine, agents, library)
        return self._app


def index_on_import(library: MediaLibrary, indexer: MediaIndexer) -> AfterImport:
    """The library's after-import step: start indexing the new video or audio when the user's
    setting (`media.index_on_import`) says so, read at each import."""

    async def after_import(asset: AssetRecord) -> None:
        if library.limit.index_on_import():
            await indexer.start(asset.id)

    return after_import


def deferred_secrets(path: Path) -> SecretStore:
    """The key store, built on first use. `SecretStore()` asks the OS keyring which backend it
    has (~0.1 s: keyring, its backends' entry points, GObject for the Secret Service), and no
    key is needed before the user runs or configures a model, so a launch does not wait for it.
    """
    from director_desktop.secrets_store import Backend, SecretStore

    class DeferredSecretStore(SecretStore):
        def __init__(self) -> None:  # no SecretStore.__init__: `_store` makes the real one
            self.path = path
            self._made: SecretStore | None = None
            self._making = threading.Lock()

        def _store(self) -> SecretStore:
            with self._making:
                if self._made is None:
                    self._made = SecretStore(path)
                return self._made

        @property
        def backend(self) -> Backend:
            return self._store().backend

        def get(self, name: str) -> str | None:
            return self._store().get(name)

        def set(self, name: str, value: str) -> Backend:
            return self._store().set(name, value)

        def delete(self, name: str) -> None:
            self._store().delete(name)

    return DeferredSecretStore()


def build_library(settings: Settings, store: Store, user_settings: UserSettings) -> MediaLibrary:
    """The media library and the jobs it runs on (tests that build an app by hand use it too)."""
    from director_desktop.jobs import Jobs
    from director_desktop.media.ffmpeg import Ffmpeg
    from director_desktop.media.library import MediaLibrary, UploadLimit

    return MediaLibrary(
        store,
        Jobs(store, settings.staging_dir),
        Ffmpeg.locate(settings.env),
        media_dir=settings.media_dir,
        limit=UploadLimit(user_settings),
    )
