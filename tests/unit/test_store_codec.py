"""The store's JSON codec: what it reads back is exactly what was written, integers of any
size included."""

from __future__ import annotations

import json

import pytest

from director_desktop.errors import InvalidPayload
from director_desktop.store.codec import dumps, loads

VALUES = [
    {},
    [],
    {"text": "héllo wörld ✓ 日本語 \U0001f600", "n": 3, "f": 0.1, "t": True, "z": None},
    [{"type": "text", "status": "success", "text": 'a\nb\t"quoted" \\ back'}],
    {"nested": {"deep": [1, [2, [3, {"k": -9_223_372_036_854_775_808}]]]}},
    {"edges": [2**63 - 1, -(2**63), 2**64 - 1, 2**64, -(2**63) - 1, -9_999_999_999_999_999_999]},
    {"huge": 123456789012345678901234567890, "in_text": "1234567890123456789012"},
    {"floats": [1e300, -2.5e-300, 12345678901234567.0]},
]


@pytest.mark.parametrize("value", VALUES)
def test_what_is_written_reads_back_unchanged(value: object) -> None:
    text = dumps(value, "value")
    back = loads(text)
    assert back == value
    assert json.dumps(back) == json.dumps(value)  # same types too: no int became a float


def test_nesting_300_levels_deep_reads_back() -> None:
    deep: list[object] = []
    for _ in range(300):
        deep = [deep]
    assert loads(dumps(deep, "value")) == deep


def test_text_that_is_not_json_is_refused() -> None:
    for text in ("", "{", "[1,]", '"\\ud800'):
        with pytest.raises(json.JSONDecodeError):
            loads(text)


def test_values_json_cannot_hold_are_refused_before_anything_is_written() -> None:
    for value in (float("nan"), {"x": float("inf")}, {"b": b"bytes"}, {1: object()}):
        with pytest.raises(InvalidPayload):
            dumps(value, "value")
