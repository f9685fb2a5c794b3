"""Load: N clients chat at once for a fixed time with streamed replies, from the built-in
assistant and from a tiny llama.cpp model (one row each), while readers list sessions, search,
page and stream a clip with range requests. Every client's history is checked against what the
server stored: nothing lost, duplicated or out of order.
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import pytest

from tests.chaos.invariants import check_data_dir, check_serving
from tests.chaos.load import ClientGroups, Readers, Target, summary
from tests.chaos.report import Report, Row
from tests.chaos.scale import Scale
from tests.chaos.support import Http, headless, rss_kib, upload_file, use_tiny_model
from tests.fixtures.media import make_clip

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("model", ["builtin", "llama.cpp"])
def test_load(
    model: str, tmp_path: Path, scale: Scale, report: Report, request: pytest.FixtureRequest
) -> None:
    with headless(tmp_path / "data") as server:
        http = Http(server)
        if model == "llama.cpp":
            use_tiny_model(server, http)
        clip = upload_file(http, make_clip(tmp_path / "clip.mp4", seconds=2.0))
        assert clip.status_code == 201, clip.text
        session_ids = [f"load-{uuid.uuid4()}" for _ in range(scale.clients)]
        groups = ClientGroups(
            Target(server.base_url, server.token), session_ids, scale.load_seconds
        )
        try:
            groups.start()
            started = time.monotonic()
            readers = Readers(http, session_ids, clip.json()["stream_url"])
            until = started + scale.load_seconds
            threads = [threading.Thread(target=readers.run, args=(until,)) for _ in range(4)]
            for thread in threads:
                thread.start()
            peak = [rss_kib(server.process.pid)]
            while groups.running() or any(t.is_alive() for t in threads):
                peak.append(rss_kib(server.process.pid))
                time.sleep(0.2)  # a sampling period, not a wait for an outcome
            tally = groups.tally()
        finally:
            groups.close()
        seconds = tally.ended_at - started
        lost = tally.lost
        check_serving(server.base_url, server.token)
        five_xx = list(http.five_xx)
        http.close()
    findings = check_data_dir(server.data_dir, tally.acked)
    figures = summary(tally, seconds)
    duplicated, out_of_order, unnumbered = tally.duplicated, tally.out_of_order, tally.unnumbered
    report.add(
        Row(
            f"load-{model}",
            f"{scale.clients} clients chat for {scale.load_seconds:.0f} s ({model}); 4 readers "
            "list, search, page and range-stream a clip",
            tally.turns,
            f"{figures['msgs_per_s']:.1f} turns/s, p50 {figures['p50'] * 1000:.0f} ms, "
            f"p99 {figures['p99'] * 1000:.0f} ms, server RSS peak {max(peak) // 1024} MiB, "
            f"{readers.requests} reads; duplicated {duplicated}, out of order {out_of_order}, "
            f"unnumbered {unnumbered}, failures {len(tally.failures)}",
            lost=len(lost) + len(findings.lost),
            stuck=findings.stuck,
            five_xx=len(five_xx),
            nodeid=request.node.nodeid,
        )
    )
    assert tally.failures == [], tally.failures[:5]
    assert lost == [], lost[:10]
    assert findings.problems() == []
    assert (duplicated, out_of_order, unnumbered) == (0, 0, 0)
    assert five_xx == [], five_xx[:5]
    assert readers.bad == [], readers.bad[:5]
    assert tally.turns >= scale.clients  # every client finished at least one turn
