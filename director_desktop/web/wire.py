"""The Socket.IO transport, tuned for a desktop app: packet encoding and one-socket emits.

python-socketio and python-engineio are pinned exactly (requirements/app.txt) because this module
leans on their internals: `Packet.encode`/`data_is_binary`, `AsyncManager.emit`'s signature,
`rooms`/`get_participants`, and the private `AsyncServer._send_eio_packet`.
`tests/unit/test_web_wire.py` names each of them and fails loudly if an upgrade moves one.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import orjson
import socketio
from engineio.packet import MESSAGE as ENGINEIO_MESSAGE
from engineio.packet import Packet as EngineIOPacket
from socketio.packet import ACK, BINARY_ACK, BINARY_EVENT, EVENT, Packet

from director_desktop.protocol import MAX_SOCKET_PAYLOAD_BYTES

log = logging.getLogger(__name__)

NAMESPACE = "/chat"


def socket_server(origins: list[str]) -> socketio.AsyncServer:
    """The app's Socket.IO server: only `/chat`, only the app's own origins (never `*`)."""
    return socketio.AsyncServer(
        async_mode="asgi",
        cors_allowed_origins=origins,
        max_http_buffer_size=MAX_SOCKET_PAYLOAD_BYTES,
        namespaces=[NAMESPACE],
        serializer=JSONPacket,
        client_manager=RoomManager(),
        logger=False,
        engineio_logger=False,
    )


class WireJSON:
    """The JSON module of every Socket.IO packet: orjson writes a streamed snapshot ~8x faster
    than the json module, and what it declines (an integer beyond 64 bits, a non-str key,
    bytes) goes to the json module. Incoming packets are read by the json module: they are
    small, and it keeps every integer exact."""

    @staticmethod
    def dumps(value: object, **options: Any) -> str:
        try:
            return orjson.dumps(value).decode()
        except TypeError:
            return json.dumps(value, **options)

    loads = staticmethod(json.loads)


class JSONPacket(Packet):  # type: ignore[misc]  # python-socketio ships no types
    """python-socketio's packet without the binary scan on every packet. The stock
    `data_is_binary` walks each payload recursively, building lists at every level (~22 us per
    streamed snapshot, on every emit and ack), to find bytes the app never sends. Here a packet
    is taken for JSON and encoded as such; only if JSON refuses it (`TypeError`: bytes, or
    anything else JSON cannot hold) is it scanned, and bytes then still go out as a binary
    packet, as with the stock class."""

    packet_type: int
    data: Any
    json = WireJSON

    @classmethod
    def data_is_binary(cls, data: object) -> bool:
        return False  # decided in `encode`, where a payload with bytes fails to encode as JSON

    def encode(self) -> Any:
        try:
            return super().encode()
        except TypeError:
            binary = {EVENT: BINARY_EVENT, ACK: BINARY_ACK}.get(self.packet_type)
            if binary is None or not has_binary(self.data):
                raise
            self.packet_type = binary
            return super().encode()


def has_binary(data: object) -> bool:
    """Whether a payload holds bytes anywhere (python-socketio's test, iterative)."""
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, bytes | bytearray):
            return True
    return False


class RoomManager(socketio.AsyncManager):  # type: ignore[misc]  # python-socketio ships no types
    """python-socketio's manager, sending an event meant for one socket (a session's room is
    most often one window) without a task of its own: the stock `emit` creates one task per
    recipient and waits on them, ~10% of the event loop's busy time when streaming. Anything
    else (several recipients, a callback) goes the stock way. Like the stock tasks, a failed
    send is not raised to the emitter: the message is stored, and `reconnect` delivers it."""

    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str,
        room: Any = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: Any = None,
        **kwargs: Any,
    ) -> None:
        target = to or room
        if callback is None and namespace in self.rooms and skip_sid is None:
            recipients = list(self.get_participants(namespace, target))
            if len(recipients) == 1:
                await self._send_to_one(recipients[0][1], event, data, namespace)
                return
            if not recipients:
                return
        await super().emit(
            event,
            data,
            namespace,
            room=room,
            skip_sid=skip_sid,
            callback=callback,
            to=to,
            **kwargs,
        )

    async def _send_to_one(self, eio_sid: str, event: str, data: Any, namespace: str) -> None:
        args = list(data) if isinstance(data, tuple) else [] if data is None else [data]
        packet = self.server.packet_class(EVENT, namespace=namespace, data=[event, *args])
        encoded = packet.encode()
        for part in encoded if isinstance(encoded, list) else [encoded]:
            try:
                await self.server._send_eio_packet(eio_sid, EngineIOPacket(ENGINEIO_MESSAGE, part))
            except Exception as error:  # as the stock task would, not raised
                log.debug("emit to one socket failed: %s", type(error).__name__)
