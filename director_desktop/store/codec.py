"""JSON columns: how values become TEXT and back; the microsecond clock that orders sessions.

Imports only `errors`.
"""

from __future__ import annotations

import json
import time
from typing import Any

from director_desktop.errors import InvalidPayload

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_DECODE = json.JSONDecoder().decode


def dumps(value: object, what: str) -> str:
    """Compact JSON text; a value JSON cannot hold is `invalid_payload`, never a half-write."""
    try:
        return _ENCODER.encode(value)
    except (TypeError, ValueError) as error:
        raise InvalidPayload(f"{what} is not JSON-serializable: {error}") from None


def loads(text: str) -> Any:
    if text == "{}":  # the common empty metadata, skipped for speed when listing sessions
        return {}
    return _DECODE(text)


def now_micros() -> int:
    return time.time_ns() // 1000
