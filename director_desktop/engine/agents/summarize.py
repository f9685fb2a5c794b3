"""The `summarize_video` agent: a summary of a video by the user's model, over its transcript,
scenes and details, in a `text` item.

The material is the video's details (kind, length, description), its scenes (times) and its
timestamped transcript lines from the media index, with the scenes' on-screen text. When it fits
the model's prompt budget (`engine/context_budget.py`: the context less the answer's share) it is
summarized in one call; a long video's lines are packed into chunks that each fit
(`model.pieces`), each chunk summarized on its own ("part 2 of 5, 3:20-6:45"), then those
summaries summarized together (in rounds, should even they not fit). A context overflow the
estimate missed is packed again smaller (`model.within_context`). With no model chosen it says so
clearly and lists what a model would read (`not_available`, so a model calling it as a tool knows
no summary was made). Imports the agents' helpers, the llm seam, `errors` and `media`.
"""

from __future__ import annotations

from typing import Any, Final, TypedDict

from director_desktop.engine.agents.base import AgentContext, AgentResult
from director_desktop.engine.agents.model import AgentModel, Calls, ask, pieces, within_context
from director_desktop.engine.agents.params import find_asset, ids_in
from director_desktop.engine.agents.work import AgentItem
from director_desktop.engine.llm.base import ChatMessage, ChatProvider, estimate_tokens
from director_desktop.errors import DirectorError, ModelError, NotAvailable
from director_desktop.media.editing import clock
from director_desktop.media.indexer import MediaIndexer
from director_desktop.media.library import MediaLibrary
from director_desktop.protocol import JSONSchema
from director_desktop.store import AssetRecord

NEEDS_MODEL: Final = (
    "Summarizing a video needs a model, and none is chosen. A model reads the video's "
    "timestamped transcript, its scenes and its details, in chunks for a long video."
)
SYSTEM: Final = (
    "You summarize videos from their timestamped transcript, scenes and details. Write a short, "
    "faithful summary in plain prose: what happens and what is said, with the times of the "
    "main moments (m:ss). Use only the material given."
)
PART_SYSTEM: Final = (
    "You summarize one part of a long video from its timestamped transcript. Write a few "
    "sentences: what is said and shown in this part, with the times of its main moments "
    "(m:ss). Use only the material given."
)
JOIN_SYSTEM: Final = (
    "You are given summaries of consecutive parts of one video, in order. Write one short "
    "summary of the whole video from them, keeping the times of its main moments (m:ss)."
)
MAX_SCENES: Final = 60  # scene times listed in the details (a long film has thousands)


class SummarizeArguments(TypedDict, total=False):
    """`run`'s keyword arguments (see `parameters`)."""

    video_id: str


class SummarizeVideoAgent:
    name = "summarize_video"
    description = (
        "Summarizes a video from its transcript, scenes and details with the chosen model "
        "(long videos in parts); says so when no model is chosen."
    )
    parameters: JSONSchema = {
        "type": "object",
        "properties": {
            "video_id": {
                "type": "string",
                "description": "The video's id; by default the video the user is looking at.",
            },
        },
    }
    examples = ["@summarize_video"]

    def __init__(
        self, library: MediaLibrary, indexer: MediaIndexer, model: AgentModel | None = None
    ) -> None:
        self.library = library
        self.indexer = indexer
        self.model = model or AgentModel()

    @staticmethod
    def from_text(text: str) -> SummarizeArguments:
        ids = ids_in(text)
        return {"video_id": ids[0]} if ids else {}

    async def run(self, ctx: AgentContext, **given: Any) -> AgentResult:
        item = AgentItem(ctx, self.name, "text", "Looking at the video")
        try:
            video = await find_asset(
                self.library,
                ctx,
                given.get("video_id"),
                "video_id",
                kinds=("video", "audio"),
                default=ctx.video_id,
            )
            provider = await self.model.provider()
            if provider is None:
                return await self._no_model(ctx, item, video)
            details, lines = await self._material(video)
            if not lines:
                raise NotAvailable(
                    f"{video.name} has no transcript to summarize yet: @index indexes it (its "
                    "speech too, when speech to text is set up in Settings → Speech)"
                )
            calls = Calls(provider.context_length)
            item.progress(None, f"Reading {video.name} with {provider.state.model or 'the model'}")
            summary, parts = await within_context(
                provider,
                lambda budget: self._summarize(provider, item, details, lines, budget, calls),
                calls,
            )
        except DirectorError as exc:
            return item.failed(exc)
        text = summary or "(the model wrote no summary)"
        ctx.output.update_content(
            item.index, status="success", status_message=None, text=f"**{video.name}**\n\n{text}"
        )
        how = f"in {parts} parts" if parts > 1 else "in one pass"
        return AgentResult(
            "success",
            f"Summarized {video.name} ({how}).",
            {"video_id": video.id, "summary": summary, "parts": parts, **calls.as_json()},
        )

    async def _summarize(
        self,
        provider: ChatProvider,
        item: AgentItem,
        details: str,
        lines: list[str],
        budget: int,
        calls: Calls,
    ) -> tuple[str, int]:
        fixed = estimate_tokens(SYSTEM + details) + 48  # the messages' own cost, with margin
        chunks = pieces(lines, budget - fixed)
        if len(chunks) == 1:
            reply = await ask(provider, _messages(SYSTEM, details, chunks[0]), calls=calls)
            return reply.text, 1
        summaries: list[str] = []
        for number, chunk in enumerate(chunks, start=1):
            item.progress(
                (number - 1) / (len(chunks) + 1), f"Reading part {number} of {len(chunks)}"
            )
            head = f"{details}\nThis is part {number} of {len(chunks)} of the video."
            reply = await ask(provider, _messages(PART_SYSTEM, head, chunk), calls=calls)
            summaries.append(f"Part {number} ({_span(chunk)}): {reply.text or '(nothing)'}")
        item.progress(len(chunks) / (len(chunks) + 1), "Putting the parts together")
        return await self._join(provider, details, summaries, budget, calls), len(chunks)

    async def _join(
        self, provider: ChatProvider, details: str, summaries: list[str], budget: int, calls: Calls
    ) -> str:
        """One summary from the parts' summaries; in rounds while they do not fit one prompt."""
        fixed = estimate_tokens(JOIN_SYSTEM + details) + 48
        while True:
            groups = pieces(summaries, budget - fixed)
            joined = []
            for group in groups:
                reply = await ask(provider, _messages(JOIN_SYSTEM, details, group), calls=calls)
                joined.append(reply.text or "(nothing)")
            if len(groups) == 1:
                return joined[0]
            if len(groups) >= len(summaries):  # no progress: each summary fills a prompt
                raise ModelError(
                    "the parts' summaries do not fit the model's context together",
                    code="context_overflow",
                )
            summaries = joined

    async def _material(self, video: AssetRecord) -> tuple[str, list[str]]:
        """The details (one paragraph) and the timestamped lines: speech (else subtitles) and
        the scenes' on-screen text, in time order."""
        scenes = await self.indexer.scenes(video.id)
        details = f"Video: {video.name} ({video.kind}, {clock(video.length)} long)."
        if video.description.strip():
            details += f" Description: {' '.join(video.description.split())[:500]}"
        if scenes:
            cuts = ", ".join(clock(scene.start) for scene in scenes[:MAX_SCENES])
            more = f" (and {len(scenes) - MAX_SCENES} more)" if len(scenes) > MAX_SCENES else ""
            details += f"\n{len(scenes)} scenes, starting at {cuts}{more}."
        timed = [
            (seg.start, f"[{clock(seg.start)}] {seg.text}")
            for seg in await self.indexer.transcript(video.id)
        ]
        shown = await self.indexer.lines(video.id, ("scene",))
        timed += [(line.start, f"[{clock(line.start)}] (on screen) {line.text}") for line in shown]
        return details, [text for _, text in sorted(timed, key=lambda pair: pair[0])]

    async def _no_model(
        self, ctx: AgentContext, item: AgentItem, video: AssetRecord
    ) -> AgentResult:
        material = await self._available(video)
        error = NotAvailable(f"{NEEDS_MODEL} Choose a model in Settings → Models.")
        text = f"{NEEDS_MODEL}\n\nFor **{video.name}** it would use:\n\n{material}\n\n" + (
            "Choose a model in Settings → Models, then ask again. Meanwhile @transcription "
            "shows what is said in it."
        )
        ctx.output.update_content(item.index, status="error", status_message=None, text=text)
        return AgentResult(
            "error", error.message, {"error": {"code": error.code, "message": error.message}}
        )

    async def _available(self, video: AssetRecord) -> str:
        state = await self.indexer.state(video.id)
        details = f"- its details: {video.kind}, {clock(video.length)} long"
        if state.status != "indexed":
            return (
                f"{details}\n- its transcript and scenes, once it is indexed (@index; its speech "
                "too when speech to text is set up in Settings → Speech)"
            )
        lines = await self.indexer.transcript(video.id)
        scenes = await self.indexer.scenes(video.id)
        said = (
            f"- its transcript: {len(lines)} lines"
            if lines
            else "- no transcript yet (set up speech to text in Settings → Speech, then @index)"
        )
        return f"{details}\n{said}\n- its scenes: {len(scenes)}"


def _messages(system: str, head: str, lines: list[str]) -> list[ChatMessage]:
    body = "\n".join(lines)
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": f"{head}\n\nTranscript:\n{body}\n\nSummarize it."},
    ]


def _span(lines: list[str]) -> str:
    """ "0:00-3:20" from a chunk's first and last timestamps."""
    first = lines[0].split("]", 1)[0].lstrip("[")
    last = lines[-1].split("]", 1)[0].lstrip("[")
    return first if first == last else f"{first}-{last}"
