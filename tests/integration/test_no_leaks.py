"""Starting and stopping the live server, with clients that chatted, leaves no thread, child
process or file descriptor behind (checked here directly, not only by the fixture)."""

from __future__ import annotations

import threading
from pathlib import Path

from tests.integration.support import (
    chat_payload,
    child_pids,
    leftovers,
    open_fds,
    start_live,
    wait_until,
    warm_up_event_loop,
)


def test_start_chat_stop_leaves_nothing_behind(tmp_path: Path) -> None:
    warm_up_event_loop()
    threads = {t.ident for t in threading.enumerate()}
    fds = open_fds()
    children = child_pids()
    for round_ in range(2):
        live = start_live(tmp_path / f"data{round_}", pace=0.0)
        client = live.client()
        ack = client.call("chat", chat_payload("hello"))
        client.final(ack["data"]["output_msg_id"])
        live.get("/session")
        live.stop()
    try:
        wait_until(
            lambda: (
                {t.ident for t in threading.enumerate() if t.is_alive()} <= threads
                and open_fds() <= fds
                and child_pids() <= children
            ),
            "every thread, descriptor and process of the server to end",
        )
    except AssertionError:
        raise AssertionError(f"left behind: {leftovers(threads, fds)}") from None
    assert not live.server.running
