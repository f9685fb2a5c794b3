"""The `censor`, `subtitle`, `prompt_clip` and `summarize_video` agents on the real library, store
and media index, on media made by the app's own FFmpeg (`make_film`: a 7 s video of colour
segments with a 440 Hz tone). The speech comes from `KnownSpeech`, a double of the
`media.transcript.Transcriber` seam (the outside service) answering segments and word times known
by construction; the indexer puts them in the index as it would a real transcriber's. What is
checked is measured in the files the agents make: the sound level in and around a censored word,
a subtitle track and its text, a burned-in subtitle read back by OCR (Debian's `tesseract-ocr`),
a clip's length in frames."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from director_desktop.engine.agents.base import arguments_from_text
from director_desktop.engine.agents.censor import CensorAgent, windows_of
from director_desktop.engine.agents.prompt_clip import PromptClipAgent
from director_desktop.engine.agents.registry import default_registry
from director_desktop.engine.agents.subtitle import SubtitleAgent
from director_desktop.engine.agents.summarize import SummarizeVideoAgent
from director_desktop.media.indexer import MediaIndexer
from director_desktop.media.transcript import Segment, Word
from tests.fixtures.media import (
    Film,
    LibraryWorld,
    audio_pcm,
    ffmpeg_exe,
    film_fixture,  # noqa: F401 (the fixture)
    make_clip,
    make_film,
    make_segments,
    video_frames,
)
from tests.unit.agent_support import context

pytestmark = pytest.mark.anyio

RATE = 16000
SPEECH = [
    Segment(
        1.2,
        2.8,
        " the quick brown fox",
        (
            Word(1.2, 1.5, " the"),
            Word(1.5, 1.9, " quick"),
            Word(1.9, 2.3, " brown"),
            Word(2.3, 2.8, " fox!"),
        ),
    ),
    Segment(
        3.5,
        4.5,
        " jumps over the lazy dog",
        (
            Word(3.5, 3.7, " jumps"),
            Word(3.7, 3.9, " over"),
            Word(3.9, 4.0, " the"),
            Word(4.0, 4.2, " lazy"),
            Word(4.2, 4.5, " dog"),
        ),
    ),
]


class KnownSpeech:
    """A transcriber (the `media.transcript` seam) answering `said` (SPEECH) for any audio."""

    name = "known speech"

    def __init__(self, said: list[Segment] | None = None) -> None:
        self.said = said or SPEECH

    async def transcribe(
        self,
        audio: Path,
        *,
        language: str | None = None,
        on_progress: Callable[[float], None] | None = None,
    ) -> list[Segment]:
        return list(self.said)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[LibraryWorld]:
    opened = await LibraryWorld.open(tmp_path / "data")
    yield opened
    await opened.close()


async def spoken_film(
    world: LibraryWorld, film: Film | Path, said: list[Segment] | None = None
) -> tuple[Any, MediaIndexer]:
    """The film in the library, indexed with `said` (SPEECH) as its speech."""
    video = await world.add(film.video if isinstance(film, Film) else film)
    indexer = MediaIndexer(world.store, world.library, transcriber=KnownSpeech(said))
    await indexer.index(video.id)
    return video, indexer


def level(samples: Any, start: float, end: float) -> float:
    """The RMS level (dBFS) of mono 16 kHz samples from `start` to `end` seconds."""
    import numpy as np

    part = samples[int(start * RATE) : int(end * RATE)].astype(np.float64) / 32768
    rms = float(np.sqrt(np.mean(part**2))) if len(part) else 0.0
    return 20 * float(np.log10(max(rms, 1e-9)))


def peak_hz(samples: Any, start: float, end: float) -> float:
    import numpy as np

    part = samples[int(start * RATE) : int(end * RATE)].astype(np.float64)
    spectrum = np.abs(np.fft.rfft(part * np.hanning(len(part))))
    return float(np.fft.rfftfreq(len(part), 1 / RATE)[int(np.argmax(spectrum))])


def pcm(path: Path) -> Any:
    import numpy as np

    return np.frombuffer(audio_pcm(path, rate=RATE), dtype="<i2")


# --- censor ------------------------------------------------------------------------------------
async def test_censor_mutes_exactly_the_named_word(world: LibraryWorld, film: Film) -> None:
    video, indexer = await spoken_film(world, film)
    agent = CensorAgent(world.library, indexer)
    ctx = context(world, video_id=video.id)
    result = await agent.run(ctx, words=["Brown"], padding=0.0)
    assert result.status == "success", result.message
    assert result.data["windows"] == [[1.9, 2.3]]
    [item] = ctx.output.content
    assert (item["type"], item["status"], item["agent_name"]) == ("video", "success", "censor")
    made = await world.library.asset(result.data["video_id"])
    assert made.kind == "video"
    assert made.id != video.id
    assert abs(made.length - video.length) < 0.1
    samples = pcm(world.library.file_of(made))
    original = pcm(film.video)
    assert level(original, 1.95, 2.25) > -25  # the tone was there
    assert level(samples, 1.95, 2.25) < -60  # silent in the word
    assert level(samples, 1.5, 1.85) > -25  # loud around it
    assert level(samples, 2.35, 2.75) > -25
    assert level(samples, 4.0, 6.0) > -25
    assert world.staged() == []


async def test_censor_beeps_a_phrase_and_every_time_it_is_said(
    world: LibraryWorld, film: Film
) -> None:
    video, indexer = await spoken_film(world, film)
    agent = CensorAgent(world.library, indexer)
    result = await agent.run(
        context(world, video_id=video.id), words="brown fox, the", mode="beep", padding=0.0
    )
    assert result.status == "success", result.message
    # "the" twice (1.2-1.5, 3.9-4.0), "brown fox!" 1.9-2.8
    assert result.data["windows"] == [[1.2, 1.5], [1.9, 2.8], [3.9, 4.0]]
    samples = pcm(world.library.file_of(await world.library.asset(result.data["video_id"])))
    assert abs(peak_hz(samples, 2.0, 2.7) - 1000) < 20  # the beep instead of the tone
    assert abs(peak_hz(samples, 5.0, 6.0) - 440) < 20  # the tone elsewhere
    assert level(samples, 2.0, 2.7) > -25


async def test_censor_refuses_and_explains(world: LibraryWorld, film: Film) -> None:
    video = await world.add(film.video)
    indexer = MediaIndexer(world.store, world.library)
    agent = CensorAgent(world.library, indexer)
    ctx = context(world, video_id=video.id)
    not_indexed = await agent.run(ctx, words=["fox"])
    assert not_indexed.status == "error"
    assert not_indexed.data["error"]["code"] == "not_available"
    assert "@index" in not_indexed.message
    for bad in ("../director.sqlite3", "/etc/passwd", "a/b", ".."):
        refused = await agent.run(context(world), words=["fox"], video_id=bad)
        assert refused.data["error"]["code"] == "invalid_payload", bad
    other = await world.library.create_collection("other", "")
    elsewhere = await world.add(film.video, other.id)
    refused = await agent.run(context(world), words=["fox"], video_id=elsewhere.id)
    assert refused.data["error"]["code"] == "not_found"
    assert (await agent.run(ctx, words=[])).data["error"]["code"] == "invalid_payload"
    assert (await agent.run(ctx, words=["x"], mode="loud")).data["error"]["code"] == (
        "invalid_payload"
    )


async def test_censor_says_when_the_word_is_not_said(world: LibraryWorld, film: Film) -> None:
    video, indexer = await spoken_film(world, film)
    result = await CensorAgent(world.library, indexer).run(
        context(world, video_id=video.id), words=["elephant"]
    )
    assert result.data["error"]["code"] == "not_found"
    assert "elephant" in result.message


def test_censor_windows_and_free_text() -> None:
    lines = [*SPEECH, Segment(5.0, 6.0, "A subtitle line with darn in it")]
    windows, whole = windows_of(lines, ["darn", "LAZY"], 0.1)
    assert (windows, whole) == ([(3.9, 4.3), (5.0, 6.0)], 1)
    assert CensorAgent.from_text("darn, heck") == {"words": ["darn", "heck"]}
    assert CensorAgent.from_text("beep darn heck") == {"words": ["darn", "heck"], "mode": "beep"}
    some_id = "01936f1e-8b7a-7c3d-9e21-0a1b2c3d4e5f"
    assert arguments_from_text(CensorAgent.__new__(CensorAgent), f"mute brown fox {some_id}") == {
        "words": ["brown", "fox"],
        "mode": "mute",
        "video_id": some_id,
    }


# --- subtitle ----------------------------------------------------------------------------------
def subtitle_text(path: Path) -> str:
    """The first subtitle track of `path`, as SubRip (FFmpeg converts it)."""
    command = [ffmpeg_exe(), "-hide_banner", "-v", "error", "-i", str(path), "-map", "0:s:0"]
    command += ["-f", "srt", "-"]
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=60).stdout


def streams(path: Path) -> str:
    command = [ffmpeg_exe(), "-hide_banner", "-i", str(path)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60).stderr


def tesseract() -> str:
    found = shutil.which("tesseract")
    if found is None:
        if os.environ.get("DIRECTOR_TEST_ALL") == "1":
            pytest.fail(
                "DIRECTOR_TEST_ALL=1 but tesseract-ocr is missing (scripts/system-deps test)"
            )
        pytest.skip("tesseract-ocr is not installed (scripts/system-deps test)")
    return found


def ocr(video: Path, at: float, folder: Path) -> str:
    """The words tesseract reads in the lower part of the picture at `at` seconds (the white of
    the subtitles made black on white: the coloured background reads as nothing)."""
    picture = folder / f"frame-{at}.png"
    command = [ffmpeg_exe(), "-hide_banner", "-v", "error", "-ss", f"{at:.3f}", "-i", str(video)]
    command += [
        "-frames:v",
        "1",
        "-vf",
        "crop=iw:ih/2:0:ih/2,format=gray,lut=y='if(gt(val,200),0,255)'",
    ]
    command += ["-y", str(picture)]
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    read = subprocess.run(
        [tesseract(), str(picture), "stdout", "--psm", "6"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return " ".join(read.stdout.split()).casefold()


async def test_subtitle_adds_a_soft_track_of_the_transcript(
    world: LibraryWorld, film: Film
) -> None:
    video, indexer = await spoken_film(world, film)
    agent = SubtitleAgent(world.library, indexer)
    ctx = context(world, video_id=video.id)
    result = await agent.run(ctx, **arguments_from_text(agent, "soft"), language="eng")
    assert result.status == "success", result.message
    assert (result.data["lines"], result.data["mode"]) == (2, "soft")
    [item] = ctx.output.content
    assert (item["type"], item["status"], item["agent_name"]) == ("video", "success", "subtitle")
    made = world.library.file_of(await world.library.asset(result.data["video_id"]))
    assert made.suffix == ".mp4"
    report = streams(made)
    assert "Subtitle: mov_text" in report
    assert "(eng)" in report
    text = subtitle_text(made)
    assert "00:00:01,200 --> 00:00:02,800\nthe quick brown fox" in text
    assert "00:00:03,500 --> 00:00:04,500\njumps over the lazy dog" in text
    assert "red door" not in text  # the speech, not the film's own subtitle track
    assert video_frames(made) == video_frames(film.video)  # the picture copied
    assert world.staged() == []


async def test_subtitle_burns_in_words_ocr_reads_at_their_time_only(
    world: LibraryWorld, tmp_path: Path
) -> None:
    tesseract()
    big = make_film(tmp_path / "big", size="640x480")
    video, indexer = await spoken_film(world, big)
    agent = SubtitleAgent(world.library, indexer)
    ctx = context(world, video_id=video.id)
    result = await agent.run(ctx, **arguments_from_text(agent, "burn them in"), font_size=30)
    assert result.status == "success", result.message
    assert result.data["mode"] == "burn"
    made = world.library.file_of(await world.library.asset(result.data["video_id"]))
    report = streams(made)
    assert "Subtitle:" not in report  # drawn, not a track
    during = ocr(made, 1.6, tmp_path)
    assert {"quick", "brown"} <= set(during.split()), during
    later = ocr(made, 4.0, tmp_path)
    assert {"lazy", "dog"} <= set(later.split()), later
    for outside in (0.6, 3.1, 6.0):
        read = ocr(made, outside, tmp_path)
        assert not {"quick", "brown", "lazy", "dog"} & set(read.split()), (outside, read)


async def test_subtitle_refuses_and_explains(world: LibraryWorld, film: Film) -> None:
    video = await world.add(film.video)
    agent = SubtitleAgent(world.library, MediaIndexer(world.store, world.library))
    ctx = context(world, video_id=video.id)
    not_indexed = await agent.run(ctx)
    assert not_indexed.data["error"]["code"] == "not_available"
    assert "@index" in not_indexed.message
    for bad in ("../x", "/etc/passwd", ".."):
        refused = await agent.run(context(world), video_id=bad)
        assert refused.data["error"]["code"] == "invalid_payload", bad
    for wrong in ({"mode": "loud"}, {"font_size": 1000}, {"language": "../en"}):
        refused = await agent.run(ctx, **wrong)
        assert refused.data["error"]["code"] == "invalid_payload", wrong
    assert SubtitleAgent.from_text("burned in please") == {"mode": "burn"}
    assert SubtitleAgent.from_text("") == {}


# --- prompt_clip -------------------------------------------------------------------------------
async def test_prompt_clip_joins_the_two_matching_lines(world: LibraryWorld, film: Film) -> None:
    video, indexer = await spoken_film(world, film)
    agent = PromptClipAgent(world.library, indexer)
    ctx = context(world, video_id=video.id)
    result = await agent.run(ctx, **arguments_from_text(agent, "fox or dog"))
    assert result.status == "success", result.message
    assert result.data["parts"] == [[1.2, 2.8], [3.5, 4.5]]
    assert result.data["matched_by"] == "keywords"
    assert "keyword search" in result.message
    [item] = ctx.output.content
    assert (item["type"], item["status"], item["agent_name"]) == (
        "video",
        "success",
        "prompt_clip",
    )
    made = world.library.file_of(await world.library.asset(result.data["video_id"]))
    expected = round((1.6 + 1.0) * 25)  # 2.6 s at 25 fps
    assert abs(video_frames(made) - expected) <= 1
    assert world.staged() == []


async def test_prompt_clip_copies_when_the_lines_fall_on_keyframes(
    world: LibraryWorld, tmp_path: Path
) -> None:
    film = make_segments(tmp_path / "segments.mp4", ("red", "green", "blue"), keyint=25)
    said = [Segment(1.0, 2.0, "a fox runs"), Segment(3.0, 4.0, "the fox sleeps")]
    video, indexer = await spoken_film(world, film, said)
    result = await PromptClipAgent(world.library, indexer).run(
        context(world, video_id=video.id), prompt="fox", padding=0
    )
    assert result.status == "success", result.message
    assert (result.data["parts"], result.data["mode"]) == ([[1.0, 2.0], [3.0, 4.0]], "copy")
    made = world.library.file_of(await world.library.asset(result.data["video_id"]))
    assert abs(video_frames(made) - 50) <= 1


async def test_prompt_clip_refuses_and_explains(world: LibraryWorld, film: Film) -> None:
    video = await world.add(film.video)
    agent = PromptClipAgent(world.library, MediaIndexer(world.store, world.library))
    ctx = context(world, video_id=video.id)
    not_indexed = await agent.run(ctx, prompt="fox")
    assert not_indexed.data["error"]["code"] == "not_available"
    for bad in ("../x", "/etc/passwd", ".."):
        refused = await agent.run(context(world), prompt="fox", video_id=bad)
        assert refused.data["error"]["code"] == "invalid_payload", bad
    for wrong in ({}, {"prompt": "fox", "max_parts": 0}, {"prompt": "fox", "padding": -1}):
        refused = await agent.run(ctx, **wrong)
        assert refused.data["error"]["code"] == "invalid_payload", wrong
    video, indexer = await spoken_film(world, film)
    missing = await PromptClipAgent(world.library, indexer).run(
        context(world, video_id=video.id), prompt="elephant"
    )
    assert missing.data["error"]["code"] == "not_found"


# --- summarize_video ---------------------------------------------------------------------------
async def test_summarize_video_says_a_model_is_needed_and_what_it_would_use(
    world: LibraryWorld, film: Film, tmp_path: Path
) -> None:
    video, indexer = await spoken_film(world, film)
    agent = SummarizeVideoAgent(world.library, indexer)
    ctx = context(world, video_id=video.id)
    result = await agent.run(ctx)
    assert result.status == "error"
    assert result.data["error"]["code"] == "not_available"
    assert "needs a model" in result.message
    [item] = ctx.output.content
    assert (item["type"], item["status"], item["agent_name"]) == (
        "text",
        "error",
        "summarize_video",
    )
    assert "transcript: 2 lines" in item["text"]
    assert "scenes: 3" in item["text"]
    unindexed = await world.add(make_clip(tmp_path / "other.mp4"))
    ctx = context(world)
    await agent.run(ctx, video_id=unindexed.id)
    assert "once it is indexed (@index" in ctx.output.content[0]["text"]
    refused = await agent.run(context(world), video_id="../x")
    assert refused.data["error"]["code"] == "invalid_payload"


def test_the_agents_are_registered_with_an_example_each() -> None:
    from tests.fixtures.media import LibraryWorld as World

    registry = default_registry(World(Path("/nonexistent/data")).library)
    for name, example in (
        ("prompt_clip", "@prompt_clip the parts about the budget"),
        ("subtitle", "@subtitle"),
        ("censor", "@censor darn, heck"),
        ("summarize_video", "@summarize_video"),
    ):
        agent = registry.get(name)
        assert getattr(agent, "examples", [None])[0] == example
