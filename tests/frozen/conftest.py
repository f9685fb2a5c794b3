"""Fixtures of the frozen tier: the PyInstaller build of `director.spec` started as a user would.

`frozen_app` builds `dist/director-desktop/` once per test session. Outside CI a build whose
inputs (spec, package, frontend bundle, pins, installed distributions) hash the same as the last
one made here is reused; in CI (`CI` set) it always builds. `deb_package` turns that build into
the `.deb`. `display` is a private Xvfb (its `-displayfd` answer is the readiness signal);
`fresh_user` an environment with an empty HOME and no XDG_* variables.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.frozen.support import (
    FreshUser,
    Headless,
    build_deb,
    build_frozen_app,
    fresh_user_env,
    start_headless,
)
from tests.xvfb import xvfb


@pytest.fixture(scope="session")
def frozen_app() -> Path:
    """The frozen executable, built from the current sources once per session."""
    return build_frozen_app(reuse=not os.environ.get("CI"))


@pytest.fixture(scope="session")
def deb_package(frozen_app: Path) -> Path:
    """dist/director-desktop_<version>_amd64.deb, built from the frozen app."""
    return build_deb(frozen_app.parent)


@pytest.fixture(scope="session")
def display() -> Iterator[str]:
    """A private Xvfb (tests/xvfb.py); it writes its display number to -displayfd once it
    accepts clients."""
    with xvfb() as name:
        yield name


@pytest.fixture
def fresh_user(tmp_path: Path, display: str) -> FreshUser:
    return fresh_user_env(tmp_path, display)


@pytest.fixture
def headless() -> Iterator[Callable[[list[str], FreshUser, Path], Headless]]:
    """Start `--headless` launches; whatever still runs at teardown is killed with its group."""
    started: list[Headless] = []

    def start(command: list[str], user: FreshUser, data_dir: Path) -> Headless:
        app = start_headless(command, user, data_dir)
        started.append(app)
        return app

    yield start
    for app in started:
        app.kill()


@pytest.fixture
def root_user() -> None:
    """dpkg -i/-r need root: a skip locally, a failure under DIRECTOR_TEST_ALL=1."""
    if os.geteuid() != 0:
        reason = "installing the .deb needs root (dpkg -i)"
        if os.environ.get("DIRECTOR_TEST_ALL") == "1":
            pytest.fail(f"DIRECTOR_TEST_ALL=1 but {reason}")
        pytest.skip(reason)
