"""The headless app as a user (or the e2e and bench tiers) starts it: `python -m director_desktop
--headless` in a subprocess. One URL line; SIGTERM and SIGINT exit 0 quickly; a SIGKILL mid-run
and a restart leave the interrupted turn ended and every acknowledged message stored."""

from __future__ import annotations

import signal
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.integration.support import ChatClient, chat_payload, text_of
from tests.live_server import HeadlessServer, HeadlessStartError, start_headless

SLOW = {"DIRECTOR_ASSISTANT_PACE": "0.05"}


def test_one_url_line_then_sigterm_exits_0_within_3_s(tmp_path: Path) -> None:
    server = start_headless(tmp_path / "data", extra_args=["--token", "t" * 43])
    assert server.token == "t" * 43
    assert (
        server.url_line
        == f"Director Desktop at http://127.0.0.1:{server.port}/#token={server.token}"
    )
    health = httpx.get(server.base_url + "/health", headers=server.auth_headers, timeout=10)
    assert health.json()["status"] == "ok"
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 3
    assert server.process.stdout is not None
    assert (tmp_path / "data" / "director.sqlite3").exists()
    log_text = (server.log_dir / "director-desktop.log").read_text()
    assert server.token not in log_text


def test_sigint_exits_0_with_a_client_connected(tmp_path: Path) -> None:
    server = start_headless(tmp_path / "data")
    client = ChatClient(server.base_url)
    try:
        client.connect(server.token)
        ack = client.call("chat", chat_payload("my secret plan about zebras"))
        client.final(ack["data"]["output_msg_id"])
        started = time.monotonic()
        server.process.send_signal(signal.SIGINT)
        assert server.process.wait(timeout=10) == 0
        assert time.monotonic() - started < 3
        # the log tells what happened, never what was written, nor the token
        log_text = (server.log_dir / "director-desktop.log").read_text()
        assert '"message": "input stored"' in log_text
        assert ack["data"]["session_id"] in log_text
        assert "zebras" not in log_text
        assert "@search_chats" not in log_text
        assert server.token not in log_text
    finally:
        client.close()
        server.kill()


def test_sigterm_with_a_long_polling_client_exits_0_within_3_s(tmp_path: Path) -> None:
    server = start_headless(tmp_path / "data")
    client = ChatClient(server.base_url)
    try:
        client.connect(server.token, transports=("polling",))
        assert client.call("reconnect", {"session_id": "none-yet"})["error"]["code"] == "not_found"
        started = time.monotonic()  # the client's next long poll is pending on the server now
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=10) == 0
        assert time.monotonic() - started < 3
    finally:
        client.close()
        server.kill()


def test_a_second_server_on_a_taken_port_fails_clearly(tmp_path: Path) -> None:
    with start_headless(tmp_path / "one") as first:
        taken = ["--port", str(first.port)]
        with pytest.raises(HeadlessStartError, match="could not start") as failed:
            start_headless(tmp_path / "two", extra_args=taken)
        assert "exit code 1" in str(failed.value)


def test_killed_mid_run_and_restarted(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server: HeadlessServer = start_headless(data, env=SLOW)
    client = ChatClient(server.base_url)
    session_id = f"s-{uuid.uuid4()}"
    try:
        client.connect(server.token)
        done = client.call("chat", chat_payload("first turn", session_id=session_id))
        client.final(done["data"]["output_msg_id"])
        ack = client.call("chat", chat_payload("second turn", session_id=session_id))
        out_id = ack["data"]["output_msg_id"]
        client.wait_for(
            lambda ms: any(m["msg_id"] == out_id and text_of(m) for m in ms), "streamed text"
        )
        server.kill()  # mid-run: the process dies with the reply half written
    finally:
        client.close()
    seen = client.latest()
    assert seen[out_id]["status"] == "progress"
    since = max(m["metadata"]["seq"] for m in seen.values())

    with start_headless(data, env=SLOW) as restarted:
        again = ChatClient(restarted.base_url)
        try:
            again.connect(restarted.token)
            back = again.call("reconnect", {"session_id": session_id, "since_seq": since})
            assert back["ok"]
            assert back["data"]["running"] is False
            # the interrupted turn was ended at start-up, as a stored change with its own seq
            assert [m["msg_id"] for m in again.messages] == [out_id]
            ended = again.messages[0]
            assert ended["status"] == "error"
            assert ended["metadata"]["seq"] > since
            assert back["data"]["last_seq"] == ended["metadata"]["seq"]
            assert any(item.get("status_message") == "Interrupted" for item in ended["content"])
            # nothing acknowledged is missing: every message the client was sent is stored, at
            # least as far as the client saw it
            stored = httpx.get(
                f"{restarted.base_url}/session/{session_id}",
                headers=restarted.auth_headers,
                timeout=10,
            ).json()["conversation"]
            by_id = {m["msg_id"]: m for m in stored}
            assert set(seen) <= set(by_id)
            for msg_id, message in seen.items():
                assert by_id[msg_id]["metadata"]["seq"] >= message["metadata"]["seq"]
                assert text_of(by_id[msg_id]).startswith(text_of(message))
            assert [m["msg_id"] for m in stored] == [
                done["data"]["msg_id"],
                done["data"]["output_msg_id"],
                ack["data"]["msg_id"],
                out_id,
            ]
        finally:
            again.close()
