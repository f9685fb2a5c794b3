"""Versions, branches and deleted turns over the real server (PROTOCOL section 8): regenerate and
edit keep every version; a second window and a reconnect with `since_seq` end with exactly the
same tree, deletes and undos; a client that knows nothing of versions reads a linear chat; a
branched chat exports and imports equal."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from tests.integration.support import ChatClient, Live, chat_payload, text_of


def send(client: ChatClient, session_id: str, text: str) -> dict[str, Any]:
    """One turn, waited to its end; answers the ack's data."""
    ack = client.call("chat", chat_payload(text, session_id=session_id))
    assert ack["ok"] is True, ack
    client.final(ack["data"]["output_msg_id"])
    return dict(ack["data"])


def finished(client: ChatClient, msg_id: str, version: int) -> dict[str, Any]:
    """Wait for the final snapshot of version `version` of a reply."""
    client.wait_for(
        lambda ms: any(
            m["msg_id"] == msg_id
            and m["status"] != "progress"
            and m["metadata"].get("version") == version
            for m in ms
        ),
        f"version {version} of {msg_id} to finish",
    )
    return client.latest()[msg_id]


def shown(client: ChatClient, session_id: str) -> list[str]:
    """What a client that follows PROTOCOL 8 shows: its messages, less hidden and deleted ones,
    in first_seq order."""
    kept = [
        m
        for m in client.latest().values()
        if m["session_id"] == session_id
        and not m["metadata"].get("hidden")
        and not m["metadata"].get("deleted")
    ]
    return [m["msg_id"] for m in sorted(kept, key=lambda m: m["metadata"]["first_seq"])]


def conversation(live: Live, session_id: str, query: str = "") -> list[dict[str, Any]]:
    answer = live.get(f"/session/{session_id}{query}")
    assert answer.status_code == 200, answer.text
    return list(answer.json()["conversation"])


def test_regenerate_keeps_every_version_and_switches_branches(live: Live) -> None:
    client = live.client()
    sid = f"s-{uuid.uuid4()}"
    one = send(client, sid, "first question")
    two = send(client, sid, "second question")
    original = client.latest()[one["output_msg_id"]]

    ack = client.call("regenerate", {"session_id": sid, "conv_id": one["conv_id"]})
    assert ack["ok"] is True, ack
    assert ack["data"] == {**one, "version": 2}  # same ids: a message keeps its msg_id
    reply = finished(client, one["output_msg_id"], 2)
    assert reply["status"] == "success"
    assert reply["metadata"]["versions"] == 2
    assert text_of(reply)  # the assistant answered again
    # the second turn followed version 1: it left the shown path
    assert shown(client, sid) == [one["msg_id"], one["output_msg_id"]]
    assert [m["msg_id"] for m in conversation(live, sid)] == shown(client, sid)
    every = conversation(live, sid, "?all=1")
    assert [m["msg_id"] for m in every if m["metadata"].get("hidden")] == [
        two["msg_id"],
        two["output_msg_id"],
    ]

    ack = client.call(
        "select_version", {"session_id": sid, "msg_id": one["output_msg_id"], "version": 1}
    )
    assert ack == {
        "ok": True,
        "data": {"session_id": sid, "msg_id": one["output_msg_id"], "version": 1, "versions": 2},
    }
    client.wait_for(lambda _: len(shown(client, sid)) == 4, "the second turn to come back")
    back = client.latest()[one["output_msg_id"]]
    assert back["content"] == original["content"]
    assert (back["metadata"]["version"], back["metadata"]["versions"]) == (1, 2)
    assert shown(client, sid) == [
        one["msg_id"],
        one["output_msg_id"],
        two["msg_id"],
        two["output_msg_id"],
    ]


def test_edit_keeps_the_old_input_and_the_new_turns_follow_the_edit(live: Live) -> None:
    client = live.client()
    sid = f"s-{uuid.uuid4()}"
    one = send(client, sid, "tell me about otters")
    content = [{"type": "text", "text": "tell me about beavers"}]
    ack = client.call("edit", {"session_id": sid, "conv_id": one["conv_id"], "content": content})
    assert ack["ok"] is True, ack
    assert ack["data"]["version"] == 2
    finished(client, one["output_msg_id"], 2)
    edited = client.latest()[one["msg_id"]]
    assert edited["content"] == content
    assert (edited["metadata"]["version"], edited["metadata"]["versions"]) == (2, 2)
    after = send(client, sid, "and their dams")

    # search finds both versions of the input
    for word in ("otters", "beavers"):
        hits = live.get("/search", params={"q": word}).json()
        found = [h["msg_id"] for h in hits if h["session_id"] == sid and h["msg_id"]]
        assert found == [one["msg_id"]]

    client.call("select_version", {"session_id": sid, "msg_id": one["msg_id"], "version": 1})
    client.wait_for(lambda _: len(shown(client, sid)) == 2, "the turn after the edit to hide")
    assert text_of(client.latest()[one["msg_id"]]) == "tell me about otters"
    assert client.latest()[one["output_msg_id"]]["metadata"]["version"] == 1
    assert client.latest()[after["msg_id"]]["metadata"]["hidden"] is True


def test_a_turn_is_not_revised_while_a_reply_is_written(slow_live: Live) -> None:
    client = slow_live.client()
    sid = f"s-{uuid.uuid4()}"
    one = send(client, sid, "first")
    ack = client.call("chat", chat_payload("second", session_id=sid))
    running = ack["data"]
    for event, payload in (
        ("regenerate", {"session_id": sid, "conv_id": one["conv_id"]}),
        ("select_version", {"session_id": sid, "msg_id": one["msg_id"], "version": 1}),
    ):
        refused = client.call(event, payload)
        assert refused["ok"] is False
        assert refused["error"]["code"] == "conflict"
    gone = slow_live.http.delete(
        f"/session/{sid}/turn/{running['conv_id']}", headers=slow_live.headers
    )
    assert (gone.status_code, gone.json()["error"]["code"]) == (409, "conflict")
    client.final(running["output_msg_id"])
    assert "version" not in client.latest()[one["output_msg_id"]]["metadata"]


def test_delete_and_undo_over_http(live: Live) -> None:
    client = live.client()
    sid = f"s-{uuid.uuid4()}"
    one = send(client, sid, "keep me")
    two = send(client, sid, "delete me")
    path = f"/session/{sid}/turn/{two['conv_id']}"
    deleted = live.http.delete(path, headers=live.headers)
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["msg_ids"] == [two["msg_id"], two["output_msg_id"]]
    assert deleted.json()["undo_seconds"] > 0
    client.wait_for(lambda _: len(shown(client, sid)) == 2, "the deleted turn to go")
    assert [m["msg_id"] for m in conversation(live, sid)] == [one["msg_id"], one["output_msg_id"]]
    again = live.http.delete(path, headers=live.headers)
    assert (again.status_code, again.json()["error"]["code"]) == (404, "not_found")

    restored = live.http.post(f"{path}/restore", headers=live.headers)
    assert restored.status_code == 200, restored.text
    client.wait_for(lambda _: len(shown(client, sid)) == 4, "the turn to come back")
    assert len(conversation(live, sid)) == 4
    twice = live.http.post(f"{path}/restore", headers=live.headers)
    assert (twice.status_code, twice.json()["error"]["code"]) == (404, "not_found")


def test_a_second_window_and_a_reconnect_see_the_same_tree(live: Live) -> None:
    actor, watcher = live.client(), live.client()
    sid = f"s-{uuid.uuid4()}"
    one = send(actor, sid, "first question")
    assert watcher.call("reconnect", {"session_id": sid})["ok"]
    two = send(actor, sid, "second question")

    # a third window was there for the start, then dropped; it will catch up with since_seq
    dropped = live.client()
    dropped.call("reconnect", {"session_id": sid})
    dropped.wait_for(lambda _: len(shown(dropped, sid)) == 4, "the first replay")
    seen = max(m["metadata"]["seq"] for m in dropped.messages)
    dropped.close()

    actor.call("regenerate", {"session_id": sid, "conv_id": one["conv_id"]})
    finished(actor, one["output_msg_id"], 2)
    three = send(actor, sid, "third question, on version 2")
    edit = [{"type": "text", "text": "third question, edited"}]
    actor.call("edit", {"session_id": sid, "conv_id": three["conv_id"], "content": edit})
    finished(actor, three["output_msg_id"], 2)
    actor.call("select_version", {"session_id": sid, "msg_id": one["output_msg_id"], "version": 1})
    actor.call("select_version", {"session_id": sid, "msg_id": one["output_msg_id"], "version": 2})
    live.http.delete(f"/session/{sid}/turn/{three['conv_id']}", headers=live.headers)
    live.http.post(f"/session/{sid}/turn/{three['conv_id']}/restore", headers=live.headers)
    live.http.delete(f"/session/{sid}/turn/{two['conv_id']}", headers=live.headers)

    fresh = live.client()
    joined = fresh.call("reconnect", {"session_id": sid})
    assert joined["ok"]
    last_seq = joined["data"]["last_seq"]  # every change above was stored before it answered
    back = live.client()
    assert back.call("reconnect", {"session_id": sid, "since_seq": seen})["ok"]
    assert min(m["metadata"]["seq"] for m in back.messages) > seen  # only what it missed
    for client in (actor, watcher):
        client.wait_for(
            lambda ms: any(m["metadata"].get("seq") == last_seq for m in ms),
            "every change to arrive",
        )

    expected = actor.latest()
    assert watcher.latest() == expected
    assert fresh.latest() == expected
    assert {k: _newest(dropped, back, k) for k in expected} == expected
    assert shown(actor, sid) == [
        one["msg_id"],
        one["output_msg_id"],
        three["msg_id"],
        three["output_msg_id"],
    ]
    assert [m["msg_id"] for m in conversation(live, sid)] == shown(actor, sid)


def _newest(first: ChatClient, then: ChatClient, msg_id: str) -> dict[str, Any]:
    """A client's kept snapshot of a message across two connections: the newest by seq."""
    candidates = [m for m in (first.latest().get(msg_id), then.latest().get(msg_id)) if m]
    return max(candidates, key=lambda m: m["metadata"]["seq"])


def test_a_client_without_versions_reads_a_linear_chat_after_reload(live: Live) -> None:
    client = live.client()
    sid = f"s-{uuid.uuid4()}"
    one = send(client, sid, "first")
    send(client, sid, "second, on version 1")
    client.call("regenerate", {"session_id": sid, "conv_id": one["conv_id"]})
    finished(client, one["output_msg_id"], 2)
    three = send(client, sid, "third, on version 2")
    client.call(
        "edit",
        {
            "session_id": sid,
            "conv_id": three["conv_id"],
            "content": [{"type": "text", "text": "third, edited"}],
        },
    )
    finished(client, three["output_msg_id"], 2)
    four = send(client, sid, "fourth")

    # Director's UI reads GET /session/{id} and keys messages by msg_id: one input and one
    # output per turn, in order, nothing hidden or deleted, each the version shown.
    reloaded = conversation(live, sid)
    assert [(m["conv_id"], m["msg_type"]) for m in reloaded] == [
        (conv, kind)
        for conv in (one["conv_id"], three["conv_id"], four["conv_id"])
        for kind in ("input", "output")
    ]
    assert not any(m["metadata"].get("hidden") or m["metadata"].get("deleted") for m in reloaded)
    assert reloaded[2]["content"] == [{"type": "text", "text": "third, edited"}]
    assert len({m["msg_id"] for m in reloaded}) == len(reloaded)


def test_a_branched_chat_exports_and_imports_equal(live_factory: Callable[..., Live]) -> None:
    live = live_factory()
    client = live.client()
    sid = f"s-{uuid.uuid4()}"
    one = send(client, sid, "first")
    send(client, sid, "second, on version 1")
    client.call("regenerate", {"session_id": sid, "conv_id": one["conv_id"]})
    finished(client, one["output_msg_id"], 2)
    three = send(client, sid, "third, on version 2")
    exported = live.get(f"/session/{sid}/export").json()
    assert exported["version"] == 2
    assert len(exported["messages"]) == 6
    assert [(v["msg_id"], v["version"]) for v in exported["versions"]] == [
        (one["output_msg_id"], 1)
    ]

    other = live_factory()
    answer = other.http.post("/session/import", json=exported, headers=other.headers)
    assert answer.status_code == 201, answer.text
    assert answer.json() == {"session_id": sid}
    again = other.get(f"/session/{sid}/export").json()
    assert {**again, "exported_at": 0} == {**exported, "exported_at": 0}
    # and the imported tree switches as the original does
    switcher = other.client()
    ack = switcher.call(
        "select_version", {"session_id": sid, "msg_id": one["output_msg_id"], "version": 1}
    )
    assert ack["ok"], ack
    assert three["msg_id"] not in [m["msg_id"] for m in conversation(other, sid)]
    assert len(conversation(other, sid)) == 4
