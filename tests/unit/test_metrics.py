"""Metrics render in the Prometheus text format with cumulative histogram buckets."""

from __future__ import annotations

import re

from director_desktop.metrics import RUN_DURATION_BUCKETS, Metrics

SAMPLE = re.compile(r'^[a-z_]+(\{[a-z_]+="[^"]*"\})? -?[0-9.e+]+$')


def test_render_is_prometheus_text() -> None:
    metrics = Metrics()
    metrics.connected()
    metrics.connected()
    metrics.disconnected()
    metrics.message("input")
    metrics.run_finished("success", 0.07)
    metrics.run_finished("stopped", 400.0)
    metrics.emit_retry()
    metrics.emit_failure()
    metrics.error("not_found")
    text = metrics.render()
    assert text.endswith("\n")
    for line in text.splitlines():
        assert line.startswith("# HELP ") or line.startswith("# TYPE ") or SAMPLE.match(line), line
    assert "director_connections_total 2" in text
    assert "director_connections_active 1" in text
    assert 'director_runs_total{outcome="success"} 1' in text
    assert 'director_runs_total{outcome="error"} 0' in text
    assert "director_emit_retries_total 1" in text
    assert "director_emit_failures_total 1" in text
    assert 'director_errors_total{code="not_found"} 1' in text


def test_histogram_buckets_are_cumulative() -> None:
    metrics = Metrics()
    for seconds in (0.01, 0.2, 0.2, 3.0):
        metrics.run_finished("success", seconds)
    lines = dict(
        line.rsplit(" ", 1)
        for line in metrics.render().splitlines()
        if line.startswith("director_run_duration")
    )
    counts = [
        int(lines[f'director_run_duration_seconds_bucket{{le="{b}"}}'])
        for b in RUN_DURATION_BUCKETS
    ]
    assert counts == sorted(counts)
    assert lines['director_run_duration_seconds_bucket{le="0.05"}'] == "1"
    assert lines['director_run_duration_seconds_bucket{le="0.25"}'] == "3"
    assert lines['director_run_duration_seconds_bucket{le="+Inf"}'] == "4"
    assert lines["director_run_duration_seconds_count"] == "4"
    assert float(lines["director_run_duration_seconds_sum"]) == 3.41


def test_disconnect_never_goes_negative() -> None:
    metrics = Metrics()
    metrics.disconnected()
    assert "director_connections_active 0" in metrics.render()
