"""FFmpeg as a child process: where its binary is, and running it without risk to the app.

Every decode of a user's file happens in FFmpeg's own process, driven by asyncio (never blocking
the event loop) under a timeout: a file that makes FFmpeg hang is killed with `ffmpeg_timeout`, one
that makes it crash is `ffmpeg_failed`, and a cancelled caller gets its `CancelledError` only
after the process is killed and reaped. Progress comes from `-progress pipe:1` (`out_time_us`
against a known duration); stderr is kept, bounded, for the probe's parsing and for errors, whose
messages never carry a path. A run that fails for want of disk space is `disk_full`.

The binary is the one `imageio_ffmpeg` carries (inside the bundle when frozen), unless
`DIRECTOR_FFMPEG` (from the settings' copy of the environment) names another. Imports `errors`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg  # type: ignore[import-untyped]

from director_desktop.errors import (
    DiskFull,
    FfmpegError,
    FfmpegFailed,
    FfmpegMissing,
    FfmpegTimeout,
)

log = logging.getLogger(__name__)

ENV_OVERRIDE = "DIRECTOR_FFMPEG"
ProgressCallback = Callable[[float], None]

# The probe reads FFmpeg's report of a file from the start of stderr, errors come at its end: keep
# both, bounded, so a file with a million warnings cannot fill the memory.
STDERR_HEAD = 1 << 20
STDERR_TAIL = 64 << 10
KILL_WAIT = 10.0  # a killed process is normally reaped in milliseconds
ERROR_LINES = 5  # the last lines of stderr an error message quotes
WINDOWS_CRASH = 0xC0000000  # NTSTATUS error codes (an access violation is 0xC0000005)
VERSION_TIMEOUT = 10.0


@dataclass(frozen=True)
class FfmpegResult:
    """A finished run: the exit code, what FFmpeg said, how far it got."""

    returncode: int
    stderr: str  # its first MiB and last 64 KiB
    stdout: str  # its last 64 KiB, progress lines included
    out_time: float | None  # the last position `-progress` reported, in seconds
    elapsed: float


@dataclass(frozen=True)
class FfmpegHealth:
    """What the media status route shows: found, working, which version, or what is wrong."""

    working: bool
    version: str  # "" unless working
    path: str  # "" when not found
    problem: str  # "" when working


class Ffmpeg:
    """One FFmpeg binary (or none found, in which case every run raises `ffmpeg_missing`)."""

    def __init__(self, exe: Path | None, *, problem: str = "") -> None:
        self.exe = exe
        self._problem = problem or "FFmpeg was not found"
        self._version: str | None = None

    @classmethod
    def locate(cls, env: Mapping[str, str]) -> Ffmpeg:
        """`DIRECTOR_FFMPEG` when set, else the binary imageio-ffmpeg carries."""
        override = env.get(ENV_OVERRIDE)
        if override:
            path = Path(override).expanduser()
            if path.is_file():
                return cls(path)
            return cls(None, problem=f"{ENV_OVERRIDE} names no file ({path.name})")
        exe = bundled_binary()
        return cls(exe) if exe else cls(None, problem="FFmpeg was not found in the app")

    async def version(self) -> str:
        """FFmpeg's version string ("n9.0.2-17-..."), asked once and remembered."""
        if self._version is None:
            result = await self.run(["-version"], timeout=VERSION_TIMEOUT)
            self._version = _version_of(result.stdout)
        return self._version

    async def health(self) -> FfmpegHealth:
        """Runs `ffmpeg -version` (within 10 s) every time it is asked: never raises."""
        path = str(self.exe) if self.exe else ""
        try:
            result = await self.run(["-version"], timeout=VERSION_TIMEOUT)
        except FfmpegError as exc:
            return FfmpegHealth(False, "", path, exc.message)
        self._version = _version_of(result.stdout)
        return FfmpegHealth(True, self._version, path, "")

    async def run(
        self,
        args: Sequence[str],
        *,
        # Not left to the caller's asyncio.timeout: the run must know, to say ffmpeg_timeout.
        timeout: float,  # noqa: ASYNC109
        duration: float | None = None,
        on_progress: ProgressCallback | None = None,
        check: bool = True,
    ) -> FfmpegResult:
        """Run `ffmpeg ARGS` (plus -hide_banner -nostdin -nostats -progress pipe:1, stdin
        closed) and wait for it. Killed after `timeout` seconds (`ffmpeg_timeout`); on
        cancellation it is killed and reaped before `CancelledError` goes on. A nonzero exit is
        `ffmpeg_failed` unless `check` is false; death by a signal always is. With `duration`,
        `on_progress` receives the fraction done, ending at 1.0 when FFmpeg says it is done;
        an exception it raises stops the run and goes to the caller."""
        if self.exe is None:
            raise FfmpegMissing(self._problem)
        command = [str(self.exe), "-hide_banner", "-nostdin", "-nostats", "-progress", "pipe:1"]
        command += args
        started = time.monotonic()
        proc = await _spawn(command)
        stderr, stdout = _Capture(STDERR_HEAD, STDERR_TAIL), _Capture(0, STDERR_TAIL)
        progress = _Progress(duration, on_progress)
        assert proc.stdout is not None  # both are pipes
        assert proc.stderr is not None
        reading = asyncio.create_task(_read(proc.stderr, stderr.feed))
        try:
            async with asyncio.timeout(timeout):
                await _read(proc.stdout, lambda chunk: progress.feed(chunk, stdout))
                await reading
                returncode = await proc.wait()
        except TimeoutError:
            await _stop(proc, reading)
            raise FfmpegTimeout(f"FFmpeg took longer than {timeout:g} s and was stopped") from None
        except BaseException:
            await _stop(proc, reading)
            raise
        result = FfmpegResult(
            returncode, stderr.text(), stdout.text(), progress.out_time, time.monotonic() - started
        )
        if check and returncode != 0 and not _crashed(returncode) and _out_of_space(result.stderr):
            raise DiskFull("the disk filled up while FFmpeg wrote its output")
        if _crashed(returncode) or (check and returncode != 0):
            raise FfmpegFailed(failure_message(result, args))
        if returncode == 0:
            progress.finish()
        return result


def _version_of(stdout: str) -> str:
    words = (stdout.strip().splitlines() or [""])[0].split()  # "ffmpeg version n9.0.2-17-..."
    return words[2] if words[:2] == ["ffmpeg", "version"] and len(words) > 2 else "unknown"


def bundled_binary() -> Path | None:
    """The FFmpeg in imageio-ffmpeg's `binaries` folder, beside its package: in site-packages
    from source, inside the bundle when frozen (PyInstaller's imageio_ffmpeg hook collects that
    folder, executable bit kept). From source only, imageio-ffmpeg's own search follows (its
    IMAGEIO_FFMPEG_EXE, conda, the PATH); a frozen app uses only what it carries."""
    folders = [Path(imageio_ffmpeg.__file__).parent / "binaries"]
    frozen = bool(getattr(sys, "frozen", False))
    bundle = getattr(sys, "_MEIPASS", None)
    if frozen and bundle:
        folders.append(Path(bundle) / "imageio_ffmpeg" / "binaries")
    for folder in folders:
        for candidate in sorted(folder.glob("ffmpeg*")):
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return candidate
    if frozen:
        return None
    try:
        return Path(imageio_ffmpeg.get_ffmpeg_exe())
    except RuntimeError:
        return None


async def _spawn(command: list[str]) -> asyncio.subprocess.Process:
    pipe, closed = asyncio.subprocess.PIPE, asyncio.subprocess.DEVNULL
    try:
        if sys.platform == "win32":
            # No console window pops up beside a windowed app.
            return await asyncio.create_subprocess_exec(
                *command,
                stdin=closed,
                stdout=pipe,
                stderr=pipe,
                creationflags=subprocess.CREATE_NO_WINDOW,
            )
        # A session of its own: a Ctrl-C in the terminal is the app's to handle, not FFmpeg's.
        return await asyncio.create_subprocess_exec(
            *command, stdin=closed, stdout=pipe, stderr=pipe, start_new_session=True
        )
    except OSError as exc:
        raise FfmpegMissing(f"FFmpeg could not be started: {exc.strerror or exc}") from None


async def _read(stream: asyncio.StreamReader, feed: Callable[[bytes], None]) -> None:
    while chunk := await stream.read(65536):
        feed(chunk)


async def _stop(proc: asyncio.subprocess.Process, reading: asyncio.Task[None]) -> None:
    """Kill and reap `proc`, even when cancelled meanwhile (the cancellation then goes on)."""
    reaping = asyncio.ensure_future(_reap(proc, reading))
    cancelled = False
    while not reaping.done():
        try:
            await asyncio.shield(reaping)
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError


async def _reap(proc: asyncio.subprocess.Process, reading: asyncio.Task[None]) -> None:
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    reading.cancel()
    await asyncio.wait([reading])
    # asyncio's wait() also waits for the pipes to close: drain them, or a full one never does.
    drains = [
        asyncio.create_task(_read(pipe, _drop)) for pipe in (proc.stdout, proc.stderr) if pipe
    ]
    try:
        await asyncio.wait_for(proc.wait(), KILL_WAIT)
    except TimeoutError:
        log.error("FFmpeg (pid %s) did not end %s s after it was killed", proc.pid, KILL_WAIT)
    for drain in drains:
        drain.cancel()
    await asyncio.wait(drains)


def _drop(chunk: bytes) -> None:
    del chunk


def _crashed(returncode: int) -> bool:
    return returncode < 0 or returncode >= WINDOWS_CRASH


class _Capture:
    """The first `head` and the last `tail` bytes of a stream."""

    def __init__(self, head: int, tail: int) -> None:
        self._head = bytearray()
        self._head_limit = head
        self._tail: deque[bytes] = deque()
        self._tail_size = 0
        self._tail_limit = tail
        self._dropped = False

    def feed(self, chunk: bytes) -> None:
        room = self._head_limit - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        if not chunk:
            return
        self._tail.append(chunk)
        self._tail_size += len(chunk)
        while self._tail_size - len(self._tail[0]) >= self._tail_limit:
            self._tail_size -= len(self._tail.popleft())
            self._dropped = True

    def text(self) -> str:
        tail = b"".join(self._tail)
        if len(tail) > self._tail_limit:
            tail, self._dropped = tail[-self._tail_limit :], True
        gap = b"\n[...]\n" if self._dropped else b""
        return (bytes(self._head) + gap + tail).decode("utf-8", "replace")


class _Progress:
    """Reads `-progress pipe:1` lines: `out_time_us=N` blocks, ended by `progress=end`."""

    def __init__(self, duration: float | None, callback: ProgressCallback | None) -> None:
        self._duration = duration if duration and duration > 0 else None
        self._callback = callback
        self._pending = b""
        self._reported = -1.0
        self.out_time: float | None = None

    def feed(self, chunk: bytes, capture: _Capture) -> None:
        capture.feed(chunk)
        *lines, self._pending = (self._pending + chunk).split(b"\n")
        for line in lines:
            key, _, value = line.decode("ascii", "replace").strip().partition("=")
            if key == "out_time_us" and value.lstrip("-").isdigit():
                self.out_time = max(0, int(value)) / 1_000_000
                if self._duration:
                    self._report(min(1.0, self.out_time / self._duration))
            elif key == "progress" and value == "end":
                self._report(1.0)

    def finish(self) -> None:
        """A run that ended well is done, whatever the last block said."""
        self._report(1.0)

    def _report(self, fraction: float) -> None:
        if self._callback and self._duration and fraction > self._reported:
            self._reported = fraction
            self._callback(fraction)


def _out_of_space(stderr: str) -> bool:
    """FFmpeg's own words for ENOSPC and EDQUOT (its strerror; the static build's are English)."""
    return "No space left on device" in stderr or "Disk quota exceeded" in stderr


def failure_message(result: FfmpegResult, args: Sequence[str]) -> str:
    """Why a run failed, in words safe to show: how it ended and its last lines, no paths."""
    code = result.returncode
    if code < 0:
        try:
            how = f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            how = f"was killed by signal {-code}"
    elif code >= WINDOWS_CRASH:
        how = f"crashed (0x{code:08X})"
    else:
        how = f"exited with code {code}"
    lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
    said = " | ".join(lines[-ERROR_LINES:])
    return sanitize(f"FFmpeg {how}" + (f": {said}" if said else ""), paths_in(args))[:2000]


def paths_in(args: Iterable[str]) -> list[str]:
    """The arguments that name files, as given and without FFmpeg's `file:` prefix."""
    found = []
    for arg in args:
        bare = arg.removeprefix("file:")
        if os.path.isabs(bare):
            found += [arg, bare]
    return sorted(set(found), key=len, reverse=True)


_ADDRESS = re.compile(r" @ 0x[0-9a-fA-F]+")
_POSIX_PATH = re.compile(r"(?<![\w.~:/])(?:file:)?/(?:[^\s'\"/]+/)+([^\s'\"/]*)")
_WINDOWS_PATH = re.compile(r"(?<![\w])(?:file:)?[A-Za-z]:\\(?:[^\s'\"\\]+\\)*([^\s'\"\\]*)")


def sanitize(text: str, paths: Iterable[str] = ()) -> str:
    """`text` with every file path cut to its last part (and FFmpeg's object addresses gone)."""
    for path in paths:
        text = text.replace(path, Path(path.removeprefix("file:")).name or "…")
    text = _ADDRESS.sub("", text)
    text = _POSIX_PATH.sub(lambda m: m.group(1) or "…", text)
    return _WINDOWS_PATH.sub(lambda m: m.group(1) or "…", text)
