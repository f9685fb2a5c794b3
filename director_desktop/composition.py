"""The composition root: every part of one launch, each built once, wired here and nowhere else.

`Composition(settings)` is cheap: it holds the settings and the user's settings file, which the
window needs before the server exists. `app(port)` builds the rest (store, media library, the
agents working on it, the built-in assistant, the model router, the web app) once the server's
port is bound. The server stack is imported inside `app`, on the server's start-up thread, so the
window's loading page shows without waiting for ~1 s of imports.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from director_desktop.settings import Settings
from director_desktop.user_settings import UserSettings

if TYPE_CHECKING:
    from director_desktop.media.indexer import MediaIndexer
    from director_desktop.media.library import AfterImport, MediaLibrary
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
        from director_desktop.engine.assistant import DEFAULT_PACE, BuiltinAssistant
        from director_desktop.engine.router import build_model_router
        from director_desktop.engine.speech import SpeechSettings
        from director_desktop.media.indexer import MediaIndexer
        from director_desktop.secrets_store import SecretStore
        from director_desktop.store import Store
        from director_desktop.web.app import create_app

        settings = replace(self.settings, port=port)
        store = Store(settings.db_path, backups_dir=settings.backups_dir)
        # The library comes first: the video agents work on it. One key store for the model
        # and the speech settings; the indexer hears speech through the user's current choice.
        library = build_library(settings, store, self.user_settings)
        secrets = SecretStore(settings.secrets_path)
        speech = SpeechSettings(self.user_settings, secrets, settings.models_dir)
        indexer = MediaIndexer(store, library, speech=speech)
        library.attach_after_import(index_on_import(library, indexer))
        agents = default_registry(library, speech=speech, indexer=indexer)
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
        )
        self._app = create_app(settings, store, engine, agents, library)
        return self._app


def index_on_import(library: MediaLibrary, indexer: MediaIndexer) -> AfterImport:
    """The library's after-import step: start indexing the new video or audio when the user's
    setting (`media.index_on_import`) says so, read at each import."""

    async def after_import(asset: AssetRecord) -> None:
        if library.limit.index_on_import():
            await indexer.start(asset.id)

    return after_import


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
