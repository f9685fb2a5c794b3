"""`POST /session/import/director` on a live server: a VideoDB Director `director.db` uploaded as
raw bytes becomes sessions (Director's order, their messages), announced with `update_data`;
a file that is not a Director database is refused with `not_director_db` and stores nothing, and
the uploaded temp file never stays in the data dir."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.fixtures.director_db import build_director_db
from tests.integration.support import Live, text_of


def leftover_uploads(data_dir: Path) -> list[str]:
    return [p.name for p in data_dir.glob(".director-import-*")]


def test_a_director_db_upload_becomes_sessions(live: Live, tmp_path: Path) -> None:
    director = tmp_path / "director.db"
    build_director_db(director)
    watcher = live.client()

    response = live.http.post(
        "/session/import/director", content=director.read_bytes(), headers=live.headers
    )
    assert response.status_code == 201, response.text
    assert response.json() == {"session_ids": ["new", "mid", "old"]}
    watcher.wait_event(lambda e: e.get("update") == "sessions", "update_data sessions")

    sessions = live.get("/session").json()
    assert [s["session_id"] for s in sessions] == ["new", "mid", "old"]
    assert [s["name"] for s in sessions] == [
        "what is in the keynote video",
        "middle chat",
        "The old one",
    ]
    new = live.get("/session/new").json()["conversation"]
    assert [(m["msg_id"], m["msg_type"]) for m in new] == [("n1", "input"), ("n2", "output")]
    assert [text_of(m) for m in new] == ["what is in the keynote video", "a keynote about launches"]
    old = live.get("/session/old").json()["conversation"]
    assert [text_of(m) for m in old] == ["first question"]
    assert leftover_uploads(live.data_dir) == []


def test_a_file_that_is_not_a_director_db_is_refused(live: Live, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.commit()
    conn.close()
    bodies = {
        "not SQLite": b"this is a text file, not a database\n" * 20,
        "SQLite without Director's tables": other.read_bytes(),
    }
    for what, body in bodies.items():
        response = live.http.post("/session/import/director", content=body, headers=live.headers)
        assert response.status_code == 400, what
        error = response.json()["error"]
        assert error["code"] == "not_director_db", what
        assert ".director-import-" not in error["message"]  # the temp file is not named
    empty = live.http.post("/session/import/director", content=b"", headers=live.headers)
    assert (empty.status_code, empty.json()["error"]["code"]) == (400, "invalid_payload")

    assert live.get("/session").json() == []
    assert leftover_uploads(live.data_dir) == []


def test_the_route_needs_the_token(live: Live, tmp_path: Path) -> None:
    director = tmp_path / "director.db"
    build_director_db(director)
    response = live.http.post("/session/import/director", content=director.read_bytes())
    assert response.status_code == 401
    assert live.get("/session").json() == []
