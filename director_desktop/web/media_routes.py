"""The media library over HTTP: Director's collection API (`/videodb/...`, PROTOCOL 6), the files
themselves (`/media/...`, with byte ranges), our own `/media/import` and `/config/media`.

Director's UI reads a top-level `message` on errors of `/videodb/...`: `web.http` adds it there.
Every URL in an answer is signed here, at delivery (stored data holds plain paths).
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path, PurePosixPath
from typing import Any, Final, cast
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from director_desktop.engine.speech import TranscriptShelf, find_transcript, render
from director_desktop.engine.speech.formats import FORMATS, Format
from director_desktop.errors import InvalidPayload, NotFound
from director_desktop.media.library import MediaLibrary
from director_desktop.protocol import CollectionCreated, check_id
from director_desktop.store import AssetKind, AssetRecord
from director_desktop.web.guard import sign_media_urls
from director_desktop.web.http import query_int, read_json
from director_desktop.web.media_views import asset_view, collection_view
from director_desktop.web.state import AppState
from director_desktop.web.uploads import MultipartFile

KINDS: Final[dict[str, AssetKind]] = {"video": "video", "audio": "audio", "image": "image"}
MAX_PAGE: Final = 1000
MAX_PATHS: Final = 100
NEXT_CURSOR: Final = "x-next-cursor"
# One range of bytes (RFC 9110 14.1.1): `a-b`, `a-` or `-n`, several separated by commas.
_RANGES = re.compile(r"bytes=\s*(\d+-\d*|-\d+)(\s*,\s*(\d+-\d*|-\d+))*\s*")


def routes(state: AppState) -> list[BaseRoute]:
    api = MediaApi(state)
    collection = "/videodb/collection/{collection_id}"
    asset = collection + "/{kind}/{asset_id}"
    return [
        Route("/videodb/collection", api.list_collections, methods=["GET"]),
        Route("/videodb/collection", api.create_collection, methods=["POST"]),
        Route(collection, api.get_collection, methods=["GET"]),
        Route(collection, api.delete_collection, methods=["DELETE"]),
        Route(collection + "/upload", api.upload, methods=["POST"]),
        Route(collection + "/{kind}", api.list_assets, methods=["GET"]),
        Route(asset, api.get_asset, methods=["GET"]),
        Route(asset, api.delete_asset, methods=["DELETE"]),
        Route(asset + "/generate_url", api.generate_url, methods=["GET"]),
        Route("/media/import", api.import_paths, methods=["POST"]),
        Route("/media/{asset_id}", api.serve, methods=["GET", "HEAD"]),
        Route("/media/{asset_id}/thumbnail", api.thumbnail, methods=["GET", "HEAD"]),
        Route("/config/media", api.status, methods=["GET"]),
        Route("/config/media", api.change, methods=["PATCH"]),
        Route("/media/{asset_id}/transcript", api.transcript, methods=["GET"]),
    ]


class MediaApi:
    def __init__(self, state: AppState) -> None:
        self.state = state
        self.library: MediaLibrary = state.library

    def _signed(self, value: Any, status_code: int = 200) -> JSONResponse:
        return JSONResponse(sign_media_urls(value, self.state.signer), status_code=status_code)

    # --- collections ---------------------------------------------------------------------------
    async def list_collections(self, _request: Request) -> Response:
        return JSONResponse([collection_view(c) for c in await self.library.collections()])

    async def get_collection(self, request: Request) -> Response:
        found = await self.library.collection(_collection_id(request))
        return JSONResponse(collection_view(found))

    async def create_collection(self, request: Request) -> Response:
        body = await read_json(request)
        if not isinstance(body, dict):
            raise InvalidPayload("send {name, description}")
        name, description = body.get("name"), body.get("description", "")
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= 200:
            raise InvalidPayload("name must be a string of 1-200 characters")
        if not isinstance(description, str):
            raise InvalidPayload("description must be a string")
        created = await self.library.create_collection(name.strip(), description)
        message = "Collection created"
        answer: CollectionCreated = {
            "message": message,
            "data": {"success": True, "message": message, "collection": collection_view(created)},
        }
        return JSONResponse(answer, status_code=201)

    async def delete_collection(self, request: Request) -> Response:
        await self.library.delete_collection(_collection_id(request))
        return JSONResponse({"success": True, "message": "Collection deleted"})

    # --- assets --------------------------------------------------------------------------------
    async def list_assets(self, request: Request) -> Response:
        kind = _kind(request)
        limit = query_int(request, "limit", minimum=1)
        page = await self.library.assets(
            _collection_id(request),
            kind,
            q=request.query_params.get("q") or None,
            limit=min(limit, MAX_PAGE) if limit is not None else None,
            cursor=request.query_params.get("cursor") or None,
        )
        views = [asset_view(a, self.library, listed=True) for a in page.assets]
        response = self._signed(views)
        if page.next_cursor is not None:
            response.headers[NEXT_CURSOR] = page.next_cursor
        return response

    async def _asset(self, request: Request) -> AssetRecord:
        return await self.library.asset(
            check_id(request.path_params["asset_id"], "asset_id"),
            collection_id=_collection_id(request),
            kind=_kind(request),
        )

    async def get_asset(self, request: Request) -> Response:
        return self._signed(asset_view(await self._asset(request), self.library))

    async def delete_asset(self, request: Request) -> Response:
        asset = await self._asset(request)
        await self.library.delete_asset(asset)
        return JSONResponse({"success": True, "message": f"{asset.kind.capitalize()} deleted"})

    async def generate_url(self, request: Request) -> Response:
        asset = await self._asset(request)
        if asset.kind == "video":
            raise NotFound("generate_url is for audio and images; a video has its stream_url")
        return PlainTextResponse(self.state.signer.sign(f"/media/{asset.id}"))

    # --- imports -------------------------------------------------------------------------------
    async def upload(self, request: Request) -> Response:
        collection_id = _collection_id(request)
        if request.headers.get("content-type", "").startswith("application/json"):
            body = await read_json(request)
            if not isinstance(body, dict) or body.get("source_type") != "url":
                raise InvalidPayload('send {"source": "<http(s) URL>", "source_type": "url"}')
            source = body.get("source")
            if not isinstance(source, str):
                raise InvalidPayload("source must be a URL")
            imported = await self.library.import_url(source, collection_id=collection_id)
        else:
            upload = MultipartFile(request)
            name = await upload.open()
            imported = await self.library.import_upload(
                upload.chunks(),
                name=name,
                collection_id=collection_id,
                size=_content_length(request),
            )
        view = asset_view(imported.asset, self.library)
        view["duplicate"] = imported.duplicate
        return self._signed(view, 200 if imported.duplicate else 201)

    async def import_paths(self, request: Request) -> Response:
        """Files the user chose in the window's native dialog: copied in, or referenced where
        they are. 202 with one job per file; the page follows them through job events."""
        body = await read_json(request)
        if not isinstance(body, dict):
            raise InvalidPayload("send {collection_id, paths, reference}")
        paths, reference = body.get("paths"), body.get("reference", False)
        if (
            not isinstance(paths, list)
            or not 1 <= len(paths) <= MAX_PATHS
            or not all(isinstance(p, str) and p for p in paths)
        ):
            raise InvalidPayload(f"paths must be a list of 1-{MAX_PATHS} file paths")
        if not isinstance(reference, bool):
            raise InvalidPayload("reference must be true or false")
        collection_id = check_id(body.get("collection_id", "default"), "collection_id")
        await self.library.collection(collection_id)
        chosen = [Path(p) for p in cast(list[str], paths)]
        # All or nothing: a file that is gone refuses the request before any of its jobs starts.
        gone = await asyncio.to_thread(lambda: [p for p in chosen if not _a_file(p)])
        if gone:
            raise NotFound(f"no such file: {gone[0].name} (choose files with the file dialog)")
        jobs = [
            await self.library.import_path(p, collection_id=collection_id, reference=reference)
            for p in chosen
        ]
        return JSONResponse(jobs, status_code=202)

    # --- files ---------------------------------------------------------------------------------
    async def serve(self, request: Request) -> Response:
        asset = await self.library.asset(check_id(request.path_params["asset_id"], "asset_id"))
        path, mime = self.library.served_file(asset)
        if not path.is_file():
            raise NotFound("the file of this asset is missing")
        return RangedFile(path, media_type=mime)

    async def thumbnail(self, request: Request) -> Response:
        asset = await self.library.asset(check_id(request.path_params["asset_id"], "asset_id"))
        path = self.library.thumbnail_file(asset)
        if not path.is_file():
            raise NotFound("this asset has no thumbnail")
        return RangedFile(path, media_type="image/jpeg")

    # --- status --------------------------------------------------------------------------------
    async def status(self, _request: Request) -> Response:
        return JSONResponse(await self.library.status())

    async def change(self, request: Request) -> Response:
        body = await read_json(request)
        fields = {"max_upload_bytes", "index_on_import"}
        if not isinstance(body, dict) or not body or not set(body) <= fields:
            raise InvalidPayload("send {max_upload_bytes} and/or {index_on_import}")
        if not isinstance(body.get("index_on_import", False), bool):  # checked before any write
            raise InvalidPayload("index_on_import must be true or false")
        limit = self.library.limit
        if "max_upload_bytes" in body:
            limit.set(body["max_upload_bytes"])
        if "index_on_import" in body:
            limit.set_index_on_import(body["index_on_import"])
        return JSONResponse(await self.library.status())

    # --- transcripts (issue 13) ----------------------------------------------------------------
    async def transcript(self, request: Request) -> Response:
        """The asset's transcript as a file to save: from the media index, else the one the
        `transcription` agent made; 404 when there is none yet."""
        asset = await self.library.asset(check_id(request.path_params["asset_id"], "asset_id"))
        kind = request.query_params.get("format", "srt")
        if kind not in FORMATS:
            raise InvalidPayload("format must be srt, vtt or txt")
        shelf = TranscriptShelf(self.library.media_dir)
        found = await find_transcript(self.state.store, shelf, asset.id)
        if found is None:
            raise NotFound(f"{asset.name} has no transcript yet (ask @transcription)")
        media_type, suffix = FORMATS[kind]
        name = f"{PurePosixPath(asset.name).stem or 'transcript'}{suffix}"
        ascii_name = name.encode("ascii", "replace").decode().replace('"', "'").replace("?", "_")
        disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
        return Response(
            render(found[0], cast(Format, kind)),
            media_type=media_type,
            headers={"Content-Disposition": disposition},
        )


class RangedFile(FileResponse):
    """Starlette's file response (single ranges answer 206, unsatisfiable ones 416 with
    `Content-Range: bytes */size`, several ranges a multipart answer; ETag and Last-Modified),
    except that a Range header it cannot parse is ignored, as RFC 9110 says, instead of
    answering a plain-text 400."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = scope.get("headers", [])
        ranges = [v for k, v in headers if k == b"range"]
        if ranges and not _valid_ranges(ranges[0].decode("latin-1")):
            scope = {**scope, "headers": [(k, v) for k, v in headers if k != b"range"]}
        await super().__call__(scope, receive, send)


def _valid_ranges(header: str) -> bool:
    """A `bytes=` header of `a-b`, `a-` and `-n` ranges, each `a-b` with a <= b."""
    if not _RANGES.fullmatch(header):
        return False
    for part in header.strip().removeprefix("bytes=").split(","):
        start, _, end = part.strip().partition("-")
        if start and end and int(start) > int(end):
            return False
    return True


def _a_file(path: Path) -> bool:
    return path.is_absolute() and path.is_file()


def _collection_id(request: Request) -> str:
    return check_id(request.path_params["collection_id"], "collection_id")


def _kind(request: Request) -> AssetKind:
    kind = KINDS.get(request.path_params["kind"])
    if kind is None:
        raise NotFound("no such kind of asset: video, audio or image")
    return kind


def _content_length(request: Request) -> int | None:
    raw = request.headers.get("content-length")
    return int(raw) if raw and raw.isdigit() else None
