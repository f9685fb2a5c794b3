"""Text embeddings for the media index's semantic search: a GGUF of the models folder run by
llama.cpp in-process (`xllamacpp` in embedding mode), and the user's choice of it.

The choice is the `embedding` key of settings.json, beside `speech`:

    {"model": "<a .gguf file of the models folder>"}        (absent or {}: keyword search only)

`EmbeddingSettings.embedder()` answers the `LlamaCppEmbedder` of the current choice (read from the
file each time, so a change counts from the next index or search), keeping it loaded while it
stays chosen. An embedding model's own pooling (BERT-style models declare it) is used; a model
that declares none (a llama-architecture GGUF) is pooled by the mean of its tokens. llama.cpp
answers unit-length vectors; a text longer than the model reads is cut to what it reads. Imports
`errors`, `media` (the `Embedder` seam), `user_settings`, `background` and this package.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Final

from director_desktop.background import BackgroundTasks
from director_desktop.engine.llm.gguf_info import read_gguf_info
from director_desktop.engine.llm.loading import lower_thread_priority, preread, start_server
from director_desktop.engine.llm.params import available_memory
from director_desktop.errors import InvalidPayload, ModelError, NotFound
from director_desktop.media.semantic import Vectors
from director_desktop.user_settings import UserSettings

log = logging.getLogger(__name__)

SETTINGS_KEY: Final = "embedding"
MAX_CONTEXT: Final = 2048
"""Tokens one text may take (a line of the index is a sentence or two; its start says enough)."""
BATCH: Final = 64
"""Texts per call to llama.cpp: small enough that a stop is heard between calls."""
_NOT_OAI_POOLING: Final = "not OAI compatible"


def embedding_file_name(value: object) -> str:
    """A plain `.gguf` file name of the models folder: never a path."""
    if (
        not isinstance(value, str)
        or not value.lower().endswith(".gguf")
        or value != Path(value).name
        or value.startswith(".")
        or "\\" in value
        or len(value) > 200
    ):
        raise InvalidPayload(
            "the embedding model must be the name of a .gguf file in the models folder"
        )
    return value


class LlamaCppEmbedder:
    """One embedding model, loaded on first use on a worker thread and kept until `close`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = path.name
        self._server: Any = None
        self._chars = MAX_CONTEXT
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embeddings")
        self._lock = threading.Lock()
        self._closed = False

    async def embed(self, texts: Sequence[str]) -> Vectors:
        """Unit-length float32 vectors of `texts`, one row each. Raises `ModelError` when the
        model cannot load or answer; cancelled, it stops after the batch in hand."""
        if self._closed:
            raise ModelError("the embedding model was closed")
        rows: list[Vectors] = []
        loop = asyncio.get_running_loop()
        for at in range(0, len(texts), BATCH):
            batch = [self._cut(text) for text in texts[at : at + BATCH]]
            rows.append(await loop.run_in_executor(self._executor, self._embed_blocking, batch))
        import numpy as np  # with the vectors, not at start-up (numpy is ~12 MiB)

        if not rows:
            return np.zeros((0, 0), dtype=np.float32)
        return np.vstack(rows)

    def _cut(self, text: str) -> str:
        # llama.cpp refuses empty input and input past its batch: a blank is one space; a long
        # text is cut to as many UTF-8 bytes as the model reads tokens (a token is ≥ 1 byte).
        text = " ".join(text.split()) or " "
        raw = text.encode("utf-8")
        return (
            raw[: self._chars].decode("utf-8", errors="ignore") if len(raw) > self._chars else text
        )

    def _embed_blocking(self, texts: list[str]) -> Vectors:
        with self._lock:
            if self._server is None:
                self._server = self._load(pooling=None)
            answer = self._server.handle_embeddings({"input": texts})
            error = answer.get("error") if isinstance(answer, dict) else None
            if error and _NOT_OAI_POOLING in str(error.get("message", "")):
                # the model declares no pooling (a chat model's architecture): pool by the mean
                import xllamacpp

                self._server = self._load(
                    pooling=xllamacpp.llama_pooling_type.LLAMA_POOLING_TYPE_MEAN
                )
                answer = self._server.handle_embeddings({"input": texts})
                error = answer.get("error") if isinstance(answer, dict) else None
        if error or not isinstance(answer, dict):
            message = error.get("message") if isinstance(error, dict) else "no answer"
            raise ModelError(f"the embedding model {self.name} failed: {message}")
        import numpy as np

        data = sorted(answer["data"], key=lambda row: int(row["index"]))
        vectors = np.asarray([row["embedding"] for row in data], dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != len(texts):
            raise ModelError(f"{self.name} did not answer one vector per text")
        return vectors

    def _load(self, *, pooling: Any) -> Any:
        # Imported here, on the worker: an app that never embeds never loads llama.cpp for it.
        import xllamacpp

        info = read_gguf_info(self.path)  # ModelError: missing, not a GGUF, truncated
        context = min(info.context_length or MAX_CONTEXT, MAX_CONTEXT)
        params = xllamacpp.CommonParams()
        params.model.path = str(self.path)
        params.embedding = True
        params.n_ctx = params.n_batch = params.n_ubatch = context
        params.n_parallel = 1
        params.warmup = False
        params.verbosity = -1
        params.hostnames = ["127.0.0.1"]
        params.port = 0
        params.api_keys = [_random_key()]  # its HTTP port is for no one else
        if pooling is not None:
            params.pooling_type = pooling
        lower_thread_priority()  # as the chat model's load does (see llamacpp.py)
        preread(self.path, available_memory())
        try:
            server = start_server(xllamacpp, params)
        except (RuntimeError, ValueError) as exc:
            log.warning("llama.cpp could not load %s for embeddings: %s", self.name, exc)
            raise ModelError(
                f"llama.cpp could not load {self.name} as an embedding model: the file is "
                "damaged, incomplete, or of an architecture this version does not support"
            ) from exc
        self._chars = max(16, context - 8)  # room for the BOS/EOS/CLS tokens a model adds
        return server

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await asyncio.get_running_loop().run_in_executor(None, self._shutdown)

    def _shutdown(self) -> None:
        self._executor.shutdown(wait=True)
        self._server = None  # xllamacpp has no stop(): dropping it shuts it down


def _random_key() -> str:
    import secrets

    return secrets.token_urlsafe(24)


class EmbeddingSettings:
    """The user's embedding model (`embedding` in settings.json) and the embedder in use."""

    def __init__(self, user_settings: UserSettings, models_dir: Path) -> None:
        self.user_settings = user_settings
        self.models_dir = models_dir
        self._in_use: LlamaCppEmbedder | None = None
        self._retiring = BackgroundTasks()

    def model(self) -> str | None:
        """The chosen file; None when none is chosen or the setting makes no sense (a person may
        have edited the file: then semantic search is off, and the log says why)."""
        raw = self.user_settings.get(SETTINGS_KEY)
        if not isinstance(raw, dict) or raw.get("model") in (None, ""):
            return None
        try:
            return embedding_file_name(raw.get("model"))
        except InvalidPayload as exc:
            log.warning("settings.json: %s", exc.message)
            return None

    def choose(self, model: str | None) -> None:
        """Keep a new choice (a `.gguf` file that is in the models folder), or none."""
        if model is None:
            self.user_settings.update(**{SETTINGS_KEY: {}})
            return
        name = embedding_file_name(model)
        if not (self.models_dir / name).is_file():
            raise NotFound(f"there is no {name!r} in the models folder")
        self.user_settings.update(**{SETTINGS_KEY: {"model": name}})

    async def embedder(self) -> LlamaCppEmbedder | None:
        """The embedder of the current choice (None when none is chosen or its file is gone);
        kept loaded while it stays chosen, the one before closed in the background."""
        model = await asyncio.to_thread(self.model)
        path = self.models_dir / model if model else None
        if path is not None and not await asyncio.to_thread(path.is_file):
            path = None
        if self._in_use is not None and path == self._in_use.path:
            return self._in_use
        old, self._in_use = self._in_use, LlamaCppEmbedder(path) if path else None
        if old is not None:
            self._retiring.spawn(old.close(), name=f"close {old.name}")
        return self._in_use

    async def close(self) -> None:
        in_use, self._in_use = self._in_use, None
        await self._retiring.aclose()
        if in_use is not None:
            await in_use.close()
