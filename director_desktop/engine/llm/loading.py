"""How llama.cpp is loaded so the rest of the app stays responsive (the chat model in
`llamacpp.py`, the embedding model in `embeddings.py`; the reasons are in `llamacpp.py`'s
docstring). Linux-only effects; elsewhere the load is as xllamacpp does it.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

COMPUTE_NICE = 10
"""Niceness of llama.cpp's threads: the weight of a thread at nice 10 is ~1/9 of one at 0, so
an interactive thread that wakes gets a core at once; idle cores still all go to the model."""
PREREAD_CHUNK = 8 << 20


def lower_thread_priority() -> None:
    """Lower the calling thread's priority to `COMPUTE_NICE` (Linux, where niceness is per
    thread and inherited by the threads it starts); elsewhere a no-op."""
    if not sys.platform.startswith("linux"):
        return
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), COMPUTE_NICE)
    except OSError as exc:  # a sandbox may forbid it; the model still runs
        log.info("could not lower llama.cpp's priority: %s", exc)


def preread(path: Path, memory: int | None) -> None:
    """Read the file once, releasing the GIL, so the GIL-holding load that follows finds it in
    the page cache. Skipped when it would not fit in free memory (it would only be evicted)."""
    try:
        if memory is not None and path.stat().st_size > memory // 2:
            return
        buffer = bytearray(PREREAD_CHUNK)
        with path.open("rb", buffering=0) as handle:
            while handle.readinto(buffer):
                pass
    except OSError:
        return  # the load itself reports a missing or unreadable file


def start_server(xllamacpp: Any, params: Any) -> Any:
    """`xllamacpp.Server(params)`, returned only once its task loop runs, so that dropping it
    (xllamacpp has no `stop()`) always shuts it down.

    Dropping a server whose loop has not started yet hangs for good: llama.cpp's shut-down
    clears the loop's `running` flag and joins its thread, and the loop, starting afterwards,
    sets the flag again and never ends (seen when a model was reloaded twice in a row, and on
    every create-then-drop with no pause). A metrics request is a task that loop answers, so
    once it is answered the loop is running."""
    params.endpoint_metrics = True  # the HTTP side is behind the server's random API key
    server = xllamacpp.Server(params)
    answer = str(server.handle_metrics())
    if not answer.startswith("#"):  # Prometheus text when answered; a JSON error otherwise
        raise RuntimeError(f"llama.cpp's server did not answer its first task: {answer[:200]}")
    return server
