"""Model settings on the real llama.cpp engine (xllamacpp), shown by what the engine does: the
reply is exactly `max_tokens` long, a stop string ends it, temperature 0 repeats itself and a high
temperature does not, and the load settings are the ones llama.cpp was given.

The model is shaped so each of these shows: it writes only digits (each one token: the tiny
vocabulary has no digit merges), never ends by itself (EOS forbidden), and the ten digits' logits
differ only by the random weights, so sampling decides which comes next."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from director_desktop.engine.agents import default_registry
from director_desktop.engine.llm.base import Finish, TextDelta
from director_desktop.engine.llm.gguf_info import read_gguf_info
from director_desktop.engine.llm.llamacpp import LlamaCppProvider
from director_desktop.engine.llm.params import context_max, fit_context
from director_desktop.engine.router import ModelRouter, build_model_router
from director_desktop.settings import build_settings
from director_desktop.store import Store
from director_desktop.user_settings import UserSettings
from tests.fixtures.tiny_gguf import write_chat_model
from tests.unit.llm_support import Snapshots, make_turn
from tests.unit.store_support import new_store

pytestmark = pytest.mark.anyio
DIGITS = "0123456789"


@pytest.fixture(scope="module")
def digits_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("models") / "digits.gguf"
    write_chat_model(str(path), eos_bias=-30.0, biases={d: 8.0 for d in DIGITS})
    return path


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = new_store(tmp_path / "data")
    assert store.open().ok
    yield store
    store.close()


@pytest.fixture
async def router(tmp_path: Path, store: Store, digits_model: Path) -> AsyncIterator[ModelRouter]:
    settings = build_settings(data_dir=tmp_path / "app", log_dir=tmp_path / "logs", environ={})
    settings.models_dir.mkdir(parents=True)
    shutil.copyfile(digits_model, settings.models_dir / "digits.gguf")
    router = build_model_router(
        settings,
        store,
        default_registry(),
        UserSettings(settings.user_settings_path),
        detect_local=False,
    )
    await router.start()
    await router.configure({"provider": "embedded", "model": "digits.gguf"})
    yield router
    await router.close()


async def reply(router: ModelRouter, text: str = "Count.") -> str:
    snapshots = Snapshots()
    await router.run(make_turn(text, snapshots))
    final = snapshots.items[-1]
    item = next(i for i in final["content"] if i.get("agent_name") == "assistant")
    assert item["status"] == "success"
    return str(item["text"])


def llama(router: ModelRouter) -> LlamaCppProvider:
    provider = router.provider
    assert isinstance(provider, LlamaCppProvider)
    return provider


async def test_max_tokens_is_the_exact_reply_length(router: ModelRouter) -> None:
    await router.set_params({"max_tokens": 37})
    text = await reply(router)
    assert len(text) == 37
    assert set(text) <= set(DIGITS)  # one token a digit
    # and llama.cpp's own count of what it generated, with its reason for stopping
    finish: Finish | None = None
    stream = llama(router).stream_chat([{"role": "user", "content": "Count."}], [], max_tokens=37)
    async for event in stream:
        if isinstance(event, Finish):
            finish = event
    assert finish is not None
    assert finish.usage["completion_tokens"] == 37
    assert finish.reason == "length"


async def test_a_stop_string_ends_the_reply_where_it_first_appears(router: ModelRouter) -> None:
    await router.set_params({"temperature": 0.0, "max_tokens": 40})
    free = await reply(router)
    assert len(free) == 40
    stop = free[12:14]
    await router.set_params({"temperature": 0.0, "max_tokens": 40, "stop": [stop]})
    stopped = await reply(router)
    assert stopped == free[: free.index(stop)]


async def test_temperature_zero_repeats_and_a_high_temperature_does_not(
    router: ModelRouter,
) -> None:
    await router.set_params({"temperature": 0.0, "max_tokens": 30})
    greedy = {await reply(router) for _ in range(3)}
    assert len(greedy) == 1
    wide = {"temperature": 2.0, "top_k": 0, "top_p": 1.0, "min_p": 0.0, "max_tokens": 30}
    await router.set_params(wide)
    sampled = [await reply(router) for _ in range(3)]
    assert len(set(sampled)) > 1


async def test_load_settings_reach_llama_cpp(router: ModelRouter) -> None:
    await router.set_params({"context_length": 1024, "n_threads": 1, "n_gpu_layers": 5})
    provider = llama(router)
    await provider.ready()
    params: Any = provider.common_params
    assert params.n_ctx == 1024
    assert params.cpuparams.n_threads == 1
    assert params.n_gpu_layers == 5  # kept by llama.cpp; used where it has a GPU backend
    assert router.status()["context_length"] == 1024
    assert len(await reply(router)) > 0
    view = await router.reset_params()
    assert view["params"] == {}
    provider = llama(router)
    await provider.ready()
    assert provider.common_params.n_gpu_layers == -1  # llama.cpp's own default again
    assert provider.common_params.n_ctx == view["defaults"]["context_length"] == 4096


async def test_the_default_context_is_the_files_capped_by_memory(digits_model: Path) -> None:
    info = read_gguf_info(digits_model)
    assert info.context_length == 4096
    assert info.kv_bytes_per_token == 2 * 4 * (16 + 16) * 2  # layers, KV heads, K+V width, F16
    plenty = 1 << 34
    assert fit_context(info, None, plenty) == 4096
    assert fit_context(info, 100_000, plenty) == 4096  # never past the trained length
    assert fit_context(info, 1024, plenty) == 1024
    # memory for 2048 tokens of cache once the weights are in (half of what is left goes to it)
    tight = info.size + 2 * 2048 * info.kv_bytes_per_token
    assert context_max(info, tight) == 2048
    assert fit_context(info, None, tight) == 2048
    assert fit_context(info, 4096, tight) == 2048


async def test_a_model_loaded_with_a_users_context_reports_it(digits_model: Path) -> None:
    provider = LlamaCppProvider(digits_model, params={"context_length": 2048, "temperature": 0})
    try:
        text = []
        async for event in provider.stream_chat(
            [{"role": "user", "content": "x"}], [], max_tokens=5
        ):
            if isinstance(event, TextDelta):
                text.append(event.text)
        assert provider.state.context_length == 2048
        assert len("".join(text)) == 5
    finally:
        await provider.close()
