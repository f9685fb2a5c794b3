"""web/wire.py, the tuned Socket.IO transport: the packet class encodes as python-socketio's own
does, and every internal of python-socketio/engine.io the module leans on is still there, so an
upgrade that moves one fails here, by name, instead of in a user's chat."""

from __future__ import annotations

import inspect
import json
from importlib import metadata
from pathlib import Path

import engineio
import pytest
import socketio
from socketio.packet import ACK, BINARY_EVENT, EVENT, Packet

from director_desktop.protocol import text_item
from director_desktop.web.wire import JSONPacket, RoomManager, has_binary

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


REQUIREMENTS = Path(__file__).resolve().parents[2] / "requirements" / "app.txt"


def pinned(package: str) -> str:
    for line in REQUIREMENTS.read_text().splitlines():
        if line.lower().startswith(f"{package}=="):
            return line.split("==", 1)[1].strip()
    raise AssertionError(f"{package} is not pinned exactly in requirements/app.txt")


@pytest.mark.parametrize("package", ["python-socketio", "python-engineio"])
def test_the_transport_libraries_are_the_pinned_versions(package: str) -> None:
    assert metadata.version(package) == pinned(package), (
        f"{package} {metadata.version(package)} is installed but {pinned(package)} is pinned: "
        "web/wire.py relies on its internals; re-run this module against the new version"
    )


def test_the_private_send_of_one_engineio_packet_is_still_there() -> None:
    send = getattr(socketio.AsyncServer, "_send_eio_packet", None)
    assert send is not None, "socketio.AsyncServer._send_eio_packet is gone: RoomManager needs it"
    assert inspect.iscoroutinefunction(send), "AsyncServer._send_eio_packet is no longer async"
    assert list(inspect.signature(send).parameters) == ["self", "eio_sid", "eio_pkt"], (
        "AsyncServer._send_eio_packet(eio_sid, eio_pkt) changed its parameters"
    )
    assert engineio.packet.MESSAGE == 4, "engine.io's MESSAGE packet type changed"


def test_the_manager_emit_we_override_has_the_same_parameters() -> None:
    stock = inspect.signature(socketio.AsyncManager.emit)
    ours = inspect.signature(RoomManager.emit)
    assert list(stock.parameters) == list(ours.parameters), (
        "socketio.AsyncManager.emit changed its parameters: RoomManager.emit must follow"
    )
    for name in ("rooms", "get_participants"):
        assert hasattr(socketio.AsyncManager(), name), f"socketio.AsyncManager.{name} is gone"


def test_the_packet_hooks_we_override_are_still_used() -> None:
    for name in ("encode", "data_is_binary", "json"):
        assert hasattr(socketio.packet.Packet, name), f"socketio.packet.Packet.{name} is gone"
    assert "data_is_binary" in inspect.getsource(socketio.packet.Packet.__init__), (
        "Packet() no longer asks data_is_binary: JSONPacket's shortcut is no longer used"
    )
    assert "self.json.dumps" in inspect.getsource(socketio.packet.Packet.encode), (
        "Packet.encode no longer writes through self.json: WireJSON (orjson) is no longer used"
    )
