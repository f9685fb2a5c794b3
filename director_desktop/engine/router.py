"""ModelRouter: the app's Engine. It answers with the model the user chose, or the built-in one.

The user's choice is the `llm` key of settings.json:

    {"provider": "builtin"}                                    (the default)
    {"provider": "embedded", "model": "<file in models/>", "context_length": 8192?}
    {"provider": "openai", "base_url": "http://127.0.0.1:11434", "model": "qwen3", ...}

The model settings (system prompt, sampling, reply length, context, threads, GPU layers) are the
`model_params` key (`llm.params`): sampling changes reach the next request, load settings load the
model again. A chat's own system prompt lives in its session's engine context.
An API key is never in that file: it lives in the SecretStore under `openai:<base_url>`.
A model loads in the background (`start` returns at once) and stays warm until another is chosen.
`llm_configured` is false only when the chosen model failed to load or to answer, and `status()`
says why. Local OpenAI-compatible servers are looked for once at start-up, in the background.

Imports the engine seam, the reasoning loop, providers, agents, user_settings, secrets_store,
background.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from director_desktop.background import BackgroundTasks
from director_desktop.engine.agents import AgentRegistry
from director_desktop.engine.assistant import BuiltinAssistant
from director_desktop.engine.base import Turn
from director_desktop.engine.llm.base import ChatProvider, Finish, TextDelta
from director_desktop.engine.llm.gguf_info import GGUFInfo, read_gguf_info
from director_desktop.engine.llm.library import ModelLibrary
from director_desktop.engine.llm.llamacpp import LlamaCppProvider
from director_desktop.engine.llm.openai_http import (
    OpenAICompatProvider,
    detect_local_servers,
    normalize_base_url,
)
from director_desktop.engine.llm.params import (
    available_memory,
    changed_load,
    check_params,
    context_max,
    model_defaults,
)
from director_desktop.engine.reasoning import Limits, ReasoningLoop
from director_desktop.engine.speech import SpeechSettings
from director_desktop.engine.vision import ImageReader, cannot_see, image_ids, sees_images
from director_desktop.errors import (
    BadModelParam,
    InvalidPayload,
    ModelChanged,
    ModelError,
    SessionNotFound,
)
from director_desktop.protocol import (
    DetectedServer,
    ModelChoice,
    ModelParams,
    ModelParamsView,
    ModelStatus,
    ModelTest,
    SessionSystemPrompt,
)
from director_desktop.secrets_store import SecretStore
from director_desktop.user_settings import UserSettings

if TYPE_CHECKING:
    from director_desktop.media.library import MediaLibrary
    from director_desktop.settings import Settings
    from director_desktop.store import Store

log = logging.getLogger(__name__)

DETECT_AFTER = 5.0
"""Seconds after start-up before looking for local model servers (`detected()` looks at once)."""

PROVIDERS = ("builtin", "embedded", "openai")
TEST_TIMEOUT = 60.0
PARAMS_KEY = "model_params"


def key_name(base_url: str) -> str:
    return f"openai:{normalize_base_url(base_url)}"


def check_config(raw: object) -> ModelChoice:
    """A clean `llm` setting from what a client sent; `invalid_payload` otherwise."""
    if not isinstance(raw, dict):
        raise InvalidPayload("the model choice must be a JSON object")
    provider = raw.get("provider", "builtin")
    if provider not in PROVIDERS:
        raise InvalidPayload(f"provider must be one of {', '.join(PROVIDERS)}")
    config: ModelChoice = {"provider": provider}
    if provider == "builtin":
        return config
    model = raw.get("model")
    if not isinstance(model, str) or not model.strip():
        raise InvalidPayload("choose a model")
    config["model"] = model.strip()
    context = raw.get("context_length")
    if context is not None:
        if (
            not isinstance(context, int)
            or isinstance(context, bool)
            or not 512 <= context <= 1 << 20
        ):
            raise InvalidPayload("context_length must be a whole number from 512")
        config["context_length"] = context
    if provider == "openai":
        base_url = raw.get("base_url")
        if not isinstance(base_url, str):
            raise InvalidPayload("an OpenAI-compatible provider needs base_url")
        try:
            config["base_url"] = normalize_base_url(base_url)
        except ModelError as exc:
            raise InvalidPayload(exc.message, code="bad_url") from exc
    return config


class ModelRouter:
    wants_history = True  # a model is given the conversation so far

    def __init__(
        self,
        *,
        store: Store,
        agents: AgentRegistry,
        assistant: BuiltinAssistant,
        user_settings: UserSettings,
        library: ModelLibrary,
        secrets: SecretStore,
        speech: SpeechSettings | None = None,
        limits: Limits | None = None,
        detect_local: bool = True,
        images: ImageReader | None = None,
    ) -> None:
        self.store = store
        self.images = images or ImageReader(None)
        """Reads the images attached to an input, for a model that sees them."""
        self.agents = agents
        self.assistant = assistant
        self.user_settings = user_settings
        self.library = library
        self.secrets = secrets
        self.speech = speech or SpeechSettings(user_settings, secrets, library.dir)
        """The speech to text choice (`/config/speech`), kept with the model's: same file, keys."""
        self.limits = limits or Limits()
        self._detect_local = detect_local
        self._config: ModelChoice = {"provider": "builtin"}
        self._params: ModelParams = {}
        self._provider: ChatProvider | None = None
        self._config_error: str | None = None
        self._detect: asyncio.Task[list[DetectedServer]] | None = None
        self._detect_later: asyncio.TimerHandle | None = None
        # The server probe and the old models being retired (see `_retire`).
        self._tasks = BackgroundTasks()
        self._key_present = False
        # The turns each provider is answering (their engine tasks), and those a model switch
        # cancelled: they end with `model_changed`, then the old provider closes.
        self._running: dict[ChatProvider, set[asyncio.Task[Any]]] = {}
        self._switched: set[asyncio.Task[Any]] = set()

    # --- the Engine protocol -------------------------------------------------------------------
    async def start(self) -> None:
        try:
            config = check_config(self.user_settings.get("llm") or {"provider": "builtin"})
        except InvalidPayload as exc:
            config, self._config_error = {"provider": "builtin"}, f"settings.json: {exc.message}"
        try:
            self._params = check_params(self.user_settings.get(PARAMS_KEY) or {})
        except InvalidPayload as exc:  # a hand-edited file: the model's defaults, and why
            self._config_error = f"settings.json {PARAMS_KEY}: {exc.message}"
        await self._use(config)
        if self._detect_local and self._detect is None:
            # Not at once: the probe (HTTP clients and their TLS contexts, a connection to each
            # port) would compete with the window's first page for the CPU and the GIL.
            loop = asyncio.get_running_loop()
            self._detect_later = loop.call_later(DETECT_AFTER, self._start_detect)

    def _start_detect(self) -> asyncio.Task[list[DetectedServer]]:
        if self._detect is None:
            self._detect = self._tasks.spawn(detect_local_servers(), name="detect-llm-servers")
        return self._detect

    async def close(self) -> None:
        if self._detect_later is not None:
            self._detect_later.cancel()
        if self._detect is not None:
            self._detect.cancel()
        provider, self._provider = self._provider, None
        if provider is not None:
            await provider.close()
        # Retirements are waited for, not cancelled: each ends its turns, then closes its model.
        await self._tasks.wait()
        await self.speech.close()  # a whisper model loaded for speech to text

    @property
    def provider(self) -> ChatProvider | None:
        return self._provider

    @property
    def llm_configured(self) -> bool:
        if self._provider is None:
            return True  # the built-in assistant always answers
        return self._provider.state.state != "error"

    def status(self) -> ModelStatus:
        """`GET /config/models/status`: the choice, its load state, and what was detected."""
        config = self._config.copy()
        if self._provider is None:
            state = self.assistant.status()
            state["error"] = self._config_error
        else:
            state = self._provider.state.as_dict()
        detected: list[DetectedServer] | None = None
        if self._detect is not None and self._detect.done():
            failed = self._detect.cancelled() or self._detect.exception() is not None
            detected = [] if failed else self._detect.result()
        return {
            **state,
            "loaded": state["state"] == "ready",
            "llm_configured": self.llm_configured,
            "config": config,
            "has_api_key": self._key_present,
            "key_storage": self.secrets.backend,
            "detected": detected,
        }

    async def run(self, turn: Turn) -> None:
        provider = self._provider
        attached = bool(image_ids(turn.input.content))
        if attached and not sees_images(provider):
            raise cannot_see(provider)
        if provider is None:
            await self.assistant.run(turn)
            return
        if attached:
            turn.images = await self.images.data_urls(turn.input.content)
        if provider.state.state == "error":
            # Try again from scratch: the server may be back, or the file replaced.
            await self._use(self._config)
            provider = self._provider
            assert provider is not None
        task = asyncio.current_task()
        assert task is not None
        running = self._running.setdefault(provider, set())
        running.add(task)
        try:
            if provider.state.state == "loading":
                turn.output.add_action(f"Loading the model {provider.state.model}...")
                await turn.output.flush()
            await provider.ready()
            limits = self.limits
            if "max_tokens" in self._params:
                limits = replace(limits, answer_tokens=self._params["max_tokens"])
            prompt = self._params.get("system_prompt", "")
            loop = ReasoningLoop(
                provider, self.agents, self.store, limits=limits, user_prompt=prompt
            )
            await loop.run(turn)
        except asyncio.CancelledError:
            if task not in self._switched:
                raise  # a Stop, or the app closing: the handler tells them apart
            task.uncancel()
            raise ModelChanged(
                "The model was changed while this reply was being written. Send the message "
                "again for an answer from the new model."
            ) from None
        finally:
            self._switched.discard(task)
            running.discard(task)
            if not running:
                self._running.pop(provider, None)

    # --- choosing and testing ------------------------------------------------------------------
    async def configure(self, raw: object, *, api_key: str | None = None) -> ModelStatus:
        """Choose a provider/model (saved to settings.json); the new model starts loading."""
        config = check_config(raw)
        if config["provider"] == "embedded":
            self.library.path_of(str(config["model"]))  # not_found before anything changes
        if config["provider"] == "openai" and api_key is not None:
            name = key_name(str(config["base_url"]))
            if api_key:
                await asyncio.to_thread(self.secrets.set, name, api_key)
            else:
                await asyncio.to_thread(self.secrets.delete, name)
        await asyncio.to_thread(self.user_settings.update, llm=config)
        self._config_error = None
        provider = self._provider
        healthy = provider is None or provider.state.state != "error"
        if config == self._config and api_key is None and healthy:
            return self.status()  # the model in use chosen again: its replies go on
        await self._use(config)
        return self.status()

    async def test(self, raw: object | None = None, *, api_key: str | None = None) -> ModelTest:
        """Ask the chosen (or the given) model for a few tokens: {ok, latency_ms, error, ...}."""
        if raw is None:
            if self._provider is not None and self._provider.state.state == "error":
                await self._use(self._config)  # a test is a fresh attempt
            provider, temporary = self._provider, False
            config = self._config
        else:
            config = check_config(raw)
            provider, temporary = self._build(config, api_key=api_key), True
        if provider is None:
            return {
                "ok": True,
                "provider": "builtin",
                "model": None,
                "latency_ms": 0,
                "error": None,
            }
        started = time.monotonic()
        try:
            await provider.start()
            reply = await asyncio.wait_for(self._probe(provider), TEST_TIMEOUT)
            return {
                "ok": True,
                "provider": config["provider"],
                "model": config.get("model"),
                "latency_ms": round((time.monotonic() - started) * 1000),
                "reply_chars": len(reply),
                "error": None,
            }
        except (ModelError, TimeoutError) as exc:
            message = exc.message if isinstance(exc, ModelError) else "the model did not answer"
            return {
                "ok": False,
                "provider": config["provider"],
                "model": config.get("model"),
                "latency_ms": round((time.monotonic() - started) * 1000),
                "error": {"code": getattr(exc, "code", "model_timeout"), "message": message},
            }
        finally:
            if temporary:
                await provider.close()

    @staticmethod
    async def _probe(provider: ChatProvider) -> str:
        await provider.ready()
        text: list[str] = []
        stream = provider.stream_chat([{"role": "user", "content": "Say hello."}], [], max_tokens=8)
        async with contextlib.aclosing(stream):
            async for event in stream:
                if isinstance(event, TextDelta):
                    text.append(event.text)
                elif isinstance(event, Finish):
                    break
        return "".join(text)

    async def detected(self) -> list[DetectedServer]:
        """Local servers found at start-up (waits for the probe, which is short; starts it if
        start-up has not yet)."""
        return list(await asyncio.shield(self._start_detect()))

    # --- model settings ------------------------------------------------------------------------
    async def params_view(self) -> ModelParamsView:
        """`GET /config/models/params`: what the user set, the model's defaults, the result."""
        info = await asyncio.to_thread(self._model_info)
        memory = await asyncio.to_thread(available_memory)
        defaults = model_defaults(info, memory)
        most = context_max(info, memory) if info is not None else None
        if self._provider is not None and info is None:  # a server: its context, as known
            defaults["context_length"] = self._provider.context_length
        effective: ModelParams = {**defaults, **self._params}
        if most is not None and effective.get("context_length", 0) > most:
            effective["context_length"] = most
        return {
            "params": self._params.copy(),
            "defaults": defaults,
            "effective": effective,
            "context_max": most,
        }

    async def set_params(self, raw: object) -> ModelParamsView:
        """Replace the user's model settings (absent or null keys: the model's defaults); saved
        to settings.json. A changed load setting loads the model again; the rest apply to the
        next reply. A bad value raises before anything changes."""
        params = check_params(raw)
        await asyncio.to_thread(self.user_settings.update, **{PARAMS_KEY: params or None})
        old, self._params = self._params, params
        if isinstance(self._provider, LlamaCppProvider | OpenAICompatProvider):
            self._provider.params = params  # sampling: the next request reads it
        if changed_load(old, params) and self._provider is not None:
            await self._use(self._config)
        return await self.params_view()

    async def reset_params(self) -> ModelParamsView:
        """ "Reset to the model's defaults": every setting but the system prompt forgotten."""
        kept: ModelParams = {}
        if "system_prompt" in self._params:
            kept["system_prompt"] = self._params["system_prompt"]
        return await self.set_params(kept)

    def _model_info(self) -> GGUFInfo | None:
        if self._config.get("provider") != "embedded":
            return None
        if isinstance(self._provider, LlamaCppProvider) and self._provider.info is not None:
            return self._provider.info
        try:
            return read_gguf_info(self.library.dir / str(self._config["model"]))
        except ModelError:
            return None

    async def session_prompt(self, session_id: str) -> SessionSystemPrompt:
        if await self.store.get_session(session_id) is None:
            raise SessionNotFound(f"no session {session_id}")
        context = await self.store.get_context(session_id) or {}
        prompt = context.get("system_prompt")
        return {
            "session_id": session_id,
            "system_prompt": prompt if isinstance(prompt, str) else None,
        }

    async def set_session_prompt(self, session_id: str, raw: object) -> SessionSystemPrompt:
        """A chat's own system prompt (None or "": the default one again)."""
        if not isinstance(raw, dict) or set(raw) != {"system_prompt"}:
            raise BadModelParam('send {"system_prompt": text or null}')
        value = raw["system_prompt"]
        prompt = check_params({"system_prompt": value}).get("system_prompt") if value else None
        if await self.store.get_session(session_id) is None:
            raise SessionNotFound(f"no session {session_id}")
        context = await self.store.get_context(session_id) or {}
        if prompt:
            context["system_prompt"] = prompt
        else:
            context.pop("system_prompt", None)
        await self.store.set_context(session_id, context)
        return {"session_id": session_id, "system_prompt": prompt or None}

    # --- internals -----------------------------------------------------------------------------
    async def _use(self, config: ModelChoice) -> None:
        new = self._build(config)
        old, self._provider, self._config = self._provider, new, config
        self._key_present = self._has_key(config)
        if new is not None:
            await new.start()
        if old is not None:  # never make the request wait for an old model to unload
            self._tasks.spawn(self._retire(old), name=f"retire-model {old.state.model}")

    async def _retire(self, old: ChatProvider) -> None:
        """End the turns `old` is answering (each with `model_changed`, keeping what it wrote),
        then close it: a model is never unloaded under a turn still reading from it."""
        turns = list(self._running.get(old, ()))
        for task in turns:
            self._switched.add(task)
            task.cancel()
        await asyncio.gather(*turns, return_exceptions=True)
        await old.close()

    def _build(self, config: ModelChoice, *, api_key: str | None = None) -> ChatProvider | None:
        context = config.get("context_length")
        params = self._params
        if config["provider"] == "embedded":
            path: Path = self.library.dir / str(config["model"])
            return LlamaCppProvider(path, context_length=context, params=params)
        if config["provider"] == "openai":
            base_url = str(config["base_url"])
            key = api_key if api_key is not None else self.secrets.get(key_name(base_url))
            return OpenAICompatProvider(
                base_url, str(config["model"]), api_key=key, context_length=context, params=params
            )
        return None

    def _has_key(self, config: ModelChoice) -> bool:
        if config.get("provider") != "openai":
            return False
        return self.secrets.get(key_name(str(config["base_url"]))) is not None


def build_model_router(
    settings: Settings,
    store: Store,
    agents: AgentRegistry,
    user_settings: UserSettings,
    *,
    assistant: BuiltinAssistant | None = None,
    secrets: SecretStore | None = None,
    speech: SpeechSettings | None = None,
    detect_local: bool = True,
    media: MediaLibrary | None = None,
) -> ModelRouter:
    """The composition of the app's engine (called by the composition root and the tests).
    `secrets` and `speech` are the launch's own when given (one key store for the model and the
    speech settings), else made here."""
    secrets = secrets or SecretStore(settings.secrets_path)
    return ModelRouter(
        store=store,
        agents=agents,
        assistant=assistant or BuiltinAssistant(store, agents, models_dir=settings.models_dir),
        user_settings=user_settings,
        library=ModelLibrary(settings.models_dir),
        secrets=secrets,
        speech=speech or SpeechSettings(user_settings, secrets, settings.models_dir),
        detect_local=detect_local,
        images=ImageReader(media),
    )
