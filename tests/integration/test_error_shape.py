"""The one error shape, pinned across every endpoint and every event (as datasette's
test_error_shape.py does): HTTP bodies and socket acks are exactly
`{"ok": false, "error": {"code": <stable snake_case>, "message": <str>}}`, the HTTP status follows
the code, and no message carries a path, a traceback or the token."""

from __future__ import annotations

import re
from typing import Any

from tests.integration.support import Live, chat_payload

CODE = re.compile(r"[a-z][a-z_]*")
STATUS_OF = {
    "unauthorized": 401,
    "bad_host": 400,
    "bad_origin": 403,
    "invalid_payload": 400,
    "invalid_id": 400,
    "not_found": 404,
    "method_not_allowed": 405,
    "too_large": 413,
    "store_closed": 503,
}
# (method, path, json body) — one failing request for every endpoint of PROTOCOL section 5
ENDPOINTS: list[tuple[str, str, Any]] = [
    ("GET", "/health", None),
    ("GET", "/metrics", None),
    ("GET", "/config/check", None),
    ("GET", "/agent", None),
    ("GET", "/session", None),
    ("GET", "/session/s", None),
    ("PATCH", "/session/s", {"name": "n"}),
    ("DELETE", "/session/s", None),
    ("GET", "/session/s/export", None),
    ("POST", "/session/import", {}),
    ("GET", "/search?q=x", None),
    ("GET", "/prefs", None),
    ("PATCH", "/prefs", {}),
]


def check_envelope(body: Any, live: Live) -> str:
    assert isinstance(body, dict)
    assert set(body) == {"ok", "error"}
    assert body["ok"] is False
    assert set(body["error"]) == {"code", "message"}
    code, message = body["error"]["code"], body["error"]["message"]
    assert isinstance(code, str)
    assert CODE.fullmatch(code)
    assert isinstance(message, str)
    assert message
    assert len(message) <= 500
    for leak in (live.token, "Traceback", str(live.data_dir), "/work/", ".py", "sqlite3."):
        assert leak not in message, (code, message)
    return code


def check_http(response: Any, live: Live, code: str) -> None:
    assert response.headers["content-type"].startswith("application/json")
    assert check_envelope(response.json(), live) == code
    assert response.status_code == STATUS_OF[code]


STATIC = {"/", "/index.html", "/favicon.ico", "/assets/{path:path}"}


def test_the_table_covers_protocol_section_5(live: Live) -> None:
    listed = {
        (method, path.split("?")[0].replace("/session/s", "/session/{session_id}"))
        for method, path, _ in ENDPOINTS
    }
    for method, path in listed:
        assert any(path == route and method in methods for route, methods in live.app.routes), (
            method,
            path,
        )


def test_every_route_refuses_without_the_token_in_one_shape(live: Live) -> None:
    """Every route the app has, including those added by other parts (models, media)."""
    for path, methods in live.app.routes:
        if path in STATIC:
            continue
        concrete = path.replace("{", "").replace("}", "").replace(":path", "")
        for method in methods - {"HEAD"}:
            response = live.http.request(method, concrete)
            check_http(response, live, "unauthorized")


def test_every_endpoint_refuses_a_foreign_host_and_origin_in_one_shape(live: Live) -> None:
    for method, path, body in ENDPOINTS:
        evil_host = {**live.headers, "Host": "evil.example"}
        check_http(live.http.request(method, path, json=body, headers=evil_host), live, "bad_host")
        evil_origin = {**live.headers, "Origin": "http://evil.example"}
        check_http(
            live.http.request(method, path, json=body, headers=evil_origin), live, "bad_origin"
        )


def test_endpoint_failures_in_one_shape(live: Live) -> None:
    cases = [
        ("GET", "/session/unknown", None, "not_found"),
        ("GET", "/session/a%20b", None, "invalid_id"),
        ("PATCH", "/session/unknown", {"name": "n"}, "not_found"),
        ("PATCH", "/session/unknown", {"name": ""}, "invalid_payload"),
        ("DELETE", "/session/unknown", None, "not_found"),
        ("GET", "/session/unknown/export", None, "not_found"),
        ("GET", "/session/unknown/export?format=pdf", None, "invalid_payload"),
        ("POST", "/session/import", {"format": "nope"}, "invalid_payload"),
        ("GET", "/search?q=", None, "invalid_payload"),
        ("PATCH", "/prefs", {"nope": 1}, "invalid_payload"),
        ("PATCH", "/prefs", {"drafts": {"s": "x" * (1024 * 1024 + 1)}}, "too_large"),
        ("GET", "/no/such/route", None, "not_found"),
        ("PUT", "/prefs", {}, "method_not_allowed"),
        ("GET", "/assets/missing.js", None, "not_found"),
    ]
    for method, path, body, code in cases:
        check_http(live.http.request(method, path, json=body, headers=live.headers), live, code)


def test_every_event_acks_errors_in_one_shape(live: Live) -> None:
    client = live.client()
    cases = [
        ("chat", ({"content": []},), "invalid_payload"),
        (
            "chat",
            ({"content": [{"type": "text", "text": "x"}], "session_id": "a b"},),
            "invalid_id",
        ),
        ("chat", ({"content": [{"type": "text", "text": "x" * (300 * 1024)}]},), "too_large"),
        ("chat", (), "invalid_payload"),
        ("reconnect", ({"session_id": "unknown"},), "not_found"),
        ("reconnect", ({"session_id": 5},), "invalid_id"),
        ("reconnect", ({"session_id": "s", "since_seq": -2},), "invalid_payload"),
        ("stop", ({"session_id": "s"},), "invalid_id"),
        ("stop", ("x",), "invalid_payload"),
    ]
    for event, args, code in cases:
        assert check_envelope(client.emit_raw(event, *args), live) == code, event


def test_the_chat_error_response_shape(live: Live) -> None:
    client = live.client()
    client.emit_raw("chat", {"content": "nope", "session_id": "s1", "conv_id": "c1"})
    client.wait_for(lambda ms: len(ms) == 1, "the error response")
    response = client.messages[0]
    assert set(response) == {
        "status",
        "message",
        "session_id",
        "conv_id",
        "msg_id",
        "msg_type",
        "content",
        "metadata",
    }
    assert set(response["metadata"]) == {"timestamp", "error_type"}
    assert (response["session_id"], response["conv_id"]) == ("s1", "c1")
    assert response["metadata"]["error_type"] == "invalid_payload"
    assert len(response["message"]) <= len("Error in chat handler: ") + 500


def test_a_closed_store_fails_in_the_same_shape(live: Live) -> None:
    client = live.client()
    live.app.state.store.close()  # as when the database went away under the app
    for method, path, body in ENDPOINTS:
        if path in ("/health", "/metrics", "/config/check", "/agent"):
            continue  # these answer without the database
        response = live.http.request(method, path, json=body, headers=live.headers)
        check_http(response, live, "store_closed")
    ack = client.call("chat", chat_payload("hello"))
    assert check_envelope(ack, live) == "store_closed"
    client.wait_for(lambda ms: len(ms) == 1, "the error response")
    assert client.messages[0]["metadata"]["error_type"] == "store_closed"
    assert check_envelope(client.call("reconnect", {"session_id": "s"}), live) == "store_closed"
