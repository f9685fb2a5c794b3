"""Upgrade: every schema fixture in tests/fixtures/store/ opened by the current build (the real
app in uvicorn on a free port, from source; the frozen build's upgrade is
tests/frozen/test_frozen_upgrade.py).
Every session and message the old file held is served by the API afterwards, and the invariant
checks hold (the fixtures hold a run cut off in `progress`, which the start-up sweep ends)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.chaos.invariants import check_data_dir, check_serving
from tests.chaos.report import Report, Row
from tests.integration.support import start_live

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "store"


def fixture_rows(path: Path) -> tuple[list[str], list[tuple[str, str]]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        sessions = [s for (s,) in conn.execute("SELECT session_id FROM sessions")]
        messages = conn.execute("SELECT session_id, msg_id FROM messages").fetchall()
    finally:
        conn.close()
    return sessions, messages


def test_every_schema_fixture_opens_with_nothing_lost(
    tmp_path: Path, report: Report, request: pytest.FixtureRequest
) -> None:
    fixtures = sorted(FIXTURES.glob("v*.sqlite3"))
    assert fixtures, "no schema fixtures"
    lost: list[str] = []
    stuck = five_xx = 0
    problems: list[str] = []
    for fixture in fixtures:
        data = tmp_path / fixture.stem / "data"
        data.mkdir(parents=True)
        shutil.copyfile(fixture, data / "director.sqlite3")
        sessions, messages = fixture_rows(fixture)
        live = start_live(data)
        try:
            listed = {s["session_id"] for s in live.get("/session").json()}
            lost += [f"{fixture.name}: session {s}" for s in sessions if s not in listed]
            served: set[tuple[str, str]] = set()
            for session_id in sessions:
                answer = live.get(f"/session/{session_id}", params={"all": 1})
                five_xx += answer.status_code >= 500
                if answer.status_code == 200:
                    served |= {(session_id, m["msg_id"]) for m in answer.json()["conversation"]}
            lost += [
                f"{fixture.name}: message {s}/{m}" for s, m in messages if (s, m) not in served
            ]
            if fixture == fixtures[-1]:  # one full turn is enough to show the app still serves
                check_serving(live.base_url, live.token)
        finally:
            live.stop()
        findings = check_data_dir(data, messages)
        stuck += findings.stuck
        # The fixtures are database files only: the media files their asset rows name were
        # never shipped with them, so a missing asset file is not a finding here.
        findings.partial = [p for p in findings.partial if " without its file " not in p]
        problems += [f"{fixture.name}: {p}" for p in findings.problems()]
    report.add(
        Row(
            "upgrade",
            "each schema fixture (" + ", ".join(f.stem for f in fixtures) + ") opened by the "
            "current build from source; every session and message read back through the API",
            len(fixtures),
            f"{len(fixtures)} files upgraded to the current schema and served",
            lost=len(lost),
            stuck=stuck,
            five_xx=five_xx,
            nodeid=request.node.nodeid,
        )
    )
    assert lost == [], lost[:10]
    assert problems == []
    assert five_xx == 0
