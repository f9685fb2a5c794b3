"""FFmpeg inside the frozen app: the binary imageio-ffmpeg carries is in the onedir
(`_internal/imageio_ffmpeg/binaries/`), executable, and does what the media library and the agents
need (H.264/AAC encoding, burned-in subtitles, drawtext, scene detection); and the app, started
as a fresh user with a decoy `ffmpeg` first on PATH, finds and runs its own copy, then imports a
video, serves it in byte ranges as a `<video>` reads it, and Chromium plays it from the frozen
app's own page (its `currentTime` advances)."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.frozen.support import FreshUser, Headless, bundled_ffmpeg

pytestmark = [pytest.mark.frozen, pytest.mark.slow, pytest.mark.timeout(1200)]

StartHeadless = Callable[[list[str], FreshUser, Path], Headless]
DECOY_VERSION = "0.0-decoy"


def run(binary: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(binary), "-hide_banner", *args], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 0, (args, done.stderr[-2000:])
    return done.stdout


def version_of(binary: Path, env: dict[str, str] | None = None) -> str:
    first = subprocess.run(
        [str(binary), "-version"], capture_output=True, text=True, timeout=60, env=env, check=True
    ).stdout.splitlines()[0]
    match = re.match(r"ffmpeg version (\S+)", first)
    assert match, first
    return match[1]


def make_clip(binary: Path, out: Path) -> Path:
    """3 s of testsrc + a 440 Hz tone as a faststart H.264/AAC MP4, by the bundled binary."""
    run(binary, "-v", "error", "-y",
        "-f", "lavfi", "-i", "testsrc=duration=3:size=320x240:rate=25",
        "-f", "lavfi", "-i", "sine=frequency=440:duration=3",
        "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac",
        "-movflags", "+faststart", "-shortest", str(out))  # fmt: skip
    return out


@pytest.fixture
def decoy_user(fresh_user: FreshUser, tmp_path: Path) -> FreshUser:
    """The fresh user with an `ffmpeg` on PATH (and in IMAGEIO_FFMPEG_EXE) that is not the
    bundle's: the frozen app must use only what it carries."""
    decoy_dir = tmp_path / "decoy"
    decoy_dir.mkdir()
    decoy = decoy_dir / "ffmpeg"
    decoy.write_text(f"#!/bin/sh\necho 'ffmpeg version {DECOY_VERSION}'\nexit 0\n")
    decoy.chmod(0o755)
    fresh_user.env["PATH"] = f"{decoy_dir}{os.pathsep}{fresh_user.env.get('PATH', '')}"
    fresh_user.env["IMAGEIO_FFMPEG_EXE"] = str(decoy)
    return fresh_user


def test_the_bundled_ffmpeg_runs_from_the_onedir(
    frozen_app: Path, fresh_user: FreshUser, tmp_path: Path
) -> None:
    binary = bundled_ffmpeg(frozen_app)
    assert os.access(binary, os.X_OK), f"{binary} is not executable"
    # As a fresh user would run it: an empty HOME, no XDG_*, nothing of the build's environment.
    version = version_of(binary, env=fresh_user.env)
    # The notices inside the bundle name this very build (a new imageio-ffmpeg must update them).
    notices = (frozen_app.parent / "_internal" / "THIRD-PARTY-NOTICES.md").read_text()
    assert re.sub(r"-\d{8}$", "", version) in notices, version
    assert "GNU GENERAL PUBLIC LICENSE" in notices
    assert "Version 3, 29 June 2007" in notices
    encoders = run(binary, "-encoders", env=fresh_user.env)
    filters = run(binary, "-filters", env=fresh_user.env)
    for encoder in ("libx264", "aac"):
        assert re.search(rf"\s{encoder}\s", encoders), f"no {encoder} encoder"
    for name in ("subtitles", "ass", "drawtext", "scdet"):
        assert re.search(rf"\s{name}\s", filters), f"no {name} filter"
    clip = make_clip(binary, tmp_path / "clip.mp4")
    probe = subprocess.run(
        [str(binary), "-hide_banner", "-i", str(clip)], capture_output=True, text=True, timeout=60
    ).stderr
    assert "Video: h264" in probe, probe
    assert "Audio: aac" in probe, probe
    assert "Duration: 00:00:03.0" in probe, probe


def test_a_fresh_user_app_finds_and_runs_its_bundled_ffmpeg(
    frozen_app: Path, decoy_user: FreshUser, headless: StartHeadless, tmp_path: Path
) -> None:
    app = headless([str(frozen_app)], decoy_user, tmp_path / "data")
    status = app.get("/config/media")
    assert isinstance(status, dict), status
    ffmpeg = status["ffmpeg"]
    assert ffmpeg["ok"] is True, status
    assert isinstance(ffmpeg["version"], str), status
    assert ffmpeg["version"] == version_of(bundled_ffmpeg(frozen_app)), status
    assert DECOY_VERSION not in str(status), "the app ran the ffmpeg on PATH, not its own"
    if "path" in ffmpeg:
        assert Path(ffmpeg["path"]).resolve() == bundled_ffmpeg(frozen_app).resolve(), status
    assert app.stop() == 0


def test_the_frozen_app_imports_a_video_and_serves_it_in_ranges(
    frozen_app: Path, decoy_user: FreshUser, headless: StartHeadless, tmp_path: Path
) -> None:
    clip = make_clip(bundled_ffmpeg(frozen_app), tmp_path / "holiday.mp4")
    data = clip.read_bytes()
    app = headless([str(frozen_app)], decoy_user, tmp_path / "data")
    with clip.open("rb") as file:
        answer = app.request(
            "POST",
            "/videodb/collection/default/upload",
            files={"file": ("holiday.mp4", file, "video/mp4")},
        )
    assert answer.status_code == 201, answer.text
    video = answer.json()
    assert video["name"]
    assert abs(float(video["length"]) - 3.0) < 0.2, video
    stream = video["stream_url"]
    assert stream.startswith("/media/"), video

    # The way a <video> reads and seeks: byte ranges of the stored file, the server's MIME type.
    first = app.request("GET", stream, headers={"Range": "bytes=0-1023"})
    assert first.status_code == 206, first.text
    assert first.headers["content-range"] == f"bytes 0-1023/{len(data)}"
    assert first.headers["content-type"].startswith("video/mp4")
    assert first.content == data[:1024]
    tail = app.request("GET", stream, headers={"Range": "bytes=-100"})
    assert tail.status_code == 206
    assert tail.content == data[-100:]
    thumbnail = app.request("GET", video["thumbnail_url"])
    assert thumbnail.status_code == 200
    assert thumbnail.headers["content-type"].startswith("image/")

    # It plays: the frozen app's own page (token from the fragment, its CSP) runs the stream.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page()
            page.goto(app.url)
            played = page.evaluate(PLAY, stream)
        finally:
            browser.close()
    assert played > 0.5, played
    assert app.stop() == 0


# A muted <video> of the stream on the app's page; resolves with its currentTime once it has
# advanced past 0.5 s (or the media error, which fails the test with its code).
PLAY = """(src) => new Promise((resolve, reject) => {
    const v = document.createElement('video');
    v.muted = true;
    setTimeout(() => reject(new Error('still at ' + v.currentTime + ' s after 30 s')), 30000);
    v.addEventListener('error', () => reject(new Error('media error ' + v.error?.code)));
    v.addEventListener('timeupdate', () => { if (v.currentTime > 0.5) resolve(v.currentTime); });
    v.src = src;
    document.body.append(v);
    v.play().catch(reject);
})"""
