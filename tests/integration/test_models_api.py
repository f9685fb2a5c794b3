"""The model settings API (`/config/models...`) on the real app in uvicorn, with the ModelRouter
engine, tiny GGUF models written by the test, and xllamacpp's own HTTP server as the
OpenAI-compatible one."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gguf
import httpx
import pytest

from director_desktop.composition import build_library
from director_desktop.engine.agents import default_registry
from director_desktop.engine.router import ModelRouter, build_model_router
from director_desktop.server import Server
from director_desktop.settings import Settings, build_settings
from director_desktop.store import Store
from director_desktop.user_settings import UserSettings
from director_desktop.web.app import create_app
from tests.fixtures.llama_server import openai_server
from tests.fixtures.replies import model_answer_text
from tests.fixtures.tiny_gguf import write_chat_model, write_model
from tests.integration.support import WAIT, ChatClient, chat_payload, text_of, wait_until


@dataclass
class App:
    base_url: str
    settings: Settings
    router: ModelRouter
    http: httpx.Client
    server: Server

    def url(self, path: str) -> str:
        return self.base_url + path

    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return self.http.request(method, path, **kw)

    def chat(self, text: str) -> dict[str, Any]:
        client = ChatClient(self.base_url)
        try:
            client.connect(self.settings.token)
            ids = {"session_id": str(uuid.uuid4()), "conv_id": str(uuid.uuid4())}
            ack = client.call("chat", chat_payload(text, **ids))
            assert ack["ok"] is True, ack
            return client.final(ack["data"]["output_msg_id"])
        finally:
            client.close()


@pytest.fixture(scope="module")
def chat_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(write_chat_model(str(tmp_path_factory.mktemp("gguf") / "tiny-chat.gguf")))


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    settings = build_settings(data_dir=tmp_path / "data", log_dir=tmp_path / "logs", environ={})
    server = Server.bind(settings.host, 0)
    settings = settings.__class__(**{**settings.__dict__, "port": server.port})
    store = Store(settings.db_path, backups_dir=settings.backups_dir)
    agents = default_registry()
    user_settings = UserSettings(settings.user_settings_path)
    router = build_model_router(settings, store, agents, user_settings, detect_local=False)
    server.start(
        create_app(settings, store, router, agents, build_library(settings, store, user_settings))
    )
    base_url = f"http://127.0.0.1:{server.port}"
    headers = {"Authorization": f"Bearer {settings.token}"}
    http = httpx.Client(base_url=base_url, headers=headers, timeout=WAIT)
    try:
        yield App(base_url, settings, router, http, server)
    finally:
        http.close()
        server.stop()


def wait_state(app: App, *states: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def check() -> bool:
        seen.update(app.request("GET", "/config/models/status").json())
        return seen["state"] in states

    wait_until(check, f"the model state to become one of {states}")
    return seen


def test_models_need_the_token(app: App) -> None:
    response = httpx.get(app.url("/config/models"))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_upload_lists_and_chooses_a_model_that_then_answers(app: App, chat_gguf: Path) -> None:
    data = chat_gguf.read_bytes()
    chunks = (data[i : i + 65536] for i in range(0, len(data), 65536))
    response = app.request(
        "POST", "/config/models/upload", params={"name": "My Model.gguf"}, content=chunks
    )
    assert response.status_code == 201, response.text
    job = response.json()
    assert job["state"] == "done"
    assert job["bytes"] == len(data)
    assert job["progress"] == 1.0
    listing = app.request("GET", "/config/models").json()
    entry = next(m for m in listing["models"] if m["file"] == job["file"])
    assert entry["size"] == len(data)
    assert entry["context_length"] == 4096
    assert entry["error"] is None
    assert "builtin" in listing["providers"]
    assert listing["status"]["provider"] == "builtin"

    watcher = ChatClient(app.base_url)
    try:
        watcher.connect(app.settings.token)
        chosen = app.request(
            "PUT", "/config/models/choice", json={"provider": "embedded", "model": job["file"]}
        )
        assert chosen.status_code == 200, chosen.text
        # the Settings view hears when the model has loaded, without polling
        watcher.wait_event(
            lambda e: e.get("update") == "models" and e.get("state") == "ready",
            "update_data models: ready",
        )
    finally:
        watcher.close()
    assert wait_state(app, "ready", "error")["state"] == "ready"
    assert app.request("GET", "/config/check").json()["llm_configured"] is True

    final = app.chat("hello model")
    assert final["status"] == "success"
    model_answer_text(final)
    assert final["actions"][0] == "Reasoning the message..."
    assert final["actions"].count("Reasoning the message...") == 1
    probe = app.request("POST", "/config/models/test").json()
    assert probe["ok"] is True


@pytest.mark.parametrize(
    ("name", "body", "code"),
    [
        ("notes.txt", b"GGUF", "not_gguf"),
        ("fake.gguf", b"definitely not a model", "model_corrupt"),
    ],
)
def test_a_bad_upload_is_refused_and_leaves_nothing(
    app: App, name: str, body: bytes, code: str
) -> None:
    response = app.request("POST", "/config/models/upload", params={"name": name}, content=body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    models_dir = app.settings.models_dir
    assert not models_dir.exists() or list(models_dir.iterdir()) == []


def cut_points(model: Path) -> dict[str, int]:
    """Where to cut a model: inside its header, its tensor infos, its data; one byte short.
    Offsets from gguf-py's reader (llama.cpp's own Python code), not from the code under test."""
    reader = gguf.GGUFReader(str(model))
    end = max(int(t.data_offset) + int(t.n_bytes) for t in reader.tensors)
    return {
        "header": 100,
        "tensor infos": int(reader.tensors[0].field.offset) + 5,
        "data": int(reader.data_offset) + 10,
        "one byte short": end - 1,
    }


@pytest.mark.parametrize("where", ["header", "tensor infos", "data", "one byte short"])
def test_a_cut_off_model_is_refused_by_upload_and_import_and_listed_with_its_error(
    app: App, chat_gguf: Path, tmp_path: Path, where: str
) -> None:
    cut = cut_points(chat_gguf)[where]
    body = chat_gguf.read_bytes()[:cut]
    response = app.request(
        "POST", "/config/models/upload", params={"name": "My Model.gguf"}, content=body
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "model_corrupt"
    # the user's file is named, never the hidden temp file it was written to
    assert error["message"].startswith("My Model.gguf: the model file is truncated"), error
    assert ".part" not in response.text
    assert ".upload" not in response.text
    models_dir = app.settings.models_dir
    assert list(models_dir.iterdir()) == [], "nothing is kept"
    jobs = app.request("GET", "/config/models/imports").json()["imports"]
    assert [j["error"] for j in jobs] == [error]

    source = tmp_path / "picked.gguf"
    source.write_bytes(body)
    response = app.request("POST", "/config/models/import", json={"path": str(source)})
    assert response.json()["error"]["code"] == "model_corrupt"
    assert response.json()["error"]["message"].startswith(
        "picked.gguf: the model file is truncated"
    )
    assert str(tmp_path) not in response.text
    assert list(models_dir.iterdir()) == []

    # put into the folder by hand, it is listed with its error rather than hidden
    (models_dir / "by-hand.gguf").write_bytes(body)
    listed = app.request("GET", "/config/models").json()["models"]
    assert [(m["file"], m["size"], m["error"]) for m in listed] == [
        ("by-hand.gguf", cut, "by-hand.gguf: " + error["message"].split(": ", 1)[1])
    ]


def test_a_refused_upload_names_the_file_without_the_folders_the_client_sent(
    app: App, chat_gguf: Path
) -> None:
    body = chat_gguf.read_bytes()[:-1]
    for name in ("C:\\Users\\me\\Models\\Cut Model.gguf", "/home/me/models/Cut Model.gguf"):
        response = app.request("POST", "/config/models/upload", params={"name": name}, content=body)
        assert response.status_code == 400, response.text
        message = response.json()["error"]["message"]
        assert message.startswith("Cut Model.gguf: the model file is truncated"), message
        assert "Users" not in response.text
        assert "/home" not in response.text


@pytest.mark.parametrize("link", [False, True])
def test_import_by_path_copies_or_links_with_progress(
    app: App, chat_gguf: Path, link: bool
) -> None:
    response = app.request(
        "POST", "/config/models/import", json={"path": str(chat_gguf), "link": link}
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    job: dict[str, Any] = {}

    def done() -> bool:
        job.update(app.request("GET", f"/config/models/imports/{job_id}").json())
        return bool(job["state"] != "running")

    wait_until(done, "the import to finish")
    assert job["state"] == "done"
    assert job["bytes"] == chat_gguf.stat().st_size
    imported = app.settings.models_dir / job["file"]
    assert imported.is_symlink() is link
    assert imported.read_bytes() == chat_gguf.read_bytes()
    listed = app.request("GET", "/config/models/imports").json()["imports"]
    assert [j["id"] for j in listed] == [job_id]


def test_import_of_a_missing_path_is_a_clear_error(app: App, tmp_path: Path) -> None:
    response = app.request(
        "POST", "/config/models/import", json={"path": str(tmp_path / "no.gguf")}
    )
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "model_missing"
    assert str(tmp_path) not in response.text, "no file system path reaches the client"


def test_a_corrupt_chosen_model_makes_llm_configured_false_with_the_reason(
    app: App, chat_gguf: Path
) -> None:
    app.settings.models_dir.mkdir(parents=True)
    (app.settings.models_dir / "broken.gguf").write_bytes(chat_gguf.read_bytes()[:20000])
    response = app.request(
        "PUT", "/config/models/choice", json={"provider": "embedded", "model": "broken.gguf"}
    )
    assert response.status_code == 200
    status = wait_state(app, "error")
    assert "broken.gguf" in status["error"]
    assert status["llm_configured"] is False
    assert app.request("GET", "/config/check").json()["llm_configured"] is False
    final = app.chat("hello")
    assert final["status"] == "error"
    assert final["metadata"]["error_type"] in ("model_corrupt", "model_error")
    # the user replaces the file: the next turn tries again from scratch and is answered
    (app.settings.models_dir / "broken.gguf").write_bytes(chat_gguf.read_bytes())
    assert app.chat("hello again")["status"] == "success"
    assert app.request("GET", "/config/check").json()["llm_configured"] is True


def test_choosing_an_unknown_model_or_provider_changes_nothing(app: App) -> None:
    for body, code in [
        ({"provider": "embedded", "model": "nothing.gguf"}, "not_found"),
        ({"provider": "quantum"}, "invalid_payload"),
        ({"provider": "openai", "model": "m", "base_url": "ftp://x"}, "bad_url"),
    ]:
        response = app.request("PUT", "/config/models/choice", json=body)
        assert response.json()["error"]["code"] == code
    assert app.request("GET", "/config/models/status").json()["provider"] == "builtin"
    assert not app.settings.user_settings_path.exists()


@pytest.fixture(scope="module", name="openai_server")
def openai_server_fixture(chat_gguf: Path) -> Iterator[tuple[str, str]]:
    """xllamacpp's own OpenAI-compatible HTTP server on loopback, with an API key."""
    with openai_server(chat_gguf) as served:
        yield served


def test_an_openai_compatible_server_with_a_key(app: App, openai_server: tuple[str, str]) -> None:
    address, key = openai_server
    models = httpx.get(address + "/v1/models", headers={"Authorization": f"Bearer {key}"}).json()
    model = models["data"][0]["id"]
    choice = {"provider": "openai", "base_url": address, "model": model}
    wrong = app.request("POST", "/config/models/test", json={**choice, "api_key": "wrong"}).json()
    assert wrong["ok"] is False
    assert wrong["error"]["code"] == "model_unauthorized"

    response = app.request("PUT", "/config/models/choice", json={**choice, "api_key": key})
    assert response.status_code == 200, response.text
    status = wait_state(app, "ready", "error")
    assert status["state"] == "ready"
    assert status["has_api_key"] is True
    assert app.request("POST", "/config/models/test").json()["ok"] is True
    final = app.chat("hello server")
    model_answer_text(final)
    # the key is in the key store only: not in settings.json, not in the database
    assert key not in app.settings.user_settings_path.read_text()
    with sqlite3.connect(app.settings.db_path) as db:
        dump = "\n".join(db.iterdump())
    assert key not in dump
    assert key not in response.text
    key_file = app.settings.data_dir / "secrets.json"
    if app.router.secrets.backend == "file":
        assert key_file.stat().st_mode & 0o777 == 0o600


ENDLESS = {"provider": "embedded", "model": "endless.gguf"}


@contextmanager
def endless_reply(app: App) -> Iterator[tuple[ChatClient, dict[str, str], str]]:
    """A real llama.cpp model that never stops writing, chosen and answering: yields the
    connected client, the turn's ids and its reply's id once the first words have streamed."""
    app.settings.models_dir.mkdir(parents=True)
    write_model(str(app.settings.models_dir / "endless.gguf"), eos_bias=-30.0)  # never ends
    assert app.request("PUT", "/config/models/choice", json=ENDLESS).status_code == 200
    assert wait_state(app, "ready", "error")["state"] == "ready"
    client = ChatClient(app.base_url)
    try:
        client.connect(app.settings.token)
        ids = {"session_id": str(uuid.uuid4()), "conv_id": str(uuid.uuid4())}
        ack = client.call("chat", chat_payload("talk", **ids))
        out_id = ack["data"]["output_msg_id"]
        client.wait_for(
            lambda ms: any(m.get("msg_id") == out_id and text_of(m) for m in ms),
            "the first streamed words",
        )
        yield client, ids, out_id
    finally:
        client.close()


def test_stop_mid_stream_keeps_the_partial_text_of_a_real_model(app: App) -> None:
    with endless_reply(app) as (client, ids, out_id):
        stopped = client.call("stop", ids)
        assert stopped == {"ok": True, "data": {"stopped": True}}
        final = client.final(out_id)
    assert final["status"] == "not_generated"
    assert final["metadata"]["stopped"] is True
    assert text_of(final), "the partial answer is kept"
    # stopping a turn does not unload or break the model
    status = app.request("GET", "/config/models/status").json()
    assert status["state"] == "ready"


def test_switching_the_model_mid_reply_ends_that_reply_cleanly(app: App) -> None:
    with endless_reply(app) as (client, ids, out_id):
        streamed = text_of(client.latest()[out_id])
        switched = app.request("PUT", "/config/models/choice", json={"provider": "builtin"})
        assert switched.status_code == 200, switched.text
        final = client.final(out_id)
        # The next message is answered by the model now chosen (the built-in assistant).
        ack = client.call("chat", chat_payload("hello again", session_id=ids["session_id"]))
        after = client.final(ack["data"]["output_msg_id"])
    # Not a cut-off reply passed off as complete: an error that says what happened...
    assert final["status"] == "error"
    assert final["metadata"]["error_type"] == "model_changed"
    assert "model was changed" in final["content"][-1]["text"]
    # ...keeping every word the old model had written.
    assert text_of(final).startswith(streamed)
    assert after["status"] == "success"
    assert app.request("GET", "/config/models/status").json()["provider"] == "builtin"


def test_choosing_the_model_in_use_again_leaves_its_reply_running(app: App) -> None:
    with endless_reply(app) as (client, ids, out_id):
        again = app.request("PUT", "/config/models/choice", json=ENDLESS)
        assert again.status_code == 200, again.text
        assert again.json()["state"] == "ready"  # not reloading: the same model goes on
        before = len(client.snapshots(out_id))
        client.wait_for(
            lambda ms: len([m for m in ms if m.get("msg_id") == out_id]) > before + 2,
            "more of the reply after the choice",
        )
        assert client.call("stop", ids) == {"ok": True, "data": {"stopped": True}}
        final = client.final(out_id)
    assert final["status"] == "not_generated"  # ended by the Stop, not by the choice
    assert final["metadata"]["stopped"] is True
