"""A plain http(s) link to a media file, for the library's URL import: checked (http or https, not
a video site's page), opened (redirects followed only to http(s): a link never leads the app to a
local file), refused when it answers a web page, and read in chunks off the event loop. Imports
`errors` and this room's `importer` (its chunk size).
"""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator
from email.message import Message as EmailMessage
from http.client import HTTPResponse
from pathlib import PurePosixPath
from typing import Final, cast

from director_desktop.errors import DownloadFailed, UnsupportedSource
from director_desktop.media.importer import CHUNK

URL_TIMEOUT: Final = 30.0
WHAT_WORKS: Final = (
    "Only http:// and https:// links straight to a video, audio or image file can be imported "
    "(the link ends in the file, e.g. .mp4); for a video site, download the file first and "
    "upload it."
)
# Sites whose links are pages with a player, never the file: refused before any download.
VIDEO_SITES: Final = frozenset(
    {
        "youtube.com",
        "youtu.be",
        "vimeo.com",
        "dailymotion.com",
        "tiktok.com",
        "twitch.tv",
        "instagram.com",
        "facebook.com",
        "x.com",
        "twitter.com",
    }
)


def checked_url(url: str) -> urllib.parse.SplitResult:
    """`url`, split, when it may be a file's link; `unsupported_source` saying what works else."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise UnsupportedSource(WHAT_WORKS)
    host = (parsed.hostname or "").lower().removeprefix("www.").removeprefix("m.")
    if host in VIDEO_SITES:
        raise UnsupportedSource(f"{host} is a video site, not a file. {WHAT_WORKS}")
    return parsed


def name_from_url(parsed: urllib.parse.SplitResult) -> str:
    return urllib.parse.unquote(PurePosixPath(parsed.path).name)[:200]


class _HttpOnly(urllib.request.HTTPRedirectHandler):
    """Follows redirects only to http(s): a link must never lead the app to a local file."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        if urllib.parse.urlsplit(newurl).scheme not in ("http", "https"):
            raise UnsupportedSource("the link redirects to something that is not a web address")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def open_url(url: str) -> HTTPResponse:
    opener = urllib.request.build_opener(_HttpOnly())
    request = urllib.request.Request(url, headers={"User-Agent": "Director-Desktop"})  # noqa: S310
    try:
        # An http(s) URL (checked by the caller, and by _HttpOnly on redirects) opens as this.
        return cast(HTTPResponse, opener.open(request, timeout=URL_TIMEOUT))
    except urllib.error.HTTPError as exc:
        exc.close()  # it holds the response, and with it the connection
        raise DownloadFailed(f"the server answered {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DownloadFailed(f"could not download the file: {reason}") from None


def refuse_pages(headers: EmailMessage) -> None:
    """A link that answers a web page (a video site's player, a login page) is no media file."""
    kind = (headers.get_content_type() or "").lower()
    if kind in ("text/html", "application/xhtml+xml"):
        raise UnsupportedSource(f"the link leads to a web page, not a file. {WHAT_WORKS}")


def content_length(headers: EmailMessage) -> int | None:
    raw = headers.get("Content-Length")
    return int(raw) if raw and raw.isdigit() else None


async def read_all(response: HTTPResponse) -> AsyncIterator[bytes]:
    while True:
        try:
            data = await asyncio.to_thread(response.read, CHUNK)
        except OSError as exc:
            raise DownloadFailed(f"the download broke off: {exc}") from None
        if not data:
            return
        yield data
