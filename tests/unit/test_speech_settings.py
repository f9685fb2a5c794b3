"""The speech choice (settings.json `speech`, keys in the SecretStore), the whisper files of the
models folder, transcripts written as SRT/VTT/text and kept beside an asset."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from director_desktop.engine.speech import (
    OpenAITranscriber,
    SpeechSettings,
    TranscriptShelf,
    WhisperCppTranscriber,
    build_transcriber,
    check_choice,
    to_srt,
    to_text,
    to_vtt,
)
from director_desktop.errors import InvalidPayload, NotFound
from director_desktop.media.transcript import Segment, Word
from director_desktop.secrets_store import SecretStore
from director_desktop.user_settings import UserSettings
from tests.fixtures.tiny_whisper import write_tiny_whisper
from tests.unit.test_speech_double import known_script, transcription_server

KEY = "sk-speech-secret"


@pytest.fixture
def speech(tmp_path: Path) -> SpeechSettings:
    models = tmp_path / "models"
    models.mkdir()
    return SpeechSettings(
        UserSettings(tmp_path / "settings.json"),
        SecretStore(tmp_path / "secrets.json", use_keyring=False),
        models,
    )


# --- the choice ----------------------------------------------------------------------------------
def test_a_choice_is_checked_and_cleaned() -> None:
    assert check_choice({}) == {"provider": "none"}
    assert check_choice({"provider": "whisper", "model": "ggml-base.en.bin"}) == {
        "provider": "whisper",
        "model": "ggml-base.en.bin",
    }
    assert check_choice({"provider": "openai", "base_url": "http://127.0.0.1:8080"}) == {
        "provider": "openai",
        "base_url": "http://127.0.0.1:8080/v1",
        "model": "whisper-1",
    }


@pytest.mark.parametrize(
    "bad",
    [
        [],
        {"provider": "cloud"},
        {"provider": "whisper"},
        {"provider": "whisper", "model": "../ggml-base.en.bin"},
        {"provider": "whisper", "model": "/etc/ggml.bin"},
        {"provider": "whisper", "model": "dir\\ggml.bin"},
        {"provider": "whisper", "model": "model.gguf"},
        {"provider": "whisper", "model": ".hidden.bin"},
        {"provider": "openai"},
        {"provider": "openai", "base_url": "http://h:1", "model": 3},
    ],
)
def test_a_bad_choice_is_invalid_payload(bad: object) -> None:
    with pytest.raises(InvalidPayload):
        check_choice(bad)


def test_a_malformed_address_is_bad_url() -> None:
    with pytest.raises(InvalidPayload) as caught:
        check_choice({"provider": "openai", "base_url": "localhost:8080"})
    assert caught.value.code == "bad_url"


def test_build_transcriber_makes_what_the_choice_says(tmp_path: Path) -> None:
    assert build_transcriber({"provider": "none"}, models_dir=tmp_path) is None
    whisper = build_transcriber({"provider": "whisper", "model": "ggml-x.bin"}, models_dir=tmp_path)
    assert isinstance(whisper, WhisperCppTranscriber)
    assert whisper.model_path == tmp_path / "ggml-x.bin"
    remote = build_transcriber(
        {"provider": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "m"},
        models_dir=tmp_path,
        api_key=KEY,
    )
    assert isinstance(remote, OpenAITranscriber)
    assert remote.name == "http://127.0.0.1:9/v1 (m)"


# --- SpeechSettings ------------------------------------------------------------------------------
def test_nothing_chosen_is_none_and_ok(speech: SpeechSettings) -> None:
    status = asyncio.run(speech.status())
    assert status["config"] == {"provider": "none"}
    assert status["configured"] is False
    assert status["ok"] is True
    assert status["transcriber"] is None
    assert asyncio.run(speech.transcriber()) is None


def test_whisper_files_are_listed_with_what_is_wrong(speech: SpeechSettings) -> None:
    write_tiny_whisper(speech.models_dir / "ggml-tiny.bin")
    (speech.models_dir / "notes.bin").write_bytes(b"not a model at all, just some bytes" * 4)
    (speech.models_dir / "chat.gguf").write_bytes(b"GGUF")
    (speech.models_dir / ".part.bin").write_bytes(b"")
    models = {m["file"]: m for m in speech.whisper_models()}
    assert set(models) == {"ggml-tiny.bin", "notes.bin"}
    assert models["ggml-tiny.bin"]["error"] is None
    assert models["ggml-tiny.bin"]["size"] > 0
    assert models["notes.bin"]["error"] == "notes.bin is not a whisper ggml model"


def test_choosing_a_whisper_file(speech: SpeechSettings, tmp_path: Path) -> None:
    write_tiny_whisper(speech.models_dir / "ggml-tiny.bin")
    status = asyncio.run(speech.choose({"provider": "whisper", "model": "ggml-tiny.bin"}))
    assert status["ok"] is True
    assert status["configured"] is True
    assert status["transcriber"] == "whisper.cpp (ggml-tiny.bin)"
    saved = json.loads((tmp_path / "settings.json").read_text())
    assert saved["speech"] == {"provider": "whisper", "model": "ggml-tiny.bin"}

    async def same_twice() -> bool:
        first, second = await speech.transcriber(), await speech.transcriber()
        await speech.close()
        return first is second and isinstance(first, WhisperCppTranscriber)

    assert asyncio.run(same_twice()), "a whisper model stays loaded while it stays chosen"


def test_a_missing_or_broken_whisper_file_is_refused(speech: SpeechSettings) -> None:
    with pytest.raises(NotFound):
        asyncio.run(speech.choose({"provider": "whisper", "model": "ggml-none.bin"}))
    (speech.models_dir / "ggml-bad.bin").write_bytes(b"GGUF" + bytes(100))
    with pytest.raises(InvalidPayload) as caught:
        asyncio.run(speech.choose({"provider": "whisper", "model": "ggml-bad.bin"}))
    assert "GGUF" in caught.value.message
    assert asyncio.run(speech.status())["config"] == {"provider": "none"}


def test_a_chosen_file_that_went_away_shows_in_the_status(speech: SpeechSettings) -> None:
    write_tiny_whisper(speech.models_dir / "ggml-tiny.bin")
    asyncio.run(speech.choose({"provider": "whisper", "model": "ggml-tiny.bin"}))
    (speech.models_dir / "ggml-tiny.bin").unlink()
    status = asyncio.run(speech.status())
    assert status["ok"] is False
    assert status["error"] is not None
    assert status["error"]["code"] == "not_found"


def test_choosing_a_server_keeps_its_key_out_of_settings(
    speech: SpeechSettings, tmp_path: Path
) -> None:
    with transcription_server(known_script(1.0), api_key=KEY) as server:
        choice = {"provider": "openai", "base_url": server.base_url, "model": "whisper-1"}
        status = asyncio.run(speech.choose(choice, api_key=KEY))
        assert status["ok"] is True, status["error"]
        assert status["has_api_key"] is True
        assert status["transcriber"] == f"{server.base_url}/v1 (whisper-1)"
        assert KEY not in (tmp_path / "settings.json").read_text()
        assert speech.secrets.get(f"speech:{server.base_url}/v1") == KEY

        refused = asyncio.run(speech.choose(choice, api_key=""))  # forget the key
        assert refused["has_api_key"] is False
        assert refused["ok"] is False
        assert refused["error"] is not None
        assert refused["error"]["code"] == "speech_unauthorized"
        assert KEY not in json.dumps(refused)


def test_the_chat_models_key_for_the_same_server_is_used(speech: SpeechSettings) -> None:
    with transcription_server(known_script(1.0), api_key=KEY) as server:
        speech.secrets.set(f"openai:{server.base_url}/v1", KEY)
        status = asyncio.run(speech.choose({"provider": "openai", "base_url": server.base_url}))
    assert status["ok"] is True
    assert status["has_api_key"] is True


def test_an_unreachable_server_shows_in_the_status(speech: SpeechSettings) -> None:
    status = asyncio.run(speech.choose({"provider": "openai", "base_url": "http://127.0.0.1:9"}))
    assert status["ok"] is False
    assert status["error"] is not None
    assert status["error"]["code"] == "speech_unreachable"


def test_a_hand_edited_setting_that_makes_no_sense_is_none(
    speech: SpeechSettings, tmp_path: Path
) -> None:
    (tmp_path / "settings.json").write_text(json.dumps({"speech": {"provider": "magic"}}))
    status = asyncio.run(speech.status())
    assert status["config"] == {"provider": "none"}
    assert status["ok"] is False
    assert status["error"] is not None
    assert "settings.json" in status["error"]["message"]


# --- transcripts written out -------------------------------------------------------------------
SEGMENTS = [
    Segment(0.0, 1.5, "Hello world.", (Word(0.0, 0.6, "Hello"), Word(0.7, 1.5, "world."))),
    Segment(61.25, 3723.004, "A <b> & c --> d\n\nsecond line"),
]


def test_srt() -> None:
    assert to_srt(SEGMENTS) == (
        "1\n00:00:00,000 --> 00:00:01,500\nHello world.\n\n"
        "2\n00:01:01,250 --> 01:02:03,004\nA <b> & c -> d\nsecond line\n"
    )


def test_vtt() -> None:
    assert to_vtt(SEGMENTS) == (
        "WEBVTT\n\n"
        "00:00:00.000 --> 00:00:01.500\nHello world.\n\n"
        "00:01:01.250 --> 01:02:03.004\nA &lt;b&gt; &amp; c -&gt; d\nsecond line\n"
    )


def test_text() -> None:
    assert to_text(SEGMENTS) == "[0:00] Hello world.\n[1:01] A <b> & c --> d second line\n"


def test_a_transcript_is_kept_beside_its_asset_and_read_back(tmp_path: Path) -> None:
    shelf = TranscriptShelf(tmp_path)
    asset = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
    assert asyncio.run(shelf.load(asset)) is None
    asyncio.run(shelf.save(asset, SEGMENTS, by="test"))
    assert asyncio.run(shelf.load(asset)) == SEGMENTS
    assert (tmp_path / asset / "transcript.json").is_file()
    assert [p.name for p in (tmp_path / asset).iterdir()] == ["transcript.json"]
    for bad in ("../x", "a/b", "..", ""):
        with pytest.raises(NotFound):
            shelf.path(bad)
