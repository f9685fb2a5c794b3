"""A client's own record of what it was sent (Jepsen-style: checked against the server's log, not
just counted). Per session it keeps, as PROTOCOL section 4 says a client does, the newest
snapshot of each message by `seq`, and it notes every snapshot that came twice or out of order.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class History:
    kept: dict[str, dict[str, Any]] = field(default_factory=dict)
    seen: set[tuple[str, int]] = field(default_factory=set)
    duplicated: int = 0
    out_of_order: int = 0
    unnumbered: int = 0
    last_seq: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, message: dict[str, Any], *, replayed: bool = False) -> None:
        seq = message.get("metadata", {}).get("seq")
        with self._lock:
            if not isinstance(seq, int):
                self.unnumbered += 1
                return
            key = (message["msg_id"], seq)
            if key in self.seen:
                if not replayed:  # a replay may repeat what was seen; a live stream never does
                    self.duplicated += 1
                return
            self.seen.add(key)
            if seq <= self.last_seq and not replayed:
                self.out_of_order += 1
            self.last_seq = max(self.last_seq, seq)
            old = self.kept.get(message["msg_id"])
            if old is None or old["metadata"]["seq"] < seq:
                self.kept[message["msg_id"]] = message

    def compare(self, conversation: list[dict[str, Any]]) -> list[str]:
        """Every stored message the client does not hold in its stored state: a lost update."""
        with self._lock:
            lost = []
            for stored in conversation:
                mine = self.kept.get(stored["msg_id"])
                if mine is None:
                    lost.append(f"{stored['msg_id']}: never received")
                elif mine["metadata"]["seq"] != stored["metadata"]["seq"]:
                    lost.append(
                        f"{stored['msg_id']}: kept seq {mine['metadata']['seq']}, "
                        f"stored {stored['metadata']['seq']}"
                    )
                elif (mine["status"], mine["content"]) != (stored["status"], stored["content"]):
                    lost.append(f"{stored['msg_id']}: kept a different snapshot at the same seq")
            return lost
