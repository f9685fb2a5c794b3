"""The model settings API under `/config/models...`: list, choose, test, import and watch models.

Every route needs the launch token (the guard checks it). Errors are `DirectorError`s, turned into
the one envelope by `web.http`. Changes that a Settings view shows are announced with
`update_data` `models` events on `/chat`. The routes work on the app's `ModelRouter`; with
another engine they answer `409 not_available`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from director_desktop.engine.router import PROVIDERS, ModelRouter
from director_desktop.errors import (
    Cancelled,
    Conflict,
    DirectorError,
    InvalidPayload,
    NotAvailable,
)
from director_desktop.protocol import ModelImport, UpdateEvent
from director_desktop.web import model_downloads
from director_desktop.web.http import api_key_in, read_json
from director_desktop.web.state import AppState

MAX_CHOICE_BODY = 64 * 1024
# An upload refused for the file itself is a bad request (400); other failures keep their code.
REFUSED = {"not_gguf", "model_corrupt", "model_missing", "import_incomplete"}


def routes(state: AppState) -> list[BaseRoute]:
    api = ModelsApi(state)
    return [
        Route("/config/models", api.list_models, methods=["GET"]),
        Route("/config/models/status", api.status, methods=["GET"]),
        Route("/config/models/choice", api.choose, methods=["PUT"]),
        Route("/config/models/test", api.test, methods=["POST"]),
        Route("/config/models/detected", api.detected, methods=["GET"]),
        Route("/config/models/import", api.import_path, methods=["POST"]),
        Route("/config/models/upload", api.upload, methods=["POST"]),
        Route("/config/models/imports", api.list_imports, methods=["GET"]),
        Route("/config/models/imports/{job_id}", api.get_import, methods=["GET"]),
        Route("/config/models/imports/{job_id}", api.cancel_import, methods=["DELETE"]),
        Route("/config/models/files/{file}", api.delete_model, methods=["DELETE"]),
        *model_downloads.routes(state),  # the catalogue, the hub and downloads
    ]


class ModelsApi:
    def __init__(self, state: AppState) -> None:
        self.state = state
        if isinstance(state.engine, ModelRouter):  # imports are the app's jobs (PROTOCOL 7)
            state.engine.library.attach_jobs(state.jobs)

    def router(self) -> ModelRouter:
        engine = self.state.engine
        if not isinstance(engine, ModelRouter):
            raise NotAvailable("model settings are not available")
        return engine

    async def _announce(self, *, state: str | None = None, job: ModelImport | None = None) -> None:
        """`update_data` `models`, with the chosen model's load state or an import's state."""
        event: UpdateEvent = {"event_type": "update_data", "update": "models"}
        if state is not None:
            event["state"] = state
        if job is not None:
            event["import_id"], event["import_state"] = job["id"], job["state"]
        await self.state.publisher.update(event)

    # --- reading -------------------------------------------------------------------------------
    async def list_models(self, _request: Request) -> Response:
        router = self.router()
        files = await asyncio.to_thread(router.library.list)
        await router.detected()  # the settings show them: look now if start-up has not yet
        return JSONResponse(
            {
                "providers": list(PROVIDERS),
                "models_dir": str(router.library.dir),
                "models": files,
                "status": router.status(),
            }
        )

    async def status(self, _request: Request) -> Response:
        return JSONResponse(self.router().status())

    async def detected(self, _request: Request) -> Response:
        return JSONResponse({"servers": await self.router().detected()})

    # --- choosing and testing ------------------------------------------------------------------
    async def choose(self, request: Request) -> Response:
        body = _object(await read_json(request, MAX_CHOICE_BODY))
        status = await self.router().configure(body, api_key=api_key_in(body))
        await self._announce(state=status["state"])
        self._watch_load()
        return JSONResponse(status)

    def _watch_load(self) -> None:
        """Announce when the chosen model has finished loading (or failed)."""
        provider = self.router().provider
        if provider is None:
            return

        async def watch() -> None:
            with contextlib.suppress(DirectorError):
                await provider.ready()
            if self.router().provider is provider:
                await self._announce(state=provider.state.state)

        self.state.background.spawn(watch(), name="watch-model-load")

    async def test(self, request: Request) -> Response:
        raw = await read_json(request, MAX_CHOICE_BODY) if await _has_body(request) else None
        if raw is None or raw == {}:
            return JSONResponse(await self.router().test())
        body = _object(raw)
        return JSONResponse(await self.router().test(body, api_key=api_key_in(body)))

    # --- importing (import jobs; the Import objects are their views) ----------------------------
    async def import_path(self, request: Request) -> Response:
        body = _object(await read_json(request, MAX_CHOICE_BODY))
        path, link = body.get("path"), body.get("link", False)
        if not isinstance(path, str) or not path:
            raise InvalidPayload("path must be the path of a .gguf file")
        if not isinstance(link, bool):
            raise InvalidPayload("link must be true or false")
        job = await self.router().library.import_path(Path(path), link=link)
        self._watch_job(job["id"])
        return JSONResponse(job, status_code=202)

    async def upload(self, request: Request) -> Response:
        name = request.query_params.get("name") or ""
        total = _content_length(request)
        library = self.router().library
        started: list[str] = []
        try:
            job = await library.upload(name, total, _body(request), started.append)
        except Cancelled as exc:  # DELETE /jobs/{id}, or the client went away
            raise DirectorError(exc.message, code="cancelled") from exc
        except DirectorError as exc:
            if exc.code in REFUSED:  # the file itself: a bad request body, nothing kept
                raise InvalidPayload(exc.message, code=exc.code) from exc
            raise
        finally:
            for job_id in started:  # the import ended, however: tell the windows
                with contextlib.suppress(DirectorError):
                    await self._announce(job=await library.view(job_id))
        return JSONResponse(await library.view(job["id"]), status_code=201)

    def _watch_job(self, job_id: str) -> None:
        async def watch() -> None:
            library = self.router().library
            await library.jobs.wait(job_id)
            await self._announce(job=await library.view(job_id))

        self.state.background.spawn(watch(), name=f"watch-import {job_id}")

    async def list_imports(self, _request: Request) -> Response:
        return JSONResponse({"imports": await self.router().library.views()})

    async def get_import(self, request: Request) -> Response:
        return JSONResponse(await self.router().library.view(request.path_params["job_id"]))

    async def cancel_import(self, request: Request) -> Response:
        library = self.router().library
        job_id = request.path_params["job_id"]
        library.record(job_id)  # 404 for an import that is not one
        await library.jobs.cancel(job_id)
        return JSONResponse(await library.view(job_id))

    async def delete_model(self, request: Request) -> Response:
        router = self.router()
        file = request.path_params["file"]
        config = router.status()["config"]
        if config.get("provider") == "embedded" and config.get("model") == file:
            raise Conflict("this model is in use; choose another one first")
        await asyncio.to_thread(router.library.delete, file)
        await self._announce()
        return JSONResponse({"success": True})


async def _body(request: Request) -> AsyncIterator[bytes]:
    """The request body; a client that goes away mid-upload cancels its import."""
    try:
        async for chunk in request.stream():
            yield chunk
    except ClientDisconnect:
        raise Cancelled("the upload was interrupted: the client went away") from None


def _object(raw: object) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InvalidPayload("the request body must be a JSON object")
    return raw


def _content_length(request: Request) -> int | None:
    raw = request.headers.get("content-length")
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidPayload("Content-Length must be a number") from None


async def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    return length not in (None, "0") or "chunked" in request.headers.get("transfer-encoding", "")
