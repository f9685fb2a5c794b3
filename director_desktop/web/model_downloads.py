"""The model catalogue and downloads API: `/config/models/catalogue`, `/config/models/hub...`,
`/config/models/downloads` (PROTOCOL 7, "Model downloads").

Downloads are `download` jobs: progress, pause, resume and cancel go through `/jobs`. The hub is
`HF_ENDPOINT` when set (`Settings.hf_endpoint`); a hub token is kept in the SecretStore like an
API key, and answers never carry it. With an engine that has no model settings the routes answer
`409 not_available`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from director_desktop.engine.llm import catalogue
from director_desktop.engine.llm.downloads import ModelDownloads, check_download
from director_desktop.engine.llm.hub import HubClient, HubRepo, check_revision, parse_repo
from director_desktop.engine.llm.library import DOWNLOAD_SUFFIXES, download_name
from director_desktop.engine.router import ModelRouter
from director_desktop.errors import DirectorError, InvalidPayload, NotAvailable
from director_desktop.protocol import (
    CatalogueAnswer,
    CatalogueItem,
    HubFileInfo,
    HubListing,
    WireErrorBody,
    sanitize,
)
from director_desktop.web.http import read_json
from director_desktop.web.state import AppState

MAX_BODY = 64 * 1024
LIVE_TIMEOUT = 15.0


def routes(state: AppState) -> list[BaseRoute]:
    api = DownloadsApi(state)
    return [
        Route("/config/models/catalogue", api.catalogue, methods=["GET"]),
        Route("/config/models/hub", api.hub_files, methods=["GET"]),
        Route("/config/models/hub/token", api.set_token, methods=["PUT"]),
        Route("/config/models/downloads", api.download, methods=["POST"]),
    ]


class DownloadsApi:
    def __init__(self, state: AppState) -> None:
        self.state = state
        self.endpoint = state.settings.hf_endpoint
        self.token_name = f"hub:{self.endpoint}"
        self.downloads: ModelDownloads | None = None
        engine = state.engine
        if isinstance(engine, ModelRouter):
            secrets = engine.secrets
            hub = HubClient(self.endpoint, lambda: secrets.get(self.token_name))
            # Built with the app, so a download paused before a restart can resume at once.
            self.downloads = ModelDownloads(
                state.jobs, engine.library, hub, state.settings.staging_dir
            )

    def _downloads(self) -> ModelDownloads:
        if self.downloads is None:
            raise NotAvailable("model downloads are not available")
        return self.downloads

    def _router(self) -> ModelRouter:
        engine = self.state.engine
        if not isinstance(engine, ModelRouter):
            raise NotAvailable("model downloads are not available")
        return engine

    # --- the catalogue -------------------------------------------------------------------------
    async def catalogue(self, _request: Request) -> Response:
        downloads, router = self._downloads(), self._router()
        shipped = catalogue.load()
        memory = catalogue.machine_memory()
        best = catalogue.recommended(shipped, memory)
        wanted = {(e["repo"], e["revision"]) for e in shipped.entries}
        live = await _ask_all(downloads.hub, wanted)
        models_dir = downloads.library.dir
        items: list[CatalogueItem] = []
        for entry in shipped.entries:
            answer = live[(entry["repo"], entry["revision"])]
            size: int | None = None
            sha256: str | None = None
            error: WireErrorBody | None = None
            if isinstance(answer, HubRepo):
                found = answer.file(entry["file"])
                if found is None:
                    error = {
                        "code": "hub_not_found",
                        "message": f"the hub no longer has {entry['file']} in {entry['repo']}",
                    }
                else:
                    size, sha256 = found.size, found.sha256
            else:
                error = {"code": answer.code, "message": sanitize(answer.message)}
            items.append(
                {
                    **entry,
                    "fit": catalogue.fit(entry["memory_gb"], memory),
                    "recommended": entry["id"] == best,
                    "installed": (models_dir / download_name(entry["file"])).exists(),
                    "size": size,
                    "sha256": sha256,
                    "hub_error": error,
                }
            )
        has_token = await asyncio.to_thread(router.secrets.get, self.token_name) is not None
        answer_: CatalogueAnswer = {
            "version": shipped.version,
            "memory": memory,
            "endpoint": self.endpoint,
            "has_token": has_token,
            "entries": items,
        }
        return JSONResponse(answer_)

    # --- any repository --------------------------------------------------------------------------
    async def hub_files(self, request: Request) -> Response:
        downloads = self._downloads()
        text = request.query_params.get("repo", "")
        if not text.strip():
            raise InvalidPayload("repo is required: owner/name or a hub link", code="bad_repo")
        ref = parse_repo(text, self.endpoint)
        revision = request.query_params.get("revision") or ref.revision or "main"
        info = await downloads.hub.repo(ref.repo, check_revision(revision))
        files: list[HubFileInfo] = [
            {"file": f.path, "size": f.size, "sha256": f.sha256}
            for f in info.files
            if f.path.lower().endswith(DOWNLOAD_SUFFIXES)
        ]
        listing: HubListing = {
            "repo": info.repo,
            "revision": info.revision,
            "commit": info.commit,
            "gated": info.gated,
            "page": downloads.hub.page(info.repo),
            "files": files,
            "file": ref.file,
        }
        return JSONResponse(listing)

    async def set_token(self, request: Request) -> Response:
        router = self._router()
        body = _object(await read_json(request, MAX_BODY))
        token = body.get("token")
        if token is not None and not isinstance(token, str):
            raise InvalidPayload('the body is {"token": "hf_..."} or {"token": null}')
        if token and token.strip():
            backend = await asyncio.to_thread(router.secrets.set, self.token_name, token.strip())
            return JSONResponse({"has_token": True, "key_storage": backend})
        await asyncio.to_thread(router.secrets.delete, self.token_name)
        return JSONResponse({"has_token": False, "key_storage": router.secrets.backend})

    # --- downloading -----------------------------------------------------------------------------
    async def download(self, request: Request) -> Response:
        downloads = self._downloads()
        repo, file, revision = check_download(_object(await read_json(request, MAX_BODY)))
        job = await downloads.start(repo, file, revision)
        return JSONResponse(job, status_code=202)


async def _ask_all(
    hub: HubClient, wanted: set[tuple[str, str]]
) -> dict[tuple[str, str], HubRepo | DirectorError]:
    """Each repository's files, asked at once; a failure (no network) is kept per repository."""

    async def ask(repo: str, revision: str) -> HubRepo | DirectorError:
        try:
            return await asyncio.wait_for(hub.repo(repo, revision), LIVE_TIMEOUT)
        except DirectorError as exc:
            return exc
        except TimeoutError:
            return hub.unreachable(TimeoutError())

    keys = sorted(wanted)
    answers = await asyncio.gather(*(ask(repo, revision) for repo, revision in keys))
    return dict(zip(keys, answers, strict=True))


def _object(raw: object) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InvalidPayload("the request body must be a JSON object")
    return raw
