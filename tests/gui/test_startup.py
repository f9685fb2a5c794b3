"""A windowed launch's start-up (issue 17): the window opens the page's URL at once, the page is
served while the app is built, and nothing heavy is imported before the page reports ready.

The real app (`python -m director_desktop`, GTK under Xvfb) with `DIRECTOR_DEBUG=1`; read through
its log: the "page ready after" line carries the start-up trace, and "modules at ready" the
packages imported by then (tests/integration/test_startup_imports.py checks the headless launch).
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from tests.gui.support import Display, launch
from tests.integration.test_startup_imports import NOT_AT_START

pytestmark = pytest.mark.gui

# The page asks where API keys are kept (`key_storage` in the model status) as it starts, and
# the window is a GTK app: both may load before its ready flag. Local model servers are looked
# for (with httpx) 5 s after the app starts, which a slow machine's page may not beat; the
# headless test checks httpx at the moment the app is up.
WINDOW_MAY_LOAD = {"keyring", "gi", "secretstorage", "httpx"}


def test_the_page_loads_while_the_app_is_built_and_nothing_heavy_first(
    display: Display, tmp_path: Path
) -> None:
    launched = time.time()
    app = launch(display, tmp_path / "data", env={"DIRECTOR_DEBUG": "1"})
    try:
        ready = app.wait_log("page ready after")
        records = app.log_records()
    finally:
        os.killpg(app.process.pid, signal.SIGKILL)
        app.process.wait(timeout=10)
    trace = json.loads(ready["trace"])
    # The early server answered before the app was built and started.
    assert trace["page_served"] <= trace["app_built"] <= trace["server_ready"]
    # The build waited for the page's first request (it would slow WebKit's start-up otherwise).
    assert trace["page_requested"] <= trace["build_started"]
    assert trace["window_created"] < trace["page_ready"]
    assert "navigate" not in trace  # the window opened the page's URL itself
    assert trace["page_navigation_start"] <= trace["page_ready"]
    # The page's own marks: data in and socket connected before it set its flag, which the
    # launcher's poll saw afterwards; `ready_epoch` is that flag's moment on the shared clock.
    assert trace["page_data"] <= trace["page_ready_flag"] <= trace["page_ready"] + 0.002
    assert trace["page_socket_open"] <= trace["page_connected"] <= trace["page_ready_flag"]
    assert launched <= float(ready["ready_epoch"]) <= time.time()
    # The window named itself, so its page came without COOP (no second web process).
    first = next(r for r in records if r["message"] == "first request")
    assert (first["path"], first["window"]) == ("/", True)
    modules = next(r["modules"] for r in records if r["message"] == "modules at ready")
    loaded = set(modules.split())
    assert "webview" in loaded
    early = {
        name: why
        for name, why in NOT_AT_START.items()
        if name in loaded and name not in WINDOW_MAY_LOAD
    }
    assert not early, f"imported before the page was ready: {early}"
