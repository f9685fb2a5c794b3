"""The `subtitle` agent: a copy of a video with subtitles made from its transcript, attached as a
soft track (mov_text in MP4, SubRip in Matroska: the player turns it on and off) or burned into
the picture (libass, re-encoded); the copy is a new asset of the collection.

The transcript is the media index's (`censor.transcript_of`: the speech, else the first subtitle
track). It is written as SubRip (`engine.speech.formats.to_srt`) into the job's staging folder
and handed to `media.tracks.with_subtitles`; the file becomes an asset through
`MediaLibrary.add_made`, and a stop cancels the job with nothing half-made kept. Asked to
`translate_to` a language, the chosen model translates the lines first, a chunk that fits its
context at a time (`model.pieces`), answering through a `subtitle_lines` tool whose schema asks
for exactly as many strings as the chunk has lines (each keeps its line's times; a chunk answered
otherwise keeps its original lines, and the result says how many). With no model chosen a
translation is refused (`not_available`). Imports the agents' helpers, the llm seam, the speech
formats, `errors`, `jobs` and `media`.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Final, Literal, TypedDict

from director_desktop.engine.agents.base import AgentContext, AgentResult
from director_desktop.engine.agents.censor import transcript_of
from director_desktop.engine.agents.media_items import video_data
from director_desktop.engine.agents.model import (
    AgentModel,
    Calls,
    answer_tokens,
    ask,
    forced_tool,
    pieces,
    within_context,
)
from director_desktop.engine.agents.params import find_asset, ids_in, source_of
from director_desktop.engine.agents.work import AgentItem, Report, keep_made, made_asset, run_job
from director_desktop.engine.llm.base import ChatMessage, ChatProvider, estimate_tokens
from director_desktop.engine.speech.formats import to_srt
from director_desktop.errors import DirectorError, InvalidPayload, NotAvailable
from director_desktop.jobs import JobContext
from director_desktop.media.indexer import MediaIndexer
from director_desktop.media.library import MediaLibrary
from director_desktop.media.tracks import with_subtitles
from director_desktop.media.transcript import Segment
from director_desktop.protocol import JobResult, JSONSchema
from director_desktop.store import AssetRecord

MODES: Final = ("soft", "burn")
LANGUAGE = re.compile(r"[A-Za-z]{2,3}")
FONT_SIZES: Final = (8, 120)  # libass font sizes, in its 288-line script resolution
MAX_LANGUAGE: Final = 40
TRANSLATOR: Final = (
    "You translate subtitles. Translate each numbered line into {language}, keeping its "
    "meaning and tone, and call subtitle_lines with the translations in the same order, one "
    "string per line."
)


class SubtitleArguments(TypedDict, total=False):
    """`run`'s keyword arguments (see `parameters`)."""

    mode: Literal["soft", "burn"]
    font_size: float
    language: str
    translate_to: str
    video_id: str


class SubtitleAgent:
    name = "subtitle"
    description = (
        "Copies a video with subtitles from its transcript: a soft track, or burned in "
        "(mode burn); translated by the chosen model when asked (translate_to)."
    )
    parameters: JSONSchema = {
        "type": "object",
        "properties": {
            "mode": {
                "type": "string",
                "enum": list(MODES),
                "description": "soft (a subtitle track, the default) or burn (in the picture).",
            },
            "font_size": {
                "type": "number",
                "description": f"Burned subtitles' font size ({FONT_SIZES[0]}-{FONT_SIZES[1]}; "
                "about 16 by default, for a picture 288 lines high, scaled with it).",
            },
            "language": {
                "type": "string",
                "description": 'The soft track\'s language code ("eng", "fr"), when known.',
            },
            "translate_to": {
                "type": "string",
                "description": 'Translate the subtitles into this language ("French"); needs '
                "a model.",
            },
            "video_id": {
                "type": "string",
                "description": "The video's id; by default the video the user is looking at.",
            },
        },
    }
    examples = ["@subtitle", "@subtitle burn"]

    def __init__(
        self, library: MediaLibrary, indexer: MediaIndexer, model: AgentModel | None = None
    ) -> None:
        self.library = library
        self.indexer = indexer
        self.model = model or AgentModel()

    @staticmethod
    def from_text(text: str) -> SubtitleArguments:
        """`burn` (or burned, burn in, hard) → mode burn; `soft` → soft; an id → video_id."""
        words = {w.strip(".,!").casefold() for w in text.split()}
        found: SubtitleArguments = {}
        if words & {"burn", "burned", "burnt", "hard", "open"}:
            found["mode"] = "burn"
        elif words & {"soft", "track"}:
            found["mode"] = "soft"
        ids = ids_in(text)
        if ids:
            found["video_id"] = ids[0]
        return found

    async def run(self, ctx: AgentContext, **given: Any) -> AgentResult:
        item = AgentItem(ctx, self.name, "video", "Reading the transcript")
        try:
            mode = given.get("mode") or "soft"
            if mode not in MODES:
                raise InvalidPayload("mode must be soft or burn")
            style = _style(given.get("font_size"))
            language = _language(given.get("language"))
            target = _target(given.get("translate_to"))
            video = await find_asset(
                self.library, ctx, given.get("video_id"), "video_id", default=ctx.video_id
            )
            segments = await transcript_of(self.indexer, ctx, video)
            translated: _Translated | None = None
            if target is not None:
                translated = await self._translate(item, segments, target)
                segments = translated.segments
            made = await self._make(item, video, to_srt(segments), mode == "burn", style, language)
        except DirectorError as exc:
            return item.failed(exc)
        item.done(video=video_data(made))
        how = "burned into the picture" if mode == "burn" else "as a subtitle track"
        data: dict[str, Any] = {
            "video_id": made.id,
            "name": made.name,
            "lines": len(segments),
            "mode": mode,
        }
        into = ""
        if translated is not None:
            into = f", translated into {target}"
            if translated.kept:
                into += f" ({translated.kept} lines the model did not translate are as spoken)"
            data.update(
                translated.calls.as_json(), translated_to=target, untranslated=translated.kept
            )
        return AgentResult(
            "success",
            f"Subtitled {video.name} ({len(segments)} lines, {how}{into}): the new video "
            f"{made.name}.",
            data,
        )

    async def _translate(
        self, item: AgentItem, segments: list[Segment], target: str
    ) -> _Translated:
        provider = await self.model.provider()
        if provider is None:
            raise NotAvailable(
                "Translating subtitles needs a model, and none is chosen: choose one in "
                "Settings → Models, or ask for subtitles in the language spoken"
            )
        item.progress(None, f"Translating into {target}")
        calls = Calls(provider.context_length)
        return await within_context(
            provider, lambda budget: _translated(provider, segments, target, budget, calls), calls
        )

    async def _make(
        self,
        item: AgentItem,
        video: AssetRecord,
        srt: str,
        burn: bool,
        style: str | None,
        language: str | None,
    ) -> AssetRecord:
        source = source_of(self.library, video)
        doing = "Burning in the subtitles" if burn else "Adding the subtitle track"
        stem = PurePosixPath(video.name).stem or "video"

        async def work(job: JobContext, report: Report) -> JobResult:
            report(0.0, doing)
            path = job.staging("subtitles.srt")
            await asyncio.to_thread(path.write_text, srt, "utf-8")
            made = await with_subtitles(
                self.library.ffmpeg,
                source,
                path,
                job.folder,
                "subtitled",
                burn=burn,
                style=style,
                language=language,
                on_progress=lambda fraction: report(fraction, doing),
            )
            name = f"{stem} subtitled{made.path.suffix}"
            asset = await keep_made(
                self.library, job, report, made.path, name=name, into=video.collection_id
            )
            return {"asset_id": asset.id}

        result = await run_job(self.library, item, "subtitle", f"Subtitling {video.name}", work)
        return await made_asset(self.library, result)


def _style(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidPayload("font_size must be a number")
    low, high = FONT_SIZES
    if not low <= value <= high:
        raise InvalidPayload(f"font_size must be {low} to {high}")
    return f"Fontsize={round(value)}"


def _language(value: object) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not LANGUAGE.fullmatch(value.strip()):
        raise InvalidPayload('language must be a language code such as "eng" or "fr"')
    return value.strip().lower()


def _target(value: object) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not 2 <= len(value.strip()) <= MAX_LANGUAGE:
        raise InvalidPayload(f"translate_to must be a language's name (2-{MAX_LANGUAGE} letters)")
    if not all(ch.isalpha() or ch in " -()" for ch in value.strip()):
        raise InvalidPayload('translate_to must be a language\'s name, such as "French"')
    return " ".join(value.split())


@dataclass
class _Translated:
    segments: list[Segment]
    kept: int
    """Lines left as spoken (their chunk came back with a different number of lines)."""
    calls: Calls


async def _translated(
    provider: ChatProvider, segments: list[Segment], target: str, budget: int, calls: Calls
) -> _Translated:
    system = TRANSLATOR.format(language=target)
    numbered = [f"{n}. {' '.join(s.text.split())}" for n, s in enumerate(segments, start=1)]
    # the answer repeats each line, translated: a chunk's lines may take half of the prompt's
    # budget, and no more than most of what one answer may hold (a cut answer is no tool call)
    share = min((budget - estimate_tokens(system) - 96) // 2, answer_tokens(provider) * 3 // 4)
    out: list[Segment] = []
    kept = 0
    at = 0
    for chunk in pieces(numbered, share, each=4):
        tool = forced_tool(
            "subtitle_lines",
            "The translated lines, in order.",
            {
                "lines": {
                    "type": "array",
                    "items": {"type": "string"},
                    "minItems": len(chunk),
                    "maxItems": len(chunk),
                }
            },
        )
        messages: list[ChatMessage] = [
            {"role": "system", "content": system},
            {"role": "user", "content": "\n".join(chunk)},
        ]
        reply = await ask(provider, messages, tools=[tool], calls=calls)
        answers = (c.get("lines") for c in reply.calls)
        lines = next((a for a in answers if isinstance(a, list)), None)
        originals = segments[at : at + len(chunk)]
        good = lines is not None and len(lines) == len(chunk)
        for n, segment in enumerate(originals):
            text = str(lines[n]).strip() if good and lines is not None else ""
            if not text:
                kept += 1
                text = segment.text
            out.append(Segment(segment.start, segment.end, text, ()))
        at += len(chunk)
    return _Translated(out, kept, calls)
