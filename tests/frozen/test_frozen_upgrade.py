"""Upgrade: a chat database written by an earlier schema version (the store's committed
fixtures, tests/fixtures/store/v<N>.sqlite3) opens in the frozen app without loss: every session,
every message in order with its text, and the saved prefs come back over the REST API."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.frozen.support import ROOT, FreshUser, Headless

pytestmark = [pytest.mark.frozen, pytest.mark.slow, pytest.mark.timeout(1200)]

FIXTURES = sorted((ROOT / "tests" / "fixtures" / "store").glob("v*.sqlite3"))
StartHeadless = Callable[[list[str], FreshUser, Path], Headless]


def test_there_are_fixtures_of_earlier_schemas() -> None:
    assert FIXTURES, "tests/fixtures/store/ holds no v<N>.sqlite3"


def fixture_rows(path: Path) -> dict[str, Any]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        sessions = {
            sid: {"name": name, "video_id": video, "collection_id": collection}
            for sid, name, video, collection in conn.execute(
                "SELECT session_id, name, video_id, collection_id FROM sessions"
            )
        }
        messages: dict[str, list[dict[str, Any]]] = {sid: [] for sid in sessions}
        for sid, msg_id, kind, content in conn.execute(
            "SELECT session_id, msg_id, msg_type, content FROM messages ORDER BY first_seq"
        ):
            messages[sid].append({"msg_id": msg_id, "msg_type": kind, "texts": texts(content)})
        prefs = {key: json.loads(value) for key, value in conn.execute("SELECT * FROM prefs")}
    return {"sessions": sessions, "messages": messages, "prefs": prefs}


def texts(content: Any) -> list[str | None]:
    items = json.loads(content) if isinstance(content, str) else content
    return [item.get("text") for item in items]


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.stem for f in FIXTURES])
def test_earlier_schema_opens_without_loss(
    fixture: Path,
    frozen_app: Path,
    fresh_user: FreshUser,
    headless: StartHeadless,
    tmp_path: Path,
) -> None:
    expected = fixture_rows(fixture)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    shutil.copyfile(fixture, data_dir / "director.sqlite3")

    app = headless([str(frozen_app)], fresh_user, data_dir)
    listed = app.get("/session")
    assert isinstance(listed, list)
    assert {s["session_id"]: {k: s[k] for k in ("name", "video_id", "collection_id")}
            for s in listed} == expected["sessions"]  # fmt: skip
    for session_id, messages in expected["messages"].items():
        # every turn, hidden branches too (v7 holds a branched chat): nothing may be lost
        session = app.get(f"/session/{session_id}?all=1")
        assert isinstance(session, dict)
        got = [
            {"msg_id": m["msg_id"], "msg_type": m["msg_type"], "texts": texts(m["content"])}
            for m in session["conversation"]
        ]
        assert got == messages, session_id
    prefs = app.get("/prefs")
    assert isinstance(prefs, dict)
    for key, value in expected["prefs"].items():
        assert prefs.get(key) == value, key
    assert app.stop() == 0
