"""Who may talk to the server: no token, a wrong token, `Host: evil.example` and
`Origin: http://evil.example` are each refused on REST and on the Socket.IO handshake (polling and
websocket), and no refusal leaks a path, a traceback or the token."""

from __future__ import annotations

import json

import httpx
import pytest
import socketio
import websocket

from tests.integration.support import Live

EVIL_HOST = "evil.example"
EVIL_ORIGIN = "http://evil.example"
POLLING = "/socket.io/?EIO=4&transport=polling"


def assert_clean(body: str, live: Live) -> None:
    assert live.token not in body
    assert "Traceback" not in body
    assert "/work/" not in body
    assert str(live.data_dir) not in body
    assert ".py" not in body


def envelope(response: httpx.Response) -> dict:
    body = response.json()
    assert set(body) == {"ok", "error"}
    assert body["ok"] is False
    assert set(body["error"]) == {"code", "message"}
    return body["error"]


# --- REST ----------------------------------------------------------------------------------------
API_PATHS = ["/health", "/metrics", "/session", "/config/check", "/agent", "/prefs", "/nowhere"]


@pytest.mark.parametrize("auth", [None, "Bearer wrong-token", "Basic abc", "Bearer", "bearer x"])
def test_rest_needs_the_token(live: Live, auth: str | None) -> None:
    headers = {} if auth is None else {"Authorization": auth}
    for path in API_PATHS:
        response = live.http.get(path, headers=headers)
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"] == "Bearer"
        assert envelope(response)["code"] == "unauthorized"
        assert_clean(response.text, live)
    assert live.http.delete("/session/x", headers=headers).status_code == 401
    assert live.http.patch("/prefs", headers=headers, json={"theme": "dark"}).status_code == 401


def test_rest_refuses_another_host(live: Live) -> None:
    response = live.http.get("/health", headers={**live.headers, "Host": EVIL_HOST})
    assert response.status_code == 400
    assert envelope(response)["code"] == "bad_host"
    # the static page too: rebinding must not even read the bundle
    assert live.http.get("/", headers={"Host": EVIL_HOST}).status_code == 400
    assert live.http.get("/", headers={"Host": f"{EVIL_HOST}:{live.port}"}).status_code == 400
    assert live.http.get("/", headers={"Host": f"127.0.0.1:{live.port + 1}"}).status_code == 400


def test_rest_accepts_both_loopback_names(live: Live) -> None:
    for host in (f"127.0.0.1:{live.port}", f"localhost:{live.port}", f"LOCALHOST:{live.port}"):
        assert live.http.get("/health", headers={**live.headers, "Host": host}).status_code == 200


@pytest.mark.parametrize(
    "origin", [EVIL_ORIGIN, "null", f"http://127.0.0.1:{1}", "https://127.0.0.1"]
)
def test_rest_refuses_another_origin(live: Live, origin: str) -> None:
    response = live.http.get("/health", headers={**live.headers, "Origin": origin})
    assert response.status_code == 403
    assert envelope(response)["code"] == "bad_origin"


def test_rest_accepts_the_app_origin(live: Live) -> None:
    for origin in (f"http://127.0.0.1:{live.port}", f"http://localhost:{live.port}"):
        assert (
            live.http.get("/health", headers={**live.headers, "Origin": origin}).status_code == 200
        )


def test_static_bundle_needs_no_token_and_carries_security_headers(live: Live) -> None:
    response = live.http.get("/")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "*" not in csp
    assert f"ws://127.0.0.1:{live.port}" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    for refused in (
        live.http.get("/session"),
        live.http.get("/health", headers={"Host": EVIL_HOST}),
    ):
        assert "content-security-policy" in refused.headers


# --- the Socket.IO handshake ---------------------------------------------------------------------
def test_polling_handshake_refuses_another_host_and_origin(live: Live) -> None:
    bad_host = live.http.get(POLLING, headers={"Host": EVIL_HOST})
    assert bad_host.status_code == 400
    assert envelope(bad_host)["code"] == "bad_host"
    bad_origin = live.http.get(POLLING, headers={"Origin": EVIL_ORIGIN})
    assert bad_origin.status_code == 403
    assert envelope(bad_origin)["code"] == "bad_origin"
    assert (
        live.http.get(POLLING, headers={"Origin": f"http://localhost:{live.port}"}).status_code
        == 200
    )


def test_websocket_handshake_refuses_another_host_and_origin(live: Live) -> None:
    url = f"ws://127.0.0.1:{live.port}/socket.io/?EIO=4&transport=websocket"
    cases = [
        ({"host": EVIL_HOST}, 400, "bad_host"),
        ({"origin": EVIL_ORIGIN}, 403, "bad_origin"),
        ({"origin": "null"}, 403, "bad_origin"),
    ]
    for options, status, code in cases:
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            websocket.create_connection(url, timeout=5, **options)
        assert refused.value.status_code == status
        assert json.loads(refused.value.resp_body)["error"]["code"] == code
    accepted = websocket.create_connection(url, timeout=5, origin=f"http://127.0.0.1:{live.port}")
    accepted.close()


@pytest.mark.parametrize("token", [None, "wrong-token", ""])
def test_socket_connect_needs_the_token(live: Live, token: str | None) -> None:
    client = live.client(connect=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(token)
    assert client.connect_errors == [{"message": "unauthorized"}]
    assert not client.sio.connected


def test_socket_auth_must_be_an_object_with_the_token(live: Live) -> None:
    client = live.client(connect=False)
    client.sio.connect(
        live.base_url,
        namespaces=["/chat"],
        auth=lambda: {"token": live.token},
        transports=["websocket"],
        wait_timeout=10,
    )
    assert client.sio.connected


def test_socket_refuses_evil_origin_before_auth(live: Live) -> None:
    client = live.client(connect=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(live.token, headers={"Origin": EVIL_ORIGIN})
    assert not client.sio.connected


def test_only_the_chat_namespace_exists(live: Live) -> None:
    client = socketio.Client(reconnection=False)
    try:
        with pytest.raises(socketio.exceptions.ConnectionError):
            client.connect(
                live.base_url,
                namespaces=["/"],
                auth={"token": live.token},
                transports=["websocket"],
                wait_timeout=5,
            )
    finally:
        client.shutdown()


# --- signed media URLs ---------------------------------------------------------------------------
def test_signed_urls(live: Live) -> None:
    signer = live.app.state.signer
    path = "/media/abc123"
    good = signer.sign(path)
    # the route itself belongs to the media library; the guard lets a good signature through
    assert live.http.get(good).status_code == 404
    assert live.http.get(path).status_code == 401
    assert live.http.get(path + "?sig=1.deadbeef").status_code == 401  # expired and wrong
    other = signer.sign("/media/other")
    assert live.http.get(path + "?" + other.split("?")[1]).status_code == 401  # another path's
    assert live.http.get("/session?" + good.split("?")[1]).status_code == 401  # only media paths
