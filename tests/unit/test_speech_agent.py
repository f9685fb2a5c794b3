"""The `transcription` agent on the real library (store, jobs, files, FFmpeg): a video whose sound
is espeak-ng speech, transcribed in-process by the tiny whisper model and through the local
double of an OpenAI-compatible server; the index answers first; stopping leaves nothing; no
parameter reaches a file by its path or another collection's asset."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from director_desktop.engine.agents import AgentContext
from director_desktop.engine.agents.transcription_agent import HOW_TO, TranscriptionAgent
from director_desktop.engine.speech import OpenAITranscriber, SpeechSettings, WhisperCppTranscriber
from director_desktop.secrets_store import SecretStore
from director_desktop.store import IndexContent, IndexLine, TimedWord
from director_desktop.user_settings import UserSettings
from tests.conftest import test_all
from tests.fixtures.media import H264_AAC, LibraryWorld, ffmpeg, make_clip
from tests.fixtures.tiny_whisper import write_tiny_whisper
from tests.unit.agent_support import context
from tests.unit.test_speech_double import (
    SPEECH,
    espeak_available,
    known_script,
    speak,
    transcription_server,
    wav_seconds,
)

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def spoken(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A video whose sound is SPEECH (and its length), and a silent one."""
    if not espeak_available():
        if test_all():
            pytest.fail("DIRECTOR_TEST_ALL=1 but espeak-ng is missing (scripts/system-deps test)")
        pytest.skip("espeak-ng is not installed (scripts/system-deps test)")
    folder = tmp_path_factory.mktemp("spoken")
    wav = speak(SPEECH, folder / "speech.wav")
    video = folder / "talk.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-i", str(wav), "-shortest",
           *H264_AAC, "-movflags", "+faststart", str(video))  # fmt: skip
    silent = folder / "silent.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x240:rate=25:duration=2", "-c:v", "libx264",
           "-pix_fmt", "yuv420p", str(silent))  # fmt: skip
    return {"video": video, "seconds": wav_seconds(wav.read_bytes()), "silent": silent}


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[LibraryWorld]:
    opened = await LibraryWorld.open(tmp_path / "data")
    yield opened
    await opened.close()


def speech_settings(world: LibraryWorld) -> SpeechSettings:
    models = world.data / "models"
    models.mkdir(exist_ok=True)
    return SpeechSettings(
        UserSettings(world.data / "settings.json"),
        SecretStore(world.data / "secrets.json", use_keyring=False),
        models,
    )


def kinds(ctx: AgentContext) -> list[tuple[str, str]]:
    return [(item["type"], item["status"]) for item in ctx.output.content]


async def test_the_tiny_whisper_model_transcribes_a_video_through_the_agent(
    world: LibraryWorld, spoken: dict[str, Any]
) -> None:
    video = await world.add(spoken["video"])
    speech = speech_settings(world)
    write_tiny_whisper(speech.models_dir / "ggml-tiny.bin")
    await speech.choose({"provider": "whisper", "model": "ggml-tiny.bin"})
    agent = TranscriptionAgent(world.library, speech)
    ctx = context(world, video_id=video.id)
    try:
        result = await agent.run(ctx)
    finally:
        await speech.close()
    assert result.status == "success", result.message
    assert kinds(ctx) == [("text", "success"), ("download", "success"), ("download", "success")]
    assert result.data["source"] == "transcription"
    kept = await agent.shelf.load(video.id)
    assert kept, "the transcript is kept beside the video"
    for segment in kept:
        assert 0 <= segment.start <= segment.end <= spoken["seconds"] + 0.1
    assert (world.data / "media" / video.id / "transcript.json").is_file()
    assert world.staged() == []
    jobs = await world.jobs.recent()
    assert [(j["kind"], j["status"]) for j in jobs if j["kind"] == "transcribe"] == [
        ("transcribe", "done")
    ]


async def test_an_openai_compatible_server_transcribes_through_the_agent(
    world: LibraryWorld, spoken: dict[str, Any]
) -> None:
    video = await world.add(spoken["video"])
    with transcription_server(known_script(spoken["seconds"])) as server:
        agent = TranscriptionAgent(world.library, OpenAITranscriber(server.base_url))
        ctx = context(world)
        result = await agent.run(ctx, video_id=video.id, language="EN")
        assert server.received[0].fields["language"] == ["en"]
        again = await agent.run(context(world), video_id=video.id)
        assert len(server.received) == 1, "the kept transcript answers the second time"
        fresh = await agent.run(context(world), video_id=video.id, refresh=True)
        assert len(server.received) == 2
        bad_language = await agent.run(context(world), video_id=video.id, language="../x")
        assert bad_language.data["error"]["code"] == "invalid_payload"
        assert len(server.received) == 2
    assert result.status == again.status == fresh.status == "success"
    text = ctx.output.content[0]["text"]
    assert "[0:00] Hello world.\n" in text
    assert "The red car drives to the market." in text
    assert result.data["segments"] == 2
    assert "Hello world." in result.data["transcript"]
    urls = [item["download"]["url"] for item in ctx.output.content[1:]]
    assert urls == [
        f"/media/{video.id}/transcript?format=srt",
        f"/media/{video.id}/transcript?format=vtt",
    ]


async def test_the_index_answers_first(world: LibraryWorld, spoken: dict[str, Any]) -> None:
    video = await world.add(spoken["video"])
    line = IndexLine("transcript", 0.5, 2.0, "From the index.", (TimedWord(0.5, 1.0, "From"),))
    await world.store.index.replace(video.id, IndexContent(lines=[line]))
    agent = TranscriptionAgent(world.library, None)  # no speech to text: it is not needed
    ctx = context(world, video_id=video.id)
    result = await agent.run(ctx)
    assert result.status == "success", result.message
    assert result.data["source"] == "index"
    assert "[0:00] From the index." in ctx.output.content[0]["text"]


async def test_with_no_speech_to_text_it_says_how_to_get_one(
    world: LibraryWorld, spoken: dict[str, Any]
) -> None:
    video = await world.add(spoken["video"])
    for speech in (None, speech_settings(world)):
        ctx = context(world, video_id=video.id)
        result = await TranscriptionAgent(world.library, speech).run(ctx)
        assert result.status == "error"
        assert result.data["error"]["code"] == "speech_not_configured"
        assert kinds(ctx) == [("text", "error")]
        assert ctx.output.content[0]["text"] == HOW_TO
    assert world.staged() == []


async def test_a_video_without_sound_is_said_to_have_none(
    world: LibraryWorld, spoken: dict[str, Any]
) -> None:
    silent = await world.add(spoken["silent"])
    with transcription_server(known_script(1.0)) as server:
        agent = TranscriptionAgent(world.library, OpenAITranscriber(server.base_url))
        result = await agent.run(context(world), video_id=silent.id)
    assert result.status == "error"
    assert result.data["error"]["code"] == "not_found"
    assert "no sound" in result.message
    assert server.received == []


@pytest.mark.parametrize(
    "bad",
    ["/etc/passwd", "../media", "..", "C:\\videos\\a.mp4", "a/b", "file:///etc/passwd", ""],
)
async def test_no_parameter_is_a_path(world: LibraryWorld, bad: str) -> None:
    agent = TranscriptionAgent(world.library, WhisperCppTranscriber(Path("/nonexistent.bin")))
    result = await agent.run(context(world), video_id=bad)
    assert result.status == "error"
    assert result.data["error"]["code"] == "invalid_payload"


async def test_another_collections_video_is_not_found(world: LibraryWorld, tmp_path: Path) -> None:
    other = await world.library.create_collection("Other", "")
    elsewhere = await world.add(make_clip(tmp_path / "clip.mp4", seconds=1.0), other.id)
    agent = TranscriptionAgent(world.library, WhisperCppTranscriber(Path("/nonexistent.bin")))
    result = await agent.run(context(world), video_id=elsewhere.id)
    assert result.status == "error"
    assert result.data["error"]["code"] == "not_found"


async def test_stopping_mid_transcription_keeps_nothing(
    world: LibraryWorld, spoken: dict[str, Any]
) -> None:
    import threading

    video = await world.add(spoken["video"])
    hold = threading.Event()
    with transcription_server(known_script(spoken["seconds"]), hold=hold) as server:
        agent = TranscriptionAgent(world.library, OpenAITranscriber(server.base_url))
        task = asyncio.create_task(agent.run(context(world), video_id=video.id))
        assert await asyncio.to_thread(server.arrived.wait, 30)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await asyncio.to_thread(server.gave_up.wait, 5), "the request was dropped"
    assert await agent.shelf.load(video.id) is None
    assert not (world.data / "media" / video.id / "transcript.json").exists()
    assert world.staged() == []
    jobs = [j for j in await world.jobs.recent() if j["kind"] == "transcribe"]
    assert [j["status"] for j in jobs] == ["cancelled"]
