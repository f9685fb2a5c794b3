"""The FFmpeg runner with the real binary: finding it (from source, frozen, overridden), progress,
timeouts and cancellation that kill and reap the process, failures and crashes that are errors
without paths, and an event loop that keeps running meanwhile."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
import uuid
from pathlib import Path

import imageio_ffmpeg
import pytest

from director_desktop.errors import DiskFull, FfmpegFailed, FfmpegMissing, FfmpegTimeout
from director_desktop.media.ffmpeg import ENV_OVERRIDE, Ffmpeg, bundled_binary, sanitize
from director_desktop.media.report import parse_report
from tests.fixtures.media import (
    MediaFiles,
    ffmpeg_pids,
    media_files_fixture,  # noqa: F401 (the fixture)
)
from tests.unit.mounts import tmpfs

pytestmark = pytest.mark.anyio

DEADLINE = 10.0
needs_proc = pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc")


@pytest.fixture(scope="module")
def runner() -> Ffmpeg:
    return Ffmpeg.locate({})


def pattern(seconds: float, marker: str, *, realtime: bool = True) -> list[str]:
    """Args for a test pattern decoded to nowhere; `marker` finds its process in /proc."""
    pace = ["-re"] if realtime else []
    source = f"testsrc=size=160x120:rate=25:duration={seconds}"
    return [*pace, "-f", "lavfi", "-i", source, "-metadata", f"comment={marker}", "-f", "null", "-"]


async def wait_for_pid(marker: str) -> int:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if pids := ffmpeg_pids(marker):
            return pids[0]
        await asyncio.sleep(0.02)
    raise AssertionError(f"no FFmpeg process with {marker} started")


def assert_reaped(pid: int) -> None:
    # A process killed but not waited for is a zombie, and signal 0 still reaches a zombie.
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


async def test_the_bundled_binary_is_found_and_works(runner: Ffmpeg) -> None:
    assert runner.exe is not None
    assert runner.exe.parent == Path(imageio_ffmpeg.__file__).parent / "binaries"
    health = await runner.health()
    assert health.working
    assert health.problem == ""
    assert health.version == await runner.version()
    assert health.version[:1].isalnum()


async def test_director_ffmpeg_overrides_the_binary(tmp_path: Path, runner: Ffmpeg) -> None:
    assert runner.exe is not None
    copy = tmp_path / "my-ffmpeg"
    copy.symlink_to(runner.exe)
    chosen = Ffmpeg.locate({ENV_OVERRIDE: str(copy)})
    assert chosen.exe == copy
    assert (await chosen.health()).working


async def test_a_missing_override_is_ffmpeg_missing_without_its_path(tmp_path: Path) -> None:
    missing = Ffmpeg.locate({ENV_OVERRIDE: str(tmp_path / "nowhere" / "ffmpeg")})
    health = await missing.health()
    assert not health.working
    assert health.path == ""
    assert str(tmp_path) not in health.problem
    with pytest.raises(FfmpegMissing) as caught:
        await missing.run(["-version"], timeout=5)
    assert caught.value.code == "ffmpeg_missing"
    assert caught.value.http_status == 503


async def test_a_binary_that_cannot_start_is_ffmpeg_missing(tmp_path: Path) -> None:
    not_a_program = tmp_path / "ffmpeg"
    not_a_program.write_text("not a program", encoding="utf-8")  # not executable either
    with pytest.raises(FfmpegMissing):
        await Ffmpeg(not_a_program).run(["-version"], timeout=5)


def test_a_frozen_app_finds_the_binary_in_its_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PyInstaller's hook for imageio_ffmpeg puts the package and its binaries folder in the
    bundle; the frozen package's __file__ points there."""
    real = bundled_binary()
    assert real is not None
    bundle = tmp_path / "_internal"
    binaries = bundle / "imageio_ffmpeg" / "binaries"
    binaries.mkdir(parents=True)
    (binaries / "__init__.py").write_text("", encoding="utf-8")
    (binaries / real.name).symlink_to(real)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    monkeypatch.setattr(imageio_ffmpeg, "__file__", str(bundle / "imageio_ffmpeg" / "__init__.pyc"))
    assert bundled_binary() == binaries / real.name
    (binaries / real.name).unlink()
    assert bundled_binary() is None  # frozen: never a system FFmpeg instead


async def test_progress_arrives_and_ends_at_one(runner: Ffmpeg) -> None:
    seen: list[float] = []
    result = await runner.run(
        pattern(2, uuid.uuid4().hex), timeout=DEADLINE, duration=2.0, on_progress=seen.append
    )
    assert result.returncode == 0
    assert len(seen) >= 2  # FFmpeg reports twice a second; this run lasts two
    assert seen == sorted(seen)
    assert 0 <= seen[0] < 1
    assert seen[-1] == 1.0
    assert result.out_time == pytest.approx(2.0, abs=0.1)


async def test_the_event_loop_runs_while_ffmpeg_does(runner: Ffmpeg) -> None:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    await runner.run(pattern(1, uuid.uuid4().hex), timeout=DEADLINE)
    ticker.cancel()
    assert ticks > 30  # about 100 in the second it ran


@needs_proc
async def test_a_timeout_kills_and_reaps_the_process(runner: Ffmpeg) -> None:
    marker = uuid.uuid4().hex
    run = asyncio.create_task(runner.run(pattern(60, marker), timeout=1.0))
    pid = await wait_for_pid(marker)
    started = time.monotonic()
    with pytest.raises(FfmpegTimeout) as caught:
        await run
    assert time.monotonic() - started < 5
    assert caught.value.code == "ffmpeg_timeout"
    assert_reaped(pid)


@needs_proc
async def test_cancelling_kills_and_reaps_the_process_first(runner: Ffmpeg) -> None:
    marker = uuid.uuid4().hex
    run = asyncio.create_task(runner.run(pattern(60, marker), timeout=120))
    pid = await wait_for_pid(marker)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert_reaped(pid)  # gone by the time the CancelledError arrived


@needs_proc
async def test_a_progress_callback_that_raises_stops_the_run(runner: Ffmpeg) -> None:
    marker = uuid.uuid4().hex

    def stop(fraction: float) -> None:
        raise RuntimeError(f"stop at {fraction}")

    run = asyncio.create_task(
        runner.run(pattern(60, marker), timeout=120, duration=60, on_progress=stop)
    )
    pid = await wait_for_pid(marker)
    with pytest.raises(RuntimeError, match="stop at"):
        await run
    assert_reaped(pid)


@needs_proc
async def test_a_crash_is_ffmpeg_failed_not_the_apps(runner: Ffmpeg) -> None:
    marker = uuid.uuid4().hex
    run = asyncio.create_task(runner.run(pattern(60, marker), timeout=120, check=False))
    pid = await wait_for_pid(marker)
    os.kill(pid, signal.SIGSEGV)
    with pytest.raises(FfmpegFailed) as caught:
        await run  # even with check=False: a signal is never a result
    assert "SIGSEGV" in caught.value.message
    assert_reaped(pid)


async def test_a_failed_run_says_why_without_the_path(runner: Ffmpeg, tmp_path: Path) -> None:
    missing = tmp_path / "some folder" / "holiday.mp4"
    with pytest.raises(FfmpegFailed) as caught:
        await runner.run(["-i", f"file:{missing}", "-f", "null", "-"], timeout=DEADLINE)
    message = caught.value.message
    assert caught.value.code == "ffmpeg_failed"
    assert "exited with code" in message
    assert "No such file or directory" in message
    assert "holiday.mp4" in message
    assert str(tmp_path) not in message
    assert "some folder" not in message


async def test_a_run_that_fills_the_disk_is_disk_full(runner: Ffmpeg, tmp_path: Path) -> None:
    """An encode onto a real full disk (a 64 KiB tmpfs): the user is told the disk is full,
    not that FFmpeg failed."""
    with tmpfs(tmp_path / "small", "64k") as small:
        source = "testsrc2=size=640x480:rate=25:duration=10"  # ~1 MB of H.264
        args = ["-f", "lavfi", "-i", source, "-c:v", "libx264", "-y", f"file:{small / 'out.mp4'}"]
        with pytest.raises(DiskFull) as caught:
            await runner.run(args, timeout=60)
    assert caught.value.code == "disk_full"


async def test_check_false_answers_a_nonzero_exit(runner: Ffmpeg, media_files: MediaFiles) -> None:
    # `ffmpeg -i FILE` reports the file, then exits 1 for want of an output: the probe's way.
    result = await runner.run(["-i", f"file:{media_files.clip_mp4}"], timeout=DEADLINE, check=False)
    assert result.returncode == 1
    assert parse_report(result.stderr).format == "mov,mp4,m4a,3gp,3g2,mj2"


async def test_runs_do_not_share_state(runner: Ffmpeg) -> None:
    results = await asyncio.gather(
        *(runner.run(pattern(0.5, uuid.uuid4().hex), timeout=DEADLINE) for _ in range(4))
    )
    assert [r.returncode for r in results] == [0, 0, 0, 0]


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        (
            "Error opening input file file:/home/ann/Videos/a.mp4.",
            "Error opening input file a.mp4.",
        ),
        ("from '/tmp/x/y z.mkv':", "from 'y z.mkv':"),
        (r"Error opening C:\Users\Ann\Videos\b.avi now", "Error opening b.avi now"),
        ("[h264 @ 0x55d6115ea080] Invalid NAL unit", "[h264] Invalid NAL unit"),
        ("bitrate: 126 kb/s, 1/25 tbn", "bitrate: 126 kb/s, 1/25 tbn"),
        ("see https://ffmpeg.org/a/b", "see https://ffmpeg.org/a/b"),
    ],
)
def test_sanitize_keeps_names_and_drops_folders(text: str, clean: str) -> None:
    assert sanitize(text, ["/tmp/x/y z.mkv"]) == clean


async def test_the_binary_runs_from_a_path_with_spaces(tmp_path: Path, runner: Ffmpeg) -> None:
    assert runner.exe is not None
    spaced = tmp_path / "Program Files" / "ffmpeg"
    spaced.parent.mkdir()
    spaced.symlink_to(runner.exe)
    assert (await Ffmpeg(spaced).health()).working
