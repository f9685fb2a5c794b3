"""Model settings: the user's system prompt, sampling, reply length, context and threads.

`check_params` turns what a client sent (or settings.json holds) into clean `ModelParams`, or
raises `bad_model_param` / `unknown_model_param` naming the field, so nothing is changed by a bad
value. Only what the user set is kept; every absent key is the model's default (`model_defaults`),
which is what "reset to the model's defaults" returns to. The sampling part goes into each request
(`sampling_fields`); context, threads and GPU layers are load settings (`LOAD_KEYS`), applied by
loading the model again. The default context is the file's trained length capped by memory
(`fit_context`). Imports `errors`, `protocol` and `gguf_info`; standard library otherwise.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from director_desktop.engine.llm.base import SamplingFields
from director_desktop.engine.llm.gguf_info import GGUFInfo
from director_desktop.errors import BadModelParam, UnknownModelParam
from director_desktop.protocol import ModelParams

MAX_SYSTEM_PROMPT = 16_000
MAX_STOP_STRINGS = 8
MAX_STOP_CHARS = 64
MIN_CONTEXT = 512
DEFAULT_CONTEXT = 8192
"""The default context when memory or the KV cache's size is unknown: a model trained on 128k
tokens would otherwise reserve gigabytes of KV cache."""
DEFAULT_MAX_TOKENS = 2048
KV_MEMORY_SHARE = 0.5
"""At most this share of the memory left after the weights goes to the default context's cache."""
LOAD_KEYS = ("context_length", "n_threads", "n_gpu_layers")

# llama.cpp's own sampling defaults (common_params_sampling), the model's defaults here.
LLAMA_SAMPLING: ModelParams = {
    "temperature": 0.8,
    "top_p": 0.95,
    "top_k": 40,
    "min_p": 0.05,
    "repeat_penalty": 1.0,
}


@dataclass(frozen=True)
class _Number:
    kind: type[int] | type[float]
    low: float
    high: float
    meaning: str


_NUMBERS: dict[str, _Number] = {
    "temperature": _Number(float, 0.0, 5.0, "a number from 0 to 5"),
    "top_p": _Number(float, 0.0, 1.0, "a number from 0 to 1"),
    "top_k": _Number(int, 0, 1000, "a whole number from 0 (off) to 1000"),
    "min_p": _Number(float, 0.0, 1.0, "a number from 0 to 1"),
    "repeat_penalty": _Number(float, 0.5, 2.0, "a number from 0.5 to 2"),
    "max_tokens": _Number(int, 1, 131_072, "a whole number of tokens from 1 to 131072"),
    "context_length": _Number(int, MIN_CONTEXT, 1 << 20, "a whole number of tokens from 512"),
    "n_threads": _Number(int, 1, 256, "a whole number of threads from 1 to 256"),
    "n_gpu_layers": _Number(int, -1, 1000, "a whole number of layers, -1 for all"),
}
KEYS = ("system_prompt", "stop", *_NUMBERS)


def bad(field: str, message: str) -> BadModelParam:
    return BadModelParam(f"{field} must be {message}")


def check_params(raw: object) -> ModelParams:
    """Clean model settings from `raw`; a None value means "the model's default" (dropped)."""
    if not isinstance(raw, dict):
        raise BadModelParam("model settings must be a JSON object")
    unknown = sorted(str(key) for key in raw if key not in KEYS)
    if unknown:
        raise UnknownModelParam(
            f"unknown model settings: {', '.join(unknown)} (known: {', '.join(KEYS)})"
        )
    clean: dict[str, Any] = {}
    for key, value in raw.items():
        if value is None:
            continue
        if key == "system_prompt":
            clean[key] = _system_prompt(value)
        elif key == "stop":
            clean[key] = _stop(value)
        else:
            clean[key] = _number(key, value)
    params: ModelParams = {}
    params.update(clean)  # type: ignore[typeddict-item]  # each key checked above
    return params


def _system_prompt(value: object) -> str:
    if not isinstance(value, str) or len(value) > MAX_SYSTEM_PROMPT:
        raise bad("system_prompt", f"text of at most {MAX_SYSTEM_PROMPT} characters")
    return value.strip()


def _stop(value: object) -> list[str]:
    strings = value if isinstance(value, list) else None
    if (
        strings is None
        or len(strings) > MAX_STOP_STRINGS
        or not all(isinstance(s, str) and 0 < len(s) <= MAX_STOP_CHARS for s in strings)
    ):
        raise bad("stop", f"a list of at most {MAX_STOP_STRINGS} strings of 1 to 64 characters")
    return [str(s) for s in strings]


def _number(key: str, value: object) -> int | float:
    rule = _NUMBERS[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad(key, rule.meaning)
    if rule.kind is int and (isinstance(value, float) and not value.is_integer()):
        raise bad(key, rule.meaning)
    if not math.isfinite(value) or not rule.low <= value <= rule.high:
        raise bad(key, rule.meaning)
    return int(value) if rule.kind is int else float(value)


def add_sampling(request: SamplingFields, params: ModelParams) -> None:
    """Put the user's sampling settings into a request, in llama.cpp's names (which llama.cpp's
    server, LM Studio and vLLM read; a server ignores what it lacks)."""
    if "temperature" in params:
        request["temperature"] = params["temperature"]
    if "top_p" in params:
        request["top_p"] = params["top_p"]
    if "top_k" in params:
        request["top_k"] = params["top_k"]
    if "min_p" in params:
        request["min_p"] = params["min_p"]
    if "repeat_penalty" in params:
        request["repeat_penalty"] = params["repeat_penalty"]
    if params.get("stop"):
        request["stop"] = list(params["stop"])


def changed_load(old: ModelParams, new: ModelParams) -> bool:
    """Whether a load setting changed (the model must be loaded again)."""
    return any(old.get(key) != new.get(key) for key in LOAD_KEYS)


# --- the model's defaults ---------------------------------------------------------------------
def available_memory() -> int | None:
    """Bytes of memory free for a new model (Linux's MemAvailable; half the physical memory
    elsewhere), None when the system does not say."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (AttributeError, ValueError, OSError):
        return None


def context_max(info: GGUFInfo, memory: int | None) -> int | None:
    """The most context a model file takes: its trained length, capped by what memory holds
    once the weights are loaded; None when the file does not say its trained length."""
    trained = info.context_length
    if memory is None or not info.kv_bytes_per_token:
        return trained
    budget = max(0, memory - info.size) * KV_MEMORY_SHARE
    fits = max(MIN_CONTEXT, int(budget // info.kv_bytes_per_token) // 256 * 256)
    return min(trained, fits) if trained else fits


def fit_context(info: GGUFInfo | None, wanted: int | None, memory: int | None) -> int:
    """The context to load with: what the user wanted, else the trained length; never more than
    `context_max` (without the cache's size known, the old 8192 default stands in)."""
    if info is None:
        return wanted or DEFAULT_CONTEXT
    most = context_max(info, memory)
    if most is None:
        return wanted or DEFAULT_CONTEXT
    if wanted is None and (memory is None or not info.kv_bytes_per_token):
        return min(most, DEFAULT_CONTEXT)
    return min(wanted or most, most)


def model_defaults(info: GGUFInfo | None, memory: int | None) -> ModelParams:
    """What an absent setting means for this model: llama.cpp's sampling, the app's reply
    length, the fitted context (for a local file), all threads and every layer on a GPU."""
    defaults: ModelParams = {**LLAMA_SAMPLING, "system_prompt": "", "stop": []}
    defaults["max_tokens"] = DEFAULT_MAX_TOKENS
    if info is not None:
        defaults["context_length"] = fit_context(info, None, memory)
        defaults["n_threads"] = os.cpu_count() or 1
        defaults["n_gpu_layers"] = -1
    return defaults
