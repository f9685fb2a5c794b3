"""The `summarize_video` agent: a summary of a video by the model, over its transcript, scenes and
metadata.

The agents are given no model yet (the reasoning loop keeps its model to itself), so this round
the agent always answers a clear message in a `text` item: summarizing needs a model, and what it
would read of this video (its transcript lines, its scenes, its length and size), with what to do
to get them (index it; set up speech to text; choose a model). The result is `not_available` so a
model calling it as a tool knows no summary was made and can read the transcript itself
(`transcription`). Imports the agents' helpers, `errors` and `media`.
"""

from __future__ import annotations

from typing import Any, Final

from director_desktop.engine.agents.base import AgentContext, AgentResult
from director_desktop.engine.agents.params import arguments, find_asset, ids_in
from director_desktop.engine.agents.work import AgentItem
from director_desktop.errors import DirectorError, NotAvailable
from director_desktop.media.editing import clock
from director_desktop.media.indexer import MediaIndexer
from director_desktop.media.library import MediaLibrary
from director_desktop.protocol import JSONSchema
from director_desktop.store import AssetRecord

NEEDS_MODEL: Final = (
    "Summarizing a video needs a model, and none is running for agents yet. A model would read "
    "the video's timestamped transcript, its scenes and its details, in chunks for a long video."
)


class SummarizeVideoAgent:
    name = "summarize_video"
    description = (
        "Summarizes a video from its transcript, scenes and details (needs a model; says "
        "so without one)."
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

    def __init__(self, library: MediaLibrary, indexer: MediaIndexer) -> None:
        self.library = library
        self.indexer = indexer

    @staticmethod
    def from_text(text: str) -> dict[str, Any]:
        ids = ids_in(text)
        return arguments(video_id=ids[0] if ids else None)

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
            material = await self._material(video)
        except DirectorError as exc:
            return item.failed(exc)
        error = NotAvailable(f"{NEEDS_MODEL} Choose a model in Settings → Models.")
        text = f"{NEEDS_MODEL}\n\nFor **{video.name}** it would use:\n\n{material}\n\n" + (
            "Choose a model in Settings → Models, then ask again. Meanwhile @transcription "
            "shows what is said in it."
        )
        ctx.output.update_content(item.index, status="error", status_message=None, text=text)
        return AgentResult(
            "error", error.message, {"error": {"code": error.code, "message": error.message}}
        )

    async def _material(self, video: AssetRecord) -> str:
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
