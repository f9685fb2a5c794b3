"""The Linux installer: `dpkg -i` the .deb built from the frozen app, run the installed app's
smoke test as a fresh user, then `dpkg -r` it and check that every file it installed is gone
while the user's chats stay exactly as they were."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.frozen.support import FreshUser, run_smoke_test, sha256

pytestmark = [pytest.mark.frozen, pytest.mark.slow, pytest.mark.timeout(1800)]

PACKAGE = "director-desktop"
INSTALLED = [
    Path("/opt/director-desktop/director-desktop"),
    Path("/usr/bin/director-desktop"),
    Path("/usr/share/applications/director-desktop.desktop"),
    Path("/usr/share/icons/hicolor/scalable/apps/director-desktop.svg"),
    Path("/usr/share/icons/hicolor/256x256/apps/director-desktop.png"),
    Path("/usr/share/doc/director-desktop/THIRD-PARTY-NOTICES.md"),
]


def dpkg(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["dpkg", *args], capture_output=True, text=True, timeout=600)


def installed() -> bool:
    status = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", PACKAGE], capture_output=True, text=True, timeout=60
    )
    return status.returncode == 0 and "install ok installed" in status.stdout


def test_deb_declares_its_runtime_dependencies(deb_package: Path) -> None:
    fields = subprocess.run(
        ["dpkg-deb", "-f", str(deb_package), "Package", "Architecture", "Depends"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert f"Package: {PACKAGE}" in fields
    assert "Architecture: amd64" in fields
    depends = fields.split("Depends:", 1)[1].split("\n", 1)[0]
    for dependency in ("libwebkit2gtk-4.1-0", "gir1.2-webkit2-4.1", "gir1.2-gtk-3.0", "libgomp1"):
        assert dependency in depends, dependency
    # The window's video: H.264/AAC in MP4 does not play in WebKitGTK without libav.
    for dependency in ("gstreamer1.0-plugins-good", "gstreamer1.0-libav"):
        assert dependency in depends, dependency


def test_deb_ships_ffmpeg_executable_and_its_notices(deb_package: Path) -> None:
    listing = subprocess.run(
        ["dpkg-deb", "-c", str(deb_package)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.splitlines()
    binaries = "./opt/director-desktop/_internal/imageio_ffmpeg/binaries/ffmpeg-"
    ffmpeg = [line for line in listing if binaries in line]
    assert len(ffmpeg) == 1, ffmpeg
    assert ffmpeg[0].startswith("-rwxr-xr-x"), ffmpeg[0]
    for notices in (
        "./usr/share/doc/director-desktop/THIRD-PARTY-NOTICES.md",
        "./opt/director-desktop/_internal/THIRD-PARTY-NOTICES.md",
    ):
        assert any(line.endswith(notices) for line in listing), notices


@pytest.mark.usefixtures("root_user")
def test_install_run_and_remove_keeps_user_data(deb_package: Path, fresh_user: FreshUser) -> None:
    assert not installed(), f"{PACKAGE} is already installed here; remove it before this test"
    try:
        done = dpkg("-i", str(deb_package))
        assert done.returncode == 0, done.stderr
        for path in INSTALLED:
            assert path.exists(), f"{path} not installed"
        assert Path("/usr/bin/director-desktop").resolve() == INSTALLED[0]

        finished = run_smoke_test(["director-desktop"], fresh_user)
        assert finished.returncode == 0, finished.stderr[-4000:]
        assert "smoke test passed" in finished.stderr
        database = fresh_user.data_dir / "director.sqlite3"
        assert database.is_file(), "the installed app kept no chats in the user's data dir"
        user_files = {p: sha256(p) for p in fresh_user.home.rglob("*") if p.is_file()}

        done = dpkg("-r", PACKAGE)
        assert done.returncode == 0, done.stderr
    finally:
        if installed():
            dpkg("-r", PACKAGE)
    assert not installed()
    for path in INSTALLED:
        assert not os.path.lexists(path), f"{path} left behind"
    assert not Path("/opt/director-desktop").exists(), "/opt/director-desktop left behind"
    assert {p: sha256(p) for p in user_files} == user_files, "removing the app changed user data"
    dpkg("--purge", PACKAGE)  # drop dpkg's record of the removed package (its maintainer scripts)
