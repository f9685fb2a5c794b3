"""Back up everything and restore, over HTTP (`media/backup.py`): both run as jobs (PROTOCOL 7),
so their progress reaches every window as `event {event_type: "job"}` and `DELETE /jobs/{id}`
cancels them. Archives are named files of `<data dir>/archives/`, reached only by name."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from director_desktop.errors import InvalidPayload
from director_desktop.media.backup import Backups
from director_desktop.web.http import read_json
from director_desktop.web.state import AppState

ARCHIVES = "archives"


def routes(state: AppState) -> list[BaseRoute]:
    api = BackupApi(
        Backups(
            state.store,
            state.library,
            state.settings.user_settings_path,
            state.settings.data_dir / ARCHIVES,
        )
    )
    return [
        Route("/backup", api.list, methods=["GET"]),
        Route("/backup", api.start, methods=["POST"]),
        Route("/backup/{name}", api.download, methods=["GET"]),
        Route("/backup/{name}", api.upload, methods=["PUT"]),
        Route("/backup/{name}/restore", api.restore, methods=["POST"]),
    ]


class BackupApi:
    def __init__(self, backups: Backups) -> None:
        self._backups = backups

    async def list(self, _request: Request) -> Response:
        return JSONResponse(await self._backups.list())

    async def start(self, request: Request) -> Response:
        body = await read_json(request)
        if not isinstance(body, dict):
            raise InvalidPayload('send a JSON object, e.g. {"media_files": false}')
        media_files = body.get("media_files", False)
        if not isinstance(media_files, bool):
            raise InvalidPayload("media_files must be true or false")
        return JSONResponse(await self._backups.start_backup(media_files=media_files), 202)

    async def download(self, request: Request) -> Response:
        path = self._backups.path_of(request.path_params["name"])
        return FileResponse(path, media_type="application/zip", filename=path.name)

    async def upload(self, request: Request) -> Response:
        info = await self._backups.receive(request.path_params["name"], request.stream())
        return JSONResponse(info, 201)

    async def restore(self, request: Request) -> Response:
        return JSONResponse(await self._backups.start_restore(request.path_params["name"]), 202)
