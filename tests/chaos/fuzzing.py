"""Hypothesis strategies for the fuzz scenarios: requests for any route the router has (walked,
never listed), payloads for any `/chat` event, and broken media files.
"""

from __future__ import annotations

import random
import re
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")
CODE = re.compile(r"[a-z][a-z0-9_]*")

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
KNOWN_KEYS = [
    "name",
    "content",
    "session_id",
    "conv_id",
    "msg_id",
    "since_seq",
    "provider",
    "model",
    "paths",
    "path",
    "reference",
    "collection_id",
    "description",
    "source",
    "source_type",
    "max_upload_bytes",
    "index_on_import",
    "theme",
    "drafts",
    "current_session",
    "format",
    "version",
    "messages",
    "session",
    "link",
    "repo",
    "file",
    "revision",
    "base_url",
]
# Objects with the keys the routes read, so the fuzz gets past "not an object" into validation.
SHAPED = st.dictionaries(st.sampled_from(KNOWN_KEYS), JSON, max_size=5)
IDS = st.one_of(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-._:", min_size=1, max_size=20),
    st.sampled_from(["default", "..", "%2e%2e", "..%2f..%2fetc%2fpasswd", "x" * 300, "%00", "a b"]),
    st.text(max_size=12).filter(
        lambda t: t not in ("", ".", "..") and "/" not in t and "?" not in t and "#" not in t
    ),
)
QUERY_KEYS = [
    "q",
    "limit",
    "before",
    "around",
    "cursor",
    "format",
    "all",
    "repo",
    "name",
    "revision",
    "sig",
]
RANGES = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "bytes=0-",
            "bytes=-1",
            "bytes=5-1",
            "bytes=0-0,2-3",
            "bytes=99999999-",
            "bytes=",
            "bits=0-1",
            "bytes=-0",
            "bytes=1-2-3",
        ]
    ),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=20),
)


@st.composite
def requests(draw: st.DrawFn, routes: list[tuple[str, set[str]]]) -> dict[str, Any]:
    path, methods = draw(st.sampled_from(routes))
    method = draw(st.sampled_from(sorted(methods - {"HEAD"}) or ["GET"]))
    # Percent-encoded as a client must; "%2e%2e"-style ids keep their own escapes.
    url = PARAM.sub(lambda _: quote(draw(IDS), safe="%:._-~"), path)
    query = draw(st.dictionaries(st.sampled_from(QUERY_KEYS), st.text(max_size=12), max_size=3))
    headers: dict[str, str] = {}
    rng = draw(RANGES)
    if rng is not None and method == "GET":
        headers["Range"] = rng.strip() or "bytes=x"  # h11 refuses to send edge whitespace
    body: dict[str, Any] = {}
    if method in ("POST", "PUT", "PATCH", "DELETE"):
        kind = draw(st.sampled_from(["json", "shaped", "bytes", "multipart", "none"]))
        if kind == "json":
            body["json"] = draw(JSON)
        elif kind == "shaped":
            body["json"] = draw(SHAPED)
        elif kind == "bytes":
            body["content"] = draw(st.binary(max_size=256))
            headers["Content-Type"] = draw(
                st.sampled_from(
                    [
                        "application/json",
                        "multipart/form-data",
                        "text/plain",
                        "multipart/form-data; boundary=x",
                        "application/octet-stream",
                    ]
                )
            )
        elif kind == "multipart":
            field = draw(st.sampled_from(["file", "files", "other"]))
            name = draw(st.text(max_size=30)) or "x"
            body["files"] = {
                field: (name, draw(st.binary(max_size=512)), "application/octet-stream")
            }
    return {"method": method, "url": url, "params": query, "headers": headers, **body}


def event_args(events: list[str]) -> st.SearchStrategy[tuple[str, tuple[Any, ...]]]:
    payload = st.one_of(
        JSON,
        SHAPED,
        st.fixed_dictionaries(
            {
                "content": st.lists(
                    st.dictionaries(st.sampled_from(["type", "text"]), JSON), max_size=3
                )
            },
            optional={"session_id": IDS, "conv_id": IDS, "msg_id": IDS, "since_seq": JSON},
        ),
    )
    return st.tuples(st.sampled_from(events), st.lists(payload, max_size=2).map(tuple))


# --- broken media ---------------------------------------------------------------------------------
HEADERS = {
    "png": b"\x89PNG\r\n\x1a\n",
    "mp4": b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2",
    "wav": b"RIFF\xff\xff\xff\x7fWAVEfmt ",
    "mkv": b"\x1a\x45\xdf\xa3",
}


def broken(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    """One broken version of a good file: cut short, bits flipped, or a header that lies."""
    how = rng.choice(["truncated", "bit-flipped", "header-lying"])
    if how == "truncated":
        return how, data[: rng.randrange(0, max(1, len(data)))]
    if how == "bit-flipped":
        out = bytearray(data)
        for _ in range(rng.randrange(1, 64)):
            at = rng.randrange(len(out))
            out[at] ^= 1 << rng.randrange(8)
        return how, bytes(out)
    header = rng.choice(list(HEADERS.values()))
    return how, header + data[len(header) :] if rng.random() < 0.5 else header + rng.randbytes(4096)
