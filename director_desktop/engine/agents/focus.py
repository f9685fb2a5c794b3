"""What a turn is about: its collection and video, the agents' defaults and the model's context.

A turn's input may carry `collection_id`/`video_id` (the video the user has open). Those are the
turn's focus, and they are remembered in the session's engine context (`store.set_context`, key
`media`), so a later turn without them is about the same ones; a session that never had any falls
back to the ids it was created with. `describe_focus` is the short, bounded text the model's
system prompt gets about them (names, lengths, counts, index state), never the whole collection.
Imports `errors`, `protocol`, `store` and `media`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from director_desktop.errors import DirectorError
from director_desktop.media.editing import clock
from director_desktop.protocol import ChatInput
from director_desktop.store import FocusIds, Store

log = logging.getLogger(__name__)

MAX_NAME = 80
MAX_DESCRIPTION = 600


@dataclass(frozen=True)
class MediaFocus:
    collection_id: str | None = None
    video_id: str | None = None

    def __bool__(self) -> bool:
        return bool(self.collection_id or self.video_id)


async def media_focus(store: Store, session_id: str, chat: ChatInput) -> MediaFocus:
    """The input's collection and video; else the last ones a turn of the session named; else
    those the session was created with. Never raises: a turn can do without."""
    given = MediaFocus(chat.collection_id, chat.video_id)
    try:
        if given:
            await _remember(store, session_id, given)
            return given
        context = await store.get_context(session_id) or {}
        remembered = context.get("media")
        if isinstance(remembered, dict):
            focus = MediaFocus(
                _id(remembered.get("collection_id")), _id(remembered.get("video_id"))
            )
            if focus:
                return focus
        session = await store.get_session(session_id)
    except DirectorError as exc:  # the store is closing, the session is gone: no focus
        log.info("no media focus for the turn", extra={"error": exc.code})
        return given
    if session is None:
        return given
    return MediaFocus(_id(session.get("collection_id")), _id(session.get("video_id")))


async def _remember(store: Store, session_id: str, focus: MediaFocus) -> None:
    context = await store.get_context(session_id) or {}
    wanted: FocusIds = {"collection_id": focus.collection_id, "video_id": focus.video_id}
    if context.get("media") != wanted:
        await store.set_context(session_id, {**context, "media": wanted})


def _id(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


async def describe_focus(store: Store, focus: MediaFocus) -> str:
    """A few lines about the focus for the model: '' when there is none or it is not found."""
    lines: list[str] = []
    try:
        if focus.video_id:
            asset = await store.media.get(focus.video_id)
            inside = asset is not None and (
                focus.collection_id is None or asset.collection_id == focus.collection_id
            )
            if asset is not None and inside:
                size = asset.probe.get("width"), asset.probe.get("height")
                shape = f", {size[0]}x{size[1]}" if all(isinstance(v, int) for v in size) else ""
                state = await index_state(store, asset.id)
                indexed = f", {state}" if state else ""
                lines.append(
                    f'Video {asset.id} is "{_short(asset.name)}", a {asset.kind} of '
                    f"{clock(asset.length)}{shape}{indexed}."
                )
        if focus.collection_id:
            collection = await store.media.collection(focus.collection_id)
            if collection is not None:
                totals = await store.media.totals(collection.id)
                lines.append(
                    f'Collection {collection.id} is "{_short(collection.name)}": '
                    f"{_count(totals.videos, 'video')}, {_count(totals.audios, 'audio file')}, "
                    f"{_count(totals.images, 'image')}."
                )
    except DirectorError as exc:
        log.info("the media focus could not be described", extra={"error": exc.code})
    return "\n".join(lines)[:MAX_DESCRIPTION]


INDEX_WORDS = {
    "not_indexed": "not indexed yet",
    "indexing": "being indexed",
    "indexed": "indexed",
    "error": "indexing failed",
}


async def index_state(store: Store, asset_id: str) -> str | None:
    """The asset's index state in words ("indexed", "not indexed yet"...), for the prompt."""
    try:
        status = (await store.index.state(asset_id)).status
    except DirectorError:
        return None
    return INDEX_WORDS.get(status, status)


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}" + ("" if number == 1 else "s")


def _short(text: str) -> str:
    """One line, at most MAX_NAME characters: a name must not take over the prompt."""
    flat = " ".join(text.split()).replace('"', "'")
    return flat if len(flat) <= MAX_NAME else flat[: MAX_NAME - 1] + "…"
