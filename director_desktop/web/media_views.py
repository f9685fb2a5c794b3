"""Assets as Director's collection API shows them (PROTOCOL 6), with our extras for our own UI.

Paths are plain (`/media/<id>`, `/media/<id>/thumbnail`): the routes sign them at delivery,
so stored data and these shapes never hold a signature.
"""

from __future__ import annotations

from director_desktop.media.library import MediaLibrary
from director_desktop.protocol import AssetExtras, AudioAsset, Collection, ImageAsset, VideoAsset
from director_desktop.store import AssetRecord, CollectionRecord


def collection_view(record: CollectionRecord) -> Collection:
    return {"id": record.id, "name": record.name, "description": record.description}


def stream_path(asset: AssetRecord) -> str:
    return f"/media/{asset.id}"


def thumbnail_path(asset: AssetRecord) -> str:
    return f"/media/{asset.id}/thumbnail"


def _add_extras(view: AssetExtras, asset: AssetRecord, library: MediaLibrary) -> None:
    probe = asset.probe
    width, height, fps = probe.get("width"), probe.get("height"), probe.get("fps")
    view["kind"] = asset.kind
    view["size"] = asset.size
    view["created_at"] = asset.created_at
    view["missing"] = library.missing(asset)
    view["width"] = width if isinstance(width, int) else None
    view["height"] = height if isinstance(height, int) else None
    view["fps"] = float(fps) if isinstance(fps, int | float) else None


def video_view(asset: AssetRecord, library: MediaLibrary, *, listed: bool = False) -> VideoAsset:
    view: VideoAsset = {
        "id": asset.id,
        "collection_id": asset.collection_id,
        "name": asset.name,
        "description": asset.description,
        "stream_url": stream_path(asset),
        "player_url": stream_path(asset),
        "thumbnail_url": thumbnail_path(asset) if asset.thumbnail else "",
        "length": asset.length,
    }
    _add_extras(view, asset, library)
    if listed:
        view["type"] = "video"
    return view


def audio_view(asset: AssetRecord, library: MediaLibrary, *, listed: bool = False) -> AudioAsset:
    view: AudioAsset = {
        "id": asset.id,
        "collection_id": asset.collection_id,
        "name": asset.name,
        "length": asset.length,
        "url": stream_path(asset),
    }
    _add_extras(view, asset, library)
    if listed:
        view["type"] = "audio"
    return view


def image_view(asset: AssetRecord, library: MediaLibrary, *, listed: bool = False) -> ImageAsset:
    view: ImageAsset = {
        "id": asset.id,
        "collection_id": asset.collection_id,
        "name": asset.name,
        "description": asset.description,
        "url": stream_path(asset),
    }
    _add_extras(view, asset, library)
    if listed:
        view["type"] = "image"
    return view


def asset_view(
    asset: AssetRecord, library: MediaLibrary, *, listed: bool = False
) -> VideoAsset | AudioAsset | ImageAsset:
    if asset.kind == "video":
        return video_view(asset, library, listed=listed)
    if asset.kind == "audio":
        return audio_view(asset, library, listed=listed)
    return image_view(asset, library, listed=listed)
