"""The release workflow stays consistent with the Linux leg tested here: every OS freezes the same
spec into the same folders, smoke-tests the frozen app, builds its installer with a script that
exists in build/, and signs only behind a guard on its secret. (actionlint checks the syntax and
expressions: scripts/lint-workflows.) Reads YAML only; runs in the plain tier."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from tests.frozen.support import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"
LEGS = {
    "linux": "build/linux/build-deb.sh",
    "macos": "build/macos/build-dmg.sh",
    "windows": "build/windows/build-installer.ps1",
}
DECODES = re.compile(r"base64 --decode|FromBase64String")
SECRET_ENV = re.compile(r"\$(?:env:)?(\w+_CERT\w*_BASE64)")


def jobs() -> dict[str, Any]:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]


def runs(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) for step in job["steps"])


@pytest.mark.parametrize("leg", sorted(LEGS))
def test_each_leg_freezes_smoke_tests_and_packages(leg: str) -> None:
    job = jobs()[leg]
    script = runs(job)
    assert job["needs"] == "frontend", "the frontend's build check must come first"
    if leg == "linux":
        assert "tests/frozen" in script, "the Linux leg runs the frozen tier (build + smoke test)"
    else:
        freeze = re.search(r"(?i)pyinstaller director\.spec[^\n]*", script)
        assert freeze, f"{leg} does not run pyinstaller director.spec"
        assert "--distpath dist --workpath .pyinstaller" in freeze.group(0)
        assert "--smoke-test" in script, f"{leg} does not smoke-test the frozen app"
    assert LEGS[leg].replace("/", "\\" if leg == "windows" else "/") in script
    assert (ROOT / LEGS[leg]).is_file()
    uploads = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/upload-")]
    assert uploads, f"{leg} uploads no installer"


def test_every_repository_path_the_workflow_names_exists() -> None:
    text = WORKFLOW.read_text(encoding="utf-8").replace("\\", "/")
    named = set(re.findall(r"\b((?:build|scripts|tests)/[\w./-]+\w)", text))
    assert named
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert not missing, missing


def test_signing_runs_only_when_its_secret_exists() -> None:
    guarded = 0
    for name, job in jobs().items():
        for step in job["steps"]:
            run = str(step.get("run", ""))
            if not DECODES.search(run):
                continue
            for secret in SECRET_ENV.findall(run):
                assert secret in str(step.get("if", "")), f"{name}: {step.get('name')!r} unguarded"
                guarded += 1
    assert guarded >= 2, "no guarded certificate steps found (macOS and Windows sign)"
