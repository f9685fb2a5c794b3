"""Test tiers: `e2e`, `gui` and `frozen` run when their tools exist here; with
DIRECTOR_TEST_ALL=1 (set by .ci/run) a missing tool fails those tests instead of skipping them."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"

# Each tier's tools: (what is missing, when it is missing) checks.
TIER_TOOLS: dict[str, list[str]] = {
    "e2e": ["chromium"],
    "gui": ["Xvfb", "xdotool", "import", "openbox", "xprop", "xwininfo"],
    "frozen": ["Xvfb", "xdotool", "pyinstaller", "dpkg-deb", "fakeroot"],
}


def test_all() -> bool:
    return os.environ.get("DIRECTOR_TEST_ALL") == "1"


test_all.__test__ = False  # type: ignore[attr-defined]


def missing_tools(tier: str) -> list[str]:
    # The venv's own tools (pyinstaller) count even when .venv/bin is not on PATH.
    venv_bin = str(Path(sys.executable).parent)
    return [
        tool
        for tool in TIER_TOOLS.get(tier, [])
        if shutil.which(tool) is None and shutil.which(tool, path=venv_bin) is None
    ]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for tier in TIER_TOOLS:
            if tier not in item.keywords:
                continue
            missing = missing_tools(tier)
            if not missing:
                continue
            reason = f"{tier} tier needs {', '.join(missing)}"
            if test_all():
                item.add_marker(pytest.mark.usefixtures("_fail_missing_tool"))
                item.user_properties.append(("missing", reason))
            else:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def _fail_missing_tool(request: pytest.FixtureRequest) -> None:
    reasons = [value for key, value in request.node.user_properties if key == "missing"]
    pytest.fail(f"DIRECTOR_TEST_ALL=1 but {'; '.join(reasons)}")


@pytest.fixture
def artifacts_dir() -> Path:
    """Where tests keep screenshots and logs for a person to look at (ignored by git)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
