"""The model settings API: `/config/models/params` (the user's system prompt, sampling, reply
length, context, threads, GPU layers) and `/session/{id}/system_prompt` (a chat's own prompt).

Every route needs the launch token (the guard checks it). A bad value is `bad_model_param` /
`unknown_model_param` and changes nothing. A change is announced with `update_data` `models` (a
load setting reloads the model). With another engine than the app's `ModelRouter`, the routes
answer `409 not_available`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from director_desktop.engine.router import ModelRouter
from director_desktop.errors import NotAvailable
from director_desktop.protocol import UpdateEvent, check_id
from director_desktop.web.http import read_json
from director_desktop.web.state import AppState

MAX_PARAMS_BODY = 64 * 1024


def routes(state: AppState) -> list[BaseRoute]:
    api = ModelParamsApi(state)
    return [
        Route("/config/models/params", api.get_params, methods=["GET"]),
        Route("/config/models/params", api.put_params, methods=["PUT"]),
        Route("/config/models/params", api.reset_params, methods=["DELETE"]),
        Route("/session/{session_id}/system_prompt", api.get_prompt, methods=["GET"]),
        Route("/session/{session_id}/system_prompt", api.put_prompt, methods=["PUT"]),
    ]


class ModelParamsApi:
    def __init__(self, state: AppState) -> None:
        self.state = state

    def router(self) -> ModelRouter:
        engine = self.state.engine
        if not isinstance(engine, ModelRouter):
            raise NotAvailable("model settings are not available")
        return engine

    async def _announce(self) -> None:
        event: UpdateEvent = {"event_type": "update_data", "update": "models"}
        provider = self.router().provider
        if provider is not None:
            event["state"] = provider.state.state
        await self.state.publisher.update(event)

    async def get_params(self, _request: Request) -> Response:
        return JSONResponse(await self.router().params_view())

    async def put_params(self, request: Request) -> Response:
        body = await read_json(request, MAX_PARAMS_BODY)
        view = await self.router().set_params(body)
        await self._announce()
        return JSONResponse(view)

    async def reset_params(self, _request: Request) -> Response:
        view = await self.router().reset_params()
        await self._announce()
        return JSONResponse(view)

    async def get_prompt(self, request: Request) -> Response:
        session_id = check_id(request.path_params["session_id"], "session_id")
        return JSONResponse(await self.router().session_prompt(session_id))

    async def put_prompt(self, request: Request) -> Response:
        session_id = check_id(request.path_params["session_id"], "session_id")
        body = await read_json(request, MAX_PARAMS_BODY)
        return JSONResponse(await self.router().set_session_prompt(session_id, body))
