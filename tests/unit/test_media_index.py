"""The media index on the real library: FFmpeg's scene detection, subtitles (an embedded track and
the sidecars of a file referenced in place), speech from a transcriber, and the BM25 search over
them, on media made by the app's own FFmpeg with ground truth by construction (`make_film`: red
0-2 s, green 2-5 s, blue 5-7 s, subtitle lines at known times). Real store, jobs and files.

The transcribers here are doubles of the `media.transcript.Transcriber` seam (the composition root
hands in whisper.cpp or an OpenAI-compatible endpoint; their own tests are elsewhere): they answer
known segments and check the audio they are given is the 16 kHz mono WAV the seam promises.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import struct
import wave
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from director_desktop.errors import (
    Cancelled,
    Conflict,
    DirectorError,
    InvalidPayload,
    NotFound,
)
from director_desktop.media.indexer import NO_TRANSCRIBER, MediaIndexer
from director_desktop.media.transcript import Segment, Word
from director_desktop.store import AssetRecord
from tests.fixtures.media import (
    FILM_CUTS,
    FILM_EMBEDDED,
    FILM_SEGMENTS,
    FILM_SIDECAR_SRT,
    FILM_SIDECAR_VTT,
    Film,
    LibraryWorld,
    MediaFiles,
    ffmpeg_pids,
    film_fixture,  # noqa: F401 (the fixture)
    make_clip,
    media_files_fixture,  # noqa: F401 (the fixture)
    near,
    picture_size,
    thumbnail_colour,
)

pytestmark = pytest.mark.anyio

DEADLINE = 30.0
FILM_LENGTH = sum(seconds for _, seconds in FILM_SEGMENTS)
FOX_WORDS = (Word(1.2, 1.5, " the"), Word(1.5, 1.9, " quick"), Word(1.9, 2.3, " brown"))
SPEECH = [
    Segment(1.2, 2.8, " the quick brown fox", (*FOX_WORDS, Word(2.3, 2.8, " fox"))),
    Segment(3.5, 4.5, "jumps over the lazy dog"),
]


class KnownSpeech:
    """Answers SPEECH for any audio; notes what it was given; can wait at a gate (mid-job)."""

    name = "known speech"

    def __init__(self, *, gate: asyncio.Event | None = None, fail: bool = False) -> None:
        self.gate = gate
        self.fail = fail
        self.started = asyncio.Event()
        self.heard: list[tuple[int, int, float]] = []  # (channels, rate, seconds)
        self.cancelled = False

    async def transcribe(
        self,
        audio: Path,
        *,
        language: str | None = None,
        on_progress: Callable[[float], None] | None = None,
    ) -> list[Segment]:
        with wave.open(str(audio)) as wav:
            self.heard.append(
                (wav.getnchannels(), wav.getframerate(), wav.getnframes() / wav.getframerate())
            )
        self.started.set()
        if self.gate is not None:
            try:
                await self.gate.wait()
            except asyncio.CancelledError:
                self.cancelled = True
                raise
        if self.fail:
            raise DirectorError("the transcription endpoint is down", code="transcription_failed")
        if on_progress is not None:
            on_progress(1.0)
        return list(SPEECH)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[LibraryWorld]:
    opened = await LibraryWorld.open(tmp_path / "data")
    yield opened
    await opened.close()


def indexer_of(world: LibraryWorld, transcriber: Any = None) -> MediaIndexer:
    return MediaIndexer(world.store, world.library, transcriber=transcriber)


async def wait_job(world: LibraryWorld, job_id: str) -> Any:
    async with asyncio.timeout(DEADLINE):
        while True:
            job = await world.jobs.get(job_id)
            if job["status"] in ("done", "error", "cancelled"):
                return job
            await asyncio.sleep(0.02)


async def referenced(world: LibraryWorld, path: Path, collection_id: str = "default") -> Any:
    """Import `path` referenced in place (as the file dialog's "keep it where it is")."""
    job = await world.library.import_path(path, collection_id=collection_id, reference=True)
    done = await wait_job(world, job["id"])
    assert done["status"] == "done", done
    return await world.library.asset(done["result"]["asset_id"])


def index_rows(world: LibraryWorld, asset_id: str) -> dict[str, int]:
    """How many rows of each index table the asset has, read from the file itself."""
    conn = sqlite3.connect(world.data / "director.sqlite3")
    try:
        return {
            table: conn.execute(
                f"SELECT count(*) FROM {table} WHERE asset_id = ?", (asset_id,)
            ).fetchone()[0]
            for table in ("index_state", "index_scenes", "index_lines")
        }
    finally:
        conn.close()


def scene_folders(world: LibraryWorld, asset: AssetRecord) -> list[str]:
    folder = world.data / "media" / asset.id
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("scenes-"))


# --- scenes ----------------------------------------------------------------------------------
async def test_index_finds_each_cut_within_half_a_second_and_no_other(
    world: LibraryWorld, film: Film
) -> None:
    video = await world.add(film.video)
    indexer = indexer_of(world)
    seen: list[tuple[float | None, str]] = []
    report = await indexer.index(video.id, on_progress=lambda f, d: seen.append((f, d)))
    scenes = await indexer.scenes(video.id)
    assert len(scenes) == len(FILM_SEGMENTS), scenes
    assert scenes[0].start == 0.0
    for scene, cut in zip(scenes[1:], FILM_CUTS, strict=True):
        assert abs(scene.start - cut) <= 0.5, (scene, cut)
    assert [a.end for a in scenes[:-1]] == [b.start for b in scenes[1:]]
    assert abs(scenes[-1].end - FILM_LENGTH) <= 0.1
    # One thumbnail per scene, of the scene's colour, in the asset's folder.
    for scene, (colour, _) in zip(scenes, FILM_SEGMENTS, strict=True):
        path = indexer.scene_thumbnail(scene)
        assert path.is_relative_to((world.data / "media" / video.id).resolve())
        assert path.read_bytes()[:2] == b"\xff\xd8"  # a JPEG
        assert near(thumbnail_colour(path), colour), (colour, thumbnail_colour(path))
    assert report.scenes == 3
    assert report.lines == {"transcript": 0, "subtitle": 3, "name": 1}
    assert NO_TRANSCRIBER in report.notes
    state = await indexer.state(video.id)
    assert (state.status, state.job_id, state.error) == ("indexed", report.job_id, None)
    assert state.indexed_at is not None
    assert state.summary["scenes"] == 3
    fractions = [f for f, _ in seen if f is not None]
    assert fractions == sorted(fractions)
    assert fractions[-1] == pytest.approx(1.0)
    assert world.staged() == []
    job = await world.jobs.get(report.job_id)
    assert (job["kind"], job["status"]) == ("index", "done")


async def test_an_audio_file_has_no_scenes_and_is_found_by_its_name(
    world: LibraryWorld, media_files: MediaFiles
) -> None:
    audio = await world.add(media_files.tone_wav)
    indexer = indexer_of(world, KnownSpeech())
    report = await indexer.index(audio.id)
    assert report.scenes == 0
    assert await indexer.scenes(audio.id) == []
    assert report.lines["transcript"] == 2
    [hit] = await indexer.search("tone", asset_id=audio.id)
    assert (hit.source, hit.start, hit.end, hit.text) == ("name", 0.0, audio.length, "tone")


# --- subtitles and search ----------------------------------------------------------------------
async def test_search_finds_embedded_and_sidecar_lines_at_their_times(
    world: LibraryWorld, film: Film
) -> None:
    video = await referenced(world, film.video)
    assert not video.owned
    indexer = indexer_of(world)
    report = await indexer.index(video.id)
    assert report.lines["subtitle"] == len(FILM_EMBEDDED + FILM_SIDECAR_SRT + FILM_SIDECAR_VTT)
    for cue, track in [
        *[(cue, "0:eng") for cue in FILM_EMBEDDED],
        *[(cue, "film.srt") for cue in FILM_SIDECAR_SRT],
        *[(cue, "film.fr.vtt") for cue in FILM_SIDECAR_VTT],
    ]:
        words = " ".join(cue.text.split()[1:4])
        hits = await indexer.search(words, asset_id=video.id)
        assert hits, words
        best = hits[0]
        assert (best.source, best.track, best.text) == ("subtitle", track, cue.text)
        assert (best.start, best.end) == (cue.start, cue.end)
        assert best.score > 0
    assert await indexer.search("tests", asset_id=video.id) == []  # in a NOTE block, not a cue
    # A copy owned by the library was copied alone: no sidecars.
    other = await world.library.create_collection("Copies", "")
    owned = await world.add(film.video, other.id)
    await indexer.index(owned.id)
    assert await indexer.search("lighthouse", asset_id=owned.id) == []
    assert len(await indexer.search("green field", asset_id=owned.id)) == 1


async def test_search_one_asset_or_a_collection(
    world: LibraryWorld, film: Film, media_files: MediaFiles
) -> None:
    indexer = indexer_of(world)
    film_here = await world.add(film.video)
    clip_here = await world.add(media_files.clip_mp4)  # subtitles "Hello", "World"
    elsewhere = await world.library.create_collection("Elsewhere", "")
    film_there = await world.add(film.video, elsewhere.id)
    for asset in (film_here, clip_here, film_there):
        await indexer.index(asset.id)

    def found(hits: list[Any]) -> list[tuple[str, float, float]]:
        return sorted((h.asset_id, h.start, h.end) for h in hits)

    in_default = await indexer.search("world", collection_id="default")
    assert found(in_default) == sorted([(film_here.id, 5.25, 6.5), (clip_here.id, 1.5, 3.0)])
    assert found(await indexer.search("world", asset_id=clip_here.id)) == [(clip_here.id, 1.5, 3.0)]
    assert found(await indexer.search("world", collection_id=elsewhere.id)) == [
        (film_there.id, 5.25, 6.5)
    ]
    assert len(await indexer.search("world")) == 3  # the whole library
    # Words, never FTS5 syntax; lines with every word first, else any of them.
    assert await indexer.search('"AND ( NEAR* -') == []
    [both] = await indexer.search("green wheat", collection_id="default")
    assert both.text == "A green field of wheat"
    some = await indexer.search("wheat zeppelin", collection_id="default")
    assert [h.text for h in some] == ["A green field of wheat"]
    with pytest.raises(InvalidPayload):
        await indexer.search("world", limit=0)


async def test_reindexing_replaces_the_index(world: LibraryWorld, film: Film) -> None:
    video = await world.add(film.video)
    indexer = indexer_of(world)
    first = await indexer.index(video.id)
    rows = index_rows(world, video.id)
    assert scene_folders(world, video) == [f"scenes-{first.job_id}"]
    second = await indexer.index(video.id)
    assert second.job_id != first.job_id
    assert index_rows(world, video.id) == rows
    assert scene_folders(world, video) == [f"scenes-{second.job_id}"]  # the old one is gone
    assert len(await indexer.search("green field", asset_id=video.id)) == 1
    assert all(indexer.scene_thumbnail(s).is_file() for s in await indexer.scenes(video.id))
    # With speech this time: the new index has it, the subtitles once.
    third = await indexer_of(world, KnownSpeech()).index(video.id)
    assert third.lines == {"transcript": 2, "subtitle": 3, "name": 1}
    assert len(await indexer.search("green field", asset_id=video.id)) == 1


async def test_deleting_an_asset_deletes_its_index(world: LibraryWorld, film: Film) -> None:
    video = await world.add(film.video)
    indexer = indexer_of(world)
    await indexer.index(video.id)
    assert index_rows(world, video.id)["index_lines"] == 4
    await world.library.delete_asset(video)
    assert index_rows(world, video.id) == {"index_state": 0, "index_scenes": 0, "index_lines": 0}
    assert await indexer.search("green field") == []
    assert (await indexer.state(video.id)).status == "not_indexed"
    assert video.id not in world.asset_folders()


# --- speech -----------------------------------------------------------------------------------
async def test_speech_reaches_the_index_with_its_word_times(
    world: LibraryWorld, film: Film
) -> None:
    video = await world.add(film.video)
    speech = KnownSpeech()
    indexer = indexer_of(world, speech)
    report = await indexer.index(video.id)
    [(channels, rate, seconds)] = speech.heard
    assert (channels, rate) == (1, 16000)
    assert abs(seconds - FILM_LENGTH) < 0.1
    assert report.speech == "transcribed by known speech"
    assert report.notes == []
    [hit] = await indexer.search("brown fox", asset_id=video.id)
    assert (hit.source, hit.start, hit.end, hit.text) == (
        "transcript",
        1.2,
        2.8,
        "the quick brown fox",
    )
    transcript = await indexer.transcript(video.id)
    assert [(s.start, s.end, s.text) for s in transcript] == [
        (1.2, 2.8, "the quick brown fox"),
        (3.5, 4.5, "jumps over the lazy dog"),
    ]
    assert transcript[0].words == (
        Word(1.2, 1.5, "the"),
        Word(1.5, 1.9, "quick"),
        Word(1.9, 2.3, "brown"),
        Word(2.3, 2.8, "fox"),
    )
    assert world.staged() == []


async def test_without_speech_the_transcript_is_the_first_subtitle_track(
    world: LibraryWorld, film: Film
) -> None:
    video = await referenced(world, film.video)
    indexer = indexer_of(world)
    assert await indexer.transcript(video.id) == []
    await indexer.index(video.id)
    transcript = await indexer.transcript(video.id)
    assert [(s.start, s.end, s.text) for s in transcript] == [
        (c.start, c.end, c.text) for c in FILM_EMBEDDED
    ]


async def test_a_failing_transcriber_leaves_the_rest_indexed(
    world: LibraryWorld, film: Film
) -> None:
    video = await world.add(film.video)
    report = await indexer_of(world, KnownSpeech(fail=True)).index(video.id)
    assert report.speech == "failed: transcription_failed"
    assert any("endpoint is down" in note for note in report.notes)
    assert report.scenes == 3
    assert report.lines["subtitle"] == 3
    assert (await indexer_of(world).state(video.id)).status == "indexed"


# --- stop, refusals ---------------------------------------------------------------------------
async def test_stop_mid_index_stores_nothing(world: LibraryWorld, film: Film) -> None:
    video = await world.add(film.video)
    speech = KnownSpeech(gate=asyncio.Event())  # never opened: the job waits at speech
    indexer = indexer_of(world, speech)
    running = asyncio.create_task(indexer.index(video.id))
    async with asyncio.timeout(DEADLINE):
        await speech.started.wait()  # scenes and subtitles are done, in staging
    assert (await indexer.state(video.id)).status == "indexing"
    assert world.staged() != []
    running.cancel()  # the turn's `stop`
    with pytest.raises(asyncio.CancelledError):
        await running
    assert speech.cancelled
    assert index_rows(world, video.id) == {"index_state": 0, "index_scenes": 0, "index_lines": 0}
    assert (await indexer.state(video.id)).status == "not_indexed"
    assert scene_folders(world, video) == []
    assert world.staged() == []
    [job] = [j for j in await world.jobs.recent() if j["kind"] == "index"]
    assert job["status"] == "cancelled"


async def test_a_stopped_reindex_keeps_the_old_index(world: LibraryWorld, film: Film) -> None:
    video = await world.add(film.video)
    first = await indexer_of(world).index(video.id)
    rows, folders = index_rows(world, video.id), scene_folders(world, video)
    speech = KnownSpeech(gate=asyncio.Event())
    running = asyncio.create_task(indexer_of(world, speech).index(video.id))
    async with asyncio.timeout(DEADLINE):
        await speech.started.wait()
    [job] = [j for j in await world.jobs.recent() if j["status"] == "running"]
    cancelled = await world.jobs.cancel(job["id"])  # from the jobs list this time
    assert cancelled["status"] == "cancelled"
    with pytest.raises(Cancelled):
        await running
    state = await indexer_of(world).state(video.id)
    assert (state.status, state.job_id) == ("indexed", first.job_id)
    assert index_rows(world, video.id) == rows
    assert scene_folders(world, video) == folders
    assert world.staged() == []


async def test_stop_while_ffmpeg_finds_scenes_kills_it(world: LibraryWorld, tmp_path: Path) -> None:
    long = await world.add(make_clip(tmp_path / "long.mp4", seconds=30.0, size="640x360"))
    running = asyncio.create_task(indexer_of(world).index(long.id))
    async with asyncio.timeout(DEADLINE):
        while True:
            if ffmpeg_pids(long.id):  # FFmpeg is reading the file, finding scenes
                break
            await asyncio.sleep(0.005)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert ffmpeg_pids(long.id) == []
    assert index_rows(world, long.id) == {"index_state": 0, "index_scenes": 0, "index_lines": 0}
    assert world.staged() == []


async def test_refusals(world: LibraryWorld, film: Film, media_files: MediaFiles) -> None:
    indexer = indexer_of(world)
    image = await world.add(media_files.still_png)
    with pytest.raises(InvalidPayload):
        await indexer.index(image.id)
    video = await world.add(film.video)
    elsewhere = await world.library.create_collection("Elsewhere", "")
    with pytest.raises(NotFound):
        await indexer.index(video.id, collection_id=elsewhere.id)
    for bad in ("../" + video.id, "/etc/passwd", "no-such-asset"):
        with pytest.raises(NotFound):
            await indexer.index(bad)
    # Indexing one asset twice at once.
    speech = KnownSpeech(gate=asyncio.Event())
    busy = indexer_of(world, speech)
    running = asyncio.create_task(busy.index(video.id))
    async with asyncio.timeout(DEADLINE):
        await speech.started.wait()
    with pytest.raises(Conflict):
        await busy.index(video.id)
    assert speech.gate is not None
    speech.gate.set()
    assert (await running).lines["transcript"] == 2


async def test_a_missing_file_is_an_error_state(
    world: LibraryWorld, film: Film, tmp_path: Path
) -> None:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    moved = Path(shutil.copy(film.video, folder / "moved.mp4"))
    video = await referenced(world, moved)
    await asyncio.to_thread(moved.unlink)
    indexer = indexer_of(world)
    with pytest.raises(NotFound):
        await indexer.index(video.id)
    state = await indexer.state(video.id)
    assert state.status == "error"
    assert state.error is not None
    assert state.error["code"] == "not_found"
    assert "moved.mp4" in state.error["message"]
    assert world.staged() == []


# --- vectors (the storage of semantic search; no embedding model is wired yet) ---------------
async def test_vectors_are_stored_walked_in_batches_and_go_with_their_lines(
    world: LibraryWorld, film: Film
) -> None:
    indexer = indexer_of(world)
    video = await world.add(film.video)
    elsewhere = await world.library.create_collection("Elsewhere", "")
    theirs = await world.add(film.video, elsewhere.id)
    for asset in (video, theirs):
        await indexer.index(asset.id)
    index = world.store.index
    todo = await index.lines_to_embed(video.id, "tiny")
    assert sorted(text for _, text in todo) == sorted([*(c.text for c in FILM_EMBEDDED), "film"])
    vectors = {line_id: struct.pack("<4f", n, 0, 0, 1) for n, (line_id, _) in enumerate(todo)}
    assert await index.put_vectors("tiny", vectors.items()) == len(vectors)
    assert await index.lines_to_embed(video.id, "tiny") == []
    assert len(await index.lines_to_embed(video.id, "other-model")) == len(todo)
    walked: list[tuple[int, bytes]] = []
    after = 0
    while batch := await index.vectors("tiny", collection_id="default", after=after, batch=2):
        walked += batch
        after = batch[-1][0]
    assert walked == sorted(vectors.items())
    assert await index.vectors("tiny", collection_id=elsewhere.id) == []
    assert await index.vectors("other-model", asset_id=video.id) == []
    scored = [(walked[2][0], 0.9), (walked[0][0], 0.5)]
    hits = await index.hits(scored)
    assert [(h.line_id, h.score) for h in hits] == scored
    await indexer.index(video.id)  # a new index: new lines, the old vectors gone with theirs
    assert await index.vectors("tiny", asset_id=video.id) == []
    assert len(await index.lines_to_embed(video.id, "tiny")) == len(todo)


@pytest.mark.parametrize(
    ("name", "subtitles", "thumbnail_size"),
    [
        ("clip_mp4", 2, (320, 240)),  # mov_text
        ("clip_mkv", 2, (320, 240)),  # SubRip in Matroska
        ("clip_avi", 0, (320, 240)),
        ("rotated_mp4", 2, (240, 320)),  # shown turned: its thumbnails too
    ],
)
async def test_every_video_the_library_takes_indexes(
    world: LibraryWorld,
    media_files: MediaFiles,
    name: str,
    subtitles: int,
    thumbnail_size: tuple[int, int],
) -> None:
    video = await world.add(getattr(media_files, name))
    indexer = indexer_of(world)
    report = await indexer.index(video.id)
    assert report.lines["subtitle"] == subtitles
    if subtitles:
        [hit] = await indexer.search("world", asset_id=video.id)
        assert (hit.start, hit.end, hit.text) == (1.5, 3.0, "World")
    [scene] = await indexer.scenes(video.id)  # a test pattern: one shot
    assert (scene.start, scene.end) == (0.0, video.length)
    assert picture_size(indexer.scene_thumbnail(scene)) == thumbnail_size
