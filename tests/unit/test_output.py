"""engine/output.py: a snapshot handed out is the message as it was, whatever the run changes
in the live message afterwards, at any depth."""

from __future__ import annotations

import asyncio

from director_desktop.engine.output import OutputMessage
from director_desktop.protocol import JSONDict, text_item


def _message() -> JSONDict:
    return {
        "session_id": "s1",
        "conv_id": "c1",
        "msg_id": "m1",
        "msg_type": "output",
        "status": "progress",
        "actions": ["Reasoning the message..."],
        "agents": ["assistant"],
        "metadata": {"seq": 1, "extra": {"nested": [1, 2]}},
        "content": [
            text_item("Hello", status="progress", agent_name="assistant"),
            {"type": "video", "video": {"stream_url": "/media/a.mp4", "tags": ["x"]}},
        ],
    }


def test_a_snapshot_does_not_follow_later_changes() -> None:
    output = OutputMessage(_message(), commit=_never)
    snapshot = output.snapshot()
    before = _message()
    assert snapshot == before

    output.append_text(", world")
    output.update_content(0, status="success")
    output.add_content(text_item("more"))
    output.add_action("Done")
    output.add_agent("search")
    output.set_status("success")
    output.message["metadata"]["stopped"] = True
    output.message["metadata"]["extra"]["nested"].append(3)
    output.content[1]["video"]["tags"].append("y")
    output.content[1]["video"]["stream_url"] = "/media/b.mp4"

    assert snapshot == before
    assert output.snapshot() != before


def test_flush_commits_a_copy() -> None:
    committed: list[JSONDict] = []

    async def commit(snapshot: JSONDict) -> JSONDict:
        committed.append(snapshot)
        return {**snapshot, "metadata": {**snapshot["metadata"], "seq": 2}}

    output = OutputMessage(_message(), commit=commit)
    asyncio.run(output.flush())
    output.append_text("!")
    assert committed[0]["content"][0]["text"] == "Hello"
    assert output.message["metadata"]["seq"] == 2


async def _never(snapshot: JSONDict) -> JSONDict:
    raise AssertionError("not committed in this test")
