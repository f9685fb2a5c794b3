"""The `stream_video` agent: shows a video of the collection in the chat, ready to play.

Answers a `video` item (`media_items.video_item`) for the video named by id, or by default the
one the user is looking at. Imports the agents' helpers, `errors` and `media`.
"""

from __future__ import annotations

from typing import Any, TypedDict

from director_desktop.engine.agents.base import AgentContext, AgentResult
from director_desktop.engine.agents.media_items import video_data
from director_desktop.engine.agents.params import find_asset, ids_in
from director_desktop.engine.agents.work import AgentItem
from director_desktop.errors import DirectorError
from director_desktop.media.editing import clock
from director_desktop.media.library import MediaLibrary
from director_desktop.protocol import JSONSchema


class StreamVideoArguments(TypedDict, total=False):
    """`run`'s keyword arguments (see `parameters`)."""

    video_id: str


class StreamVideoAgent:
    name = "stream_video"
    description = (
        "Shows a video of the user's collection in the chat, ready to play. Without video_id, "
        "the video the user is looking at."
    )
    parameters: JSONSchema = {
        "type": "object",
        "properties": {
            "video_id": {
                "type": "string",
                "description": "The video's id; by default the video the user is looking at.",
            }
        },
    }
    examples = ["@stream_video"]

    def __init__(self, library: MediaLibrary) -> None:
        self.library = library

    @staticmethod
    def from_text(text: str) -> StreamVideoArguments:
        ids = ids_in(text)
        return {"video_id": ids[0]} if ids else {}

    async def run(self, ctx: AgentContext, **arguments: Any) -> AgentResult:
        item = AgentItem(ctx, self.name, "video", "Finding the video")
        try:
            asset = await find_asset(
                self.library, ctx, arguments.get("video_id"), "video_id", default=ctx.video_id
            )
        except DirectorError as exc:
            return item.failed(exc)
        error = "the video's file is missing" if self.library.missing(asset) else None
        item.done(video=video_data(asset, error=error))
        return AgentResult(
            "success",
            f"Showing {asset.name} ({clock(asset.length)}).",
            {"video_id": asset.id, "name": asset.name, "length": asset.length},
        )
