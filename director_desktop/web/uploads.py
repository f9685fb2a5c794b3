"""A multipart upload read as a stream: the `file` part's bytes are handed on as they arrive,
never held whole in memory or spooled to a temp folder of the framework's choosing (the media
library writes them to its own staging, hashing as it goes).

python-multipart's push parser is fed the request body; its callbacks collect the parts' headers
and queue the `file` part's data, which `chunks()` yields.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from email.message import Message as HeaderParser

from python_multipart.exceptions import ParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from director_desktop.errors import Cancelled, InvalidPayload

FIELD = "file"


class MultipartFile:
    """The `file` field of a `multipart/form-data` request, streamed."""

    def __init__(self, request: Request) -> None:
        content_type, params = parse_options_header(request.headers.get("content-type", ""))
        boundary = params.get(b"boundary")
        if content_type != b"multipart/form-data" or not boundary:
            raise InvalidPayload("send the file as multipart/form-data in the field 'file'")
        self._body = request.stream()
        self._ready: deque[bytes] = deque()
        self._header_field = b""
        self._header_value = b""
        self._headers: dict[str, str] = {}
        self._in_file = False
        self._file_done = False
        self.filename: str | None = None
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_name_part,
                "on_header_value": self._header_value_part,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._data,
                "on_part_end": self._part_end,
            },
        )
        self._ended = False

    async def open(self) -> str:
        """Read until the `file` part's headers: answers its file name."""
        while self.filename is None:
            if not await self._feed():
                raise InvalidPayload("the upload has no 'file' field")
        return self.filename

    async def chunks(self) -> AsyncIterator[bytes]:
        """The file's bytes, as they arrive."""
        while True:
            while self._ready:
                yield self._ready.popleft()
            if self._file_done:
                return
            if not await self._feed():
                raise InvalidPayload("the upload ended before the file did")

    async def _feed(self) -> bool:
        if self._ended:
            return False
        try:
            data = await anext(self._body)
        except StopAsyncIteration:
            self._ended = True
            return False
        except ClientDisconnect:
            # The client gave up mid-upload: its import job ends `cancelled` (PROTOCOL 6).
            self._ended = True
            raise Cancelled("the upload was abandoned: the client went away") from None
        if data:
            try:
                self._parser.write(data)
            except ParseError as exc:
                # a body that is not the multipart its Content-Type claims: the sender's mistake
                self._ended = True
                raise InvalidPayload(
                    f"the upload is not valid multipart/form-data: {exc}"
                ) from None
        return True

    # --- the parser's callbacks ----------------------------------------------------------------
    def _part_begin(self) -> None:
        self._headers = {}

    def _header_name_part(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def _header_value_part(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        name = self._header_field.decode("latin-1").lower()
        self._headers[name] = self._header_value.decode("utf-8", "replace")
        self._header_field = self._header_value = b""

    def _headers_finished(self) -> None:
        disposition = HeaderParser()
        disposition["content-disposition"] = self._headers.get("content-disposition", "")
        if disposition.get_param("name", header="content-disposition") == FIELD and not (
            self._file_done or self._in_file
        ):
            raw = disposition.get_filename() or "upload"
            self.filename = raw.replace("\\", "/").rsplit("/", 1)[-1][:200] or "upload"
            self._in_file = True

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self._ready.append(data[start:end])

    def _part_end(self) -> None:
        if self._in_file:
            self._in_file = False
            self._file_done = True
