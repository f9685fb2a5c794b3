"""Fixtures of the torture suite: the scale (CI or full run) and the scenario table, written at
the end of the session to RELIABILITY.md (`DIRECTOR_CHAOS_REPORT`, set by `scripts/chaos`) or,
in a normal `pytest` run, to test-artifacts/RELIABILITY-ci.md so the committed table stays the
full run's."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chaos import scale as scales
from tests.chaos.report import ROOT, Report
from tests.fixtures.media import media_files_fixture  # noqa: F401 (the fixture)

REPORT = pytest.StashKey[Report]()


def _report(config: pytest.Config) -> Report:
    if REPORT not in config.stash:
        config.stash[REPORT] = Report(scales.current().name)
    return config.stash[REPORT]


@pytest.fixture(scope="session")
def scale() -> scales.Scale:
    return scales.current()


@pytest.fixture(scope="session")
def report(pytestconfig: pytest.Config) -> Report:
    return _report(pytestconfig)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    result = yield
    test_report: pytest.TestReport = result  # type: ignore[assignment]
    outcomes = _report(item.config).outcomes
    if test_report.when == "call" or test_report.failed:
        if test_report.failed:
            outcomes[item.nodeid] = "FAILED"
        elif test_report.skipped:
            outcomes[item.nodeid] = "skipped"
        else:
            outcomes.setdefault(item.nodeid, "passed")
    return result


def pytest_sessionfinish(session: pytest.Session) -> None:
    report = session.config.stash.get(REPORT, None)
    if report is None or not report.rows:
        return
    target = os.environ.get("DIRECTOR_CHAOS_REPORT")
    path = Path(target) if target else ROOT / "test-artifacts" / f"RELIABILITY-{report.scale}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report.markdown(header=os.environ.get("DIRECTOR_CHAOS_NOTE", "")), "utf-8")
