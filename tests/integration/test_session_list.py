"""`GET /session` whole and in pages, and pins (`PATCH /session/{id}` `{"pinned"}`), against the
live server: the pages follow `x-next-cursor` while another client makes chats, sessions are
deleted and pinned between pages, and a bad cursor or limit is refused without changing a thing.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import httpx

from tests.integration.support import Live, chat_payload, wait_until

NEXT = "x-next-cursor"


def imported(live: Live, count: int, prefix: str = "s") -> list[str]:
    """`count` chats made through the import route, oldest first (fast, and real)."""
    made = []
    for n in range(count):
        body = {
            "format": "director-desktop/session",
            "version": 1,
            "session": {"session_id": f"{prefix}{n}", "name": f"chat {n}", "updated_at": 1000 + n},
            "messages": [],
        }
        response = live.http.post("/session/import", headers=live.headers, json=body)
        assert response.status_code == 201, response.text
        made.append(response.json()["session_id"])
    return made


def pin(live: Live, session_id: str, pinned: bool = True) -> httpx.Response:
    return live.http.patch(f"/session/{session_id}", headers=live.headers, json={"pinned": pinned})


def ids(sessions: list[dict[str, Any]]) -> list[str]:
    return [s["session_id"] for s in sessions]


def pages(live: Live, limit: int) -> list[list[str]]:
    found: list[list[str]] = []
    params: dict[str, Any] = {"limit": limit}
    while True:
        response = live.get("/session", params=params)
        assert response.status_code == 200, response.text
        found.append(ids(response.json()))
        if NEXT not in response.headers:
            return found
        params = {"limit": limit, "cursor": response.headers[NEXT]}


def test_pins_come_first_whole_and_paged_and_every_window_hears_of_them(live: Live) -> None:
    watcher = live.client()
    made = imported(live, 7)  # s0 (oldest) .. s6
    count = len(watcher.events)
    response = pin(live, "s2")
    assert response.status_code == 200
    assert response.json()["pinned_at"] is not None
    wait_until(lambda: len(watcher.events) > count, "update_data after a pin")
    assert watcher.events[-1] == {"event_type": "update_data", "update": "sessions"}
    assert pin(live, "s5").status_code == 200
    whole = live.get("/session")
    assert NEXT not in whole.headers  # no parameters: the whole list, as Director's UI reads it
    assert ids(whole.json()) == ["s5", "s2", "s6", "s4", "s3", "s1", "s0"]
    assert [s["pinned_at"] is not None for s in whole.json()] == [True, True] + [False] * 5
    for limit in (1, 2, 3, 7, 50):
        walked = pages(live, limit)
        assert [sid for page in walked for sid in page] == ids(whole.json())
        assert all(len(page) == limit for page in walked[:-1])
    # A rename and an unpin in one PATCH; the order is back to activity.
    both = live.http.patch(
        "/session/s5", headers=live.headers, json={"name": "Kept", "pinned": False}
    )
    assert (both.json()["name"], both.json()["pinned_at"]) == ("Kept", None)
    assert ids(live.get("/session").json()) == ["s2", *reversed([m for m in made if m != "s2"])]


def test_pages_stay_stable_while_another_client_makes_chats(live: Live) -> None:
    before = imported(live, 24)
    expected = list(reversed(before))
    client = live.client()
    made: list[str] = []
    stop = threading.Event()

    def keep_chatting() -> None:
        while not stop.is_set() and len(made) < 30:
            session_id = f"new-{uuid.uuid4()}"
            ack = client.call("chat", chat_payload("a new chat", session_id=session_id))
            assert ack["ok"], ack
            made.append(session_id)

    writer = threading.Thread(target=keep_chatting)
    writer.start()
    try:
        wait_until(lambda: len(made) >= 1, "the first chat made by the other client")
        seen: list[str] = []
        params: dict[str, Any] = {"limit": 3}
        while True:
            response = live.get("/session", params=params)
            seen += ids(response.json())
            if NEXT not in response.headers:
                break
            params = {"limit": 3, "cursor": response.headers[NEXT]}
    finally:
        stop.set()
        writer.join(timeout=30)
    assert not writer.is_alive()
    # Every chat that was there is seen once, in order; new ones list above the first page's
    # cursor (only those made before it was read can show, and at most once).
    assert [sid for sid in seen if not sid.startswith("new-")] == expected
    assert len(seen) == len(set(seen))
    assert set(seen) - set(expected) <= set(made)
    # The list is by last activity, and each new chat's reply may end after a later chat began:
    # the new chats are all above the older ones, in whatever order their replies ended.
    assert set(ids(live.get("/session").json())[: len(made)]) == set(made)


def test_deletes_and_pins_between_pages(live: Live) -> None:
    imported(live, 10)  # listed s9 .. s0
    first = live.get("/session", params={"limit": 4})
    assert ids(first.json()) == ["s9", "s8", "s7", "s6"]
    for gone in ("s6", "s5", "s1"):  # the cursor's own session, the next one, one far ahead
        assert live.http.delete(f"/session/{gone}", headers=live.headers).status_code == 200
    assert pin(live, "s3").status_code == 200  # ahead of the cursor: moves above it
    rest: list[str] = []
    cursor = first.headers[NEXT]
    while cursor:
        response = live.get("/session", params={"limit": 4, "cursor": cursor})
        rest += ids(response.json())
        cursor = response.headers.get(NEXT, "")
    assert rest == ["s4", "s2", "s0"]
    assert ids(live.get("/session").json()) == ["s3", "s9", "s8", "s7", "s4", "s2", "s0"]


def test_a_bad_cursor_or_limit_is_refused_and_changes_nothing(live: Live) -> None:
    imported(live, 3)
    pin(live, "s0")
    before = live.get("/session").json()
    for params in (
        {"limit": "0"},
        {"limit": "-2"},
        {"limit": "ten"},
        {"cursor": ""},
        {"limit": "2", "cursor": "nope"},
        {"limit": "2", "cursor": "1.1.1"},
        {"limit": "2", "cursor": "7.1.1.1"},
    ):
        response = live.get("/session", params=params)
        assert response.status_code == 400, params
        error = response.json()["error"]
        assert error["code"] == "invalid_payload"
        assert ("cursor" if "cursor" in params else "limit") in error["message"]
    for body in ({}, {"pinned": "yes"}, {"pinned": 1}, {"pinned": None}, {"name": ""}):
        response = live.http.patch("/session/s1", headers=live.headers, json=body)
        assert response.status_code == 400, body
        assert response.json()["error"]["code"] == "invalid_payload"
    assert pin(live, "unknown").status_code == 404
    assert live.get("/session").json() == before


def test_a_cursor_alone_pages_by_a_hundred(live: Live) -> None:
    imported(live, 3)
    first = live.get("/session", params={"limit": 1})
    second = live.get("/session", params={"cursor": first.headers[NEXT]})
    assert ids(second.json()) == ["s1", "s0"]
    assert NEXT not in second.headers
