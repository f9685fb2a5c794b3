"""The `search` agent: finds the moments of indexed videos where words are said, subtitled or
named, in one video or across the collection, and answers them as a `search_results` item whose
shots play from their start in the chat.

The search is the media index's keyword search (FTS5, ranked by BM25: `MediaIndexer.search`),
merged with a search by meaning when an embedding model is chosen (`media.semantic`);
its hits are grouped per video, best video first, each video's shots best first, with plain
`/media/<id>` stream paths (the web signs them at delivery). A video that was never indexed
finds nothing, and the answer says to index it. Imports the agents' helpers, `errors`, `media`
and `protocol`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal, TypedDict

from director_desktop.engine.agents.base import AgentContext, AgentResult
from director_desktop.engine.agents.media_items import search_result
from director_desktop.engine.agents.params import (
    collection_of,
    find_asset,
    ids_in,
    optional_text,
    words_without,
)
from director_desktop.engine.agents.work import AgentItem
from director_desktop.errors import DirectorError, InvalidPayload, NotFound
from director_desktop.media.indexer import MediaIndexer
from director_desktop.media.library import MediaLibrary
from director_desktop.protocol import JSONSchema, SearchResult, Shot
from director_desktop.store import AssetRecord, LineHit

DEFAULT_SHOTS: Final = 10
MAX_SHOTS: Final = 50


class SearchArguments(TypedDict, total=False):
    """`run`'s keyword arguments (see `parameters`)."""

    query: str
    video_id: str
    scope: Literal["video", "collection"]
    limit: int


class SearchAgent:
    name = "search"
    description = (
        "Searches what is said, subtitled or named in the indexed videos, in one video or across "
        "the collection, and shows the matching moments; each plays from its start. Keyword "
        "search (the lines with all the words first), and by meaning too when an embedding "
        "model is chosen. Videos must be indexed first (the `index` "
        "agent). Without video_id, the video the user is looking at, else the collection."
    )
    parameters: JSONSchema = {
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "The words to look for."},
            "video_id": {
                "type": "string",
                "description": "Search this video only; by default the one the user is "
                "looking at, if any.",
            },
            "scope": {
                "type": "string",
                "enum": ["video", "collection"],
                "description": "collection: search every video of the collection, even when "
                "the user is looking at one.",
            },
            "limit": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_SHOTS,
                "description": f"How many moments at most (default {DEFAULT_SHOTS}).",
            },
        },
        "required": ["query"],
    }
    examples = ["@search red car", "@search lighthouse in the whole collection"]

    def __init__(self, library: MediaLibrary, indexer: MediaIndexer) -> None:
        self.library = library
        self.indexer = indexer

    @staticmethod
    def from_text(text: str) -> SearchArguments:
        """An id → video_id; the other words → query."""
        ids = ids_in(text)
        found: SearchArguments = {}
        if query := words_without(text, times=False):
            found["query"] = query
        if ids:
            found["video_id"] = ids[0]
        return found

    async def run(self, ctx: AgentContext, **arguments: Any) -> AgentResult:
        item = AgentItem(ctx, self.name, "search_results", "Searching")
        try:
            query = optional_text(arguments.get("query"), "query")
            if query is None:
                raise InvalidPayload("what should I search for? give a few words (query)")
            limit = _limit(arguments.get("limit"))
            video = await self._video(ctx, arguments)
            collection_id = video.collection_id if video else collection_of(ctx)
            if video is None:
                await self.library.collection(collection_id)
            hits = await self.indexer.search(
                query,
                collection_id=collection_id,
                asset_id=video.id if video else None,
                limit=limit,
            )
            results = await self._grouped(hits)
            note = None if results else await self._why_nothing(video, collection_id, query)
            semantic = await self.indexer.semantic()
        except DirectorError as exc:
            return item.failed(exc)
        ctx.output.update_content(
            item.index, status="success", status_message=note, search_results=results
        )
        result = _result(query, results, note)
        result.data["semantic"] = semantic
        return result

    async def _video(self, ctx: AgentContext, given: Mapping[str, object]) -> AssetRecord | None:
        scope = given.get("scope")
        if scope not in (None, "video", "collection"):
            raise InvalidPayload("scope is video or collection")
        video_id = given.get("video_id")
        if not video_id and (scope == "collection" or not ctx.video_id):
            return None
        return await find_asset(
            self.library, ctx, video_id, "video_id", kinds=("video", "audio"), default=ctx.video_id
        )

    async def _grouped(self, hits: list[LineHit]) -> list[SearchResult]:
        """Hits per video, in the order of each video's best hit (they come best first)."""
        shots: dict[str, list[Shot]] = {}
        for hit in hits:
            shots.setdefault(hit.asset_id, []).append(
                {
                    "search_score": hit.score,
                    "start": round(hit.start, 3),
                    "end": round(hit.end, 3),
                    "text": hit.text,
                }
            )
        results = []
        for asset_id, found in shots.items():
            try:
                asset = await self.library.asset(asset_id)
            except NotFound:  # deleted since the search
                continue
            results.append(search_result(asset, found))
        return results

    async def _why_nothing(self, video: AssetRecord | None, collection_id: str, query: str) -> str:
        if video is not None:
            state = await self.indexer.state(video.id)
            if state.status != "indexed":
                return f"{video.name} is not indexed yet: @index indexes it, then search again."
            return f"Nothing said, subtitled or named in {video.name} matches “{query}”."
        if not any(s.status == "indexed" for s in await self.indexer.states(collection_id)):
            return "No video of this collection is indexed yet: @index all indexes them."
        return f"Nothing said, subtitled or named in the indexed videos matches “{query}”."


def _limit(value: object) -> int:
    if value is None:
        return DEFAULT_SHOTS
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise InvalidPayload(f"limit is a whole number, 1-{MAX_SHOTS}")
    if not 1 <= value <= MAX_SHOTS:
        raise InvalidPayload(f"limit is 1-{MAX_SHOTS}")
    return int(value)


def _result(query: str, results: list[SearchResult], note: str | None) -> AgentResult:
    count = sum(len(r["shots"]) for r in results)
    found = [
        {
            "video_id": r["video_id"],
            "video_title": r["video_title"],
            "shots": [
                {"start": s["start"], "end": s["end"], "text": s["text"]} for s in r["shots"]
            ],
        }
        for r in results
    ]
    if not results:
        return AgentResult("success", note or f"Nothing matches “{query}”.", {"results": []})
    videos = f"{len(results)} video{'s' if len(results) != 1 else ''}"
    message = f"Found {count} moment{'s' if count != 1 else ''} in {videos} for “{query}”."
    return AgentResult("success", message, {"results": found})
