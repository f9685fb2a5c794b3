"""The speech to text settings under `/config/speech`: which transcriber the app uses (none,
a whisper.cpp model of the models folder, or an OpenAI-compatible endpoint), whether it works,
and the whisper files found.

The choice is kept by `engine.speech.SpeechSettings` in settings.json (key `speech`), written
through the app's one `UserSettings` and the model settings' `SecretStore`, both the engine's
`ModelRouter` holds; with another engine the routes answer `409 not_available`, as the model
settings do. Windows hear of a change through `update_data` `speech`. Every route needs the
launch token (the guard checks it).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from director_desktop.engine.router import ModelRouter
from director_desktop.engine.speech import SpeechSettings
from director_desktop.errors import InvalidPayload, NotAvailable
from director_desktop.protocol import UpdateEvent
from director_desktop.web.http import api_key_in, read_json
from director_desktop.web.state import AppState

MAX_CHOICE_BODY = 64 * 1024


def routes(state: AppState) -> list[BaseRoute]:
    api = SpeechApi(state)
    return [
        Route("/config/speech", api.status, methods=["GET"]),
        Route("/config/speech", api.choose, methods=["PUT"]),
    ]


class SpeechApi:
    def __init__(self, state: AppState) -> None:
        self.state = state
        self._speech: SpeechSettings | None = None

    def speech(self) -> SpeechSettings:
        if self._speech is None:
            engine = self.state.engine
            if not isinstance(engine, ModelRouter):
                raise NotAvailable("speech settings are not available")
            self._speech = engine.speech
        return self._speech

    async def status(self, _request: Request) -> Response:
        return JSONResponse(await self.speech().status())

    async def choose(self, request: Request) -> Response:
        body = await read_json(request, MAX_CHOICE_BODY)
        if not isinstance(body, dict):
            raise InvalidPayload("the request body must be a JSON object")
        status = await self.speech().choose(body, api_key=api_key_in(body))
        event: UpdateEvent = {"event_type": "update_data", "update": "speech"}
        await self.state.publisher.update(event)
        return JSONResponse(status)
