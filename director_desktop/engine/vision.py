"""Images the user attached to an input, as a model that can see reads them.

An attachment is uploaded into the session's collection first (the media library's upload
route); the input then carries it as an `image` content item, `{type: "image", image: {id,
collection_id, name, url}}` (PROTOCOL sections 2 and 6). Before a model is asked, each item's
asset is read through the media library by its id (never by a path or URL the client sent) and
becomes a `data:` URL on the user's chat message (`ChatMessage.images`), which the
OpenAI-compatible provider sends as `image_url` parts.

Which models see images: an OpenAI-compatible server is sent them (whether its model has vision
is the server's to say, and its error reaches the user as any model error does). The embedded
engine does not: xllamacpp (2026.10) exposes llama.cpp's multimodal projector (`CommonParams.
mmproj`), but the app has no way yet to pair a model with its projector file, and the built-in
assistant has no model at all. For those the reply says the chosen model cannot see images
(`images_not_supported`) instead of answering as if the image were not there.
Imports the provider seam, errors, protocol and the media library for typing.
"""

from __future__ import annotations

import asyncio
import base64
from typing import TYPE_CHECKING

from director_desktop.engine.llm.base import ChatProvider
from director_desktop.errors import DirectorError, ImagesNotSupported, NotFound, TooLarge
from director_desktop.protocol import ContentItem

if TYPE_CHECKING:
    from director_desktop.media.library import MediaLibrary

MAX_IMAGES = 8
MAX_IMAGE_BYTES = 20 * 1024 * 1024  # the common cap of vision APIs on one image


def image_ids(content: list[ContentItem]) -> list[str]:
    """The asset ids of an input's `image` items, in order, each once."""
    ids: list[str] = []
    for item in content:
        if item.get("type") != "image":
            continue
        image = item.get("image")
        asset_id = image.get("id") if isinstance(image, dict) else None
        if not isinstance(asset_id, str) or not asset_id:
            raise DirectorError("an attached image has no asset id", code="invalid_payload")
        if asset_id not in ids:
            ids.append(asset_id)
    return ids


def sees_images(provider: ChatProvider | None) -> bool:
    """Whether images are sent to this provider (see the module's note)."""
    return provider is not None and provider.name == "openai"


def cannot_see(provider: ChatProvider | None) -> ImagesNotSupported:
    which = (
        "The built-in assistant"
        if provider is None
        else f"The chosen model ({provider_label(provider)})"
    )
    return ImagesNotSupported(
        f"{which} cannot see images. Choose an OpenAI-compatible model with vision in "
        "Settings → Model, or send the message without the image."
    )


def provider_label(provider: ChatProvider) -> str:
    return str(provider.state.model or provider.name)


class ImageReader:
    """Reads attached images through the media library, by asset id."""

    def __init__(self, library: MediaLibrary | None) -> None:
        self._library = library

    async def data_urls(self, content: list[ContentItem]) -> list[str]:
        """A `data:` URL for each attached image; `not_found` for an id that is no image of
        the library, `too_large` past the limits."""
        ids = image_ids(content)
        if not ids:
            return []
        if len(ids) > MAX_IMAGES:
            raise TooLarge(f"{len(ids)} images are attached; a message takes at most {MAX_IMAGES}")
        if self._library is None:
            raise NotFound("there is no media library to read the attached images from")
        return [await self._data_url(asset_id) for asset_id in ids]

    async def _data_url(self, asset_id: str) -> str:
        assert self._library is not None
        asset = await self._library.asset(asset_id, kind="image")
        path = self._library.file_of(asset)
        try:
            size = (await asyncio.to_thread(path.stat)).st_size
            if size > MAX_IMAGE_BYTES:
                raise TooLarge(f"the image {asset.name!r} is larger than 20 MiB")
            data = await asyncio.to_thread(path.read_bytes)
        except OSError as exc:
            raise NotFound(f"the image {asset.name!r} is missing from the library") from exc
        return f"data:{asset.mime};base64,{base64.b64encode(data).decode('ascii')}"
