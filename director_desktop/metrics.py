"""Metrics: the counters behind `GET /metrics`, rendered in the Prometheus text format (0.0.4).

One `Metrics` object per app, created by the composition root and handed to whoever counts.
`loaded_packages()`: what the process has imported, for the start-up log line.
Imports nothing from the project. Counts only ids-free facts (no labels from user input).
"""

from __future__ import annotations

import sys
import threading
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator

RUN_DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
RUN_OUTCOMES = ("success", "error", "stopped", "interrupted")


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.connections_total = 0
        self.connections_active = 0
        self.messages = Counter[str]()  # inputs received, snapshots stored
        self.runs = Counter[str]({outcome: 0 for outcome in RUN_OUTCOMES})
        self.emit_retries = 0
        self.emit_failures = 0
        self.errors = Counter[str]()  # by stable error code
        self._bucket_counts = [0] * len(RUN_DURATION_BUCKETS)
        self._duration_sum = 0.0
        self._duration_count = 0

    # --- counting ------------------------------------------------------------------------------
    def connected(self) -> None:
        with self._lock:
            self.connections_total += 1
            self.connections_active += 1

    def disconnected(self) -> None:
        with self._lock:
            self.connections_active = max(0, self.connections_active - 1)

    def message(self, kind: str) -> None:
        """`kind`: "input" (a stored user message) or "snapshot" (a stored output change)."""
        with self._lock:
            self.messages[kind] += 1

    def run_finished(self, outcome: str, seconds: float) -> None:
        with self._lock:
            self.runs[outcome] += 1
            index = bisect_left(RUN_DURATION_BUCKETS, seconds)
            if index < len(self._bucket_counts):
                self._bucket_counts[index] += 1
            self._duration_sum += seconds
            self._duration_count += 1

    def emit_retry(self) -> None:
        with self._lock:
            self.emit_retries += 1

    def emit_failure(self) -> None:
        with self._lock:
            self.emit_failures += 1

    def error(self, code: str) -> None:
        with self._lock:
            self.errors[code] += 1

    # --- rendering -----------------------------------------------------------------------------
    def render(self) -> str:
        with self._lock:
            return "".join(f"{line}\n" for line in self._lines())

    def _lines(self) -> Iterator[str]:
        yield from _metric(
            "director_connections_total", "counter", "Socket.IO /chat connections accepted."
        )
        yield f"director_connections_total {self.connections_total}"
        yield from _metric("director_connections_active", "gauge", "Open /chat connections.")
        yield f"director_connections_active {self.connections_active}"
        yield from _metric("director_messages_total", "counter", "Stored messages by kind.")
        for kind in sorted({"input", "snapshot", *self.messages}):
            yield f'director_messages_total{{kind="{kind}"}} {self.messages[kind]}'
        yield from _metric("director_runs_total", "counter", "Finished runs by outcome.")
        for outcome in sorted(self.runs):
            yield f'director_runs_total{{outcome="{outcome}"}} {self.runs[outcome]}'
        yield from _metric("director_emit_retries_total", "counter", "Emits retried.")
        yield f"director_emit_retries_total {self.emit_retries}"
        yield from _metric("director_emit_failures_total", "counter", "Emits given up.")
        yield f"director_emit_failures_total {self.emit_failures}"
        yield from _metric("director_errors_total", "counter", "Errors answered, by code.")
        for code in sorted(self.errors):
            yield f'director_errors_total{{code="{code}"}} {self.errors[code]}'
        yield from self._histogram()

    def _histogram(self) -> Iterator[str]:
        name = "director_run_duration_seconds"
        yield from _metric(name, "histogram", "Run durations, input stored to final snapshot.")
        cumulative = 0
        for bound, count in zip(RUN_DURATION_BUCKETS, self._bucket_counts, strict=True):
            cumulative += count
            yield f'{name}_bucket{{le="{bound}"}} {cumulative}'
        yield f'{name}_bucket{{le="+Inf"}} {self._duration_count}'
        yield f"{name}_sum {self._duration_sum:.6f}"
        yield f"{name}_count {self._duration_count}"


def loaded_packages() -> list[str]:
    """The top-level packages and modules imported so far, sorted: logged when the app reports
    ready, so a test can tell that nothing heavy is imported before it
    (`tests/integration/test_startup_imports.py`). A name marked absent (None, as
    `__main__.py` marks engine.io's client libraries) was not imported."""
    return sorted({name.partition(".")[0] for name, m in list(sys.modules.items()) if m})


def _metric(name: str, kind: str, help_text: str) -> Iterator[str]:
    yield f"# HELP {name} {help_text}"
    yield f"# TYPE {name} {kind}"
