"""Bad input over the socket and REST: each gets an error with a stable code, the seed's error
response goes to the sender of a refused `chat`, and nothing is stored."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.integration.support import Live, chat_payload

TEXT = [{"type": "text", "text": "hi"}]
BIG = "x" * (1024 * 1024)

BAD_CHATS: list[tuple[str, Any, str]] = [
    ("a string", "hello", "invalid_payload"),
    ("a number", 42, "invalid_payload"),
    ("a list", [TEXT], "invalid_payload"),
    ("null", None, "invalid_payload"),
    ("no content", {"session_id": "s1"}, "invalid_payload"),
    ("empty content", {"content": []}, "invalid_payload"),
    ("content not a list", {"content": "hi"}, "invalid_payload"),
    ("item not an object", {"content": ["hi"]}, "invalid_payload"),
    ("item without type", {"content": [{"text": "hi"}]}, "invalid_payload"),
    ("text item without text", {"content": [{"type": "text"}]}, "invalid_payload"),
    ("text not a string", {"content": [{"type": "text", "text": 5}]}, "invalid_payload"),
    ("agents not a list", {"content": TEXT, "agents": "search_chats"}, "invalid_payload"),
    ("agents not strings", {"content": TEXT, "agents": [1]}, "invalid_payload"),
    ("metadata not an object", {"content": TEXT, "metadata": [1]}, "invalid_payload"),
    ("msg_type output", {"content": TEXT, "msg_type": "output"}, "invalid_payload"),
    ("session id with a space", {"content": TEXT, "session_id": "a b"}, "invalid_id"),
    ("session id too long", {"content": TEXT, "session_id": "a" * 129}, "invalid_id"),
    ("session id a number", {"content": TEXT, "session_id": 7}, "invalid_id"),
    ("conv id empty", {"content": TEXT, "conv_id": ""}, "invalid_id"),
    ("msg id with a slash", {"content": TEXT, "msg_id": "../x"}, "invalid_id"),
    ("video id an object", {"content": TEXT, "video_id": {}}, "invalid_id"),
    ("1 MiB of text", {"content": [{"type": "text", "text": BIG}]}, "too_large"),
]


def assert_nothing_stored(live: Live) -> None:
    assert live.get("/session").json() == []


@pytest.mark.parametrize(("name", "payload", "code"), BAD_CHATS, ids=[c[0] for c in BAD_CHATS])
def test_bad_chat_is_refused_and_stores_nothing(
    live: Live, name: str, payload: Any, code: str
) -> None:
    client = live.client()
    ack = client.emit_raw("chat", payload)
    assert ack["ok"] is False
    assert ack["error"]["code"] == code
    # the seed's error response, to this socket only, never stored or numbered
    client.wait_for(lambda ms: len(ms) == 1, "the error response")
    response = client.messages[0]
    assert response["status"] == "error"
    assert response["message"].startswith("Error in chat handler: ")
    assert response["metadata"]["error_type"] == code
    assert "seq" not in response["metadata"]
    assert response["msg_type"] == "output"
    assert response["content"] == []
    if isinstance(payload, dict) and isinstance(payload.get("msg_id"), str):
        assert response["msg_id"] != payload["msg_id"]
    assert client.sio.connected  # oversize is answered, not a disconnect
    assert_nothing_stored(live)


def test_error_response_echoes_valid_ids_only(live: Live) -> None:
    client = live.client()
    sent = {"content": [], "session_id": "good-session", "conv_id": "bad conv", "msg_id": "m-1"}
    client.emit_raw("chat", sent)
    client.wait_for(lambda ms: len(ms) == 1, "the error response")
    response = client.messages[0]
    assert response["session_id"] == "good-session"
    assert response["conv_id"] is None
    assert response["msg_id"] not in (None, "m-1")


def test_chat_event_without_or_with_extra_arguments(live: Live) -> None:
    client = live.client()
    assert client.emit_raw("chat")["error"]["code"] == "invalid_payload"
    assert (
        client.emit_raw("chat", chat_payload("a"), {"x": 1})["error"]["code"] == "invalid_payload"
    )
    assert_nothing_stored(live)


def test_msg_id_reused_in_another_conversation_is_a_duplicate(live: Live) -> None:
    client = live.client()
    ids = {"session_id": "s-dup", "conv_id": "c-1", "msg_id": "m-1"}
    first = client.call("chat", chat_payload("one", **ids))
    client.final(first["data"]["output_msg_id"])
    again = client.call("chat", chat_payload("two", **{**ids, "conv_id": "c-2"}))
    assert again["error"]["code"] == "duplicate_id"
    assert len(live.get("/session/s-dup").json()["conversation"]) == 2


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"session_id": "never-sent"}, "not_found"),
        ({}, "invalid_id"),
        ({"session_id": "a b"}, "invalid_id"),
        ({"session_id": "s", "since_seq": -1}, "invalid_payload"),
        ({"session_id": "s", "since_seq": "3"}, "invalid_payload"),
        ({"session_id": "s", "since_seq": True}, "invalid_payload"),
        ("s", "invalid_payload"),
    ],
)
def test_bad_reconnect(live: Live, payload: Any, code: str) -> None:
    client = live.client()
    ack = client.emit_raw("reconnect", payload)
    assert ack["ok"] is False
    assert ack["error"]["code"] == code
    assert client.messages == []
    assert_nothing_stored(live)


@pytest.mark.parametrize(
    ("payload", "code"),
    [({}, "invalid_id"), ({"session_id": "s"}, "invalid_id"), ([], "invalid_payload")],
)
def test_bad_stop(live: Live, payload: Any, code: str) -> None:
    client = live.client()
    ack = client.emit_raw("stop", payload)
    assert ack["error"]["code"] == code


def test_stop_of_nothing_running_is_not_an_error(live: Live) -> None:
    ack = live.client().call("stop", {"session_id": "s", "conv_id": "c"})
    assert ack == {"ok": True, "data": {"stopped": False}}


BAD_REST: list[tuple[str, str, Any, int, str]] = [
    ("GET", "/session/unknown", None, 404, "not_found"),
    ("GET", "/session/a%20b", None, 400, "invalid_id"),
    ("GET", "/session/unknown?limit=x", None, 404, "not_found"),
    ("PATCH", "/session/unknown", {"name": "x"}, 404, "not_found"),
    ("DELETE", "/session/unknown", None, 404, "not_found"),
    ("GET", "/session/unknown/export", None, 404, "not_found"),
    ("GET", "/search?q=", None, 400, "invalid_payload"),
    ("GET", "/search", None, 400, "invalid_payload"),
    ("PATCH", "/prefs", {"colour": "red"}, 400, "invalid_payload"),
    ("PATCH", "/prefs", [1], 400, "invalid_payload"),
    ("PATCH", "/prefs", b"{not json", 400, "invalid_payload"),
    ("PATCH", "/prefs", {"drafts": {"s": "x" * (1024 * 1024 + 1)}}, 413, "too_large"),
    ("POST", "/session/import", {"format": "nope"}, 400, "invalid_payload"),
    ("POST", "/session/import", b"\xff\xfe", 400, "invalid_payload"),
    ("GET", "/nowhere", None, 404, "not_found"),
    ("POST", "/health", None, 405, "method_not_allowed"),
]


def request(live: Live, method: str, path: str, body: Any) -> Any:
    if isinstance(body, bytes):
        return live.http.request(method, path, headers=live.headers, content=body)
    return live.http.request(method, path, headers=live.headers, json=body)


@pytest.mark.parametrize(("method", "path", "body", "status", "code"), BAD_REST)
def test_bad_rest_request(
    live: Live, method: str, path: str, body: Any, status: int, code: str
) -> None:
    prefs_before = live.get("/prefs").json()
    response = request(live, method, path, body)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert_nothing_stored(live)
    assert live.get("/prefs").json() == prefs_before


def test_bad_requests_on_an_existing_session_change_nothing(live: Live) -> None:
    client = live.client()
    ack = client.call("chat", chat_payload("keep me", session_id=f"s-{uuid.uuid4()}"))
    client.final(ack["data"]["output_msg_id"])
    sid = ack["data"]["session_id"]
    before = live.get(f"/session/{sid}").json()
    for method, path, body, status, code in [
        ("PATCH", f"/session/{sid}", {"name": ""}, 400, "invalid_payload"),
        ("PATCH", f"/session/{sid}", {"name": "x" * 201}, 400, "invalid_payload"),
        ("PATCH", f"/session/{sid}", {"name": 5}, 400, "invalid_payload"),
        ("PATCH", f"/session/{sid}", b"nope", 400, "invalid_payload"),
        ("GET", f"/session/{sid}?limit=0", None, 400, "invalid_payload"),
        ("GET", f"/session/{sid}?limit=abc", None, 400, "invalid_payload"),
        ("GET", f"/session/{sid}?limit=2&before=-1", None, 400, "invalid_payload"),
        ("GET", f"/session/{sid}?around=unknown&limit=3", None, 404, "not_found"),
        ("GET", f"/session/{sid}?around=a%20b", None, 400, "invalid_id"),
        ("GET", f"/session/{sid}/export?format=xml", None, 400, "invalid_payload"),
    ]:
        response = request(live, method, path, body)
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), path
    assert live.get(f"/session/{sid}").json() == before
