"""A bug's 500 reaches the client, on a live server: an unexpected error in a route that answers
before reading the request body (here: the archives folder is a file, so the upload cannot even
begin) is answered with the `internal` envelope while the client is still sending, the body is
drained, the connection stays usable, and the error is logged once. Before, Starlette re-raised
after answering and uvicorn closed the connection at once: a client still uploading saw a reset
instead of its answer."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest

from tests.integration.support import Live

BODY_MIB = 32  # far more than the socket buffers hold, so the client is mid-send at the answer


def body() -> Iterator[bytes]:
    piece = bytes(1024 * 1024)
    for _ in range(BODY_MIB):
        yield piece


def test_a_bug_answers_500_internal_to_a_client_still_sending_its_body(
    live: Live, caplog: pytest.LogCaptureFixture
) -> None:
    archives = live.data_dir / "archives"
    archives.mkdir(parents=True, exist_ok=True)
    archives.rmdir()
    archives.write_bytes(b"not a folder")  # mkdir(exist_ok=True) on it raises FileExistsError

    with caplog.at_level(logging.ERROR), httpx.Client(base_url=live.base_url, timeout=30) as http:
        sent = http.put("/backup/big.zip", content=body(), headers=live.headers)
        assert sent.status_code == 500, sent.text
        error = sent.json()
        assert error["ok"] is False
        assert error["error"]["code"] == "internal"
        assert str(live.data_dir) not in sent.text  # sanitized: no path, no traceback
        assert "Traceback" not in sent.text
        # The same connection answers the next request: it was drained, not dropped.
        again = http.get("/session", headers=live.headers)
        assert again.status_code == 200
        assert again.extensions["network_stream"] is sent.extensions["network_stream"]

    assert archives.read_bytes() == b"not a folder"  # nothing changed
    logged = [r for r in caplog.records if r.exc_info]
    assert len(logged) == 1, [r.getMessage() for r in logged]
    assert isinstance(logged[0].exc_info[1], FileExistsError)  # type: ignore[index]
