"""Content items that show the library's assets in a chat (PROTOCOL section 2), built from records.

Every agent that shows an asset builds its item here, so all of them carry the same keys:

    video           {video: {id, collection_id, name, description, stream_url, thumbnail_url,
                             length, error}}
    videos          {videos: [VideoData], ui_config: {columns}}
    image           {image: {url, id, collection_id, name, description}}
    search_results  {search_results: [{video_id, video_title, stream_url, duration,
                                       shots: [{search_score, start, end, text}]}]}
    download        {download: {id, collection_id, kind, name, filename, url, mime, size}}

Paths are plain (`/media/<id>`, `/media/<id>/thumbnail`): stored messages never hold a signature,
the web signs them at delivery. Imports `protocol` and `store` (the record type).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath

from director_desktop.protocol import ContentItem, ImageData, SearchResult, Shot, VideoData
from director_desktop.protocol.types import DownloadData
from director_desktop.store import AssetRecord

PLAYABLE_MIME = {".mp4": "video/mp4", ".m4a": "audio/mp4"}


def stream_path(asset: AssetRecord) -> str:
    return f"/media/{asset.id}"


def thumbnail_path(asset: AssetRecord) -> str:
    return f"/media/{asset.id}/thumbnail" if asset.thumbnail else ""


def video_data(asset: AssetRecord, *, error: str | None = None) -> VideoData:
    return {
        "id": asset.id,
        "collection_id": asset.collection_id,
        "name": asset.name,
        "description": asset.description,
        "stream_url": stream_path(asset),
        "thumbnail_url": thumbnail_path(asset),
        "length": asset.length,
        "error": error,
    }


def image_data(asset: AssetRecord) -> ImageData:
    return {
        "url": stream_path(asset),
        "id": asset.id,
        "collection_id": asset.collection_id,
        "name": asset.name,
        "description": asset.description,
    }


def download_data(asset: AssetRecord) -> DownloadData:
    """What `GET /media/<id>` serves: the playable version when one was made, else the original."""
    filename, mime = asset.name, asset.mime
    size: int | None = asset.size
    if asset.playable:
        suffix = PurePosixPath(asset.playable).suffix
        filename = f"{PurePosixPath(asset.name).stem or 'download'}{suffix}"
        mime, size = PLAYABLE_MIME.get(suffix, "application/octet-stream"), None
    return {
        "id": asset.id,
        "collection_id": asset.collection_id,
        "kind": asset.kind,
        "name": asset.name,
        "filename": filename,
        "url": stream_path(asset),
        "mime": mime,
        "size": size,
    }


def search_result(asset: AssetRecord, shots: Sequence[Shot]) -> SearchResult:
    """One video of a `search_results` item: its shots play from their start in the chat."""
    return {
        "video_id": asset.id,
        "video_title": asset.name,
        "stream_url": stream_path(asset),
        "duration": asset.length,
        "shots": list(shots),
    }


def _item(kind: str, agent_name: str | None, status: str, message: str | None) -> ContentItem:
    return {"type": kind, "status": status, "status_message": message, "agent_name": agent_name}


def video_item(
    asset: AssetRecord,
    *,
    agent_name: str | None,
    status: str = "success",
    status_message: str | None = None,
) -> ContentItem:
    item = _item("video", agent_name, status, status_message)
    item["video"] = video_data(asset)
    return item


def videos_item(
    assets: Sequence[AssetRecord], *, agent_name: str | None, columns: int = 3
) -> ContentItem:
    item = _item("videos", agent_name, "success", None)
    item["videos"] = [video_data(asset) for asset in assets]
    item["ui_config"] = {"columns": columns}
    return item


def image_item(
    asset: AssetRecord,
    *,
    agent_name: str | None,
    status: str = "success",
    status_message: str | None = None,
) -> ContentItem:
    item = _item("image", agent_name, status, status_message)
    item["image"] = image_data(asset)
    return item


def download_item(asset: AssetRecord, *, agent_name: str | None) -> ContentItem:
    item = _item("download", agent_name, "success", None)
    item["download"] = download_data(asset)
    return item


def search_results_item(
    results: Sequence[SearchResult], *, agent_name: str | None, status: str = "success"
) -> ContentItem:
    item = _item("search_results", agent_name, status, None)
    item["search_results"] = list(results)
    return item
