"""The model settings API (`/config/models/params`, `/session/{id}/system_prompt`) on the real
app in uvicorn with the ModelRouter engine and a tiny GGUF model the test writes: settings saved
to settings.json, a load setting reloads the model with it, bad values refused with their code
and nothing changed, reset, and a chat's own prompt kept with the chat (exported with it)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from director_desktop.composition import build_library
from director_desktop.engine.agents import default_registry
from director_desktop.engine.router import build_model_router
from director_desktop.server import Server
from director_desktop.settings import Settings, build_settings
from director_desktop.store import Store
from director_desktop.user_settings import UserSettings
from director_desktop.web.app import create_app
from tests.fixtures.tiny_gguf import write_chat_model
from tests.integration.support import WAIT, ChatClient, chat_payload, wait_until


class App:
    def __init__(self, settings: Settings, http: httpx.Client, base_url: str) -> None:
        self.settings, self.http, self.base_url = settings, http, base_url

    def call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return self.http.request(method, path, **kw)

    def wait_loaded(self) -> dict[str, Any]:
        seen: dict[str, Any] = {}

        def check() -> bool:
            seen.update(self.call("GET", "/config/models/status").json())
            return seen["state"] in ("ready", "error")

        wait_until(check, "the model to load")
        return seen

    def saved(self) -> object:
        path = self.settings.user_settings_path
        return json.loads(path.read_text()).get("model_params") if path.exists() else None


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    settings = build_settings(data_dir=tmp_path / "data", log_dir=tmp_path / "logs", environ={})
    server = Server.bind(settings.host, 0)
    settings = settings.__class__(**{**settings.__dict__, "port": server.port})
    settings.models_dir.mkdir(parents=True)
    write_chat_model(str(settings.models_dir / "tiny.gguf"))
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
        chosen = http.put(
            "/config/models/choice", json={"provider": "embedded", "model": "tiny.gguf"}
        )
        assert chosen.status_code == 200, chosen.text
        yield App(settings, http, base_url)
    finally:
        http.close()
        server.stop()


def test_defaults_come_from_the_model_file(app: App) -> None:
    view = app.call("GET", "/config/models/params").json()
    assert view["params"] == {}
    assert view["defaults"]["context_length"] == 4096  # the file's trained length
    assert view["context_max"] == 4096
    assert view["defaults"]["temperature"] == 0.8
    assert view["effective"] == view["defaults"]


def test_a_load_setting_is_saved_and_reloads_the_model_with_it(app: App) -> None:
    assert app.wait_loaded()["context_length"] == 4096
    watcher = ChatClient(app.base_url)
    try:
        watcher.connect(app.settings.token)
        answer = app.call("PUT", "/config/models/params", json={"context_length": 1024})
        assert answer.status_code == 200, answer.text
        watcher.wait_event(lambda e: e.get("update") == "models", "update_data models")
    finally:
        watcher.close()
    assert answer.json()["effective"]["context_length"] == 1024
    assert app.saved() == {"context_length": 1024}
    assert app.wait_loaded()["context_length"] == 1024


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"temperature": 5.5}, "bad_model_param"),
        ({"top_p": -0.1}, "bad_model_param"),
        ({"max_tokens": 0}, "bad_model_param"),
        ({"context_length": 100}, "bad_model_param"),
        ({"n_gpu_layers": -2}, "bad_model_param"),
        ({"repeat_penalty": True}, "bad_model_param"),
        ({"system_prompt": "x" * 16_001}, "bad_model_param"),
        ({"stop": ["a"] * 9}, "bad_model_param"),
        ({"seed": 1}, "unknown_model_param"),
    ],
)
def test_a_bad_value_is_refused_and_changes_nothing(
    app: App, body: dict[str, Any], code: str
) -> None:
    assert app.call("PUT", "/config/models/params", json={"temperature": 0.5}).status_code == 200
    answer = app.call("PUT", "/config/models/params", json=body)
    assert answer.status_code == 400
    assert answer.json() == {
        "ok": False,
        "error": {"code": code, "message": answer.json()["error"]["message"]},
    }
    field = next(iter(body))
    assert field in answer.json()["error"]["message"]
    assert app.saved() == {"temperature": 0.5}
    assert app.call("GET", "/config/models/params").json()["params"] == {"temperature": 0.5}


def test_reset_returns_to_the_models_defaults_and_keeps_the_system_prompt(app: App) -> None:
    body = {"system_prompt": "Be brief.", "top_k": 5, "n_threads": 1}
    assert app.call("PUT", "/config/models/params", json=body).status_code == 200
    view = app.call("DELETE", "/config/models/params").json()
    assert view["params"] == {"system_prompt": "Be brief."}
    assert view["effective"]["top_k"] == 40
    assert app.saved() == {"system_prompt": "Be brief."}


def test_a_chats_own_system_prompt_is_kept_and_exported_with_it(app: App) -> None:
    client = ChatClient(app.base_url)
    try:
        client.connect(app.settings.token)
        ids = {"session_id": f"s-{uuid.uuid4()}", "conv_id": str(uuid.uuid4())}
        ack = client.call("chat", chat_payload("hello", **ids))
        assert ack["ok"] is True, ack
        client.final(ack["data"]["output_msg_id"])
    finally:
        client.close()
    sid = ids["session_id"]
    path = f"/session/{sid}/system_prompt"
    assert app.call("GET", path).json() == {"session_id": sid, "system_prompt": None}
    put = app.call("PUT", path, json={"system_prompt": "Speak French."})
    assert put.json() == {"session_id": sid, "system_prompt": "Speak French."}
    assert app.call("GET", path).json()["system_prompt"] == "Speak French."
    exported = app.call("GET", f"/session/{sid}/export", params={"format": "json"}).json()
    assert exported["context"]["system_prompt"] == "Speak French."
    assert app.call("PUT", path, json={"system_prompt": None}).json()["system_prompt"] is None
    assert app.call("GET", path).json()["system_prompt"] is None
    missing = app.call("PUT", "/session/nope/system_prompt", json={"system_prompt": "x"})
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")
