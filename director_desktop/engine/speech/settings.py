"""SpeechSettings: which speech to text the app uses, kept in settings.json under `speech`.

    {"provider": "none"}                                          (the default)
    {"provider": "whisper", "model": "ggml-base.en.bin"}          (a file of the models folder)
    {"provider": "openai", "base_url": "http://127.0.0.1:8080/v1", "model": "whisper-1"}

An API key is never in that file: it lives in the SecretStore under `speech:<base_url>` (when
none is kept there, the key the chat model settings keep for the same server, `openai:<base_url>`,
is used: one server, one key). `build_transcriber` makes the `Transcriber` a choice describes;
`SpeechSettings.transcriber()` answers the one in use, read from settings.json each time (so a
change made through `PUT /config/speech` counts from the next call), keeping a whisper model
loaded while it stays chosen. Imports `errors`, `protocol`, `secrets_store`, `user_settings`,
`background` and this package.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Final

from director_desktop.background import BackgroundTasks
from director_desktop.engine.speech.openai_speech import (
    DEFAULT_MODEL,
    OpenAITranscriber,
    speech_base_url,
)
from director_desktop.engine.speech.whisper_cpp import WhisperCppTranscriber, whisper_file_error
from director_desktop.errors import DirectorError, InvalidPayload, NotFound
from director_desktop.media.transcript import Transcriber
from director_desktop.protocol.types import SpeechChoice, SpeechStatus, WhisperModelFile
from director_desktop.secrets_store import SecretStore
from director_desktop.user_settings import UserSettings

log = logging.getLogger(__name__)

PROVIDERS: Final = ("none", "whisper", "openai")
SETTINGS_KEY: Final = "speech"
WHISPER_SUFFIX: Final = ".bin"
NONE: Final[SpeechChoice] = {"provider": "none"}


def key_name(base_url: str) -> str:
    return f"speech:{speech_base_url(base_url)}"


def model_key_name(base_url: str) -> str:
    """The chat model settings' name for the same server's key (engine/router.py)."""
    return f"openai:{speech_base_url(base_url)}"


def check_choice(raw: object) -> SpeechChoice:
    """A clean `speech` setting from what a client sent (or the file holds); `invalid_payload`
    (`bad_url` for a malformed address) otherwise."""
    if not isinstance(raw, dict):
        raise InvalidPayload("the speech choice must be a JSON object")
    provider = raw.get("provider", "none")
    if provider == "none":
        return {"provider": "none"}
    model = raw.get("model")
    if provider == "whisper":
        return {"provider": "whisper", "model": whisper_file_name(model)}
    if provider == "openai":
        base_url = raw.get("base_url")
        if not isinstance(base_url, str):
            raise InvalidPayload("an OpenAI-compatible speech server needs base_url")
        if model is None or model == "":
            model = DEFAULT_MODEL
        if not isinstance(model, str) or len(model) > 200:
            raise InvalidPayload("model must be the name of the server's speech model")
        return {"provider": "openai", "base_url": speech_base_url(base_url), "model": model.strip()}
    raise InvalidPayload(f"provider must be one of {', '.join(PROVIDERS)}")


def whisper_file_name(value: object) -> str:
    """A plain file name of the models folder ending in `.bin`: never a path."""
    if (
        not isinstance(value, str)
        or not value.lower().endswith(WHISPER_SUFFIX)
        or value != Path(value).name
        or value.startswith(".")
        or "\\" in value
        or len(value) > 200
    ):
        raise InvalidPayload("model must be the name of a whisper .bin file in the models folder")
    return value


def build_transcriber(
    choice: SpeechChoice, *, models_dir: Path, api_key: str | None = None
) -> Transcriber | None:
    """The transcriber `choice` describes (nothing is loaded or contacted yet); None for none."""
    if choice.get("provider") == "whisper":
        return WhisperCppTranscriber(models_dir / whisper_file_name(choice.get("model")))
    if choice.get("provider") == "openai":
        return OpenAITranscriber(
            str(choice["base_url"]), str(choice.get("model") or DEFAULT_MODEL), api_key
        )
    return None


class SpeechSettings:
    def __init__(self, user_settings: UserSettings, secrets: SecretStore, models_dir: Path) -> None:
        self.user_settings = user_settings
        self.secrets = secrets
        self.models_dir = models_dir
        self._in_use: tuple[str, Transcriber] | None = None  # (what it was made of, it)
        self._retiring = BackgroundTasks()

    # --- reading ---------------------------------------------------------------------------------
    def choice(self) -> SpeechChoice:
        """The choice settings.json holds; `none` when it holds none or one that makes no sense
        (a person may have edited the file)."""
        return self._read()[0]

    def _read(self) -> tuple[SpeechChoice, str | None]:
        raw = self.user_settings.get(SETTINGS_KEY)
        if raw is None:
            return NONE, None
        try:
            return check_choice(raw), None
        except InvalidPayload as exc:
            return NONE, f"settings.json: {exc.message}"

    def whisper_models(self) -> list[WhisperModelFile]:
        """The `.bin` files of the models folder, each with why it is not a whisper model."""
        if not self.models_dir.is_dir():
            return []
        found: list[WhisperModelFile] = []
        for path in sorted(self.models_dir.iterdir(), key=lambda p: p.name.lower()):
            if path.name.startswith(".") or path.suffix.lower() != WHISPER_SUFFIX:
                continue
            try:
                size = path.stat().st_size
            except OSError:
                size = 0
            problem = whisper_file_error(path)
            found.append(
                {"file": path.name, "size": size, "error": problem and path.name + " " + problem}
            )
        return found

    def model_path(self, file: str) -> Path:
        """A whisper file of the models folder; `not_found` when there is none of that name."""
        path = self.models_dir / whisper_file_name(file)
        if not path.is_file():
            raise NotFound(f"there is no {file!r} in the models folder")
        return path

    def api_key(self, base_url: str) -> str | None:
        return self.secrets.get(key_name(base_url)) or self.secrets.get(model_key_name(base_url))

    # --- the transcriber in use ------------------------------------------------------------------
    async def transcriber(self) -> Transcriber | None:
        """The transcriber of the current choice, or None when none is chosen. A whisper model
        stays loaded while it stays chosen; the one before is closed in the background."""
        choice = await asyncio.to_thread(self.choice)
        key = None
        if choice["provider"] == "openai":
            key = await asyncio.to_thread(self.api_key, str(choice["base_url"]))
        ident = repr((sorted(choice.items()), key))
        if self._in_use is not None and self._in_use[0] == ident:
            return self._in_use[1]
        made = build_transcriber(choice, models_dir=self.models_dir, api_key=key)
        old, self._in_use = self._in_use, (ident, made) if made is not None else None
        if old is not None and isinstance(old[1], WhisperCppTranscriber):
            self._retiring.spawn(old[1].close(), name=f"close {old[1].name}")
        return made

    async def close(self) -> None:
        in_use, self._in_use = self._in_use, None
        await self._retiring.aclose()
        if in_use is not None and isinstance(in_use[1], WhisperCppTranscriber):
            await in_use[1].close()

    # --- choosing --------------------------------------------------------------------------------
    async def choose(self, raw: object, *, api_key: str | None = None) -> SpeechStatus:
        """Keep a new choice (a whisper file must be in the folder and read as whisper); an
        `api_key` string is stored for the server ("" forgets it; None keeps what is kept)."""
        choice = check_choice(raw)
        if choice["provider"] == "whisper":
            path = self.model_path(str(choice["model"]))
            problem = await asyncio.to_thread(whisper_file_error, path)
            if problem is not None:
                raise InvalidPayload(f"{path.name} {problem}")
        if choice["provider"] == "openai" and api_key is not None:
            name = key_name(str(choice["base_url"]))
            if api_key:
                await asyncio.to_thread(self.secrets.set, name, api_key)
            else:
                await asyncio.to_thread(self.secrets.delete, name)
        await asyncio.to_thread(self.user_settings.update, **{SETTINGS_KEY: dict(choice)})
        return await self.status()

    async def status(self) -> SpeechStatus:
        """The choice and a quick check of it: the whisper file reads as one, the server answers
        and takes the key (no audio is sent). Never raises for a choice that does not work."""
        choice, problem = await asyncio.to_thread(self._read)
        error: DirectorError | None = InvalidPayload(problem) if problem else None
        made: Transcriber | None = None
        if error is None:
            try:
                made = await self._checked(choice)
            except DirectorError as exc:
                error = exc
        has_key = False
        if choice["provider"] == "openai":
            has_key = await asyncio.to_thread(self.api_key, str(choice["base_url"])) is not None
        return {
            "providers": list(PROVIDERS),
            "config": choice,
            "configured": choice["provider"] != "none",
            "ok": error is None,
            "error": {"code": error.code, "message": error.message} if error else None,
            "transcriber": made.name if made is not None else None,
            "has_api_key": has_key,
            "key_storage": self.secrets.backend,
            "models_dir": str(self.models_dir),
            "models": await asyncio.to_thread(self.whisper_models),
        }

    async def _checked(self, choice: SpeechChoice) -> Transcriber | None:
        if choice["provider"] == "whisper":
            path = self.model_path(str(choice["model"]))
            problem = await asyncio.to_thread(whisper_file_error, path)
            if problem is not None:
                raise InvalidPayload(f"{path.name} {problem}", code="speech_model_failed")
        made = await self.transcriber()
        if isinstance(made, OpenAITranscriber):
            await made.check()
        return made
