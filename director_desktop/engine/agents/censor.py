"""The `censor` agent: a copy of a video (or an audio file) with the words the user names muted
or beeped, found by the word times of its transcript; the copy is a new asset of the collection.

The transcript is the media index's (`MediaIndexer.transcript`: the speech with its word times,
else the first subtitle track). A word is matched whole, case and punctuation aside; several
words in one entry ("brown fox") match those words in a row. A line without word times (a
subtitle line) that holds the words is silenced whole, and the agent says so. The work runs as a
job (`censor`) in its staging folder (`media.tracks.silence`: the picture copied, the sound
encoded once) and the file becomes an asset through `MediaLibrary.add_made`; a stop cancels the
job and nothing half-made is kept. `transcript_of` is shared with the other agents that read a
transcript. Imports the agents' helpers, `errors`, `jobs` and `media`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import Any, Final, Literal, TypedDict

from director_desktop.engine.agents.base import AgentContext, AgentResult
from director_desktop.engine.agents.media_items import video_data
from director_desktop.engine.agents.params import (
    find_asset,
    ids_in,
    optional_number,
    source_of,
    words_without,
)
from director_desktop.engine.agents.work import AgentItem, Report, keep_made, made_asset, run_job
from director_desktop.errors import DirectorError, InvalidPayload, NotAvailable, NotFound
from director_desktop.jobs import JobContext
from director_desktop.media.editing import clock
from director_desktop.media.indexer import MediaIndexer
from director_desktop.media.library import MediaLibrary
from director_desktop.media.tracks import silence
from director_desktop.media.transcript import Segment
from director_desktop.protocol import JobResult, JSONSchema
from director_desktop.store import AssetRecord

Mode = Literal["mute", "beep"]
MODES: Final = ("mute", "beep")
MAX_WORDS: Final = 50
MAX_PADDING: Final = 1.0
DEFAULT_PADDING: Final = 0.05  # seconds around each word: word times are a little loose
APOSTROPHE: Final = "\u2019"  # the typographic one, read as "'"
TOKEN = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")


def tokens(text: str) -> list[str]:
    """The words of `text`, lower case, punctuation aside ("Don't!" → ["don't"])."""
    return [t.replace(APOSTROPHE, "'") for t in TOKEN.findall(text.casefold())]


async def transcript_of(
    indexer: MediaIndexer, ctx: AgentContext, asset: AssetRecord, *, words: bool = False
) -> list[Segment]:
    """The asset's transcript from the media index; `not_available` saying how to get one when
    the asset is not indexed or nothing is said in it (with `words`: says word times help)."""
    state = await ctx.store.index.state(asset.id)
    if state.status != "indexed":
        raise NotAvailable(
            f"{asset.name} is not indexed yet: @index indexes it (its speech too, when speech to "
            "text is set up in Settings → Speech), then ask again"
        )
    found = await indexer.transcript(asset.id)
    if not found:
        timed = " with word times" if words else ""
        raise NotAvailable(
            f"{asset.name} has no transcript{timed}: set up speech to text in Settings → Speech "
            "and index it again (@index), or give it a subtitle track"
        )
    return found


def windows_of(
    segments: Sequence[Segment], terms: Sequence[str], padding: float
) -> tuple[list[tuple[float, float]], int]:
    """The times of every `terms` entry said in `segments` (padded), merged; and how many lines
    without word times were taken whole."""
    wanted = [t for t in (tokens(term) for term in terms) if t]
    found: list[tuple[float, float]] = []
    whole = 0
    for segment in segments:
        if not segment.words:
            said = tokens(segment.text)
            if any(_at(said, term) for term in wanted):
                found.append((segment.start, segment.end))
                whole += 1
            continue
        said_words = [(w, tokens(w.text)) for w in segment.words]
        flat = [(w, token) for w, ts in said_words for token in ts]
        spoken = [token for _, token in flat]
        for term in wanted:
            for at in _at(spoken, term):
                first, last = flat[at][0], flat[at + len(term) - 1][0]
                found.append((first.start - padding, last.end + padding))
    return _merged(found), whole


def _at(said: list[str], term: list[str]) -> list[int]:
    n = len(term)
    return [i for i in range(len(said) - n + 1) if said[i : i + n] == term]


def _merged(windows: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted((max(a, 0.0), b) for a, b in windows):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def word_list(value: object) -> list[str]:
    """`words` as given: a list of words or phrases, or one text of them split at commas."""
    if isinstance(value, str):
        value = [part for part in value.split(",")]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidPayload("words must be the words to censor: a list of words or phrases")
    found = [" ".join(v.split()) for v in value if tokens(v)]
    if not found:
        raise InvalidPayload("which words? name the words to mute or beep")
    if len(found) > MAX_WORDS:
        raise InvalidPayload(f"at most {MAX_WORDS} words or phrases at a time")
    return found


class CensorArguments(TypedDict, total=False):
    """`run`'s keyword arguments (see `parameters`)."""

    words: list[str]
    mode: Mode
    padding: float
    video_id: str


class CensorAgent:
    name = "censor"
    description = (
        "Mutes or beeps the words named in a copy of a video, found by its transcript's "
        "word times (needs it indexed with speech)."
    )
    parameters: JSONSchema = {
        "type": "object",
        "properties": {
            "words": {
                "type": "array",
                "items": {"type": "string"},
                "description": 'The words (or phrases, "brown fox") to censor.',
            },
            "mode": {
                "type": "string",
                "enum": list(MODES),
                "description": "mute (silence, the default) or beep (a 1 kHz tone).",
            },
            "padding": {
                "type": "number",
                "description": f"Seconds added around each word (0-{MAX_PADDING:g}; "
                f"default {DEFAULT_PADDING:g}).",
            },
            "video_id": {
                "type": "string",
                "description": "The video's id; by default the video the user is looking at.",
            },
        },
        "required": ["words"],
    }
    examples = ["@censor darn, heck", "@censor beep darn"]

    def __init__(self, library: MediaLibrary, indexer: MediaIndexer) -> None:
        self.library = library
        self.indexer = indexer

    @staticmethod
    def from_text(text: str) -> CensorArguments:
        """`beep`/`mute` first sets the mode; the rest are the words (commas between phrases,
        else each word); an id is the video."""
        ids = ids_in(text)
        rest = words_without(text, times=False)
        found: CensorArguments = {}
        first, _, after = rest.partition(" ")
        if first.casefold() in MODES:
            found["mode"] = "beep" if first.casefold() == "beep" else "mute"
            rest = after
        if "," in rest:
            words = [" ".join(p.split()) for p in rest.split(",") if tokens(p)]
        else:
            words = [w for w in rest.split() if tokens(w)]
        if words:
            found["words"] = words
        if ids:
            found["video_id"] = ids[0]
        return found

    async def run(self, ctx: AgentContext, **given: Any) -> AgentResult:
        item = AgentItem(ctx, self.name, "video", "Finding the words")
        try:
            terms = word_list(given.get("words"))
            mode = given.get("mode") or "mute"
            if mode not in MODES:
                raise InvalidPayload("mode must be mute or beep")
            padding = optional_number(given.get("padding"), "padding", DEFAULT_PADDING)
            if not 0 <= padding <= MAX_PADDING:
                raise InvalidPayload(f"padding must be 0 to {MAX_PADDING:g} seconds")
            video = await find_asset(
                self.library,
                ctx,
                given.get("video_id"),
                "video_id",
                kinds=("video", "audio"),
                default=ctx.video_id,
            )
            segments = await transcript_of(self.indexer, ctx, video, words=True)
            windows, whole = windows_of(segments, terms, padding)
            if not windows:
                raise NotFound(f"{', '.join(terms)}: not said in {video.name}")
            made = await self._make(item, video, windows, mode == "beep")
        except DirectorError as exc:
            return item.failed(exc)
        item.done(video=video_data(made))
        verb = "Beeped" if mode == "beep" else "Muted"
        times = ", ".join(f"{clock(a)}-{clock(b)}" for a, b in windows[:10])
        more = f" and {len(windows) - 10} more" if len(windows) > 10 else ""
        note = f" {whole} line(s) without word times were silenced whole." if whole else ""
        return AgentResult(
            "success",
            f"{verb} {', '.join(terms)} in {video.name} at {times}{more}: the new video "
            f"{made.name}.{note}",
            {
                "video_id": made.id,
                "name": made.name,
                "windows": [[round(a, 3), round(b, 3)] for a, b in windows],
            },
        )

    async def _make(
        self,
        item: AgentItem,
        video: AssetRecord,
        windows: list[tuple[float, float]],
        beep: bool,
    ) -> AssetRecord:
        source = source_of(self.library, video)
        doing = "Beeping the words" if beep else "Muting the words"
        stem = PurePosixPath(video.name).stem or "video"

        async def work(job: JobContext, report: Report) -> JobResult:
            report(0.0, doing)
            made = await silence(
                self.library.ffmpeg,
                source,
                windows,
                job.folder,
                "censored",
                beep=beep,
                on_progress=lambda fraction: report(fraction, doing),
            )
            name = f"{stem} censored{made.path.suffix}"
            asset = await keep_made(
                self.library, job, report, made.path, name=name, into=video.collection_id
            )
            return {"asset_id": asset.id}

        result = await run_job(self.library, item, "censor", f"Censoring {video.name}", work)
        return await made_asset(self.library, result)
