"""The `download` agent: a link in the chat that saves a copy of an asset on the user's computer.

Answers a `download` item (`media_items.download_item`): `{download: {id, collection_id, kind,
name, filename, url, mime, size}}`, `url` the asset's plain `/media/<id>` path (signed at
delivery). The page saves the file (an `<a download>` link, or the window's save dialog where it
has one) rather than playing it. Any kind of asset: a video, an audio file, an image. Imports the
agents' helpers, `errors` and `media`.
"""

from __future__ import annotations

from typing import Any, TypedDict

from director_desktop.engine.agents.base import AgentContext, AgentResult
from director_desktop.engine.agents.media_items import download_data
from director_desktop.engine.agents.params import find_asset, ids_in
from director_desktop.engine.agents.work import AgentItem
from director_desktop.errors import DirectorError, NotFound
from director_desktop.media.library import MediaLibrary
from director_desktop.protocol import JSONSchema


class DownloadArguments(TypedDict, total=False):
    """`run`'s keyword arguments (see `parameters`)."""

    asset_id: str


class DownloadAgent:
    name = "download"
    description = (
        "Gives the user a link that saves a copy of a video, audio file or image of the "
        "collection on their computer. Without asset_id, the video the user is looking at."
    )
    parameters: JSONSchema = {
        "type": "object",
        "properties": {
            "asset_id": {
                "type": "string",
                "description": "The id of the video, audio or image; by default the video the "
                "user is looking at.",
            }
        },
    }
    examples = ["@download"]

    def __init__(self, library: MediaLibrary) -> None:
        self.library = library

    @staticmethod
    def from_text(text: str) -> DownloadArguments:
        ids = ids_in(text)
        return {"asset_id": ids[0]} if ids else {}

    async def run(self, ctx: AgentContext, **arguments: Any) -> AgentResult:
        item = AgentItem(ctx, self.name, "download", "Preparing the download")
        try:
            asset = await find_asset(
                self.library,
                ctx,
                arguments.get("asset_id"),
                "asset_id",
                kinds=("video", "audio", "image"),
                default=ctx.video_id,
            )
            if self.library.missing(asset):
                raise NotFound(f"the file of {asset.name} is missing (moved or deleted)")
        except DirectorError as exc:
            return item.failed(exc)
        data = download_data(asset)
        item.done(download=data)
        return AgentResult(
            "success",
            f"The user can save {data['filename']} with the link shown.",
            {"asset_id": asset.id, "filename": data["filename"]},
        )
