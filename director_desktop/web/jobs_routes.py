"""Long-running work over HTTP (PROTOCOL 7): list, cancel, pause and resume jobs. Their progress
reaches every window as `event {event_type: "job", job}` through the Publisher."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from director_desktop.jobs import Jobs
from director_desktop.protocol import check_id
from director_desktop.web.state import AppState


def routes(state: AppState) -> list[BaseRoute]:
    api = JobsApi(state.jobs)
    return [
        Route("/jobs", api.recent, methods=["GET"]),
        Route("/jobs/{job_id}", api.cancel, methods=["DELETE"]),
        Route("/jobs/{job_id}/pause", api.pause, methods=["POST"]),
        Route("/jobs/{job_id}/resume", api.resume, methods=["POST"]),
    ]


class JobsApi:
    def __init__(self, jobs: Jobs) -> None:
        self._jobs = jobs

    async def recent(self, _request: Request) -> Response:
        return JSONResponse(await self._jobs.recent())

    async def cancel(self, request: Request) -> Response:
        return JSONResponse(await self._jobs.cancel(_job_id(request)))

    async def pause(self, request: Request) -> Response:
        return JSONResponse(await self._jobs.pause(_job_id(request)))

    async def resume(self, request: Request) -> Response:
        return JSONResponse(await self._jobs.resume(_job_id(request)))


def _job_id(request: Request) -> str:
    return check_id(request.path_params["job_id"], "job_id")
