"""Where a transcript is found: the media index first, else the transcript the `transcription`
agent made of an asset that was not indexed, kept beside the asset's files.

`<media dir>/<asset_id>/transcript.json` lives and dies with the asset: deleting the asset
removes its folder, and a folder no asset names is removed at start-up (media/library.py). It is
written whole or not at all. The index is read through `store.index.transcript(asset_id)` (built
by the media room's indexer: the speech lines, else the first subtitle track); a transcript in
the index wins. Imports `errors`, the media room's file helpers and transcript types, and (for
typing) the store.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Final, NotRequired, TypedDict

from director_desktop.errors import NotFound
from director_desktop.media.files import atomic_output
from director_desktop.media.transcript import Segment, Word

if TYPE_CHECKING:
    from director_desktop.store import Store

FILE: Final = "transcript.json"
VERSION: Final = 1
ASSET_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")


class TranscriptShelf:
    def __init__(self, media_dir: Path) -> None:
        self.media_dir = media_dir

    def path(self, asset_id: str) -> Path:
        """The asset's transcript file; `not_found` for an id that could name no asset folder."""
        if not ASSET_ID.fullmatch(asset_id):
            raise NotFound("no such asset")
        return self.media_dir / asset_id / FILE

    async def save(self, asset_id: str, segments: list[Segment], *, by: str) -> None:
        document = {
            "version": VERSION,
            "by": by,
            "made_at": int(time.time()),
            "segments": [_segment_json(s) for s in segments],
        }
        path = self.path(asset_id)
        await asyncio.to_thread(path.parent.mkdir, exist_ok=True)
        async with atomic_output(path) as temp:
            await asyncio.to_thread(temp.write_text, json.dumps(document), "utf-8")

    async def load(self, asset_id: str) -> list[Segment] | None:
        """The kept transcript, or None (none kept, or one this version cannot read)."""
        try:
            raw = await asyncio.to_thread(self.path(asset_id).read_text, "utf-8")
            document = json.loads(raw)
            if not isinstance(document, dict) or document.get("version") != VERSION:
                return None
            return [_segment(s) for s in document["segments"]]
        except (OSError, ValueError, KeyError, TypeError):
            return None


class SegmentJSON(TypedDict):
    """One segment as the shelf's file keeps it; a word is `[start, end, text]`."""

    start: float
    end: float
    text: str
    words: NotRequired[list[tuple[float, float, str]]]


def _segment_json(segment: Segment) -> SegmentJSON:
    return {
        "start": segment.start,
        "end": segment.end,
        "text": segment.text,
        "words": [(w.start, w.end, w.text) for w in segment.words],
    }


def _segment(raw: SegmentJSON) -> Segment:
    words = tuple(Word(float(s), float(e), str(t)) for s, e, t in raw.get("words", []))
    return Segment(float(raw["start"]), float(raw["end"]), str(raw["text"]), words)


async def find_transcript(
    store: Store, shelf: TranscriptShelf, asset_id: str
) -> tuple[list[Segment], str] | None:
    """The asset's transcript and where it came from (`index` or `transcription`), or None."""
    indexed = await store.index.transcript(asset_id)
    if indexed:
        return [
            Segment(
                line.start,
                line.end,
                line.text,
                tuple(Word(w.start, w.end, w.text) for w in line.words),
            )
            for line in indexed
        ], "index"
    kept = await shelf.load(asset_id)
    return (kept, "transcription") if kept is not None else None
