"""web/app.py's emit path: the packet class's binary check agrees with python-socketio's, and
only messages with media items are copied to sign their paths."""

from __future__ import annotations

import json

import pytest
from socketio.packet import ACK, BINARY_EVENT, EVENT, Packet

from director_desktop.protocol import JSONDict, text_item
from director_desktop.web.app import JSONPacket, _text_only, has_binary

CASES: list[object] = [
    None,
    "text",
    3,
    1.5,
    True,
    ["chat", {"content": [text_item("hi")], "metadata": {"seq": 1}}],
    ["chat", {"content": [{"type": "video", "data": {"raw": b"\x00"}}]}],
    {"a": [1, [2, [bytearray(b"x")]]]},
    [{"a": {}}, [], {}],
    b"bytes",
]


@pytest.mark.parametrize("data", CASES)
def test_binary_check_matches_python_socketio(data: object) -> None:
    assert has_binary(data) == Packet.data_is_binary(data)


@pytest.mark.parametrize("data", CASES)
def test_packets_encode_as_python_socketio_encodes_them(data: object) -> None:
    for kind in (EVENT, ACK):
        ours = JSONPacket(kind, data=["chat", data], namespace="/chat", id=7)
        stock = Packet(kind, data=["chat", data], namespace="/chat", id=7)
        assert ours.encode() == stock.encode()
        assert ours.packet_type == stock.packet_type  # binary ones became BINARY_*


def test_a_packet_with_bytes_is_still_a_binary_event() -> None:
    packet = JSONPacket(EVENT, data=["chat", {"x": b"1"}])
    assert packet.encode() == ['51-["chat",{"x":{"_placeholder":true,"num":0}}]', b"1"]
    assert packet.packet_type == BINARY_EVENT
    assert JSONPacket(EVENT, data=["chat", {"x": "1"}]).encode() == '2["chat",{"x":"1"}]'
    with pytest.raises(TypeError):  # not JSON and not bytes: refused as before
        JSONPacket(EVENT, data=["chat", {"x": object()}]).encode()


@pytest.mark.parametrize(
    "data",
    [
        {"text": "héllo ✓ 日本語 \U0001f600", "quote": '"\\', "ctl": "\n\t\x00"},
        {"seq": 2**63 - 1, "big": 2**64, "neg": -(10**30)},  # orjson declines: the json module
        {1: "a non-str key"},  # orjson declines: the json module writes it as "1"
        {"floats": [0.1, 1e300, -2.5e-300, 12345678901234567.0]},
    ],
)
def test_orjson_writes_what_the_json_module_would_mean(data: object) -> None:
    ours = JSONPacket(EVENT, data=["chat", data], namespace="/chat").encode()
    stock = Packet(EVENT, data=["chat", data], namespace="/chat").encode()
    prefix = "2/chat,"
    assert ours.startswith(prefix)
    assert stock.startswith(prefix)
    assert json.loads(ours[len(prefix) :]) == json.loads(stock[len(prefix) :])


def _message(*content: JSONDict) -> JSONDict:
    return {"msg_id": "m1", "session_id": "s1", "content": list(content), "metadata": {}}


def test_only_messages_with_media_items_need_signing() -> None:
    assert _text_only(_message(text_item("/media/not-a-path-in-text")))
    assert _text_only(_message())
    assert not _text_only(_message(text_item("a"), {"type": "video", "video": {}}))
    assert not _text_only({"event_type": "update_data", "update": "sessions"})
    assert not _text_only({"messages": [_message(text_item("a"))]})
