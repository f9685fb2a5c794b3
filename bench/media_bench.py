"""The media library against plain baselines, side by side in one run, on this machine.

    .venv/bin/python bench/media_bench.py [--quick] [--json figures.json]

Made once per run, in a temp folder, with the app's own FFmpeg: `big.mp4`, ~200 MB of H.264
(lossless `-preset ultrafast` testsrc2 at 1280x720, 30 fps) with an AAC tone, faststart (100 s;
25 s with `--quick`); `big.mkv`, the same streams in Matroska; `clip.mp4`, the test suite's 3 s
clip (tests/fixtures/media.py). The app is the real one: `python -m director_desktop --headless`
on a fresh data dir (tests/live_server.py), reached over loopback with its token.

What each figure is (medians over rounds; the import's contenders run in a rotated order each
round, so none always follows the same one):

- import: MB/s (10^6 bytes) of
  - `shutil.copyfile` of big.mp4 to a new file (the baseline; on Linux a kernel copy);
  - the same followed by an fsync of the copy (for reference: an import fsyncs what it keeps);
  - a plain Python read/write loop in 8 MiB pieces plus the fsync (for reference: the copy
    `stage_file` does, without the hash);
  - `hashlib.sha256` of the same bytes read in 8 MiB pieces, nothing written (the floor: an
    import computes this hash, so it can be no faster than it);
  - `media.importer.stage_file`: the library's copy into a job's staging folder with the
    SHA-256 in the same pass, fsync included, run as the work of a real `Jobs` job;
  - upload, copy + hash: `POST /videodb/collection/default/upload` of big.mp4 (a multipart body
    streamed from disk by httpx, with a Content-Length) when the same bytes are already in the
    collection, so the import streams, hashes, writes and fsyncs the file and stops at the
    duplicate check: the request's time from first byte sent to answer read;
  - upload, whole import: the same into a new empty collection: copy and hash, then the probe
    (which reads the whole container through), the thumbnail and the move into the library.
  Ratios are against `copyfile` (the issue's target: >= 0.8x, hash included) and against the
  floor (the hash alone).
- range read: one 1 MiB `Range: bytes=a-b` request at a random offset of big.mp4 on a
  keep-alive httpx client, request sent to body read, p50 and p90, through the app's
  `GET /media/{id}` (the guard, the token check, the asset lookup in SQLite) and through
  Starlette's `FileResponse` in a bare Starlette app serving the same file, run by the app's own
  `director_desktop.server.Server` (the same uvicorn settings: uvloop, httptools), each in its
  own process. The same offsets in the same order for both, in alternating blocks. Target <= 1.2x.
- probe + thumbnail: seconds per asset, in-process (`media.probe.probe`, which runs FFmpeg twice:
  the header read and an integrity pass over the whole file; `media.thumbnail.make_thumbnail`).
- remux: `media.playable.make_playable` of big.mkv (copy into a faststart MP4), in seconds and as
  times real time (the media's duration / seconds), beside a bare `ffmpeg -i big.mkv -map 0
  -c copy -movflags +faststart out.mp4`.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import uvloop  # noqa: E402

from director_desktop.jobs import JobContext, Jobs  # noqa: E402
from director_desktop.media.ffmpeg import Ffmpeg  # noqa: E402
from director_desktop.media.importer import stage_file  # noqa: E402
from director_desktop.media.playable import make_playable  # noqa: E402
from director_desktop.media.probe import probe  # noqa: E402
from director_desktop.media.thumbnail import make_thumbnail  # noqa: E402
from director_desktop.protocol import JobInfo  # noqa: E402
from director_desktop.store import Store  # noqa: E402
from tests.fixtures.media import ffmpeg, make_clip  # noqa: E402
from tests.live_server import HeadlessServer, start_headless  # noqa: E402

MB = 1e6
MIB = 1024 * 1024
READ = 8 * MIB
UPLOAD_PIECE = MIB
TIMEOUT = 300.0
BARE_READY = "bare FileResponse at "


# --- media ---------------------------------------------------------------------------------


def make_big(work: Path, seconds: int) -> tuple[Path, Path]:
    """big.mp4 (H.264 lossless ultrafast + AAC, faststart) and big.mkv of the same streams."""
    mp4, mkv = work / "big.mp4", work / "big.mkv"
    ffmpeg(
        *["-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=30:duration={seconds}"],
        *["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"],
        *["-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p"],
        *["-c:a", "aac", "-movflags", "+faststart", str(mp4)],
    )
    ffmpeg("-i", str(mp4), "-map", "0", "-c", "copy", str(mkv))
    return mp4, mkv


# --- import --------------------------------------------------------------------------------


def time_copyfile(src: Path, dest: Path) -> float:
    started = time.perf_counter()
    shutil.copyfile(src, dest)
    took = time.perf_counter() - started
    dest.unlink()
    return took


def time_copyfile_fsync(src: Path, dest: Path) -> float:
    started = time.perf_counter()
    shutil.copyfile(src, dest)
    with dest.open("rb") as copy:
        os.fsync(copy.fileno())
    took = time.perf_counter() - started
    dest.unlink()
    return took


def time_python_copy(src: Path, dest: Path) -> float:
    """A plain read/write loop in 8 MiB pieces and an fsync: the copy stage_file does, unhashed."""
    started = time.perf_counter()
    with src.open("rb") as source, dest.open("wb") as copy:
        while data := source.read(READ):
            copy.write(data)
        copy.flush()
        os.fsync(copy.fileno())
    took = time.perf_counter() - started
    dest.unlink()
    return took


def time_sha256(src: Path) -> float:
    started = time.perf_counter()
    digest = hashlib.sha256()
    with src.open("rb") as handle:
        while data := handle.read(READ):
            digest.update(data)
    digest.hexdigest()
    return time.perf_counter() - started


class Stager:
    """`stage_file` as the library runs it: the work of a job of a real `Jobs` on a real store."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.store = Store(data / "director.sqlite3", backups_dir=data / "backups")
        self.jobs: Jobs | None = None

    async def open(self) -> None:
        await asyncio.to_thread(self.store.open)

        async def notify(_job: JobInfo) -> None:
            return None

        self.jobs = Jobs(self.store, self.data / "staging", notify)
        await self.jobs.open()

    async def time(self, src: Path) -> float:
        assert self.jobs is not None
        took: list[float] = []

        async def work(ctx: JobContext) -> dict[str, object]:
            started = time.perf_counter()
            staged = await stage_file(src, ctx, limit=1 << 40)
            took.append(time.perf_counter() - started)
            return {"size": staged.size, "sha256": staged.sha256}

        job = await self.jobs.run("import", src.name, work)
        assert job["status"] == "done", job
        return took[0]

    async def close(self) -> None:
        if self.jobs is not None:
            await self.jobs.close()
        await asyncio.to_thread(self.store.close)


def multipart_body(path: Path, boundary: str) -> tuple[Iterator[bytes], int]:
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{path.name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def pieces() -> Iterator[bytes]:
        yield head
        with path.open("rb") as handle:
            while data := handle.read(UPLOAD_PIECE):
                yield data
        yield tail

    return pieces(), len(head) + path.stat().st_size + len(tail)


def upload(client: httpx.Client, path: Path, collection_id: str) -> tuple[float, dict[str, Any]]:
    """POST the file as a streamed multipart body; answers the seconds taken and the asset."""
    boundary = secrets.token_hex(16)
    body, length = multipart_body(path, boundary)
    headers = {
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(length),
    }
    url = f"/videodb/collection/{collection_id}/upload"
    started = time.perf_counter()
    response = client.post(url, content=body, headers=headers, timeout=TIMEOUT)
    took = time.perf_counter() - started
    if response.status_code not in (200, 201):
        raise SystemExit(f"upload answered {response.status_code}: {response.text}")
    answer: dict[str, Any] = response.json()
    return took, answer


def new_collection(client: httpx.Client, name: str) -> str:
    response = client.post("/videodb/collection", json={"name": name, "description": ""})
    response.raise_for_status()
    return str(response.json()["data"]["collection"]["id"])


def delete_asset(client: httpx.Client, collection_id: str, asset_id: str) -> None:
    client.delete(f"/videodb/collection/{collection_id}/video/{asset_id}").raise_for_status()


# --- range reads ---------------------------------------------------------------------------


def serve_bare(path: Path) -> None:
    """`--serve-bare FILE`: Starlette's FileResponse of FILE at /file, in the app's Server."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import FileResponse, Response
    from starlette.routing import Route

    from director_desktop.server import Server

    async def file(_request: Request) -> Response:
        return FileResponse(path, media_type="video/mp4")

    server = Server.bind("127.0.0.1", 0)
    server.start(Starlette(routes=[Route("/file", file, methods=["GET", "HEAD"])]))
    stop = asyncio.Event()
    print(f"{BARE_READY}http://127.0.0.1:{server.port}", flush=True)

    async def wait() -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()

    asyncio.run(wait())
    server.stop()


def start_bare(path: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve-bare", str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()  # the server prints it once it accepts connections
    if not line.startswith(BARE_READY):
        proc.kill()
        proc.wait()
        raise SystemExit(f"the bare server did not start: {line!r}")
    return proc, line.removeprefix(BARE_READY)


def range_read(client: httpx.Client, url: str, offset: int) -> float:
    headers = {"Range": f"bytes={offset}-{offset + MIB - 1}"}
    started = time.perf_counter()
    response = client.get(url, headers=headers)
    took = time.perf_counter() - started
    if response.status_code != 206 or len(response.content) != MIB:
        raise SystemExit(f"{url}: {response.status_code}, {len(response.content)} bytes")
    return took


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


# --- probe, thumbnail, remux ---------------------------------------------------------------


async def probe_and_thumbnail(runner: Ffmpeg, src: Path, out: Path) -> tuple[float, float]:
    started = time.perf_counter()
    found = await probe(runner, src)
    probed = time.perf_counter()
    made = await make_thumbnail(runner, src, found, out / f"{src.stem}.jpg")
    assert made is not None
    return probed - started, time.perf_counter() - probed


async def remux(runner: Ffmpeg, src: Path, out: Path) -> tuple[float, float]:
    """Seconds of `make_playable` on `src`, and the media's duration."""
    found = await probe(runner, src)
    started = time.perf_counter()
    made = await make_playable(runner, src, found, out / "playable.mp4")
    took = time.perf_counter() - started
    assert made is not None, "expected a remux"
    made.unlink()
    return took, found.duration


def time_bare_remux(src: Path, out: Path) -> float:
    dest = out / "bare.mp4"
    started = time.perf_counter()
    ffmpeg("-i", str(src), "-map", "0", "-c", "copy", "-movflags", "+faststart", str(dest))
    took = time.perf_counter() - started
    dest.unlink()
    return took


# --- the run -------------------------------------------------------------------------------


def rate(size: int, seconds: float) -> float:
    return size / MB / seconds


def run_async(make: Callable[[], Awaitable[Any]]) -> Any:
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(make())


def bench(work: Path, quick: bool) -> dict[str, Any]:
    rounds = 2 if quick else 7
    reads = 100 if quick else 400
    figures: dict[str, Any] = {}
    started = time.monotonic()
    print("making the media...", flush=True)
    big_mp4, big_mkv = make_big(work, 25 if quick else 100)
    clip = make_clip(work / "clip.mp4", subtitles=True)
    size = big_mp4.stat().st_size
    print(f"  big.mp4 {size / MB:.0f} MB, big.mkv {big_mkv.stat().st_size / MB:.0f} MB, "
          f"in {time.monotonic() - started:.0f} s", flush=True)  # fmt: skip

    server: HeadlessServer = start_headless(work / "app-data", log_dir=work / "app-logs")
    client = httpx.Client(base_url=server.base_url, headers=server.auth_headers, timeout=TIMEOUT)
    bare: subprocess.Popen[str] | None = None
    try:
        # The first upload is the asset the range reads fetch.
        first, asset = upload(client, big_mp4, "default")
        assert asset.get("duplicate") is False, asset
        print(f"  first upload (new asset) {first:.2f} s", flush=True)

        print(f"import, {rounds} rounds...", flush=True)

        async def stage_round(data: Path) -> float:
            stager = Stager(data)
            await stager.open()
            try:
                return await stager.time(big_mp4)
            finally:
                await stager.close()

        def upload_duplicate() -> float:
            took, answer = upload(client, big_mp4, "default")
            assert answer["duplicate"] is True, answer
            return took

        def upload_new() -> float:
            cid = new_collection(client, f"round {secrets.token_hex(4)}")
            took, answer = upload(client, big_mp4, cid)
            assert answer["duplicate"] is False, answer
            delete_asset(client, cid, answer["id"])
            return took

        copy = work / "copy.bin"
        contenders: dict[str, Callable[[], float]] = {
            "copyfile": lambda: time_copyfile(big_mp4, copy),
            "copyfile_fsync": lambda: time_copyfile_fsync(big_mp4, copy),
            "python_copy": lambda: time_python_copy(big_mp4, copy),
            "sha256": lambda: time_sha256(big_mp4),
            "stage_file": lambda: run_async(lambda: stage_round(work / secrets.token_hex(4))),
            "upload_copy_hash": upload_duplicate,
            "upload_whole": upload_new,
        }
        times: dict[str, list[float]] = {name: [] for name in contenders}
        order = list(contenders)
        for n in range(rounds):
            # A different order each round: a write pays for what the one before it left
            # (the kernel's reclaim of a file just deleted showed up as ~0.5 s of system time).
            for name in order[n % len(order) :] + order[: n % len(order)]:
                times[name].append(contenders[name]())
        medians = {name: statistics.median(values) for name, values in times.items()}
        figures["import"] = {
            "bytes": size,
            "seconds": times,
            "mb_per_s": {name: rate(size, seconds) for name, seconds in medians.items()},
        }

        print(f"range reads, {reads} per server...", flush=True)
        app_file = work / "app-data" / "media" / asset["id"]
        original = next(app_file.glob("original.*"))
        bare, bare_url = start_bare(original)
        bare_client = httpx.Client(base_url=bare_url, timeout=TIMEOUT)
        chance = random.Random(7)
        offsets = [chance.randrange(0, size - MIB) for _ in range(reads)]
        app_times: list[float] = []
        bare_times: list[float] = []
        try:
            for warm in offsets[:10]:  # connections open, code paths warm
                range_read(client, f"/media/{asset['id']}", warm)
                range_read(bare_client, "/file", warm)
            block = 10  # fine alternation: a change in the machine's load hits both
            for at in range(0, reads, block):
                for offset in offsets[at : at + block]:
                    app_times.append(range_read(client, f"/media/{asset['id']}", offset))
                for offset in offsets[at : at + block]:
                    bare_times.append(range_read(bare_client, "/file", offset))
        finally:
            bare_client.close()
        figures["range_read_ms"] = {
            "app": {
                "p50": 1e3 * percentile(app_times, 0.5),
                "p90": 1e3 * percentile(app_times, 0.9),
            },
            "file_response": {
                "p50": 1e3 * percentile(bare_times, 0.5),
                "p90": 1e3 * percentile(bare_times, 0.9),
            },
        }
    finally:
        client.close()
        if bare is not None:
            bare.send_signal(signal.SIGTERM)
            bare.wait(timeout=30)
            if bare.stdout is not None:
                bare.stdout.close()
        server.stop()

    print("probe, thumbnail and remux...", flush=True)

    async def ffmpeg_figures() -> dict[str, Any]:
        runner = Ffmpeg.locate({})
        out = work / "out"
        out.mkdir()
        per_asset: dict[str, dict[str, float]] = {}
        for name, src, count in (("clip.mp4 (3 s)", clip, 5), ("big.mp4", big_mp4, 2)):
            pairs = [await probe_and_thumbnail(runner, src, out) for _ in range(count)]
            probes = statistics.median(p for p, _ in pairs)
            thumbs = statistics.median(t for _, t in pairs)
            per_asset[name] = {"probe": probes, "thumbnail": thumbs, "size": src.stat().st_size}
        remuxes = [await remux(runner, big_mkv, out) for _ in range(2)]
        bare_remux = [time_bare_remux(big_mkv, out) for _ in range(2)]
        took = statistics.median(t for t, _ in remuxes)
        duration = remuxes[0][1]
        return {
            "probe_thumbnail_s": per_asset,
            "remux": {
                "seconds": took,
                "duration": duration,
                "x_real_time": duration / took,
                "bare_ffmpeg_seconds": statistics.median(bare_remux),
            },
        }

    figures.update(run_async(ffmpeg_figures))
    figures["wall_seconds"] = time.monotonic() - started
    return figures


def report(figures: dict[str, Any]) -> None:
    imp = figures["import"]
    rates = imp["mb_per_s"]
    base, floor = rates["copyfile"], rates["sha256"]
    print(f"\nimport of a {imp['bytes'] / MB:.0f} MB H.264 MP4: MB/s, median [slowest-fastest]; "
          "x copyfile; x floor")  # fmt: skip
    labels = {
        "copyfile": "shutil.copyfile (baseline)",
        "copyfile_fsync": "shutil.copyfile + fsync (for reference)",
        "python_copy": "read/write loop + fsync, no hash (for reference)",
        "sha256": "hashlib.sha256 alone (floor)",
        "stage_file": "media.importer.stage_file (copy + hash + fsync)",
        "upload_copy_hash": "upload over HTTP, copy + hash (a duplicate)",
        "upload_whole": "upload over HTTP, whole import (+ probe, thumbnail)",
    }
    for key, label in labels.items():
        runs = imp["seconds"][key]
        spread = f"[{rate(imp['bytes'], max(runs)):.0f}-{rate(imp['bytes'], min(runs)):.0f}]"
        print(f"  {label:<54} {rates[key]:6.0f} {spread:>11}  {rates[key] / base:5.2f}x"
              f"  {rates[key] / floor:5.2f}x")  # fmt: skip
    print("  target: >= 0.80x copyfile, the hash included")

    ranges = figures["range_read_ms"]
    app, bare = ranges["app"], ranges["file_response"]
    print("\n1 MiB range read at a random offset (ms)       p50      p90")
    print(f"  GET /media/{{id}} (the app)               {app['p50']:8.3f} {app['p90']:8.3f}")
    print(f"  Starlette FileResponse (bare app)        {bare['p50']:8.3f} {bare['p90']:8.3f}")
    print(f"  ratio (target p50 <= 1.2x)               {app['p50'] / bare['p50']:7.2f}x "
          f"{app['p90'] / bare['p90']:7.2f}x")  # fmt: skip

    print("\nprobe + thumbnail per asset (s, median)   probe  thumbnail  total")
    for name, row in figures["probe_thumbnail_s"].items():
        total = row["probe"] + row["thumbnail"]
        print(f"  {name:<38} {row['probe']:6.2f} {row['thumbnail']:9.2f} {total:6.2f}")

    rem = figures["remux"]
    print(f"\nremux of big.mkv ({rem['duration']:.0f} s of media): {rem['seconds']:.2f} s, "
          f"{rem['x_real_time']:.0f}x real time (bare ffmpeg -c copy: "
          f"{rem['bare_ffmpeg_seconds']:.2f} s)")  # fmt: skip
    print(f"\nwall time {figures['wall_seconds']:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="25 s of media, fewer rounds")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--serve-bare", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return
    load = os.getloadavg()[0]
    print(f"load average {load:.1f}, {os.cpu_count()} CPUs", flush=True)
    with tempfile.TemporaryDirectory(prefix="media-bench-") as folder:
        figures = bench(Path(folder), args.quick)
    figures["load_before"] = load
    figures["load_after"] = os.getloadavg()[0]
    report(figures)
    print(f"load average after {figures['load_after']:.1f}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
