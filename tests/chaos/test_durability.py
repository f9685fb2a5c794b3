"""Durability of an import, observed on the real process with strace: every file the import
renames into the library (`<data>/media/...`) was fsynced first, so a power cut leaves the
user's file whole or absent. A SIGKILL cannot show a skipped fsync (the page cache survives
it); the system calls can."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.chaos.invariants import check_data_dir
from tests.chaos.report import Report, Row
from tests.chaos.support import Http, headless, upload_file
from tests.conftest import test_all
from tests.fixtures.media import make_clip
from tests.integration.support import WAIT, wait_until

pytestmark = pytest.mark.slow
FSYNC = re.compile(r"\b(?:fsync|fdatasync)\(\d+<(?P<path>[^>]+)>\)\s*=\s*0")
RENAME = re.compile(
    r'\brename(?:at2?)?\((?:[^,]*, )?"(?P<src>[^"]+)", (?:[^,]*, )?"(?P<dst>[^"]+)"'
)


def traced_renames(trace: str) -> tuple[list[tuple[str, str, bool]], int]:
    """(source, destination, fsynced before) of every rename, and the count of fsyncs."""
    synced: set[str] = set()
    renames = []
    for line in trace.splitlines():
        if found := FSYNC.search(line):
            synced.add(found["path"])
        elif found := RENAME.search(line):
            renames.append((found["src"], found["dst"], found["src"] in synced))
    return renames, len(synced)


@dataclass
class Traced:
    into_library: list[tuple[str, str, bool]]
    fsyncs: int
    problems: list[str]
    stuck: int

    def unsynced(self) -> list[str]:
        return [Path(d).name for _, d, ok in self.into_library if not ok]


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory) -> Traced:
    """One upload, traced."""
    strace = shutil.which("strace")
    if strace is None:  # as for the other tiers' tools: a skip here, a failure in CI
        reason = "strace is needed to observe fsync (apt-get install strace)"
        if test_all():
            pytest.fail(reason)
        pytest.skip(reason)
    tmp_path = tmp_path_factory.mktemp("durability")
    clip = make_clip(tmp_path / "clip.mp4", seconds=2.0)
    out = tmp_path / "trace.txt"
    with headless(tmp_path / "data") as server:
        http = Http(server)
        tracer = subprocess.Popen(
            [
                strace,
                "-f",
                "-y",
                "-qq",
                "-e",
                "signal=none",
                "-e",
                "trace=fsync,fdatasync,rename,renameat,renameat2",
                "-o",
                str(out),
                "-p",
                str(server.process.pid),
            ],
        )
        try:
            # Attached once a settings write (an fsynced rename of settings.json) shows in the
            # trace: each try writes the setting again.
            def attached() -> bool:
                answer = http.request("PATCH", "/config/media", json={"index_on_import": False})
                assert answer.status_code == 200
                return out.exists() and "settings.json" in out.read_text(errors="replace")

            wait_until(attached, "strace to attach")
            uploaded = upload_file(http, clip)
            assert uploaded.status_code == 201, uploaded.text
        finally:
            tracer.send_signal(signal.SIGINT)
            tracer.wait(WAIT)
        http.close()
    media = str(server.data_dir / "media")
    renames, fsyncs = traced_renames(out.read_text(errors="replace"))
    findings = check_data_dir(server.data_dir)
    return Traced(
        [(s, d, ok) for s, d, ok in renames if d.startswith(media)],
        fsyncs,
        findings.problems(),
        findings.stuck,
    )


def test_import_fsyncs_the_original_before_its_rename(
    traced: Traced, report: Report, request: pytest.FixtureRequest
) -> None:
    originals = [d for _, d, _ in traced.into_library if Path(d).name.startswith("original")]
    report.add(
        Row(
            "import-durability",
            "an upload traced with strace -f: each rename into the library checked for an fsync "
            "of its source before it",
            len(traced.into_library),
            f"{len(traced.into_library)} renames into media/ ({len(originals)} the original), "
            f"{traced.fsyncs} files fsynced; not fsynced first: {traced.unsynced() or 'none'}",
            stuck=traced.stuck,
            nodeid=request.node.nodeid,
        )
    )
    assert originals, "the trace saw no rename of the original into the library"
    assert [n for n in traced.unsynced() if n.startswith("original")] == []
    assert traced.problems == []


def test_import_fsyncs_every_file_before_its_rename(traced: Traced) -> None:
    assert traced.unsynced() == []
