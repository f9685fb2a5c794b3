"""Fixtures of the integration tier: live servers that are stopped after each test, with an
assertion that no thread, child process or file descriptor was left behind."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.support import (
    SLOW_PACE,
    Baseline,
    Live,
    start_live,
)


@pytest.fixture
def live_factory(tmp_path: Path) -> Iterator[Callable[..., Live]]:
    """Start live servers (stopped at teardown); asserts nothing leaked once all are stopped."""
    baseline = Baseline.take()
    started: list[Live] = []

    def start(
        pace: float = 0.0, data_dir: Path | None = None, bundle_dir: Path | None = None
    ) -> Live:
        live = start_live(
            data_dir or tmp_path / f"data{len(started)}", pace=pace, bundle_dir=bundle_dir
        )
        started.append(live)
        return live

    yield start
    for live in started:
        live.stop()
    baseline.wait_restored("the servers' and clients' threads, descriptors and processes to end")


@pytest.fixture
def live(live_factory: Callable[..., Live]) -> Live:
    return live_factory()


@pytest.fixture
def slow_live(live_factory: Callable[..., Live]) -> Live:
    """A live server whose assistant streams slowly enough to stop or drop a run mid-stream."""
    return live_factory(pace=SLOW_PACE)
