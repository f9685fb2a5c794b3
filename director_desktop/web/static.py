"""The static bundle: `/`, `/index.html`, `/favicon.ico` and `/assets/*` from `frontend_dist/`.

These are the only routes served without the token (the page gets it from the URL fragment).
When the bundle has not been built, `/` answers a small page saying so instead of failing.
Imports nothing from the project.
"""

from __future__ import annotations

from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

PLACEHOLDER = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Director Desktop</title></head>
<body><h1>Director Desktop</h1>
<p>The user interface is not built. Build it with <code>npm run build</code> in
<code>frontend/</code>, which writes <code>frontend_dist/</code>; the API and the chat socket
are running.</p></body></html>
"""


def whole(path: Path, media_type: str, headers: dict[str, str]) -> Response:
    return Response(path.read_bytes(), media_type=media_type, headers=headers)


def without_range(app: ASGIApp) -> ASGIApp:
    """The bundle's scripts and styles are fetched whole by the page: drop a Range header rather
    than let StaticFiles answer a malformed one with a plain-text 400 outside the envelope."""

    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"range"]
        await app({**scope, "headers": headers}, receive, send)

    return serve


def routes(bundle: Path) -> list[BaseRoute]:
    index = bundle / "index.html"

    # The page and the icon are a few KB: they are answered whole, so a Range header (which
    # FileResponse would honour, and refuse when malformed with a plain-text 400 outside the
    # error envelope) never applies to them. Ignoring Range is always a valid answer (RFC 9110).
    async def page(_request: Request) -> Response:
        if index.is_file():
            # no-cache: the bundle's file names change with each build, index.html does not.
            return whole(index, "text/html; charset=utf-8", {"cache-control": "no-cache"})
        return HTMLResponse(PLACEHOLDER, headers={"cache-control": "no-cache"})

    async def favicon(_request: Request) -> Response:
        icon = bundle / "favicon.ico"
        if icon.is_file():
            return whole(icon, "image/x-icon", {})
        return Response(status_code=204)

    found: list[BaseRoute] = [
        Route("/", page, methods=["GET", "HEAD"]),
        Route("/index.html", page, methods=["GET", "HEAD"]),
        Route("/favicon.ico", favicon, methods=["GET", "HEAD"]),
    ]
    assets = bundle / "assets"
    if assets.is_dir():
        found.append(Mount("/assets", app=without_range(StaticFiles(directory=assets))))
    else:  # an unbuilt bundle must not stop the server: assets then answer 404

        async def missing(_request: Request) -> Response:
            raise HTTPException(404, "the user interface is not built")

        found.append(Route("/assets/{path:path}", missing, methods=["GET", "HEAD"]))
    return found
