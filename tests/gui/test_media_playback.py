"""Video plays in the real window: the app's own `AppWindow` (pywebview on WebKitGTK, under Xvfb)
shows a page whose `<video>` plays an H.264/AAC MP4 and a VP9/Opus WebM that the test makes with
the bundled FFmpeg, served with byte ranges by a real HTTP server on 127.0.0.1. `currentTime`
must pass 0.5 s with `error` null, the decoders must have produced frames, and a seek must land.

WebKitGTK plays media through the system's GStreamer: MP4 needs `gstreamer1.0-libav` (H.264,
AAC) and `gstreamer1.0-plugins-good` (the MP4 and WebM demuxers, VP9), which `scripts/system-deps
app` installs and the `.deb` depends on. Without libav the MP4 case fails with
MEDIA_ERR_SRC_NOT_SUPPORTED (error code 4).

The window runs in a child process (GTK wants the main thread): this module run as a script,
`python -m tests.gui.test_media_playback PAGE_URL`. The page is read through the window's own
`evaluate` (pywebview's run_js). The child prints a JSON line once the video has its metadata;
the test then clicks the video with xdotool (a user gesture: the window refuses to start media
with sound from a script) and says so on the child's stdin; the child prints a second line once
the video played and seeked, keeps it on screen for the test's screenshot, and closes the window
when its stdin closes.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.gui.support import ROOT, TITLE, Display

pytestmark = pytest.mark.gui

DEADLINE = 90.0  # window start, page load, 3 s of playback and a seek, with room for slow CI
PLAY_DEADLINE = 30.0
PLAYED_PAST = 0.5
SEEK_TO = 2.0
# What each case needs from Debian, besides the window's own packages.
CASES = {
    "mp4": ("H.264/AAC in MP4", ["gstreamer1.0-libav", "gstreamer1.0-plugins-good"]),
    "webm": ("VP9/Opus in WebM", ["gstreamer1.0-plugins-good"]),
}
ENCODE = {
    "mp4": ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac",
            "-b:a", "96k", "-movflags", "+faststart"],
    "webm": ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "400k",
             "-pix_fmt", "yuv420p", "-c:a", "libopus", "-b:a", "64k"],
}  # fmt: skip
MIME = {".mp4": "video/mp4", ".webm": "video/webm", ".html": "text/html; charset=utf-8"}

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>media playback</title>
<style>body {{ margin: 0; background: #fff; }} video {{ width: 640px; height: 480px; }}</style>
</head><body>
<video id="clip" src="/{name}" preload="auto" playsinline></video>
<script>
  const v = document.getElementById('clip');
  window.__events = [];
  for (const e of ['loadedmetadata', 'canplay', 'playing', 'seeked', 'ended', 'error'])
    v.addEventListener(e, () => window.__events.push(e));
  v.addEventListener('seeked', () => {{ window.__seekedAt = v.currentTime; }});
  // Played on a click, as a user plays it: the window lets only muted media start on its own.
  // The sound goes through an analyser on its way out: its peak proves the audio was decoded
  // (the tone is FFmpeg's default sine, amplitude 1/8).
  document.addEventListener('click', () => {{
    try {{
      const ctx = new AudioContext(), analyser = ctx.createAnalyser();
      ctx.createMediaElementSource(v).connect(analyser);
      analyser.connect(ctx.destination);
      const samples = new Float32Array(analyser.fftSize);
      window.__peak = 0;
      setInterval(() => {{
        analyser.getFloatTimeDomainData(samples);
        for (const s of samples) window.__peak = Math.max(window.__peak, Math.abs(s));
      }}, 50);
    }} catch (e) {{ window.__peak = String(e); }}
    v.play().then(() => {{ window.__play = 'ok'; }}, (e) => {{ window.__play = String(e); }});
  }});
</script></body></html>
"""

STATE_JS = """(() => {
  const v = document.getElementById('clip');
  if (!v) return null;
  const q = v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : null;
  return {
    currentTime: v.currentTime, duration: v.duration, paused: v.paused,
    readyState: v.readyState, networkState: v.networkState,
    error: v.error && {code: v.error.code, message: v.error.message},
    videoWidth: v.videoWidth, videoHeight: v.videoHeight,
    frames: q ? q.totalVideoFrames : null,
    audioTracks: v.audioTracks ? v.audioTracks.length : null,
    audioPeak: window.__peak ?? null,
    play: window.__play ?? null, seekedAt: window.__seekedAt ?? null,
    events: window.__events,
  };
})()"""


# --- the window (the child process) -------------------------------------------------------


def page_state(window: Any) -> dict[str, Any] | None:
    from director_desktop.window import PageError

    try:
        value = window.evaluate(STATE_JS)
    except PageError:  # still navigating
        return None
    return value if isinstance(value, dict) else None


def loaded(window: Any, deadline: float) -> dict[str, Any] | None:
    """The page's state once the video has its metadata (or failed), or the last one seen."""
    end = time.monotonic() + deadline
    seen = None
    while time.monotonic() < end:
        seen = page_state(window)
        if seen and (seen["error"] or seen["readyState"] >= 1):
            break
        time.sleep(0.1)
    return seen


def watch(window: Any, deadline: float) -> dict[str, Any]:
    """After the click: wait until the video played past PLAYED_PAST s (or failed), then seek to
    SEEK_TO and wait for it to land. Answers the page's state at both points."""
    end = time.monotonic() + deadline
    played = None
    while time.monotonic() < end:
        played = page_state(window)
        if played and (played["error"] or played["currentTime"] > PLAYED_PAST):
            break
        time.sleep(0.1)
    report: dict[str, Any] = {"played": played, "seeked": None}
    if not played or played["error"] or played["currentTime"] <= PLAYED_PAST:
        return report
    window.evaluate(f"(document.getElementById('clip').currentTime = {SEEK_TO}, true)")
    while time.monotonic() < end:
        seeked = page_state(window)
        if seeked and (seeked["error"] or seeked["seekedAt"] is not None):
            report["seeked"] = seeked
            break
        time.sleep(0.1)
    return report


def window_main(page_url: str) -> int:
    """The app's real window showing `page_url`; one JSON line on stdout; closes on stdin EOF."""
    from director_desktop.window import AppWindow, WindowHooks, gui_backend, prepare_environment

    prepare_environment(os.environ)
    backend = gui_backend(os.environ)
    if backend is None:
        print(json.dumps({"fatal": "no window backend could start here"}), flush=True)
        return 2
    exit_code = [1]
    with tempfile.TemporaryDirectory(prefix="webview-") as storage:
        window = AppWindow(
            storage_dir=Path(storage),
            loading_html="<!doctype html><title>loading</title>",
            geometry=None,
            hooks=WindowHooks(),
        )

        def on_started(started: AppWindow) -> None:
            try:
                started.navigate(page_url)
                print(json.dumps({"loaded": loaded(started, PLAY_DEADLINE)}), flush=True)
                sys.stdin.readline()  # the test clicks the video, then says so
                print(json.dumps(watch(started, PLAY_DEADLINE)), flush=True)
                sys.stdin.read()  # the test takes its screenshot, then closes our stdin
                exit_code[0] = 0
            except Exception as exc:
                print(json.dumps({"fatal": repr(exc)}), flush=True)
            finally:
                started.close(force=True)

        window.start(backend, on_started)
    return exit_code[0]


# --- the test side --------------------------------------------------------------------------


@dataclass
class MediaServer:
    """A threaded http.server on 127.0.0.1 serving `root`'s files with single byte ranges
    (`a-b`, `a-`, `-n`; 206, 416), the way a `<video>` reads and seeks."""

    root: Path
    requests: list[tuple[str, str | None, int]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> MediaServer:
        media = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                media.serve(self, body=True)

            def do_HEAD(self) -> None:
                media.serve(self, body=False)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # `requests` keeps what the tests look at

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    def serve(self, handler: BaseHTTPRequestHandler, *, body: bool) -> None:
        name = handler.path.split("?", 1)[0].lstrip("/")
        path = self.root / name
        asked = handler.headers.get("Range")
        if "/" in name or not name or not path.is_file():
            return self.answer(handler, HTTPStatus.NOT_FOUND, asked, {}, b"")
        size = path.stat().st_size
        headers = {"Content-Type": MIME.get(path.suffix, "application/octet-stream"),
                   "Accept-Ranges": "bytes"}  # fmt: skip
        span = byte_range(asked, size) if asked else None
        if span == "unsatisfiable":
            headers["Content-Range"] = f"bytes */{size}"
            return self.answer(handler, HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, asked, headers)
        start, end = span if isinstance(span, tuple) else (0, size - 1)
        status = HTTPStatus.PARTIAL_CONTENT if isinstance(span, tuple) else HTTPStatus.OK
        if status == HTTPStatus.PARTIAL_CONTENT:
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        with path.open("rb") as file:
            file.seek(start)
            data = file.read(end - start + 1)
        self.answer(handler, status, asked, headers, data, send=body)

    def answer(
        self,
        handler: BaseHTTPRequestHandler,
        status: HTTPStatus,
        asked: str | None,
        headers: dict[str, str],
        data: bytes = b"",
        *,
        send: bool = True,
    ) -> None:
        self.requests.append((handler.path, asked, int(status)))
        handler.send_response(status)
        for key, value in {**headers, "Content-Length": str(len(data))}.items():
            handler.send_header(key, value)
        handler.end_headers()
        if send:
            # The media engine often drops a connection it no longer needs (a seek, enough
            # buffered): that is normal, not a server error.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                handler.wfile.write(data)


def byte_range(header: str, size: int) -> tuple[int, int] | str | None:
    """A single `bytes=` range as (first, last) inclusive; "unsatisfiable"; None to ignore it."""
    match = re.fullmatch(r"bytes=(\d*)-(\d*)", header.strip())
    if not match or match[1] == match[2] == "":
        return None
    if match[1] == "":
        suffix = int(match[2])
        return (max(0, size - suffix), size - 1) if suffix and size else "unsatisfiable"
    first = int(match[1])
    last = min(int(match[2]), size - 1) if match[2] else size - 1
    if first >= size or first > last:
        return "unsatisfiable"
    return first, last


def make_clip(folder: Path, kind: str) -> Path:
    """3 s of testsrc with a 440 Hz tone, encoded by the bundled FFmpeg (imageio-ffmpeg)."""
    import imageio_ffmpeg

    out = folder / f"clip.{kind}"
    done = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-v", "error", "-y",
         "-f", "lavfi", "-i", "testsrc=duration=3:size=320x240:rate=25",
         "-f", "lavfi", "-i", "sine=frequency=440:duration=3",
         *ENCODE[kind], "-shortest", str(out)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return out


def missing_packages(packages: list[str]) -> list[str]:
    """The Debian packages of `packages` not installed; [] where there is no dpkg to ask."""
    if shutil.which("dpkg-query") is None:
        return []
    missing = []
    for package in packages:
        status = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True
        )
        if "install ok installed" not in status.stdout:
            missing.append(package)
    return missing


def read_line(process: subprocess.Popen[str], deadline: float) -> str:
    """The child's first stdout line; fails with its stderr when it exits or stays silent."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        end = time.monotonic() + deadline
        while (left := end - time.monotonic()) > 0:
            if selector.select(timeout=left):
                line = process.stdout.readline()
                if line:
                    return line
                break
    raise AssertionError(f"the window reported nothing within {deadline} s")


def play_in_window(display: Display, page_url: str, tmp_path: Path, shot: Path) -> dict[str, Any]:
    """Run the window on `page_url`, click the video once its metadata is in, keep a screenshot
    once the child reports playback, close the window; the child's report."""
    stderr = tmp_path / "window.stderr"
    with stderr.open("w") as err:
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.gui.test_media_playback", page_url],
            env={**display.env, "DIRECTOR_LOG_DIR": str(tmp_path / "logs")},
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True,
            start_new_session=True,
        )  # fmt: skip
    assert child.stdin is not None
    assert child.stdout is not None
    try:
        first = json.loads(read_line(child, DEADLINE))
        assert "fatal" not in first, first
        assert first["loaded"] is not None, "the page never answered"
        # A user's click plays it: a real input event, since the window lets media with sound
        # start only on a user gesture (play() from a script is refused with NotAllowedError).
        found = display.xdotool("search", "--sync", "--onlyvisible", "--pid", str(child.pid),
                                "--name", TITLE, timeout=DEADLINE)  # fmt: skip
        display.xdotool("mousemove", "--window", found.splitlines()[0], "320", "240", "click", "1")
        child.stdin.write("clicked\n")
        child.stdin.flush()
        report: dict[str, Any] = json.loads(read_line(child, DEADLINE))
        display.screenshot(shot)
        child.stdin.close()  # the window closes
        assert child.wait(timeout=30) == 0, f"the window exited with {child.returncode}"
        return report
    except AssertionError as exc:
        raise AssertionError(f"{exc}; the window's stderr:\n{stderr.read_text()[-4000:]}") from None
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait(timeout=10)
        child.stdout.close()
        if not child.stdin.closed:
            child.stdin.close()


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MediaServer]:
    folder = tmp_path_factory.mktemp("media")
    for kind in CASES:
        clip = make_clip(folder, kind)
        (folder / f"{kind}.html").write_text(PAGE.format(name=clip.name), encoding="utf-8")
    with MediaServer(folder) as server:
        yield server


@pytest.mark.parametrize("kind", sorted(CASES))
def test_the_window_plays_and_seeks_a_local_video(
    display: Display, media: MediaServer, kind: str, tmp_path: Path, artifacts_dir: Path
) -> None:
    what, packages = CASES[kind]
    if missing := missing_packages(packages):
        reason = f"{what} in the window needs {', '.join(missing)} (scripts/system-deps app)"
        if os.environ.get("DIRECTOR_TEST_ALL") == "1":
            pytest.fail(f"DIRECTOR_TEST_ALL=1 but {reason}")
        pytest.skip(reason)
    shot = artifacts_dir / f"gui-media-{kind}.png"
    report = play_in_window(display, f"{media.url}/{kind}.html", tmp_path, shot)
    assert "fatal" not in report, report
    played = report["played"]
    assert played is not None, "the page never answered"
    assert played["error"] is None, (
        f"{what} did not play: {played['error']} (code 4 is MEDIA_ERR_SRC_NOT_SUPPORTED: a "
        f"GStreamer plugin is missing; {', '.join(packages)})"
    )
    assert played["currentTime"] > PLAYED_PAST, json.dumps(played)
    assert (played["videoWidth"], played["videoHeight"]) == (320, 240), played
    assert played["frames"] > 0, played  # the video decoder made frames
    assert played["audioTracks"] == 1, played
    seeked = report["seeked"]
    assert seeked is not None, report
    assert seeked["error"] is None, seeked
    assert seeked["seekedAt"] >= SEEK_TO - 0.1, seeked
    assert isinstance(seeked["audioPeak"], (int, float)), seeked  # a string is the error it raised
    assert 0.05 < seeked["audioPeak"] < 0.5, seeked  # the decoded tone, not silence or noise
    # Every read of the file was answered (a clip this small is usually read in one request
    # and seeked in the engine's buffer; ranges are there for when it asks).
    reads = [status for path, _, status in media.requests if path == f"/clip.{kind}"]
    assert reads, media.requests
    assert set(reads) <= {200, 206}, media.requests
    from PIL import Image

    with Image.open(shot) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None
    assert len(colours) > 50, "the screenshot is (nearly) blank"


if __name__ == "__main__":
    sys.exit(window_main(sys.argv[1]))
