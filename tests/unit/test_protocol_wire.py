"""The wire model: input validation, ids, sanitizing, acks and the seed's error response."""

from __future__ import annotations

import uuid

import pytest

from director_desktop.errors import InvalidId, InvalidPayload, NotFound, TooLarge
from director_desktop.protocol import (
    MAX_TEXT_BYTES,
    ack_ok,
    check_id,
    error_envelope,
    error_response,
    parse_chat_input,
    parse_reconnect,
    parse_stop,
    sanitize,
)


def test_minimal_input_and_unknown_keys() -> None:
    chat = parse_chat_input({"content": [{"type": "text", "text": "hi"}], "sender": "user"})
    assert chat.text == "hi"
    assert chat.metadata == {}


def test_the_parser_fills_missing_ids_with_fresh_uuids_and_keeps_given_ones() -> None:
    item = {"type": "text", "text": "hi"}
    first, second = parse_chat_input({"content": [item]}), parse_chat_input({"content": [item]})
    ids = [first.session_id, first.conv_id, first.msg_id, second.session_id]
    assert len(set(ids)) == 4  # fresh every time
    assert all(uuid.UUID(value).version == 4 for value in ids)  # never a clock-like id
    kept = parse_chat_input({"content": [item], "session_id": "s", "conv_id": "c", "msg_id": "m"})
    assert (kept.session_id, kept.conv_id, kept.msg_id) == ("s", "c", "m")


def test_server_fields_in_metadata_are_dropped() -> None:
    chat = parse_chat_input(
        {
            "content": [{"type": "text", "text": "x"}],
            "metadata": {"seq": 9, "first_seq": 1, "timestamp": "t", "k": 1},
        }
    )
    assert chat.metadata == {"k": 1}


def test_unknown_item_types_pass_through() -> None:
    chat = parse_chat_input({"content": [{"type": "sticker", "id": 3}]})
    assert chat.content == [{"type": "sticker", "id": 3}]
    assert chat.text == ""


def test_text_limit_counts_utf8_bytes() -> None:
    at_limit = "é" * (MAX_TEXT_BYTES // 2)
    assert parse_chat_input({"content": [{"type": "text", "text": at_limit}]})
    with pytest.raises(TooLarge):
        parse_chat_input({"content": [{"type": "text", "text": at_limit + "é"}]})


@pytest.mark.parametrize("value", ["", "a b", "x" * 129, "é", 5, None, "a/b"])
def test_bad_ids(value: object) -> None:
    with pytest.raises(InvalidId):
        check_id(value, "session_id")


@pytest.mark.parametrize("value", ["a", "A-b_c.d:e", "x" * 128])
def test_good_ids(value: str) -> None:
    assert check_id(value, "msg_id") == value


def test_reconnect_and_stop() -> None:
    assert parse_reconnect({"session_id": "s"}) == ("s", 0)
    assert parse_reconnect({"session_id": "s", "since_seq": None}) == ("s", 0)
    assert parse_reconnect({"session_id": "s", "since_seq": 4}) == ("s", 4)
    with pytest.raises(InvalidPayload):
        parse_reconnect({"session_id": "s", "since_seq": 1.5})
    assert parse_stop({"session_id": "s", "conv_id": "c"}) == ("s", "c")


def test_sanitize_removes_paths_tracebacks_and_secrets() -> None:
    text = (
        "boom at /home/me/.local/share/x.sqlite3 with tok123 "
        'Traceback (most recent call last):\n  File "a.py"'
    )
    clean = sanitize(text, secrets=("tok123",))
    assert "/home/me" not in clean
    assert "tok123" not in clean
    assert "Traceback" not in clean
    assert len(sanitize("x" * 2000)) == 500


def test_envelopes() -> None:
    assert ack_ok({"a": 1}) == {"ok": True, "data": {"a": 1}}
    assert error_envelope(NotFound("gone")) == {
        "ok": False,
        "error": {"code": "not_found", "message": "gone"},
    }
    first = error_response(InvalidPayload("bad"), session_id="s", conv_id=None)
    second = error_response(InvalidPayload("bad"), session_id="s", conv_id=None)
    assert first["msg_id"] != second["msg_id"]
    assert first["message"] == "Error in chat handler: bad"
    assert first["metadata"]["error_type"] == "invalid_payload"
