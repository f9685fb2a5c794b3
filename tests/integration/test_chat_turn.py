"""A chat turn end to end over the real server: ack, snapshots in seq order, final status, stored;
two clients on one session; a dropped client catching up with `since_seq`; `stop`."""

from __future__ import annotations

import uuid

from tests.integration.support import Live, chat_payload, text_of


def new_ids() -> dict[str, str]:
    return {
        "session_id": f"s-{uuid.uuid4()}",
        "conv_id": f"c-{uuid.uuid4()}",
        "msg_id": f"m-{uuid.uuid4()}",
    }


def seqs(messages: list[dict]) -> list[int]:
    return [m["metadata"]["seq"] for m in messages if "seq" in m.get("metadata", {})]


def test_full_turn(live: Live) -> None:
    client = live.client()
    ids = new_ids()
    ack = client.call("chat", chat_payload("hello there", **ids))
    assert ack["ok"] is True
    data = ack["data"]
    assert {k: data[k] for k in ids} == ids
    out_id = data["output_msg_id"]
    final = client.final(out_id)

    assert final["status"] == "success"
    assert final["msg_type"] == "output"
    assert "@search_chats" in text_of(final)  # the assistant says which agents exist
    assert all(item["status"] == "success" for item in final["content"])
    # the input came back to the sender first, stored (seq 1, status success)
    assert client.messages[0]["msg_id"] == ids["msg_id"]
    assert client.messages[0]["status"] == "success"
    assert client.messages[0]["metadata"]["seq"] == 1
    # snapshots arrive in seq order, several of them (the reply streams), no seq twice
    received = seqs(client.messages)
    assert received == sorted(received)
    assert len(set(received)) == len(received)
    assert len(client.snapshots(out_id)) >= 2
    for message in client.messages:
        assert message["metadata"]["timestamp"].endswith("+00:00")

    stored = live.get(f"/session/{ids['session_id']}").json()
    assert stored["name"] == "hello there"
    assert [m["msg_id"] for m in stored["conversation"]] == [ids["msg_id"], out_id]
    assert stored["conversation"][1] == final
    assert stored["conversation"][0] == client.messages[0]


def test_new_session_is_announced(live: Live) -> None:
    watcher = live.client()
    sender = live.client()
    ack = sender.call("chat", chat_payload("first words", **new_ids()))
    assert ack["ok"]
    watcher.wait_event(
        lambda e: e == {"event_type": "update_data", "update": "sessions"}, "update_data"
    )
    sender.final(ack["data"]["output_msg_id"])


def test_two_clients_on_one_session_see_every_snapshot(live: Live) -> None:
    first, second = live.client(), live.client()
    session_id = f"s-{uuid.uuid4()}"
    ack = first.call("chat", chat_payload("turn one", session_id=session_id))
    first.final(ack["data"]["output_msg_id"])
    join = second.call("reconnect", {"session_id": session_id})
    assert join["ok"]
    assert join["data"]["running"] is False
    replayed = len(second.messages)
    assert replayed == 2  # turn one's input and output

    ack = first.call("chat", chat_payload("turn two", session_id=session_id))
    out_id = ack["data"]["output_msg_id"]
    final_a, final_b = first.final(out_id), second.final(out_id)
    assert final_a == final_b
    turn_two_a = [m for m in first.messages if m["conv_id"] == ack["data"]["conv_id"]]
    turn_two_b = [m for m in second.messages[replayed:] if m["conv_id"] == ack["data"]["conv_id"]]
    assert turn_two_a == turn_two_b
    # every stored change of the turn reached both: the seqs are contiguous
    numbers = seqs(turn_two_a)
    assert numbers == list(range(numbers[0], numbers[-1] + 1))


def test_dropped_client_gets_exactly_the_missed_snapshots(slow_live: Live) -> None:
    live = slow_live
    dropper, observer = live.client(), live.client()
    session_id = f"s-{uuid.uuid4()}"
    ack = dropper.call("chat", chat_payload("a long answer please", session_id=session_id))
    out_id = ack["data"]["output_msg_id"]
    observer.call("reconnect", {"session_id": session_id})
    dropper.wait_for(
        lambda ms: any(m["msg_id"] == out_id and text_of(m) for m in ms), "some streamed text"
    )
    dropper.close()  # the socket drops mid-run
    seen = dropper.latest()
    since = max(m["metadata"]["seq"] for m in seen.values())
    assert seen[out_id]["status"] == "progress"

    final = observer.final(out_id)  # the run went on without the dropped socket
    again = live.client()
    back = again.call("reconnect", {"session_id": session_id, "since_seq": since})
    assert back == {"ok": True, "data": {"last_seq": final["metadata"]["seq"], "running": False}}
    # exactly what was missed: the output's latest snapshot, nothing at or below since_seq
    assert again.messages == [final]
    stored = live.get(f"/session/{session_id}").json()["conversation"]
    assert stored[-1] == final
    assert text_of(final).startswith(text_of(seen[out_id]))


def test_reconnect_while_running_then_follows_live(slow_live: Live) -> None:
    live = slow_live
    client = live.client()
    session_id = f"s-{uuid.uuid4()}"
    ack = client.call("chat", chat_payload("stream to me", session_id=session_id))
    out_id = ack["data"]["output_msg_id"]
    client.wait_for(
        lambda ms: any(m["msg_id"] == out_id and text_of(m) for m in ms), "streamed text"
    )
    client.close()
    since = max(m["metadata"]["seq"] for m in client.latest().values())

    again = live.client()
    back = again.call("reconnect", {"session_id": session_id, "since_seq": since})
    assert back["ok"]
    assert all(m["metadata"]["seq"] > since for m in again.messages)
    final = again.final(out_id)
    kept = again.latest()
    assert kept[out_id] == final
    stored = live.get(f"/session/{session_id}").json()["conversation"]
    assert stored[-1] == final


def test_stop_keeps_partial_text(slow_live: Live) -> None:
    live = slow_live
    client = live.client()
    ids = new_ids()
    ack = client.call("chat", chat_payload("tell me everything", **ids))
    out_id = ack["data"]["output_msg_id"]
    client.wait_for(
        lambda ms: any(m["msg_id"] == out_id and text_of(m) for m in ms), "some streamed text"
    )
    partial = text_of(client.snapshots(out_id)[-1])

    stopped = client.call("stop", {"session_id": ids["session_id"], "conv_id": ids["conv_id"]})
    assert stopped == {"ok": True, "data": {"stopped": True}}
    # the final snapshot was stored before the ack: it is in the database now
    stored = live.get(f"/session/{ids['session_id']}").json()["conversation"][-1]
    assert stored["msg_id"] == out_id
    assert stored["status"] == "not_generated"
    assert stored["metadata"]["stopped"] is True
    assert text_of(stored).startswith(partial)
    assert partial
    assert client.final(out_id) == stored
    again = client.call("stop", {"session_id": ids["session_id"], "conv_id": ids["conv_id"]})
    assert again == {"ok": True, "data": {"stopped": False}}


def test_resent_input_is_idempotent(live: Live) -> None:
    client = live.client()
    ids = new_ids()
    first = client.call("chat", chat_payload("once", **ids))
    client.final(first["data"]["output_msg_id"])
    second = client.call("chat", chat_payload("once", **ids))
    assert second == first
    conversation = live.get(f"/session/{ids['session_id']}").json()["conversation"]
    assert len(conversation) == 2


def test_second_chat_on_a_running_conversation_is_a_conflict(slow_live: Live) -> None:
    client = slow_live.client()
    ids = new_ids()
    first = client.call("chat", chat_payload("one", **ids))
    other = client.call("chat", chat_payload("two", **{**ids, "msg_id": f"m-{uuid.uuid4()}"}))
    assert other["ok"] is False
    assert other["error"]["code"] == "conflict"
    client.call("stop", {"session_id": ids["session_id"], "conv_id": ids["conv_id"]})
    client.final(first["data"]["output_msg_id"])
    conversation = slow_live.get(f"/session/{ids['session_id']}").json()["conversation"]
    assert len(conversation) == 2


def test_search_chats_agent_links_earlier_chats(live: Live) -> None:
    client = live.client()
    first = client.call("chat", chat_payload("planning the zebra documentary"))
    client.final(first["data"]["output_msg_id"])
    ack = client.call("chat", chat_payload("@search_chats zebra"))
    final = client.final(ack["data"]["output_msg_id"])
    assert final["status"] == "success"
    assert final["agents"] == ["search_chats"]
    assert "Running @search_chats agent" in final["actions"]
    found = [item for item in final["content"] if item["agent_name"] == "search_chats"]
    assert f"#session={first['data']['session_id']}" in found[0]["text"]
