"""SIGKILL mid-run, mid-import and mid-index, `scale.kills` times each, restarting the app on the
same data dir after every kill; after each restart every invariant holds and the app serves."""

from __future__ import annotations

import contextlib
import random
from pathlib import Path

import pytest

from tests.chaos import kills
from tests.chaos.invariants import Findings, check_data_dir, check_serving
from tests.chaos.report import Report, Row
from tests.chaos.scale import Scale
from tests.chaos.support import headless
from tests.fixtures.hub_double import hub_double
from tests.fixtures.media import make_clip
from tests.fixtures.tiny_gguf import write_chat_model

pytestmark = pytest.mark.slow

WHAT = {
    "run": "SIGKILL while a reply streams (random moment), restart",
    "import": "SIGKILL while an upload is being copied in, restart",
    "index": "SIGKILL while an import is probed or its index job runs (random moment), restart",
    "download": "SIGKILL while a model downloads from the hub double (random byte), restart",
}


@pytest.mark.parametrize("where", ["run", "import", "index", "download"])
def test_sigkill(
    where: str, tmp_path: Path, scale: Scale, report: Report, request: pytest.FixtureRequest
) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    clip = make_clip(tmp_path / "clip.mp4", seconds=60.0) if where == "index" else None
    log = kills.KillLog()
    findings = Findings()
    with contextlib.ExitStack() as stack:
        env = dict(kills.SLOW)
        model = b""
        if where == "download":
            hub = stack.enter_context(hub_double())
            model = Path(write_chat_model(str(tmp_path / "tiny.gguf"))).read_bytes()
            hub.add(kills.DOWNLOAD_REPO, kills.DOWNLOAD_FILE, model)
            env["HF_ENDPOINT"] = hub.endpoint
        server = stack.enter_context(headless(tmp_path / "data", **env))
        for _ in range(scale.kills):
            if where == "download":
                server = kills.kill_mid_download(server, rng, log, hub, model)
            elif where == "run":
                server = kills.kill_mid_run(server, rng, log)
            elif where == "import":
                server = kills.kill_mid_import(server, rng, log)
            else:
                assert clip is not None
                server = kills.kill_mid_index(server, rng, log, clip)
            after = check_data_dir(server.data_dir, log.acked)
            findings.merge(after)
            if after.problems():
                break
        check_serving(server.base_url, server.token)
        server.stop()
    report.add(
        Row(
            f"sigkill-mid-{where}",
            WHAT[where] + f" (seed {seed})",
            scale.kills,
            f"{log.landed} of {scale.kills} kills landed while the work was running; "
            f"{len(log.acked)} acknowledged inputs checked",
            lost=len(findings.lost),
            stuck=findings.stuck,
            five_xx=len(log.five_xx),
            nodeid=request.node.nodeid,
        )
    )
    assert findings.problems() == [], f"seed {seed}"
    assert log.five_xx == []
    assert log.landed >= 1, "no kill landed while the work was running"
