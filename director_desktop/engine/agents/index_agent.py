"""The `index` agent: indexes a video (or every unindexed video and audio of the collection) so
that `search` and the agents that find scenes by their words can use it; `index_agents` lists it
with `search` for the registry.

Indexing is the media room's `MediaIndexer` job (scenes with thumbnails, subtitles, speech when a
transcriber is set up, the name); the agent shows the job's progress in its own item and the
outcome, including what was left out and why. Stopping the turn cancels the job, which then
leaves the old index as it was. Imports the agents' helpers, `errors` and `media`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any, Final, TypedDict

from director_desktop.engine.agents.base import Agent, AgentContext, AgentResult
from director_desktop.engine.agents.params import (
    collection_of,
    find_asset,
    ids_in,
)
from director_desktop.engine.agents.search_agent import SearchAgent
from director_desktop.engine.agents.work import AgentItem
from director_desktop.errors import Cancelled, DirectorError
from director_desktop.media.indexer import IndexReport, MediaIndexer, Progress
from director_desktop.media.library import MediaLibrary
from director_desktop.protocol import JSONSchema
from director_desktop.store import AssetKind, AssetRecord

PUSH_EVERY: Final = 0.25  # seconds between pushes of the item while indexing
MAX_AT_ONCE: Final = 100  # assets one `@index` of a collection takes on
_COLLECTION_WORDS: Final = {"all", "everything", "collection", "library"}


def index_agents(library: MediaLibrary, indexer: MediaIndexer) -> list[Agent]:
    """`index` and `search`, in the order the help lists them."""
    return [IndexAgent(library, indexer), SearchAgent(library, indexer)]


class IndexArguments(TypedDict, total=False):
    """`run`'s keyword arguments (see `parameters`)."""

    video_id: str
    collection: bool


class IndexAgent:
    name = "index"
    description = (
        "Indexes a video or audio so it can be searched: finds its scenes (shot cuts, with a "
        "thumbnail each), reads its subtitles, and transcribes its speech when speech-to-text is "
        "set up. Indexing again replaces the old index. Without video_id, the video the user is "
        "looking at; with none, every video and audio of the collection not indexed yet."
    )
    parameters: JSONSchema = {
        "type": "object",
        "properties": {
            "video_id": {
                "type": "string",
                "description": "The video's (or audio's) id; by default the one the user is "
                "looking at.",
            },
            "collection": {
                "type": "boolean",
                "description": "Index every video and audio of the collection that is not "
                "indexed yet, instead of one.",
            },
        },
    }
    examples = ["@index", "@index all"]

    def __init__(self, library: MediaLibrary, indexer: MediaIndexer) -> None:
        self.library = library
        self.indexer = indexer

    @staticmethod
    def from_text(text: str) -> IndexArguments:
        """An id → video_id; "all", "collection"... → collection; nothing → the focus."""
        ids = ids_in(text)
        if ids:
            return {"video_id": ids[0]}
        return {"collection": True} if _COLLECTION_WORDS & set(text.lower().split()) else {}

    async def run(self, ctx: AgentContext, **arguments: Any) -> AgentResult:
        item = AgentItem(ctx, self.name, "text", "Finding what to index")
        pusher = asyncio.create_task(_keep_pushing(item), name="push index")
        failed: list[str] = []
        try:
            assets = await self._targets(ctx, arguments)
            indexed: list[tuple[AssetRecord, IndexReport]] = []
            for n, asset in enumerate(assets):
                where = asset.name + (f" ({n + 1} of {len(assets)})" if len(assets) > 1 else "")
                item.progress(None, f"Indexing {where}")
                try:
                    report = await self.indexer.index(
                        asset.id,
                        collection_id=asset.collection_id,
                        on_progress=_mirror(item, where),
                    )
                except DirectorError as exc:
                    if len(assets) == 1 or isinstance(exc, Cancelled):
                        raise
                    failed.append(f"{_plain(asset.name)} could not be indexed: {exc.message}")
                    continue
                indexed.append((asset, report))
        except DirectorError as exc:
            return item.failed(exc)
        finally:
            pusher.cancel()
            await asyncio.wait({pusher})
        text = _summary(indexed, failed)
        item.done(text=text)
        return AgentResult(
            "success" if indexed or not failed else "error",
            text,
            {"indexed": [{"video_id": r.asset_id, **r.to_json()} for _, r in indexed]},
        )

    async def _targets(self, ctx: AgentContext, given: Mapping[str, object]) -> list[AssetRecord]:
        video_id = given.get("video_id")
        whole = given.get("collection") is True
        if video_id or (ctx.video_id and not whole):
            video = await find_asset(
                self.library,
                ctx,
                video_id,
                "video_id",
                kinds=("video", "audio"),
                default=ctx.video_id,
            )
            return [video]
        collection_id = collection_of(ctx)
        waiting = []
        kinds: tuple[AssetKind, ...] = ("video", "audio")
        for kind in kinds:
            page = await self.library.assets(collection_id, kind)
            for asset in page.assets:
                state = await self.indexer.state(asset.id)
                if state.status in ("not_indexed", "error") and not self.library.missing(asset):
                    waiting.append(asset)
        return waiting[:MAX_AT_ONCE]


def _summary(indexed: list[tuple[AssetRecord, IndexReport]], failed: list[str]) -> str:
    if not indexed and not failed:
        return "Every video and audio of this collection is indexed already."
    lines = []
    notes: list[str] = []
    for asset, report in indexed:
        said = []
        if report.scenes:
            said.append(f"{report.scenes} scene{'s' if report.scenes != 1 else ''}")
        for source, label in (
            ("subtitle", "subtitle line"),
            ("transcript", "spoken line"),
            ("scene", "scene with text on screen"),
        ):
            count = report.lines.get(source, 0)
            if count:
                plural = label.replace("scene ", "scenes ") if "scene " in label else label + "s"
                said.append(f"{count} {plural if count != 1 else label}")
        found = ", ".join(said) if said else "its name only (no scenes, subtitles or speech)"
        lines.append(f"Indexed **{_plain(asset.name)}**: {found}.")
        notes += [note for note in report.notes if note not in notes]
    lines += [f"- {note}" for note in [*failed, *notes]]
    if indexed:
        lines.append("Search it with `@search` and a few words.")
    return "\n".join(lines)


def _plain(text: str) -> str:
    """A name shown in markdown without being read as markup."""
    return "".join("\\" + ch if ch in "\\`*_[]<>#|~" else ch for ch in " ".join(text.split()))


def _mirror(item: AgentItem, where: str) -> Progress:
    def report(fraction: float | None, detail: str) -> None:
        item.progress(fraction, f"{where}: {detail}")

    return report


async def _keep_pushing(item: AgentItem) -> None:
    while True:
        await asyncio.sleep(PUSH_EVERY)
        with contextlib.suppress(DirectorError):  # a push that fails is retried next time
            await item.output.push()
