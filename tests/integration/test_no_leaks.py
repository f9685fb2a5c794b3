"""Starting and stopping the live server, with clients that chatted, leaves no thread, child
process or file descriptor behind (checked here directly, not only by the fixture)."""

from __future__ import annotations

from pathlib import Path

from tests.integration.support import Baseline, chat_payload, start_live


def test_start_chat_stop_leaves_nothing_behind(tmp_path: Path) -> None:
    baseline = Baseline.take()
    for round_ in range(2):
        live = start_live(tmp_path / f"data{round_}", pace=0.0)
        client = live.client()
        ack = client.call("chat", chat_payload("hello"))
        client.final(ack["data"]["output_msg_id"])
        live.get("/session")
        live.stop()
    baseline.wait_restored("every thread, descriptor and process of the server to end")
    assert not live.server.running
