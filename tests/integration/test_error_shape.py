"""The one error shape, pinned across every route and every event (as datasette's
test_error_shape.py does): HTTP bodies and socket acks are exactly
`{"ok": false, "error": {"code": <stable snake_case>, "message": <str>}}`, the HTTP status follows
the code, and no message carries a path, a traceback or the token. On Director's `/videodb/...`
paths, and only there, the body also has a top-level `message` equal to `error.message` (Director's
UI reads it).

Every route is covered by construction: the tests walk the router of the app under test
(`DirectorApp.routes`) and send each (method, path) the failures every route shares (no token, a
wrong token, a foreign Host, a foreign Origin, a closed database). `ROUTES` adds, per route, the
failures only that route has (a bad id, an unknown id, a malformed body); a route the router has
and `ROUTES` does not fails `test_the_table_covers_every_route`, naming it, so a new route cannot
land without its row here. The same holds for the `/chat` events and `EVENTS`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio

from director_desktop.composition import build_library
from director_desktop.engine.agents import default_registry
from director_desktop.engine.router import build_model_router
from director_desktop.server import Server
from director_desktop.settings import build_settings
from director_desktop.store import Store
from director_desktop.user_settings import UserSettings
from director_desktop.web.app import create_app
from tests.integration.support import WAIT, Baseline, Live, chat_payload

CODE = re.compile(r"[a-z][a-z_]*")
STATUS_OF = {
    "unauthorized": 401,
    "bad_host": 400,
    "bad_origin": 403,
    "invalid_payload": 400,
    "invalid_id": 400,
    "not_director_db": 400,
    "not_gguf": 400,
    "bad_url": 400,
    "bad_repo": 400,
    "bad_model_param": 400,
    "unknown_model_param": 400,
    "model_corrupt": 400,  # an upload that is not a model: refused as a bad request body
    "not_found": 404,
    "method_not_allowed": 405,
    "too_large": 413,
    "store_closed": 503,
    "conflict": 409,
    "undo_expired": 410,
    "unsupported_source": 400,
    "download_failed": 502,
    "empty_file": 400,
    "unsupported_media": 415,
    "not_a_backup": 400,
}
KNOWN = "known-session"
"""A session the `live` fixture creates, for the failures that need one to exist."""


# --- the table ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Call:
    """One request, without its method: a concrete path (query included) and a body."""

    path: str
    json: Any = None
    content: bytes | None = None
    content_type: str | None = None

    def send(self, live: Live, method: str, headers: dict[str, str]) -> httpx.Response:
        if self.content_type is not None:
            headers = {**headers, "Content-Type": self.content_type}
        if self.content is not None:
            return live.http.request(method, self.path, content=self.content, headers=headers)
        return live.http.request(method, self.path, json=self.json, headers=headers)


@dataclass(frozen=True)
class Expect:
    """What one (method, path) of the router is sent.

    `call`: a request that would succeed, or reach the database, with a valid token; the shared
    failures are this request with the token, Host or Origin spoiled. `failures`: requests with a
    valid token that must fail, each with its code. `why`: when there are none, why the route
    cannot fail with a valid token. `public`: served without the token (the static bundle).
    `store`: answers `store_closed` once the database has gone."""

    call: Call
    failures: tuple[tuple[Call, str], ...] = ()
    why: str = ""
    public: bool = False
    store: bool = False


BAD_ID = "a%20b"
NOT_JSON = b"{not json"
TOO_BIG_DRAFT = {"drafts": {"s": "x" * (1024 * 1024 + 1)}}
COLLECTION = "/videodb/collection"
ASSET = "/videodb/collection/default/video"
BOUNDARY = "b0undary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def multipart(data: bytes, field: str = "file") -> bytes:
    return (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; filename="f.mp4"\r\n'
            f"Content-Type: video/mp4\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


def by_url(source: str, collection: str = "default", source_type: str = "url") -> Call:
    return Call(f"{COLLECTION}/{collection}/upload", {"source": source, "source_type": source_type})


NOWHERE = "http://127.0.0.1:9/clip.mp4"  # the discard port: nothing listens, refused at once

ROUTES: dict[tuple[str, str], Expect] = {
    # --- the static bundle (no token) ---
    ("GET", "/"): Expect(Call("/"), why="the page itself", public=True),
    ("GET", "/index.html"): Expect(Call("/index.html"), why="the page itself", public=True),
    ("GET", "/favicon.ico"): Expect(Call("/favicon.ico"), why="204 when absent", public=True),
    ("GET", "/assets/{path:path}"): Expect(  # a route only while the bundle is not built
        Call("/assets/index.js"), ((Call("/assets/missing.js"), "not_found"),), public=True
    ),
    # --- health and configuration ---
    ("GET", "/health"): Expect(Call("/health"), why="a broken database shows in its body"),
    ("GET", "/metrics"): Expect(Call("/metrics"), why="counters only"),
    ("GET", "/config/check"): Expect(Call("/config/check"), why="three flags, always"),
    ("GET", "/agent"): Expect(Call("/agent"), why="the registry, in memory"),
    # --- sessions, search, prefs ---
    ("GET", "/session"): Expect(
        Call("/session"),
        (
            (Call("/session?limit=0"), "invalid_payload"),
            (Call("/session?limit=many"), "invalid_payload"),
            (Call("/session?limit=5&cursor=not-a-cursor"), "invalid_payload"),
            (Call("/session?cursor="), "invalid_payload"),
        ),
        store=True,
    ),
    ("GET", "/session/{session_id}"): Expect(
        Call("/session/unknown"),
        (
            (Call("/session/unknown"), "not_found"),
            (Call(f"/session/{BAD_ID}"), "invalid_id"),
            (Call(f"/session/{KNOWN}?limit=0"), "invalid_payload"),
            (Call(f"/session/{KNOWN}?limit=many"), "invalid_payload"),
            (Call(f"/session/{KNOWN}?limit=5&before=0"), "invalid_payload"),
            (Call(f"/session/{KNOWN}?around={BAD_ID}"), "invalid_id"),
            (Call(f"/session/{KNOWN}?around=unknown"), "not_found"),
        ),
        store=True,
    ),
    ("PATCH", "/session/{session_id}"): Expect(
        Call("/session/unknown", {"name": "n"}),
        (
            (Call("/session/unknown", {"name": "n"}), "not_found"),
            (Call(f"/session/{BAD_ID}", {"name": "n"}), "invalid_id"),
            (Call(f"/session/{KNOWN}", {"name": ""}), "invalid_payload"),
            (Call(f"/session/{KNOWN}", {"name": "x" * 201}), "invalid_payload"),
            (Call(f"/session/{KNOWN}", content=NOT_JSON), "invalid_payload"),
            (Call(f"/session/{KNOWN}", {}), "invalid_payload"),
            (Call(f"/session/{KNOWN}", {"pinned": "yes"}), "invalid_payload"),
            (Call("/session/unknown", {"pinned": True}), "not_found"),
        ),
        store=True,
    ),
    ("DELETE", "/session/{session_id}"): Expect(
        Call("/session/unknown"),
        ((Call("/session/unknown"), "not_found"), (Call(f"/session/{BAD_ID}"), "invalid_id")),
        store=True,
    ),
    ("GET", "/session/{session_id}/export"): Expect(
        Call("/session/unknown/export"),
        (
            (Call("/session/unknown/export"), "not_found"),
            (Call(f"/session/{BAD_ID}/export"), "invalid_id"),
            (Call(f"/session/{KNOWN}/export?format=pdf"), "invalid_payload"),
        ),
        store=True,
    ),
    ("DELETE", "/session/{session_id}/turn/{conv_id}"): Expect(
        Call(f"/session/{KNOWN}/turn/unknown"),
        (
            (Call(f"/session/{KNOWN}/turn/unknown"), "not_found"),
            (Call("/session/unknown/turn/unknown"), "not_found"),
            (Call(f"/session/{KNOWN}/turn/{BAD_ID}"), "invalid_id"),
        ),
        store=True,
    ),
    ("POST", "/session/{session_id}/turn/{conv_id}/restore"): Expect(
        Call(f"/session/{KNOWN}/turn/unknown/restore"),
        (
            (Call(f"/session/{KNOWN}/turn/unknown/restore"), "not_found"),
            (Call(f"/session/{BAD_ID}/turn/c/restore"), "invalid_id"),
        ),
        store=True,
    ),
    ("POST", "/session/import"): Expect(
        Call("/session/import", {}),
        (
            (Call("/session/import", {"format": "nope"}), "invalid_payload"),
            (Call("/session/import", content=NOT_JSON), "invalid_payload"),
        ),
        store=True,
    ),
    ("POST", "/session/import/director"): Expect(
        Call("/session/import/director", content=b"not a database"),
        (
            (Call("/session/import/director", content=b""), "invalid_payload"),
            (Call("/session/import/director", content=b"not a database"), "not_director_db"),
        ),
        store=True,
    ),
    ("GET", "/search"): Expect(
        Call("/search?q=x"),
        (
            (Call("/search?q="), "invalid_payload"),
            (Call("/search"), "invalid_payload"),
            (Call("/search?q=x&limit=0"), "invalid_payload"),
        ),
        store=True,
    ),
    ("GET", "/prefs"): Expect(Call("/prefs"), why="defaults fill every key", store=True),
    ("PATCH", "/prefs"): Expect(
        Call("/prefs", {}),
        (
            (Call("/prefs", {"nope": 1}), "invalid_payload"),
            (Call("/prefs", {"theme": "pink"}), "invalid_payload"),
            (Call("/prefs", ["theme"]), "invalid_payload"),
            (Call("/prefs", content=NOT_JSON), "invalid_payload"),
            (Call("/prefs", TOO_BIG_DRAFT), "too_large"),
        ),
        store=True,
    ),
    # --- model settings ---
    ("GET", "/config/models"): Expect(Call("/config/models"), why="lists what is there"),
    ("GET", "/config/models/status"): Expect(Call("/config/models/status"), why="a status"),
    ("PUT", "/config/models/choice"): Expect(
        Call("/config/models/choice", {"provider": "builtin"}),
        (
            (Call("/config/models/choice", {"provider": "nope"}), "invalid_payload"),
            (Call("/config/models/choice", ["builtin"]), "invalid_payload"),
            (Call("/config/models/choice", content=NOT_JSON), "invalid_payload"),
            (
                Call("/config/models/choice", {"provider": "embedded", "model": "missing.gguf"}),
                "not_found",
            ),
            (Call("/config/models/choice", {"provider": "embedded", "model": "m.bin"}), "not_gguf"),
            (
                Call(
                    "/config/models/choice", {"provider": "openai", "base_url": "x", "model": "m"}
                ),
                "bad_url",
            ),
        ),
    ),
    ("POST", "/config/models/test"): Expect(
        Call("/config/models/test"),
        (
            (Call("/config/models/test", ["builtin"]), "invalid_payload"),
            (Call("/config/models/test", {"provider": "nope"}), "invalid_payload"),
            (Call("/config/models/test", content=NOT_JSON), "invalid_payload"),
        ),
    ),
    ("GET", "/config/models/detected"): Expect(
        Call("/config/models/detected"), why="a list of servers, maybe empty"
    ),
    ("GET", "/config/models/params"): Expect(
        Call("/config/models/params"), why="the settings, from settings.json and the model file"
    ),
    ("PUT", "/config/models/params"): Expect(
        Call("/config/models/params", {"temperature": 0.7}),
        (
            (Call("/config/models/params", {"temperature": 9}), "bad_model_param"),
            (Call("/config/models/params", {"top_k": 1.5}), "bad_model_param"),
            (Call("/config/models/params", {"stop": "x"}), "bad_model_param"),
            (Call("/config/models/params", {"warmth": 1}), "unknown_model_param"),
            (Call("/config/models/params", ["x"]), "bad_model_param"),
            (Call("/config/models/params", content=NOT_JSON), "invalid_payload"),
        ),
    ),
    ("DELETE", "/config/models/params"): Expect(
        Call("/config/models/params"), why="a reset always succeeds"
    ),
    ("GET", "/session/{session_id}/system_prompt"): Expect(
        Call("/session/unknown/system_prompt"),
        (
            (Call("/session/unknown/system_prompt"), "not_found"),
            (Call(f"/session/{BAD_ID}/system_prompt"), "invalid_id"),
        ),
        store=True,
    ),
    ("PUT", "/session/{session_id}/system_prompt"): Expect(
        Call("/session/unknown/system_prompt", {"system_prompt": "Be brief."}),
        (
            (Call("/session/unknown/system_prompt", {"system_prompt": "x"}), "not_found"),
            (Call(f"/session/{BAD_ID}/system_prompt", {"system_prompt": "x"}), "invalid_id"),
            (Call(f"/session/{KNOWN}/system_prompt", {"system_prompt": 5}), "bad_model_param"),
            (Call(f"/session/{KNOWN}/system_prompt", {"prompt": "x"}), "bad_model_param"),
        ),
        store=True,
    ),
    ("POST", "/config/models/import"): Expect(
        Call("/config/models/import", {"path": ""}),
        (
            (Call("/config/models/import", {"path": ""}), "invalid_payload"),
            (Call("/config/models/import", {"path": "m.gguf", "link": "yes"}), "invalid_payload"),
            (Call("/config/models/import", ["m.gguf"]), "invalid_payload"),
        ),
    ),
    ("POST", "/config/models/upload"): Expect(
        Call("/config/models/upload?name=m.bin", content=b"x"),
        (
            (Call("/config/models/upload", content=b"x"), "not_gguf"),
            (Call("/config/models/upload?name=m.bin", content=b"x"), "not_gguf"),
            (Call("/config/models/upload?name=m.gguf", content=b"not a model"), "model_corrupt"),
        ),
    ),
    ("GET", "/config/models/imports"): Expect(Call("/config/models/imports"), why="a list"),
    ("GET", "/config/models/imports/{job_id}"): Expect(
        Call("/config/models/imports/unknown"),
        ((Call("/config/models/imports/unknown"), "not_found"),),
    ),
    ("DELETE", "/config/models/imports/{job_id}"): Expect(
        Call("/config/models/imports/unknown"),
        ((Call("/config/models/imports/unknown"), "not_found"),),
    ),
    ("GET", "/config/models/catalogue"): Expect(
        Call("/config/models/catalogue"), why="a hub that fails is said per entry, inside"
    ),
    ("GET", "/config/models/hub"): Expect(
        Call("/config/models/hub?repo=owner/name"),
        (
            (Call("/config/models/hub"), "bad_repo"),
            (Call("/config/models/hub?repo=not%20a%20repo"), "bad_repo"),
            (Call("/config/models/hub?repo=https://example.com/o/n"), "bad_repo"),
            (Call("/config/models/hub?repo=o/n&revision=.."), "bad_repo"),
        ),
    ),
    ("PUT", "/config/models/hub/token"): Expect(
        Call("/config/models/hub/token", {"token": None}),
        (
            (Call("/config/models/hub/token", ["hf_x"]), "invalid_payload"),
            (Call("/config/models/hub/token", {"token": 5}), "invalid_payload"),
            (Call("/config/models/hub/token", content=NOT_JSON), "invalid_payload"),
        ),
    ),
    ("POST", "/config/models/downloads"): Expect(
        Call("/config/models/downloads", {"repo": "o/n", "file": "m.gguf"}),
        (
            (Call("/config/models/downloads", ["o/n"]), "invalid_payload"),
            (Call("/config/models/downloads", {"repo": "o/n"}), "invalid_payload"),
            (Call("/config/models/downloads", {"repo": "o n", "file": "m.gguf"}), "bad_repo"),
            (Call("/config/models/downloads", {"repo": "o/n", "file": "m.txt"}), "not_gguf"),
        ),
    ),
    ("DELETE", "/config/models/files/{file}"): Expect(
        Call("/config/models/files/missing.gguf"),
        (
            (Call("/config/models/files/missing.gguf"), "not_found"),
            (Call("/config/models/files/m.bin"), "not_gguf"),
        ),
    ),
    # --- the media library: Director's collection API ---
    ("GET", COLLECTION): Expect(Call(COLLECTION), why="the default one at least", store=True),
    ("POST", COLLECTION): Expect(
        Call(COLLECTION, {"name": "n"}),
        (
            (Call(COLLECTION, {"name": ""}), "invalid_payload"),
            (Call(COLLECTION, {"name": "x" * 201}), "invalid_payload"),
            (Call(COLLECTION, {"name": "n", "description": 5}), "invalid_payload"),
            (Call(COLLECTION, ["n"]), "invalid_payload"),
            (Call(COLLECTION, content=NOT_JSON), "invalid_payload"),
        ),
        store=True,
    ),
    ("GET", COLLECTION + "/{collection_id}"): Expect(
        Call(f"{COLLECTION}/unknown"),
        (
            (Call(f"{COLLECTION}/unknown"), "not_found"),
            (Call(f"{COLLECTION}/{BAD_ID}"), "invalid_id"),
        ),
        store=True,
    ),
    ("DELETE", COLLECTION + "/{collection_id}"): Expect(
        Call(f"{COLLECTION}/unknown"),
        (
            (Call(f"{COLLECTION}/unknown"), "not_found"),
            (Call(f"{COLLECTION}/{BAD_ID}"), "invalid_id"),
            (Call(f"{COLLECTION}/default"), "conflict"),
        ),
        store=True,
    ),
    ("POST", COLLECTION + "/{collection_id}/upload"): Expect(
        by_url(NOWHERE),
        (
            (by_url(NOWHERE, "unknown"), "not_found"),
            (by_url(NOWHERE, BAD_ID), "invalid_id"),
            (by_url(NOWHERE), "download_failed"),
            (by_url("ftp://127.0.0.1/clip.mp4"), "unsupported_source"),
            (by_url("file:///etc/passwd"), "unsupported_source"),
            (by_url(NOWHERE, source_type="youtube"), "invalid_payload"),
            (Call(f"{COLLECTION}/default/upload", ["x"]), "invalid_payload"),
            (Call(f"{COLLECTION}/default/upload", content=b"raw"), "invalid_payload"),
            (
                Call(
                    f"{COLLECTION}/default/upload",
                    content=multipart(b"x", "other"),
                    content_type=MULTIPART,
                ),
                "invalid_payload",
            ),
            (
                Call(
                    f"{COLLECTION}/default/upload", content=multipart(b""), content_type=MULTIPART
                ),
                "empty_file",
            ),
            (
                Call(
                    f"{COLLECTION}/default/upload",
                    content=multipart(b"not media " * 500),
                    content_type=MULTIPART,
                ),
                "unsupported_media",
            ),
        ),
        store=True,
    ),
    ("GET", COLLECTION + "/{collection_id}/{kind}"): Expect(
        Call(ASSET),
        (
            (Call(f"{COLLECTION}/unknown/video"), "not_found"),
            (Call(f"{COLLECTION}/{BAD_ID}/video"), "invalid_id"),
            (Call(f"{COLLECTION}/default/pdf"), "not_found"),
            (Call(f"{ASSET}?limit=0"), "invalid_payload"),
            (Call(f"{ASSET}?limit=many"), "invalid_payload"),
            (Call(f"{ASSET}?cursor=not-one"), "invalid_payload"),
        ),
        store=True,
    ),
    ("GET", COLLECTION + "/{collection_id}/{kind}/{asset_id}"): Expect(
        Call(f"{ASSET}/unknown"),
        (
            (Call(f"{ASSET}/unknown"), "not_found"),
            (Call(f"{ASSET}/{BAD_ID}"), "invalid_id"),
            (Call(f"{COLLECTION}/default/pdf/unknown"), "not_found"),
        ),
        store=True,
    ),
    ("DELETE", COLLECTION + "/{collection_id}/{kind}/{asset_id}"): Expect(
        Call(f"{ASSET}/unknown"),
        ((Call(f"{ASSET}/unknown"), "not_found"), (Call(f"{ASSET}/{BAD_ID}"), "invalid_id")),
        store=True,
    ),
    ("GET", COLLECTION + "/{collection_id}/{kind}/{asset_id}/generate_url"): Expect(
        Call(f"{COLLECTION}/default/image/unknown/generate_url"),
        (
            (Call(f"{COLLECTION}/default/image/unknown/generate_url"), "not_found"),
            (Call(f"{COLLECTION}/default/image/{BAD_ID}/generate_url"), "invalid_id"),
        ),
        store=True,
    ),
    # --- the media library: our own routes and the files ---
    ("POST", "/media/import"): Expect(
        Call("/media/import", {"paths": ["/no/such/file.mp4"]}),
        (
            (Call("/media/import", {"paths": []}), "invalid_payload"),
            (Call("/media/import", {"paths": ["/x.mp4"], "reference": 1}), "invalid_payload"),
            (Call("/media/import", content=NOT_JSON), "invalid_payload"),
            (Call("/media/import", {"paths": ["/no/such/file.mp4"]}), "not_found"),
            (Call("/media/import", {"paths": ["/x.mp4"], "collection_id": "a b"}), "invalid_id"),
        ),
        store=True,
    ),
    ("GET", "/media/{asset_id}"): Expect(
        Call("/media/unknown"),
        ((Call("/media/unknown"), "not_found"), (Call(f"/media/{BAD_ID}"), "invalid_id")),
        store=True,
    ),
    ("GET", "/media/{asset_id}/thumbnail"): Expect(
        Call("/media/unknown/thumbnail"),
        (
            (Call("/media/unknown/thumbnail"), "not_found"),
            (Call(f"/media/{BAD_ID}/thumbnail"), "invalid_id"),
        ),
        store=True,
    ),
    # --- speech settings (issue 13) ---
    ("GET", "/config/speech"): Expect(
        Call("/config/speech"), why="a status: a choice that does not work says so in its body"
    ),
    ("PUT", "/config/speech"): Expect(
        Call("/config/speech", {"provider": "none"}),
        (
            (Call("/config/speech", {"provider": "nope"}), "invalid_payload"),
            (Call("/config/speech", ["none"]), "invalid_payload"),
            (Call("/config/speech", content=NOT_JSON), "invalid_payload"),
            (Call("/config/speech", {"provider": "whisper", "model": "missing.bin"}), "not_found"),
            (
                Call("/config/speech", {"provider": "whisper", "model": "../x.bin"}),
                "invalid_payload",
            ),
            (Call("/config/speech", {"provider": "openai", "base_url": "x"}), "bad_url"),
        ),
    ),
    ("GET", "/media/{asset_id}/transcript"): Expect(
        Call("/media/unknown/transcript"),
        (
            (Call("/media/unknown/transcript"), "not_found"),
            (Call(f"/media/{BAD_ID}/transcript"), "invalid_id"),
            (Call("/media/unknown/transcript?format=doc"), "not_found"),
        ),
        store=True,
    ),
    ("GET", "/config/media"): Expect(
        Call("/config/media"), why="FFmpeg's health is in the body", store=True
    ),
    ("PATCH", "/config/media"): Expect(
        Call("/config/media", {"max_upload_bytes": 16 * 1024**3}),
        (
            (Call("/config/media", {}), "invalid_payload"),
            (Call("/config/media", {"max_upload_bytes": 0}), "invalid_payload"),
            (Call("/config/media", {"max_upload_bytes": "1"}), "invalid_payload"),
            (Call("/config/media", {"max_upload_bytes": 1, "x": 1}), "invalid_payload"),
            (Call("/config/media", content=NOT_JSON), "invalid_payload"),
        ),
        store=True,
    ),
    # --- jobs ---
    ("GET", "/jobs"): Expect(Call("/jobs"), why="a list, maybe empty", store=True),
    ("DELETE", "/jobs/{job_id}"): Expect(
        Call("/jobs/unknown"),
        ((Call("/jobs/unknown"), "not_found"), (Call(f"/jobs/{BAD_ID}"), "invalid_id")),
        store=True,
    ),
    ("POST", "/jobs/{job_id}/pause"): Expect(
        Call("/jobs/unknown/pause"),
        ((Call("/jobs/unknown/pause"), "not_found"), (Call(f"/jobs/{BAD_ID}/pause"), "invalid_id")),
        store=True,
    ),
    ("POST", "/jobs/{job_id}/resume"): Expect(
        Call("/jobs/unknown/resume"),
        (
            (Call("/jobs/unknown/resume"), "not_found"),
            (Call(f"/jobs/{BAD_ID}/resume"), "invalid_id"),
        ),
        store=True,
    ),
    # --- backup and restore ---
    ("GET", "/backup"): Expect(Call("/backup"), why="a list, maybe empty"),
    ("POST", "/backup"): Expect(
        Call("/backup", {"media_files": False}),
        (
            (Call("/backup", content=NOT_JSON), "invalid_payload"),
            (Call("/backup", {"media_files": "yes"}), "invalid_payload"),
        ),
        store=True,
    ),
    ("GET", "/backup/{name}"): Expect(
        Call("/backup/none.zip"),
        ((Call("/backup/none.zip"), "not_found"), (Call("/backup/..zip"), "invalid_payload")),
    ),
    ("PUT", "/backup/{name}"): Expect(
        Call("/backup/upload.zip", content=b"not a zip"),
        (
            (Call("/backup/upload.zip", content=b"not a zip"), "not_a_backup"),
            (Call("/backup/bad%20name.zip", content=b"x"), "invalid_payload"),
        ),
    ),
    ("POST", "/backup/{name}/restore"): Expect(
        Call("/backup/none.zip/restore"),
        (
            (Call("/backup/none.zip/restore"), "not_found"),
            (Call("/backup/bad%20name/restore"), "invalid_payload"),
        ),
    ),
}

# Requests that match no route: answered by the framework, in the same shape.
UNROUTED: list[tuple[str, Call, str]] = [
    ("GET", Call("/no/such/route"), "not_found"),
    ("PUT", Call("/prefs", {}), "method_not_allowed"),
    ("POST", Call("/session/unknown"), "method_not_allowed"),
    ("GET", Call("/assets/missing.js"), "not_found"),  # the built bundle's static files
    ("GET", Call("/videodb/no/such/route"), "not_found"),  # Director's paths keep their `message`
    ("PUT", Call(COLLECTION, {}), "method_not_allowed"),
]

# Every `/chat` event: the payloads (argument tuples) each must refuse, with their codes.
TEXT = [{"type": "text", "text": "x"}]
HUGE_TEXT = [{"type": "text", "text": "x" * (300 * 1024)}]
EVENTS: dict[str, tuple[tuple[tuple[Any, ...], str], ...]] = {
    "chat": (
        (({"content": []},), "invalid_payload"),
        (({"content": [{"type": "text", "text": "x"}], "session_id": "a b"},), "invalid_id"),
        (({"content": [{"type": "text", "text": "x" * (300 * 1024)}]},), "too_large"),
        ((), "invalid_payload"),
        (("x", "y"), "invalid_payload"),
    ),
    "reconnect": (
        (({"session_id": "unknown"},), "not_found"),
        (({"session_id": 5},), "invalid_id"),
        (({"session_id": "s", "since_seq": -2},), "invalid_payload"),
        ((), "invalid_payload"),
    ),
    "stop": (
        (({"session_id": "s"},), "invalid_id"),
        (("x",), "invalid_payload"),
    ),
    "regenerate": (
        (({"session_id": KNOWN, "conv_id": "unknown"},), "not_found"),
        (({"session_id": "unknown", "conv_id": "c"},), "not_found"),
        (({"session_id": KNOWN},), "invalid_id"),
        (("x",), "invalid_payload"),
    ),
    "edit": (
        (({"session_id": KNOWN, "conv_id": "unknown", "content": TEXT},), "not_found"),
        (({"session_id": KNOWN, "conv_id": "c", "content": []},), "invalid_payload"),
        (({"session_id": KNOWN, "conv_id": "c", "content": HUGE_TEXT},), "too_large"),
        ((), "invalid_payload"),
    ),
    "select_version": (
        (({"session_id": KNOWN, "msg_id": "unknown", "version": 1},), "not_found"),
        (({"session_id": KNOWN, "msg_id": "m", "version": 0},), "invalid_payload"),
        (({"session_id": KNOWN, "msg_id": "a b", "version": 1},), "invalid_id"),
    ),
    "connect": (),  # refused without the token: `connect_error` {"message": "unauthorized"}
    "disconnect": (),  # no answer to give
}


def route_keys(routes: Iterable[tuple[str, set[str]]]) -> set[tuple[str, str]]:
    """Every (method, path template) of a router; HEAD goes with GET and has no body to check."""
    return {
        (method, path)
        for path, methods in routes
        for method in methods
        if not (method == "HEAD" and "GET" in methods)
    }


def uncovered(
    routes: Iterable[tuple[str, set[str]]], table: dict[tuple[str, str], Any]
) -> list[str]:
    """The routes the table has no row for, as "METHOD /path"."""
    return sorted(f"{method} {path}" for method, path in route_keys(routes) - table.keys())


# --- the live app ---------------------------------------------------------------------------------
@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    """The real app in uvicorn, composed as a launch composes it (the ModelRouter engine, so the
    model settings routes answer as they do for a user), with one session, `KNOWN`."""
    baseline = Baseline.take()
    settings = build_settings(data_dir=tmp_path / "data", log_dir=tmp_path / "logs", environ={})
    server = Server.bind(settings.host, 0)
    settings = replace(settings, port=server.port)
    store = Store(settings.db_path, backups_dir=settings.backups_dir)
    agents = default_registry()
    user_settings = UserSettings(settings.user_settings_path)
    engine = build_model_router(settings, store, agents, user_settings, detect_local=False)
    app = create_app(settings, store, engine, agents, build_library(settings, store, user_settings))
    server.start(app)
    base_url = f"http://127.0.0.1:{server.port}"
    http = httpx.Client(base_url=base_url, timeout=WAIT)
    running = Live(base_url, server.port, settings.token, app, server, settings.data_dir, http)
    try:
        client = running.client()
        ack = client.call("chat", chat_payload("hello", session_id=KNOWN))
        assert ack["ok"] is True, ack
        client.final(ack["data"]["output_msg_id"])
        yield running
    finally:
        running.stop()
    baseline.wait_restored("the server's threads, descriptors and processes to end")


def check_envelope(body: Any, live: Live, *, director: bool = False) -> str:
    """The one error shape; `director`: an answer on a `/videodb/...` path, which must also carry
    a top-level `message` equal to `error.message` (and nothing else extra)."""
    assert isinstance(body, dict)
    if director:
        assert set(body) == {"ok", "error", "message"}, body
        assert body["message"] == body["error"]["message"]
    else:
        assert set(body) == {"ok", "error"}, body
    assert body["ok"] is False
    assert set(body["error"]) == {"code", "message"}
    code, message = body["error"]["code"], body["error"]["message"]
    assert isinstance(code, str)
    assert CODE.fullmatch(code)
    assert isinstance(message, str)
    assert message
    assert len(message) <= 500
    for leak in (live.token, "Traceback", str(live.data_dir), "/work/", ".py", "sqlite3."):
        assert leak not in message, (code, message)
    return code


def check_http(response: httpx.Response, live: Live, code: str, what: str) -> None:
    assert response.headers["content-type"].startswith("application/json"), what
    director = response.request.url.path.startswith("/videodb/")
    assert check_envelope(response.json(), live, director=director) == code, (what, response.text)
    assert response.status_code == STATUS_OF[code], (what, response.status_code)
    if code == "unauthorized":
        assert response.headers["www-authenticate"] == "Bearer", what


def each_route(live: Live) -> Iterator[tuple[str, str, Expect]]:
    for method, path in sorted(route_keys(live.app.routes)):
        yield method, path, ROUTES[(method, path)]


# --- coverage -------------------------------------------------------------------------------------
def test_the_table_covers_every_route(live: Live) -> None:
    missing = uncovered(live.app.routes, ROUTES)
    assert not missing, f"add these routes to ROUTES in {__name__}: {missing}"


def test_a_route_missing_from_the_table_is_named() -> None:
    """What `test_the_table_covers_every_route` sees the day a route lands without a row."""
    routes = [(path, {method, "HEAD"} if method == "GET" else {method}) for method, path in ROUTES]
    assert uncovered(routes, ROUTES) == []
    new = [*routes, ("/clips/{clip_id}", {"DELETE"}), ("/clips", {"GET", "HEAD"})]
    assert uncovered(new, ROUTES) == ["DELETE /clips/{clip_id}", "GET /clips"]
    # a new method on a known path is a new route too
    assert uncovered([*routes, ("/prefs", {"PUT"})], ROUTES) == ["PUT /prefs"]


def test_every_row_is_a_route_or_the_unbuilt_bundle(live: Live) -> None:
    stale = set(ROUTES) - route_keys(live.app.routes) - {("GET", "/assets/{path:path}")}
    assert not stale, f"ROUTES has rows for routes the app no longer has: {sorted(stale)}"
    for key, expect in ROUTES.items():
        assert expect.failures or expect.why, f"{key}: give its failures or say why it has none"


def test_the_table_covers_every_event(live: Live) -> None:
    missing = sorted(set(live.app.events) - EVENTS.keys())
    assert not missing, f"add these /chat events to EVENTS in {__name__}: {missing}"


# --- the failures every route shares --------------------------------------------------------------
def test_every_route_refuses_without_the_token_in_one_shape(live: Live) -> None:
    for method, path, expect in each_route(live):
        if expect.public:
            continue
        for headers in ({}, {"Authorization": "Bearer wrong-token"}, {"Authorization": "Basic x"}):
            response = expect.call.send(live, method, headers)
            check_http(response, live, "unauthorized", f"{method} {path} with {headers}")


def test_every_route_refuses_a_foreign_host_and_origin_in_one_shape(live: Live) -> None:
    for method, path, expect in each_route(live):
        evil_host = {**live.headers, "Host": "evil.example"}
        check_http(expect.call.send(live, method, evil_host), live, "bad_host", f"{method} {path}")
        evil_origin = {**live.headers, "Origin": "http://evil.example"}
        response = expect.call.send(live, method, evil_origin)
        check_http(response, live, "bad_origin", f"{method} {path}")


def test_every_route_that_reads_the_database_fails_in_one_shape_once_it_is_closed(
    live: Live,
) -> None:
    live.app.state.store.close()  # as when the database went away under the app
    for method, path, expect in each_route(live):
        if expect.store:
            response = expect.call.send(live, method, live.headers)
            check_http(response, live, "store_closed", f"{method} {path}")


# --- the failures of each route -------------------------------------------------------------------
def test_every_route_fails_in_one_shape(live: Live) -> None:
    for method, path, expect in each_route(live):
        for call, code in expect.failures:
            response = call.send(live, method, live.headers)
            check_http(response, live, code, f"{method} {path} as {call}")


def test_requests_no_route_answers_fail_in_one_shape(live: Live) -> None:
    for method, call, code in UNROUTED:
        check_http(call.send(live, method, live.headers), live, code, f"{method} {call.path}")


# --- the socket -----------------------------------------------------------------------------------
def test_every_event_acks_errors_in_one_shape(live: Live) -> None:
    client = live.client()
    for event in live.app.events:
        for args, code in EVENTS[event]:
            assert check_envelope(client.emit_raw(event, *args), live) == code, (event, args)


def test_connect_without_the_token_is_refused_in_its_one_shape(live: Live) -> None:
    client = live.client(connect=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(None)
    assert client.connect_errors == [{"message": "unauthorized"}]


def test_the_chat_error_response_shape(live: Live) -> None:
    client = live.client()
    client.emit_raw("chat", {"content": "nope", "session_id": "s1", "conv_id": "c1"})
    client.wait_for(lambda ms: len(ms) == 1, "the error response")
    response = client.messages[0]
    assert set(response) == {
        "status",
        "message",
        "session_id",
        "conv_id",
        "msg_id",
        "msg_type",
        "content",
        "metadata",
    }
    assert set(response["metadata"]) == {"timestamp", "error_type"}
    assert (response["session_id"], response["conv_id"]) == ("s1", "c1")
    assert response["metadata"]["error_type"] == "invalid_payload"
    assert len(response["message"]) <= len("Error in chat handler: ") + 500


def test_a_closed_store_fails_the_socket_in_the_same_shape(live: Live) -> None:
    client = live.client()
    live.app.state.store.close()
    ack = client.call("chat", chat_payload("hello"))
    assert check_envelope(ack, live) == "store_closed"
    client.wait_for(lambda ms: len(ms) == 1, "the error response")
    assert client.messages[0]["metadata"]["error_type"] == "store_closed"
    assert check_envelope(client.call("reconnect", {"session_id": "s"}), live) == "store_closed"
