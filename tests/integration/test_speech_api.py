"""Speech to text over the live app: `GET|PUT /config/speech`, and the `transcription` agent end to
end — a video whose sound is espeak-ng speech, transcribed through a local double of an
OpenAI-compatible transcription server (tests/unit/test_speech_double.py), shown as timestamped
lines, saved as `.srt`/`.vtt` through `GET /media/{asset_id}/transcript`; with no speech to text
chosen the agent says how to get one. (The agent's other cases: tests/unit/test_speech_agent.py.)"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from director_desktop.composition import build_library
from director_desktop.engine.agents import default_registry
from director_desktop.engine.router import build_model_router
from director_desktop.engine.speech import SpeechSettings
from director_desktop.secrets_store import SecretStore
from director_desktop.server import Server
from director_desktop.settings import build_settings
from director_desktop.store import Store
from director_desktop.user_settings import UserSettings
from director_desktop.web.app import create_app
from tests.conftest import test_all
from tests.fixtures.media import H264_AAC, ffmpeg
from tests.fixtures.tiny_whisper import write_tiny_whisper
from tests.integration.media_support import uploaded
from tests.integration.support import WAIT, Baseline, Live, chat_payload
from tests.unit.test_speech_double import (
    SPEECH,
    espeak_available,
    known_script,
    speak,
    transcription_server,
    wav_seconds,
)

KEY = "sk-integration-speech-key"


def start(data_dir: Path) -> Live:
    """The app as the composition root builds it (model router, media library), with the
    `transcription` agent on the speech settings the web's `/config/speech` writes."""
    settings = build_settings(data_dir=data_dir, log_dir=data_dir / "logs", environ={})
    server = Server.bind(settings.host, 0)
    settings = replace(settings, port=server.port)
    store = Store(settings.db_path, backups_dir=settings.backups_dir)
    user_settings = UserSettings(settings.user_settings_path)
    library = build_library(settings, store, user_settings)
    secrets = SecretStore(settings.secrets_path, use_keyring=False)
    speech = SpeechSettings(user_settings, secrets, settings.models_dir)
    agents = default_registry(library, speech=speech)
    engine = build_model_router(
        settings, store, agents, user_settings, secrets=secrets, speech=speech, detect_local=False
    )
    app = create_app(settings, store, engine, agents, library)
    server.start(app)
    base_url = f"http://127.0.0.1:{server.port}"
    http = httpx.Client(base_url=base_url, timeout=WAIT)
    return Live(base_url, server.port, settings.token, app, server, data_dir, http)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    baseline = Baseline.take()
    app = start(tmp_path / "data")
    yield app
    app.stop()
    baseline.wait_restored("the server's threads, descriptors and processes to end")


@pytest.fixture(scope="module")
def spoken_video(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """A 320x240 H.264/AAC MP4 whose sound is SPEECH said by espeak-ng, and its length."""
    if not espeak_available():
        if test_all():
            pytest.fail("DIRECTOR_TEST_ALL=1 but espeak-ng is missing (scripts/system-deps test)")
        pytest.skip("espeak-ng is not installed (scripts/system-deps test)")
    folder = tmp_path_factory.mktemp("spoken")
    wav = speak(SPEECH, folder / "speech.wav")
    video = folder / "spoken.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-i", str(wav), "-shortest",
           *H264_AAC, "-ar", "16000", "-movflags", "+faststart", str(video))  # fmt: skip
    return video, wav_seconds(wav.read_bytes())


def put_speech(live: Live, body: dict[str, Any]) -> httpx.Response:
    return live.http.put("/config/speech", headers=live.headers, json=body)


def run_agent(live: Live, text: str, **ids: Any) -> dict[str, Any]:
    client = live.client()
    session = {"session_id": f"s-{uuid.uuid4()}", "conv_id": f"c-{uuid.uuid4()}"}
    ack = client.call("chat", chat_payload(text, msg_id=f"m-{uuid.uuid4()}", **session, **ids))
    assert ack["ok"] is True, ack
    return client.final(ack["data"]["output_msg_id"])


def items(message: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [item for item in message["content"] if item.get("type") == kind]


# --- /config/speech ------------------------------------------------------------------------------
def test_speech_settings_choose_and_check(live: Live) -> None:
    status = live.get("/config/speech").json()
    assert status["config"] == {"provider": "none"}
    assert status["configured"] is False
    assert status["models_dir"] == str(live.data_dir / "models")
    assert status["models"] == []

    (live.data_dir / "models").mkdir(exist_ok=True)
    write_tiny_whisper(live.data_dir / "models" / "ggml-tiny.bin")
    chosen = put_speech(live, {"provider": "whisper", "model": "ggml-tiny.bin"})
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["ok"] is True
    assert chosen.json()["transcriber"] == "whisper.cpp (ggml-tiny.bin)"
    assert [m["file"] for m in live.get("/config/speech").json()["models"]] == ["ggml-tiny.bin"]

    missing = put_speech(live, {"provider": "whisper", "model": "ggml-none.bin"})
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    for bad in (
        {"provider": "whisper", "model": "../../secrets.json"},
        {"provider": "nope"},
        {"provider": "openai", "base_url": "localhost"},
    ):
        refused = put_speech(live, bad)
        assert refused.status_code == 400, bad
    assert live.get("/config/speech").json()["config"]["model"] == "ggml-tiny.bin"

    with transcription_server(known_script(1.0), api_key=KEY) as server:
        remote = put_speech(
            live, {"provider": "openai", "base_url": server.base_url, "api_key": KEY}
        )
        assert remote.status_code == 200
        assert remote.json()["ok"] is True
        assert remote.json()["has_api_key"] is True
        assert KEY not in remote.text
        assert KEY not in (live.data_dir / "settings.json").read_text()
    gone = live.get("/config/speech").json()
    assert gone["ok"] is False
    assert gone["error"]["code"] == "speech_unreachable"

    assert live.http.get("/config/speech").status_code == 401  # the launch token is needed


# --- the transcription agent ---------------------------------------------------------------------
def test_a_video_is_transcribed_end_to_end_and_saved_as_srt_and_vtt(
    live: Live, spoken_video: tuple[Path, float]
) -> None:
    video_path, seconds = spoken_video
    video = uploaded(live, video_path)
    script = known_script(seconds)
    with transcription_server(script, api_key=KEY) as server:
        assert put_speech(
            live, {"provider": "openai", "base_url": server.base_url, "api_key": KEY}
        ).json()["ok"]
        final = run_agent(live, "@transcription", video_id=video["id"], collection_id="default")
        again = run_agent(live, "@transcription please", video_id=video["id"])
    assert final["status"] == "success", final

    (shown, *_) = items(final, "text")
    assert shown["agent_name"] == "transcription"
    assert "[0:00] Hello world." in shown["text"]
    assert "The red car drives to the market." in shown["text"]
    downloads = items(final, "download")
    assert [d["download"]["filename"] for d in downloads] == ["spoken.srt", "spoken.vtt"]
    (request,) = server.received  # the second run used the transcript it kept
    assert request.fields["response_format"] == ["verbose_json"]
    assert request.fields["timestamp_granularities[]"] == ["segment", "word"]
    assert request.seconds == pytest.approx(seconds, abs=0.1)
    assert "[0:00] Hello world." in items(again, "text")[0]["text"]

    srt_url = downloads[0]["download"]["url"]
    assert srt_url.startswith(f"/media/{video['id']}/transcript?format=srt&sig=")
    srt = live.http.get(srt_url)  # signed: no header needed
    assert srt.status_code == 200
    assert srt.headers["content-type"].startswith("application/x-subrip")
    assert 'filename="spoken.srt"' in srt.headers["content-disposition"]
    cues = re.findall(r"(\d\d:\d\d:\d\d,\d\d\d) --> (\d\d:\d\d:\d\d,\d\d\d)\n(.+)", srt.text)
    assert [text for _s, _e, text in cues] == [
        "Hello world.",
        "The red car drives to the market.",
    ]
    assert cues[0][0] == "00:00:00,100"
    vtt = live.http.get(downloads[1]["download"]["url"])
    assert vtt.text.startswith("WEBVTT\n\n00:00:00.100 --> ")
    txt = live.get(f"/media/{video['id']}/transcript", params={"format": "txt"})
    assert txt.text.splitlines()[0] == "[0:00] Hello world."
    assert live.get(f"/media/{video['id']}/transcript?format=doc").status_code == 400


def test_with_no_speech_to_text_it_says_how_to_get_one(
    live: Live, spoken_video: tuple[Path, float]
) -> None:
    video = uploaded(live, spoken_video[0])
    final = run_agent(live, "@transcription", video_id=video["id"])
    (shown, *_) = items(final, "text")
    assert shown["status"] == "error"
    assert "Settings → Speech" in shown["text"]
    assert "whisper" in shown["text"]
    assert "/v1/audio/transcriptions" in shown["text"]
    assert items(final, "download") == []
    missing = live.get(f"/media/{video['id']}/transcript")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
