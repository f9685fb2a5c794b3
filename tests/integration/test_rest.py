"""The HTTP API of PROTOCOL section 5 against the live server: sessions, paging, search,
export/import, rename, delete, prefs and their broadcasts, health, config check, agents, metrics.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

from tests.integration.support import ChatClient, Live, chat_payload, wait_until


def chat_turns(client: ChatClient, session_id: str, texts: list[str]) -> list[dict[str, Any]]:
    acks = []
    for text in texts:
        ack = client.call("chat", chat_payload(text, session_id=session_id))
        assert ack["ok"], ack
        client.final(ack["data"]["output_msg_id"])
        acks.append(ack["data"])
    return acks


def test_health_config_check_and_agents(live: Live) -> None:
    assert live.get("/health").json() == {
        "status": "ok",
        "version": live.get("/health").json()["version"],
        "db": "ok",
    }
    check = live.get("/config/check").json()
    assert check == {"db_configured": True, "llm_configured": True, "videodb_configured": True}
    agents = live.get("/agent").json()
    assert {"name", "description", "parameters"} == set(agents[0])
    assert "search_chats" in [a["name"] for a in agents]
    assert agents[0]["parameters"]["type"] == "object"


def test_sessions_list_rename_and_delete(live: Live) -> None:
    client = live.client()
    watcher = live.client()
    older, newer = f"s-{uuid.uuid4()}", f"s-{uuid.uuid4()}"
    chat_turns(client, older, ["the older one"])
    chat_turns(client, newer, ["the newer one"])
    sessions = live.get("/session").json()
    assert [s["session_id"] for s in sessions] == [newer, older]
    assert set(sessions[0]) == {
        "session_id",
        "name",
        "video_id",
        "collection_id",
        "created_at",
        "updated_at",
        "metadata",
        "pinned_at",
    }

    count = len(watcher.events)
    renamed = live.http.patch(
        f"/session/{older}", headers=live.headers, json={"name": "  Renamed  "}
    )
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Renamed"
    wait_until(lambda: len(watcher.events) > count, "update_data after rename")
    assert watcher.events[-1] == {"event_type": "update_data", "update": "sessions"}
    assert live.get(f"/session/{older}").json()["name"] == "Renamed"

    count = len(watcher.events)
    deleted = live.http.delete(f"/session/{older}", headers=live.headers)
    assert deleted.json() == {"success": True, "message": "Session deleted"}
    assert live.get(f"/session/{older}").status_code == 404
    assert [s["session_id"] for s in live.get("/session").json()] == [newer]
    wait_until(lambda: len(watcher.events) > count, "update_data after delete")
    assert watcher.events[-1] == {"event_type": "update_data", "update": "sessions"}


def test_delete_cancels_a_running_turn(slow_live: Live) -> None:
    client = slow_live.client()
    session_id = f"s-{uuid.uuid4()}"
    ack = client.call("chat", chat_payload("long one", session_id=session_id))
    client.wait_for(
        lambda ms: any(m["msg_id"] == ack["data"]["output_msg_id"] for m in ms), "the run"
    )
    response = slow_live.http.delete(f"/session/{session_id}", headers=slow_live.headers)
    assert response.status_code == 200
    assert slow_live.app.state.turns.running == []
    assert slow_live.get(f"/session/{session_id}").status_code == 404


def test_paging_before_and_around(live: Live) -> None:
    client = live.client()
    session_id = f"s-{uuid.uuid4()}"
    chat_turns(client, session_id, [f"turn {n}" for n in range(4)])  # 8 messages
    whole = live.get(f"/session/{session_id}").json()["conversation"]
    assert len(whole) == 8
    firsts = [m["metadata"]["first_seq"] for m in whole]
    assert firsts == sorted(firsts)

    newest = live.get(f"/session/{session_id}?limit=3").json()
    assert newest["conversation"] == whole[-3:]
    assert newest["has_more"] is True
    older = live.get(f"/session/{session_id}?limit=3&before={firsts[-3]}").json()
    assert older["conversation"] == whole[-6:-3]
    oldest = live.get(f"/session/{session_id}?limit=3&before={firsts[-6]}").json()
    assert oldest["conversation"] == whole[:2]
    assert oldest["has_more"] is False

    target = whole[4]["msg_id"]
    around = live.get(f"/session/{session_id}?around={target}&limit=3").json()
    assert around["conversation"] == whole[3:6]
    assert (around["has_more"], around["has_newer"]) == (True, True)


def test_search_finds_names_and_messages(live: Live) -> None:
    client = live.client()
    session_id = f"s-{uuid.uuid4()}"
    chat_turns(client, session_id, ["notes about kangaroos", "and about wombats"])
    hits = live.get("/search", params={"q": "wombats"}).json()
    assert [h["session_id"] for h in hits] == [session_id]
    assert set(hits[0]) == {"session_id", "name", "msg_id", "snippet"}
    # FTS syntax in user text is not an error
    assert live.get("/search", params={"q": 'wombats" OR (NEAR'}).status_code == 200


def test_export_and_import(live: Live) -> None:
    client = live.client()
    session_id = f"s-{uuid.uuid4()}"
    chat_turns(client, session_id, ["export me"])
    exported = live.get(f"/session/{session_id}/export")
    assert exported.headers["content-type"].startswith("application/json")
    assert exported.headers["content-disposition"].startswith("attachment;")
    markdown = live.get(f"/session/{session_id}/export", params={"format": "markdown"})
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert "export me" in markdown.text

    count = len(client.events)
    imported = live.http.post("/session/import", headers=live.headers, content=exported.content)
    assert imported.status_code == 201
    wait_until(lambda: len(client.events) > count, "update_data after import")
    assert client.events[-1] == {"event_type": "update_data", "update": "sessions"}
    new_id = imported.json()["session_id"]
    assert new_id != session_id  # the original exists: nothing is overwritten
    original = live.get(f"/session/{session_id}").json()["conversation"]
    copy = live.get(f"/session/{new_id}").json()["conversation"]
    assert [m["content"] for m in copy] == [m["content"] for m in original]


def test_prefs_merge_and_broadcast(live: Live) -> None:
    other_window = live.client()
    defaults = {
        "current_session": None,
        "drafts": {},
        "sidebar_collapsed": False,
        "theme": "system",
    }
    assert live.get("/prefs").json() == defaults
    change = {"theme": "dark", "drafts": {"a": "draft a"}}
    assert live.http.patch("/prefs", headers=live.headers, json=change).status_code == 200
    change = {"drafts": {"b": "draft b"}, "current_session": "a"}
    second = live.http.patch("/prefs", headers=live.headers, json=change).json()
    drafts = {"a": "draft a", "b": "draft b"}
    assert second == {**defaults, "theme": "dark", "drafts": drafts, "current_session": "a"}
    change = {"drafts": {"a": None}, "theme": None}  # None deletes a draft, or resets a key
    third = live.http.patch("/prefs", headers=live.headers, json=change).json()
    assert third == {**defaults, "drafts": {"b": "draft b"}, "current_session": "a"}
    assert live.get("/prefs").json() == third
    event = other_window.wait_event(lambda e: e.get("update") == "prefs", "update_data prefs")
    assert event["event_type"] == "update_data"


def test_prefs_survive_a_restart(live_factory: Any, tmp_path: Any) -> None:
    data = tmp_path / "kept"
    first = live_factory(data_dir=data)
    first.http.patch("/prefs", headers=first.headers, json={"sidebar_collapsed": True})
    first.stop()
    second = live_factory(data_dir=data)
    assert second.get("/prefs").json()["sidebar_collapsed"] is True


def test_metrics_count_what_happened(live: Live) -> None:
    client = live.client()
    chat_turns(client, f"s-{uuid.uuid4()}", ["count me"])
    client.emit_raw("chat", {"content": []})
    live.http.get("/session")  # refused: no token
    text = live.get("/metrics").text
    assert "# TYPE director_runs_total counter" in text
    assert 'director_runs_total{outcome="success"} 1' in text
    assert 'director_messages_total{kind="input"} 1' in text
    assert "director_connections_active 1" in text
    assert 'director_errors_total{code="invalid_payload"} 1' in text
    assert 'director_errors_total{code="unauthorized"} 1' in text
    assert "director_run_duration_seconds_count 1" in text
    assert "director_emit_failures_total 0" in text


def test_static_page_or_placeholder(live: Live) -> None:
    page = live.http.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert live.http.get("/index.html").text == page.text


def test_concurrent_turns_in_one_session(live: Live) -> None:
    client = live.client()
    session_id = f"s-{uuid.uuid4()}"
    acks: list[dict[str, Any]] = []
    lock = threading.Lock()

    def send(n: int) -> None:
        ack = client.call("chat", chat_payload(f"parallel {n}", session_id=session_id))
        with lock:
            acks.append(ack)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(a["ok"] for a in acks)
    for ack in acks:
        client.final(ack["data"]["output_msg_id"])
    conversation = live.get(f"/session/{session_id}").json()["conversation"]
    assert len(conversation) == 8
    assert all(m["status"] == "success" for m in conversation)
