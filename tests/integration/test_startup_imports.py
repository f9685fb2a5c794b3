"""Start-up footprint: nothing heavy is imported before the app reports ready.

The real app (`python -m director_desktop --headless`) runs in a subprocess with `DIRECTOR_DEBUG=1`;
when it is ready it logs the packages imported so far ("modules at ready"). The libraries a user
only needs once they run a model, transcribe, read subtitles or store a key must not be among them,
so a launch never pays for them and the gain cannot silently vanish as features land. The window's
launch logs the same line at its page's ready flag (tests/gui/test_startup.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.integration.support import wait_until
from tests.live_server import HeadlessServer, start_headless

# Imported on first use only, each with what it costs here (bench/README.md, `-X importtime`).
NOT_AT_START = {
    "xllamacpp": "llama.cpp's binding, when a local model loads",
    "_pywhispercpp": "whisper.cpp's binding, when speech is transcribed",
    "pywhispercpp": "whisper.cpp's Python package (never: the app uses the binding)",
    "huggingface_hub": "the model hub's client (the app speaks its HTTP API itself)",
    "hf_xet": "the hub's Xet transfer client",
    "keyring": "the OS keyring, when a key is read or stored (~0.1 s with its backends)",
    "gi": "GObject, pulled in by keyring's Secret Service backend (headless needs no GTK)",
    "secretstorage": "keyring's Secret Service backend",
    "pysubs2": "the subtitle parser, when a video's subtitles are indexed",
    "numpy": "vectors and audio samples, when lines are embedded or speech transcribed (~12 MiB)",
    "aiohttp": "never: engine.io's async client, which the app does not use",
    "requests": "never: engine.io's client, which the app does not use (~60 ms from source)",
    "urllib3": "never: requests' transport",
    "httpx": "the HTTP client, when a model server, the hub or a speech server is asked (~40 ms)",
}


def modules_at_ready(log_file: Path) -> set[str]:
    """The packages the "modules at ready" line lists. The log is written by its own thread, so
    the line may land a moment after the URL line: wait for it (with a deadline)."""
    found: list[set[str]] = []

    def logged() -> bool:
        for line in log_file.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if record.get("message") == "modules at ready":
                found.append(set(str(record["modules"]).split()))
                return True
        return False

    wait_until(logged, f"the 'modules at ready' line in {log_file}")
    return found[0]


@pytest.fixture
def headless(tmp_path: Path) -> HeadlessServer:
    return start_headless(tmp_path / "data", env={"DIRECTOR_DEBUG": "1"})


def test_nothing_heavy_is_imported_before_the_headless_app_is_ready(
    headless: HeadlessServer,
) -> None:
    try:
        loaded = modules_at_ready(headless.log_dir / "director-desktop.log")
    finally:
        headless.stop()
    assert "director_desktop" in loaded
    assert "uvicorn" in loaded
    early = {name: why for name, why in NOT_AT_START.items() if name in loaded}
    assert not early, f"imported before the app was ready: {early}"


def test_the_key_store_still_answers_once_asked(headless: HeadlessServer) -> None:
    """The deferred key store is the real one on first use: the model status names where keys
    are kept (the OS keyring or the key file)."""
    try:
        status = httpx.get(
            headless.base_url + "/config/models/status", headers=headless.auth_headers, timeout=10
        )
    finally:
        headless.stop()
    assert status.status_code == 200
    assert status.json()["key_storage"] in ("keyring", "file")
