"""Text shown on screen in the media index: each scene's thumbnail read by Tesseract (optional,
detected), so `search` finds words that are only shown. The video is made by the tests with
FFmpeg's `drawtext`: a plain blue shot, then a cut at 2 s to a title card, then a plain shot."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from director_desktop.engine.agents.index_agent import IndexAgent
from director_desktop.media.indexer import MediaIndexer
from director_desktop.media.scene_text import NOT_INSTALLED, SceneReader, words_of
from tests.fixtures.media import H264_AAC, LibraryWorld, ffmpeg
from tests.unit.agent_support import context

pytestmark = pytest.mark.anyio

TITLE = "HARBOUR NEWS"


def reader() -> SceneReader:
    found = SceneReader.locate(os.environ)
    if found is None:
        if os.environ.get("DIRECTOR_TEST_ALL") == "1":
            pytest.fail(
                "DIRECTOR_TEST_ALL=1 but tesseract-ocr is missing (scripts/system-deps test)"
            )
        pytest.skip("tesseract-ocr is not installed (scripts/system-deps test)")
    return found


@pytest.fixture(scope="module")
def titled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Blue 0-2 s, a dark title card reading TITLE 2-4 s, green 4-6 s."""
    path = tmp_path_factory.mktemp("titled") / "titled.mp4"
    text = f"drawtext=text='{TITLE}':fontsize=30:fontcolor=white:x=(w-text_w)/2:y=(h-text_h)/2"
    graph = (
        "color=c=0x2040C0:s=320x240:r=25:d=2[a];"
        f"color=c=0x202020:s=320x240:r=25:d=2,{text}[b];"
        "color=c=0x20A040:s=320x240:r=25:d=2[c];[a][b][c]concat=n=3:v=1:a=0"
    )
    ffmpeg(
        *["-f", "lavfi", "-i", graph, "-f", "lavfi", "-i", "sine=frequency=440:duration=6"],
        *H264_AAC, *["-t", "6", str(path)],
    )  # fmt: skip
    return path


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[LibraryWorld]:
    opened = await LibraryWorld.open(tmp_path / "data")
    yield opened
    await opened.close()


async def test_search_finds_words_shown_on_screen_at_their_scene(
    world: LibraryWorld, titled: Path
) -> None:
    video = await world.add(titled)
    indexer = MediaIndexer(world.store, world.library, scene_reader=reader())
    report = await indexer.index(video.id)
    assert report.lines["scene"] == 1, "only the title card has text"
    [hit] = await indexer.search("harbour", asset_id=video.id)
    assert hit.source == "scene"
    assert TITLE in hit.text
    assert abs(hit.start - 2.0) <= 0.5
    assert abs(hit.end - 4.0) <= 0.5
    assert NOT_INSTALLED not in report.notes
    result = await IndexAgent(world.library, indexer).run(context(world), video_id=video.id)
    assert "1 scene with text on screen" in result.message


async def test_without_tesseract_the_index_says_so_and_keeps_the_rest(
    world: LibraryWorld, titled: Path
) -> None:
    video = await world.add(titled)
    indexer = MediaIndexer(world.store, world.library, read_scenes=True)
    report = await indexer.index(video.id)
    assert NOT_INSTALLED in report.notes
    assert report.scenes == 3
    assert await indexer.search("harbour", asset_id=video.id) == []


def test_a_tesseract_that_is_not_there_is_not_found(tmp_path: Path) -> None:
    assert SceneReader.locate({"DIRECTOR_TESSERACT": str(tmp_path / "absent")}) is None
    if shutil.which("tesseract"):
        assert SceneReader.locate({}) is not None


def test_only_confident_words_are_kept() -> None:
    header = "\t".join(
        [
            "level",
            "page_num",
            "block_num",
            "par_num",
            "line_num",
            "word_num",
            "left",
            "top",
            "width",
            "height",
            "conf",
            "text",
        ]
    )
    rows = [
        "5\t1\t1\t1\t1\t1\t0\t0\t9\t9\t96.5\tHARBOUR",
        "5\t1\t1\t1\t1\t2\t0\t0\t9\t9\t95.1\tNEWS",
        "5\t1\t2\t1\t1\t1\t0\t0\t9\t9\t31.0\tzq",
        "5\t1\t3\t1\t1\t1\t0\t0\t9\t9\t91.0\t~~",
        "5\t1\t4\t1\t1\t1\t0\t0\t9\t9\t88.0\tToday",
    ]
    assert words_of("\n".join([header, *rows])) == "HARBOUR NEWS\nToday"
