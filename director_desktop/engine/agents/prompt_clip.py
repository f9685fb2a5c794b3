"""The `prompt_clip` agent: the parts of a video whose words match a prompt, cut and joined into a
new video asset of the collection.

The parts are lines of the video's timestamped transcript in the media index (its speech, else
its first subtitle track). With a model chosen, the model picks them: the numbered lines are
packed into prompts that fit its context (`model.pieces`), and for each it answers by calling a
`choose_lines` tool whose schema lists that prompt's line numbers (so llama.cpp's grammar keeps
it to real lines). With no model (or one that cannot be reached) they are found by keyword
matching, BM25 through `MediaIndexer.search` (lines with every word of the prompt first; when
none has them all, those with any), and the agent says so. The best `max_parts` lines are put
back in time order, padded, overlapping ones merged, then cut and joined as a job (`clip`) by
`media.editing.cut`: stream copy when the cut points fall on keyframes, re-encoding only when
they do not. The file becomes an asset through `MediaLibrary.add_made`; a stop cancels the job
with nothing half-made kept. Imports the agents' helpers, `errors`, `jobs` and `media`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Final, TypedDict

from director_desktop.engine.agents.base import AgentContext, AgentResult
from director_desktop.engine.agents.media_items import video_data
from director_desktop.engine.agents.model import (
    AgentModel,
    Calls,
    ask,
    forced_tool,
    pieces,
    within_context,
)
from director_desktop.engine.agents.params import (
    collection_of,
    find_asset,
    ids_in,
    optional_number,
    optional_text,
    source_of,
    words_without,
)
from director_desktop.engine.agents.work import AgentItem, Report, keep_made, made_asset, run_job
from director_desktop.engine.llm.base import ChatMessage, ChatProvider, estimate_tokens
from director_desktop.errors import (
    DirectorError,
    InvalidPayload,
    ModelError,
    NotAvailable,
    NotFound,
)
from director_desktop.jobs import JobContext
from director_desktop.media.editing import Source, Span, clock, cut, span
from director_desktop.media.indexer import MediaIndexer
from director_desktop.media.library import MediaLibrary
from director_desktop.protocol import JobResult, JSONSchema
from director_desktop.store import AssetRecord

NOT_IN_NAMES: Final = re.compile(r"[^\w '-]+")  # the prompt's words in the clip's name
MAX_PARTS: Final = 50
DEFAULT_PARTS: Final = 5
MAX_PADDING: Final = 5.0
KEYWORDS: Final = (
    "No model chose the parts: they are the transcript lines matching the prompt's words "
    "(keyword search)."
)
CHOOSER: Final = (
    "You pick the lines of a video's transcript that match what the user asks for. Call "
    "choose_lines with the numbers of the matching lines (an empty list when none match)."
)


@dataclass
class _Picked:
    lines: list[tuple[float, float]]
    numbers: list[int]
    calls: Calls
    note: str


async def _choose(
    provider: ChatProvider,
    prompt: str,
    numbered: list[str],
    limit: int,
    budget: int,
    calls: Calls,
) -> list[int]:
    """The numbers of the lines the model chose, asked a chunk of lines at a time."""
    fixed = estimate_tokens(CHOOSER + prompt) + 96  # the messages and the tool's own cost
    chosen: set[int] = set()
    # each line also brings its number into the tool's enum: "1234, " is about 2 tokens
    for chunk in pieces(numbered, budget - fixed, each=3):
        offered = [int(line.split(".", 1)[0]) for line in chunk]
        tool = forced_tool(
            "choose_lines",
            "The transcript lines that match the request.",
            {
                "lines": {
                    "type": "array",
                    "items": {"type": "integer", "enum": list(offered)},
                    "maxItems": min(limit, len(offered)),
                }
            },
        )
        messages: list[ChatMessage] = [
            {"role": "system", "content": CHOOSER},
            {"role": "user", "content": f"Request: {prompt}\n\nLines:\n" + "\n".join(chunk)},
        ]
        reply = await ask(provider, messages, tools=[tool], calls=calls)
        for call in reply.calls:
            found = call.get("lines")
            if isinstance(found, list):
                chosen |= {n for n in found if isinstance(n, int) and n in offered}
    return sorted(chosen)


def parts_of(source: Source, lines: list[tuple[float, float]], padding: float) -> list[Span]:
    """The lines in time order, padded, overlapping or touching ones merged, as spans."""
    merged: list[tuple[float, float]] = []
    for start, end in sorted((max(a - padding, 0.0), b + padding) for a, b in lines):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    spans = []
    for start, end in merged:
        try:
            spans.append(span(source, start, end))
        except InvalidPayload:  # a line past the end, or shorter than a frame
            continue
    return spans


class PromptClipArguments(TypedDict, total=False):
    """`run`'s keyword arguments (see `parameters`)."""

    prompt: str
    max_parts: int
    padding: float
    video_id: str


class PromptClipAgent:
    name = "prompt_clip"
    description = (
        "Cuts the parts of a video whose transcript matches a prompt and joins them into "
        "a new video."
    )
    parameters: JSONSchema = {
        "type": "object",
        "properties": {
            "prompt": {
                "type": "string",
                "description": "What the parts are about: words said in them.",
            },
            "max_parts": {
                "type": "integer",
                "description": f"At most this many matching lines (1-{MAX_PARTS}; "
                f"default {DEFAULT_PARTS}).",
            },
            "padding": {
                "type": "number",
                "description": f"Seconds kept before and after each line (0-{MAX_PADDING:g}; "
                "default 0).",
            },
            "video_id": {
                "type": "string",
                "description": "The video's id; by default the video the user is looking at.",
            },
        },
        "required": ["prompt"],
    }
    examples = ["@prompt_clip the parts about the budget"]

    def __init__(
        self, library: MediaLibrary, indexer: MediaIndexer, model: AgentModel | None = None
    ) -> None:
        self.library = library
        self.indexer = indexer
        self.model = model or AgentModel()

    @staticmethod
    def from_text(text: str) -> PromptClipArguments:
        """The words are the prompt; an id is the video."""
        ids = ids_in(text)
        found: PromptClipArguments = {}
        if prompt := words_without(text, times=False):
            found["prompt"] = prompt
        if ids:
            found["video_id"] = ids[0]
        return found

    async def run(self, ctx: AgentContext, **given: Any) -> AgentResult:
        item = AgentItem(ctx, self.name, "video", "Finding the parts")
        try:
            prompt = optional_text(given.get("prompt"), "prompt")
            if prompt is None:
                raise InvalidPayload("what should the clip be about? give a prompt")
            limit = optional_number(given.get("max_parts"), "max_parts", DEFAULT_PARTS)
            if limit != int(limit) or not 1 <= limit <= MAX_PARTS:
                raise InvalidPayload(f"max_parts must be a whole number from 1 to {MAX_PARTS}")
            padding = optional_number(given.get("padding"), "padding", 0.0)
            if not 0 <= padding <= MAX_PADDING:
                raise InvalidPayload(f"padding must be 0 to {MAX_PADDING:g} seconds")
            video = await find_asset(
                self.library, ctx, given.get("video_id"), "video_id", default=ctx.video_id
            )
            source = source_of(self.library, video)
            picked = await self._picked(item, video, prompt, int(limit))
            if picked is None:
                parts = await self._parts(ctx, video, source, prompt, int(limit), padding)
            else:
                parts = parts_of(source, picked.lines, padding)
                if not parts:
                    raise NotFound(f"the model found nothing in {video.name} matching {prompt!r}")
            made, mode = await self._make(item, video, parts, prompt)
        except DirectorError as exc:
            return item.failed(exc)
        item.done(video=video_data(made))
        times = ", ".join(f"{clock(p.start)}-{clock(p.end)}" for p in parts)
        how = "copied" if mode == "copy" else "re-encoded"
        chosen = f"The model chose the parts. {picked.note}" if picked else KEYWORDS
        data: dict[str, Any] = {
            "video_id": made.id,
            "name": made.name,
            "parts": [[round(p.start, 3), round(p.end, 3)] for p in parts],
            "mode": mode,
            "matched_by": "model" if picked else "keywords",
        }
        if picked:
            data.update(picked.calls.as_json(), lines=picked.numbers)
        return AgentResult(
            "success",
            f"Clipped {len(parts)} part(s) of {video.name} ({times}; {how}) into the new video "
            f"{made.name} ({clock(made.length)}). {chosen.strip()}",
            data,
        )

    async def _picked(
        self, item: AgentItem, video: AssetRecord, prompt: str, limit: int
    ) -> _Picked | None:
        """The lines the model picks; None when no model is chosen or it cannot be reached
        (then keywords pick them)."""
        try:
            provider = await self.model.provider()
        except ModelError:
            return None
        if provider is None:
            return None
        segments = await self.indexer.transcript(video.id)
        if not segments:
            raise NotAvailable(
                f"{video.name} has no transcript yet: @index indexes it (its speech too, when "
                "speech to text is set up in Settings → Speech), then ask again"
            )
        item.progress(None, f"Asking {provider.state.model or 'the model'} for the parts")
        numbered = [
            f"{n}. [{clock(s.start)}-{clock(s.end)}] {s.text}"
            for n, s in enumerate(segments, start=1)
        ]
        calls = Calls(provider.context_length)
        numbers = await within_context(
            provider,
            lambda budget: _choose(provider, prompt, numbered, limit, budget, calls),
            calls,
        )
        chosen = sorted(numbers)[:limit]
        note = "" if len(numbers) <= limit else f"(The first {limit} of {len(numbers)} chosen.)"
        return _Picked(
            [(segments[n - 1].start, segments[n - 1].end) for n in chosen], chosen, calls, note
        )

    async def _parts(
        self,
        ctx: AgentContext,
        video: AssetRecord,
        source: Source,
        prompt: str,
        limit: int,
        padding: float,
    ) -> list[Span]:
        if (await ctx.store.index.state(video.id)).status != "indexed":
            raise NotAvailable(
                f"{video.name} is not indexed yet: @index indexes it (its speech too, when "
                "speech to text is set up in Settings → Speech), then ask again"
            )
        hits = await self.indexer.search(
            prompt,
            collection_id=collection_of(ctx),
            asset_id=video.id,
            sources=("transcript", "subtitle"),
            limit=limit,
        )
        parts = parts_of(source, [(h.start, h.end) for h in hits], padding)
        if not parts:
            raise NotFound(f"nothing said in {video.name} matches {prompt!r}")
        return parts

    async def _make(
        self, item: AgentItem, video: AssetRecord, parts: list[Span], prompt: str
    ) -> tuple[AssetRecord, str]:
        stem = PurePosixPath(video.name).stem or "video"
        doing = f"Cutting {len(parts)} part(s)"

        async def work(job: JobContext, report: Report) -> JobResult:
            report(0.0, doing)
            made = await cut(
                self.library.ffmpeg,
                parts,
                job.folder,
                "clip",
                on_progress=lambda fraction: report(fraction, doing),
            )
            topic = " ".join(NOT_IN_NAMES.sub(" ", prompt).split()[:6]) or "prompt"
            name = f"{stem} clip - {topic}{made.path.suffix}"
            asset = await keep_made(
                self.library, job, report, made.path, name=name, into=video.collection_id
            )
            return {"asset_id": asset.id, "mode": made.mode}

        result = await run_job(self.library, item, "clip", f"A clip of {video.name}", work)
        return await made_asset(self.library, result), result.get("mode", "encode")
