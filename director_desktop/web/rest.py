"""The HTTP API of PROTOCOL section 5 (plus `/metrics`): health, configuration, agents, sessions,
search and prefs, as small handlers on one `Api` class. Errors are raised as `DirectorError`s and
translated to the wire by `web.http`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from director_desktop import version
from director_desktop.errors import InvalidPayload, NotFound, TooLarge
from director_desktop.protocol import PageMore, SessionPage, UpdateEvent, check_id
from director_desktop.web.http import query_int, read_json
from director_desktop.web.state import AppState

log = logging.getLogger(__name__)

MAX_IMPORT_BODY = 64 * 1024 * 1024
MAX_DIRECTOR_DB = 512 * 1024 * 1024
MAX_PAGE = 1000
SESSIONS_PAGE = 100
NEXT_CURSOR = "x-next-cursor"  # as the media list's paging names it
SESSIONS_CHANGED: UpdateEvent = {"event_type": "update_data", "update": "sessions"}


def routes(state: AppState) -> list[BaseRoute]:
    api = Api(state)
    return [
        Route("/health", api.health, methods=["GET"]),
        Route("/metrics", api.metrics, methods=["GET"]),
        Route("/config/check", api.config_check, methods=["GET"]),
        Route("/agent", api.agents, methods=["GET"]),
        Route("/search", api.search, methods=["GET"]),
        Route("/prefs", api.get_prefs, methods=["GET"]),
        Route("/prefs", api.patch_prefs, methods=["PATCH"]),
        Route("/session", api.list_sessions, methods=["GET"]),
        Route("/session/import", api.import_session, methods=["POST"]),
        Route("/session/import/director", api.import_director_db, methods=["POST"]),
        Route("/session/{session_id}", api.get_session, methods=["GET"]),
        Route("/session/{session_id}", api.rename_session, methods=["PATCH"]),
        Route("/session/{session_id}", api.delete_session, methods=["DELETE"]),
        Route("/session/{session_id}/export", api.export_session, methods=["GET"]),
        Route("/session/{session_id}/turn/{conv_id}", api.delete_turn, methods=["DELETE"]),
        Route("/session/{session_id}/turn/{conv_id}/restore", api.restore_turn, methods=["POST"]),
    ]


class Api:
    def __init__(self, state: AppState) -> None:
        self.state = state
        self.store = state.store

    # --- health and configuration --------------------------------------------------------------
    async def health(self, _request: Request) -> Response:
        db_ok = self.state.store_error is None and self.store.health.ok
        return JSONResponse(
            {"status": "ok", "version": version(), "db": "ok" if db_ok else "error"}
        )

    async def metrics(self, _request: Request) -> Response:
        return PlainTextResponse(
            self.state.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8"
        )

    async def config_check(self, _request: Request) -> Response:
        return JSONResponse(
            {
                "db_configured": self.state.store_error is None and self.store.health.ok,
                "llm_configured": bool(self.state.engine.llm_configured),
                "videodb_configured": self.state.store_error is None
                and self.state.library.usable(),
            }
        )

    async def agents(self, _request: Request) -> Response:
        return JSONResponse(self.state.agents.describe_all())

    # --- sessions ------------------------------------------------------------------------------
    async def list_sessions(self, request: Request) -> Response:
        """Every session; with `limit` or `cursor`, one page of them and the next page's cursor
        in `x-next-cursor` (docs/protocol.md, Sessions)."""
        limit = query_int(request, "limit", minimum=1)
        cursor = request.query_params.get("cursor")
        if limit is None and cursor is None:
            return JSONResponse(await self.store.list_sessions())
        if cursor == "":
            raise InvalidPayload("cursor is not one this server gave")
        page = await self.store.list_sessions_page(min(limit or SESSIONS_PAGE, MAX_PAGE), cursor)
        response = JSONResponse(page.sessions)
        if page.next_cursor is not None:
            response.headers[NEXT_CURSOR] = page.next_cursor
        return response

    async def get_session(self, request: Request) -> Response:
        session_id = check_id(request.path_params["session_id"], "session_id")
        session = await self.store.get_session(session_id)
        if session is None:
            raise NotFound("no such session")
        limit = query_int(request, "limit", minimum=1)
        if limit is not None:
            limit = min(limit, MAX_PAGE)
        around = request.query_params.get("around")
        more: PageMore = {}
        if around is not None:
            msg_id = check_id(around, "around")
            messages, more["has_more"], more["has_newer"] = await self.store.conversation_around(
                session_id, msg_id, limit or 50
            )
        elif limit is not None:
            before = query_int(request, "before", minimum=1)
            messages, more["has_more"] = await self.store.conversation(
                session_id, limit=limit, before=before
            )
        else:
            every_branch = request.query_params.get("all") in ("1", "true")
            messages, _ = await self.store.conversation(session_id, every_branch=every_branch)
        page: SessionPage = {**session, "conversation": messages, **more}
        return JSONResponse(self.state.publisher.sign(page))

    async def rename_session(self, request: Request) -> Response:
        """Rename (`name`), pin or unpin (`pinned`), or both; each key is checked first."""
        session_id = check_id(request.path_params["session_id"], "session_id")
        body = await read_json(request)
        if not isinstance(body, dict) or not {"name", "pinned"} & body.keys():
            raise InvalidPayload("send name (a string of 1-200 characters), pinned, or both")
        name = body.get("name")
        if "name" in body and (not isinstance(name, str) or not 1 <= len(name.strip()) <= 200):
            raise InvalidPayload("name must be a string of 1-200 characters")
        pinned = body.get("pinned")
        if "pinned" in body and not isinstance(pinned, bool):
            raise InvalidPayload("pinned must be true or false")
        if isinstance(name, str):
            session = await self.store.rename_session(session_id, name.strip())
        if isinstance(pinned, bool):
            session = await self.store.pin_session(session_id, pinned)
        await self.state.publisher.update(SESSIONS_CHANGED)
        return JSONResponse(session)

    async def delete_session(self, request: Request) -> Response:
        session_id = check_id(request.path_params["session_id"], "session_id")
        if await self.store.get_session(session_id) is None:
            raise NotFound("no such session")
        await self.state.turns.stop_session(session_id)
        if not await self.store.delete_session(session_id):
            raise NotFound("no such session")
        await self.state.publisher.update(SESSIONS_CHANGED)
        return JSONResponse({"success": True, "message": "Session deleted"})

    async def delete_turn(self, request: Request) -> Response:
        """PROTOCOL 8: the turn's messages get `metadata.deleted`; restorable for a while."""
        session_id = check_id(request.path_params["session_id"], "session_id")
        conv_id = check_id(request.path_params["conv_id"], "conv_id")
        revisions = self.state.turns.revisions
        changed = await revisions.delete_turn(session_id, conv_id)
        return JSONResponse(
            {
                "success": True,
                "msg_ids": [m["msg_id"] for m in changed],
                "undo_seconds": revisions.undo_seconds,
            }
        )

    async def restore_turn(self, request: Request) -> Response:
        session_id = check_id(request.path_params["session_id"], "session_id")
        conv_id = check_id(request.path_params["conv_id"], "conv_id")
        changed = await self.state.turns.revisions.restore_turn(session_id, conv_id)
        return JSONResponse({"success": True, "msg_ids": [m["msg_id"] for m in changed]})

    async def export_session(self, request: Request) -> Response:
        session_id = check_id(request.path_params["session_id"], "session_id")
        fmt = request.query_params.get("format", "json")
        filename = f"director-chat-{session_id}"
        if fmt == "json":
            data = await self.store.export_session(session_id)
            return JSONResponse(data, headers=_attachment(f"{filename}.json"))
        if fmt == "markdown":
            text = await self.store.export_markdown(session_id)
            return Response(
                text,
                media_type="text/markdown; charset=utf-8",
                headers=_attachment(f"{filename}.md"),
            )
        raise InvalidPayload("format must be 'json' or 'markdown'")

    async def import_session(self, request: Request) -> Response:
        data = await read_json(request, MAX_IMPORT_BODY)
        session_id = await self.store.import_session(data)
        await self.state.publisher.update(SESSIONS_CHANGED)
        return JSONResponse({"session_id": session_id}, status_code=201)

    async def import_director_db(self, request: Request) -> Response:
        """A VideoDB Director `director.db` sent as the raw body: written to a temp file in the
        data dir (SQLite reads files, not streams), imported, and deleted whatever happens."""
        data_dir = self.state.settings.data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".director-import-", suffix=".db", dir=data_dir)
        path = Path(name)
        try:
            size = 0
            with os.fdopen(fd, "wb") as out:
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > MAX_DIRECTOR_DB:
                        raise TooLarge(
                            f"a Director database may be at most {MAX_DIRECTOR_DB} bytes"
                        )
                    out.write(chunk)
            if size == 0:
                raise InvalidPayload("the request body is empty: send the director.db file")
            try:
                session_ids = await self.store.import_director_db(path)
            except InvalidPayload as error:
                # The store names the temp file; the user only needs to know what it was not.
                raise InvalidPayload(
                    "the file is not a VideoDB Director database (director.db)",
                    code="not_director_db",
                ) from error
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
        await self.state.publisher.update(SESSIONS_CHANGED)
        return JSONResponse({"session_ids": session_ids}, status_code=201)

    # --- search and prefs ----------------------------------------------------------------------
    async def search(self, request: Request) -> Response:
        query = request.query_params.get("q", "").strip()
        if not query:
            raise InvalidPayload("q must not be empty")
        limit = min(query_int(request, "limit", minimum=1) or 50, MAX_PAGE)
        return JSONResponse(await self.store.search(query, limit))

    async def get_prefs(self, _request: Request) -> Response:
        return JSONResponse(await self.store.get_prefs())

    async def patch_prefs(self, request: Request) -> Response:
        patch = await read_json(request)
        if not isinstance(patch, dict):
            raise InvalidPayload("the prefs patch must be a JSON object")
        prefs = await self.store.patch_prefs(patch)
        await self.state.publisher.update(
            {"event_type": "update_data", "update": "prefs", "keys": sorted(patch)}
        )
        return JSONResponse(prefs)


def _attachment(filename: str) -> dict[str, str]:
    return {"content-disposition": f'attachment; filename="{filename}"'}
