"""The embedded llama.cpp engine leaves room for the rest of the app (see the module docstring of
`engine/llm/llamacpp.py`): its compute threads run at a lower priority than the event loop, and
the model file is read, with the GIL released, before xllamacpp's GIL-holding load.

Threads and reads are observed through Linux's /proc (niceness per thread, `rchar` per process),
on the real engine with a tiny model that never stops by itself, so llama.cpp's threads work.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

from director_desktop.engine.llm.base import Finish
from director_desktop.engine.llm.llamacpp import LlamaCppProvider
from director_desktop.engine.llm.loading import COMPUTE_NICE, preread
from tests.fixtures.tiny_gguf import write_chat_model

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="per-thread niceness and /proc are Linux's"
)


def threads() -> dict[int, tuple[int, int]]:
    """This process's threads: id -> (niceness, user CPU ticks)."""
    found = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            stat = Path(f"/proc/self/task/{tid}/stat").read_text()
        except OSError:  # the thread ended meanwhile
            continue
        fields = stat.rsplit(")", 1)[1].split()
        found[int(tid)] = (int(fields[16]), int(fields[11]))
    return found


def bytes_read() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar in /proc/self/io")


@pytest.mark.anyio
async def test_compute_threads_yield_to_the_event_loop(tmp_path: Path) -> None:
    model = Path(write_chat_model(str(tmp_path / "busy.gguf"), eos_bias=-30.0))
    before = threads()
    provider = LlamaCppProvider(model)
    try:
        await provider.ready()
        events = [
            event
            async for event in provider.stream_chat(
                [{"role": "user", "content": "count"}], [], max_tokens=600
            )
        ]
        assert isinstance(events[-1], Finish)
        after = threads()
    finally:
        await provider.close()
    loop_thread = threading.get_native_id()
    assert after[loop_thread][0] == 0, "the event loop's own priority must not change"
    # The threads new since the provider started that did work: llama.cpp's compute threads,
    # and the odd helper of the event loop's executor (a tick or two at normal priority, for
    # the load or the close). The generation's work, nearly all of it, ran at COMPUTE_NICE.
    workers = {tid: t for tid, t in after.items() if tid not in before and t[1] > 0}
    assert workers, f"no new thread did any work: {after}"
    niced = sum(ticks for nice, ticks in workers.values() if nice == COMPUTE_NICE)
    assert niced >= 0.8 * sum(ticks for _, ticks in workers.values()), workers


def test_the_model_file_is_read_before_the_load(tmp_path: Path) -> None:
    model = tmp_path / "model.gguf"
    model.write_bytes(os.urandom(3 << 20))
    start = bytes_read()
    preread(model, memory=None)
    assert bytes_read() - start >= model.stat().st_size


def test_a_file_too_big_for_free_memory_is_not_read_ahead(tmp_path: Path) -> None:
    model = tmp_path / "model.gguf"
    model.write_bytes(os.urandom(3 << 20))
    start = bytes_read()
    preread(model, memory=model.stat().st_size)  # it would take all of it: only evicted again
    assert bytes_read() - start < model.stat().st_size
    preread(tmp_path / "gone.gguf", memory=None)  # the load reports a missing file, not this
