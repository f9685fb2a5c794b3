"""The agents' media work against plain baselines, side by side in one run, on this machine.

    .venv/bin/python bench/agents_bench.py [--rounds N] [--json figures.json]

Made once per run, in a temp folder, with the app's own FFmpeg (imageio-ffmpeg): `film.mp4`,
72 s of 1280x720 at 30 fps, twelve segments (solid colours of different hues, testsrc2,
testsrc, smptebars, rgbtestsrc) joined by FFmpeg's concat filter, so the cuts are at known
frames (not on keyframes); H.264 (`-preset veryfast -crf 23`) with `-g 30 -sc_threshold 0`, so
there is a keyframe every second exactly and nowhere else, and a silent AAC track (sound, but no
speech). Figures are medians over rounds (5 unless `--rounds`); the contenders alternate which
goes first each round.

- scenes: `media.scenes.detect_scenes` (what the indexer runs: one FFmpeg process, frames
  scaled to 320 px, non-reference frames not decoded, JPEG thumbnails written) against
  PySceneDetect's `detect(film.mp4, ContentDetector())` (default threshold 27, OpenCV decoding,
  its automatic downscale), wall time of each and their ratio, and CPU time (ours: FFmpeg's, as
  a finished child; theirs: this process's), which a busy machine disturbs less. Agreement: the
  cuts both found within +-2 frames (ours may find a cut up to two frames late: it skips
  non-reference frames), over the cuts either found (|matched| / |ours U theirs|); each also
  against the known cuts.
  Target: >= 3x faster at >= 90% agreement.
- index: `media.indexer.MediaIndexer.index` of film.mp4 imported into a real Store and
  MediaLibrary (tests/fixtures/media.py `LibraryWorld`), no transcriber set: the job's wall
  time over the video's duration. Target <= 0.1.
- clip: `media.editing.cut` of the keyframe-aligned span 20 s..40 s (copied, not re-encoded),
  cold (the packet listing scanned first, as the first cut of a file) and warm (the listing
  remembered, as every later cut), against the plain
  `ffmpeg -ss 20 -to 40 -i film.mp4 -c copy clip.mp4`. Target <= 1.2x.
- semantic: what a semantic search costs at `--lines` (100,000) index lines with 384-dimension
  vectors (the size of the small embedding models: MiniLM, bge-small), spread over 20 videos of
  one collection in a real Store: `media.semantic.nearest` (the vectors read from SQLite in
  batches of 8192, a NumPy product each, the best 10 kept) per query, across the collection and
  within one video, against the keyword search (`store.index.search`, FTS5 BM25) of the same
  lines and against the floor of the method (the same product with every vector already in one
  NumPy matrix in memory). Memory: the peak Python + NumPy allocation of a query (tracemalloc),
  and the vectors' bytes in the database. The query's own embedding is not timed (it depends on
  the model: one short text). `--only semantic` runs this part alone.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from director_desktop.media import editing  # noqa: E402
from director_desktop.media.ffmpeg import Ffmpeg  # noqa: E402
from director_desktop.media.indexer import MediaIndexer  # noqa: E402
from director_desktop.media.probe import Probe, probe  # noqa: E402
from director_desktop.media.scenes import detect_scenes  # noqa: E402
from director_desktop.media.semantic import nearest, to_blobs  # noqa: E402
from tests.fixtures.media import LibraryWorld, ffmpeg, ffmpeg_exe  # noqa: E402

FPS = 30
SIZE = "1280x720"
# (lavfi source, frames): cuts fall where one segment ends, never on a keyframe (every 30th).
SEGMENTS: list[tuple[str, int]] = [
    ("testsrc2", 167),
    ("color=c=0xc02020", 181),
    ("smptebars", 149),
    ("color=c=0x20a040", 211),
    ("testsrc", 173),
    ("color=c=0x2040c0", 197),
    ("rgbtestsrc", 151),
    ("testsrc2", 223),
    ("color=c=0xd0c020", 139),
    ("color=c=0x8020a0", 187),
    ("smptebars", 163),
]
TOTAL_FRAMES = FPS * 72
SEGMENTS.append(("testsrc2", TOTAL_FRAMES - sum(frames for _, frames in SEGMENTS)))
CUTS = [sum(frames for _, frames in SEGMENTS[: i + 1]) for i in range(len(SEGMENTS) - 1)]
CLIP = (20.0, 40.0)  # keyframes (every second)
TOLERANCE = 2  # frames


def make_film(work: Path) -> Path:
    out = work / "film.mp4"
    inputs: list[str] = []
    for source, frames in SEGMENTS:
        name, _, opts = source.partition("=")
        extra = f"{opts}:" if opts else ""
        inputs += ["-f", "lavfi", "-i", f"{name}={extra}s={SIZE}:r={FPS}:d={frames / FPS:.6f}"]
    n = len(SEGMENTS)
    joined = "".join(f"[{i}:v]format=yuv420p,setsar=1[v{i}];" for i in range(n))
    joined += "".join(f"[v{i}]" for i in range(n)) + f"concat=n={n}:v=1:a=0[v]"
    ffmpeg(
        *inputs,
        *["-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo"],
        *["-filter_complex", joined, "-map", "[v]", "-map", f"{n}:a"],
        *["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p"],
        *["-g", str(FPS), "-keyint_min", str(FPS), "-sc_threshold", "0"],
        *["-c:a", "aac", "-b:a", "96k", "-frames:v", str(TOTAL_FRAMES), "-shortest"],
        *["-movflags", "+faststart", "-y", str(out)],
    )
    return out


# --- scenes ------------------------------------------------------------------------------------
def cpu(who: int) -> float:
    """User + system CPU seconds of this process (RUSAGE_SELF) or its finished children."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


async def ours_scenes(
    runner: Ffmpeg, film: Path, found: Probe, out: Path, spent: list[float] | None = None
) -> tuple[float, list[int]]:
    shutil.rmtree(out, ignore_errors=True)
    started, before = time.perf_counter(), cpu(resource.RUSAGE_CHILDREN)
    scenes = await detect_scenes(runner, film, found, out)
    seconds = time.perf_counter() - started
    if spent is not None:  # FFmpeg's CPU time: a figure a busy machine disturbs much less
        spent.append(cpu(resource.RUSAGE_CHILDREN) - before)
    return seconds, [round(scene.start * FPS) for scene in scenes[1:]]


def their_scenes(film: Path, spent: list[float] | None = None) -> tuple[float, list[int]]:
    from scenedetect import ContentDetector, detect

    started, before = time.perf_counter(), cpu(resource.RUSAGE_SELF)
    scenes = detect(str(film), ContentDetector())
    seconds = time.perf_counter() - started
    if spent is not None:  # the process's CPU time (nothing else runs meanwhile)
        spent.append(cpu(resource.RUSAGE_SELF) - before)
    return seconds, [start.frame_num for start, _ in scenes[1:]]


def matched(a: list[int], b: list[int], tolerance: int = TOLERANCE) -> int:
    """Pairs one cut of `a` with at most one of `b` within `tolerance` frames, in order."""
    pairs, used = 0, set()
    for cut in a:
        for j, other in enumerate(b):
            if j not in used and abs(cut - other) <= tolerance:
                used.add(j)
                pairs += 1
                break
    return pairs


def agreement(a: list[int], b: list[int]) -> float:
    both = matched(a, b)
    union = len(a) + len(b) - both
    return both / union if union else 1.0


# --- index -------------------------------------------------------------------------------------
async def index_once(film: Path, data: Path) -> tuple[float, dict[str, Any]]:
    world = await LibraryWorld.open(data)
    try:
        asset = await world.add(film)
        indexer = MediaIndexer(world.store, world.library)
        started = time.perf_counter()
        report = await indexer.index(asset.id)
        seconds = time.perf_counter() - started
        return seconds, {"scenes": report.scenes, "speech": report.speech}
    finally:
        await world.close()


# --- clip --------------------------------------------------------------------------------------
async def ours_clip(runner: Ffmpeg, film: Path, found: Probe, work: Path, *, cold: bool) -> float:
    if cold:
        editing._listings.clear()  # the first cut of a file scans its packets
    source = editing.Source(film, found)
    started = time.perf_counter()
    made = await editing.cut(runner, [editing.span(source, *CLIP)], work, "clip-ours")
    seconds = time.perf_counter() - started
    if made.mode != "copy":
        raise SystemExit(f"the clip was {made.mode}, not copied: the bench measures a copy")
    made.path.unlink()
    return seconds


def bare_clip(film: Path, work: Path) -> float:
    out = work / "clip-bare.mp4"
    args = [ffmpeg_exe(), "-nostdin", "-v", "error", "-ss", str(CLIP[0]), "-to", str(CLIP[1])]
    args += ["-i", str(film), "-c", "copy", "-y", str(out)]
    started = time.perf_counter()
    subprocess.run(args, check=True)
    seconds = time.perf_counter() - started
    out.unlink()
    return seconds


# --- the run -----------------------------------------------------------------------------------
async def bench(work: Path, rounds: int) -> dict[str, Any]:
    print("making the media...", flush=True)
    started = time.perf_counter()
    film = make_film(work)
    runner = Ffmpeg.locate({})
    found = await probe(runner, film)
    print(
        f"  film.mp4 {film.stat().st_size / 1e6:.1f} MB, {found.duration:.2f} s, "
        f"{len(CUTS)} cuts, made in {time.perf_counter() - started:.1f} s",
        flush=True,
    )

    print(f"scenes, {rounds} rounds...", flush=True)
    ours_t: list[float] = []
    theirs_t: list[float] = []
    ours_cuts: list[int] = []
    their_cuts: list[int] = []
    ours_cpu: list[float] = []
    theirs_cpu: list[float] = []
    for n in range(rounds):
        order = ("ours", "theirs") if n % 2 == 0 else ("theirs", "ours")
        for who in order:
            if who == "ours":
                seconds, ours_cuts = await ours_scenes(
                    runner, film, found, work / "scenes", ours_cpu
                )
                ours_t.append(seconds)
            else:
                seconds, their_cuts = await asyncio.to_thread(their_scenes, film, theirs_cpu)
                theirs_t.append(seconds)

    print(f"index, {rounds} rounds...", flush=True)
    index_t: list[float] = []
    index_report: dict[str, Any] = {}
    for n in range(rounds):
        seconds, index_report = await index_once(film, work / f"data-{n}")
        index_t.append(seconds)
        shutil.rmtree(work / f"data-{n}", ignore_errors=True)

    print(f"clip, {rounds} rounds...", flush=True)
    cold_t: list[float] = []
    warm_t: list[float] = []
    bare_t: list[float] = []
    for n in range(rounds):
        if n % 2 == 0:
            bare_t.append(await asyncio.to_thread(bare_clip, film, work))
        cold_t.append(await ours_clip(runner, film, found, work, cold=True))
        warm_t.append(await ours_clip(runner, film, found, work, cold=False))
        if n % 2 == 1:
            bare_t.append(await asyncio.to_thread(bare_clip, film, work))

    return {
        "film": {"duration": found.duration, "bytes": film.stat().st_size, "cuts": CUTS},
        "scenes": {
            "ours": ours_t,
            "theirs": theirs_t,
            "ours_cuts": ours_cuts,
            "their_cuts": their_cuts,
            "ours_cpu": ours_cpu,
            "theirs_cpu": theirs_cpu,
        },
        "index": {"seconds": index_t, "report": index_report},
        "clip": {"cold": cold_t, "warm": warm_t, "bare": bare_t},
    }


DIMENSIONS = 384
VIDEOS = 20
WORDS = [
    "budget",
    "meeting",
    "river",
    "camera",
    "light",
    "harbour",
    "speaker",
    "question",
    "answer",
    "market",
    "winter",
    "storm",
    "garden",
    "engine",
    "music",
    "teacher",
    "city",
    "night",
    "road",
    "data",
    "plan",
    "team",
    "result",
    "figure",
    "story",
]


async def semantic(work: Path, rounds: int, lines: int) -> dict[str, Any]:
    """The semantic search's cost at `lines` lines (see the module's docstring)."""
    import tracemalloc

    import numpy as np

    from director_desktop.store import IndexContent, IndexLine

    print(f"semantic search over {lines:,} lines, {rounds} rounds...", flush=True)
    world = await LibraryWorld.open(work / "semantic")
    try:
        clip = work / "tiny.mp4"
        ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x64:rate=5:duration=1", str(clip))
        rng = np.random.default_rng(1)
        assets = []
        started = time.perf_counter()
        per_video = lines // VIDEOS
        for n in range(VIDEOS):
            copy = work / f"v{n}.mp4"
            shutil.copy(clip, copy)
            with copy.open("ab") as handle:  # a different file each (assets are by content)
                handle.write(n.to_bytes(4, "little"))
            asset = await world.add(copy)
            assets.append(asset)
            vectors = rng.standard_normal((per_video, DIMENSIONS)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            texts = [" ".join(rng.choice(WORDS, size=8)) for _ in range(per_video)]
            content = IndexContent(
                lines=[IndexLine("transcript", i, i + 1.0, t) for i, t in enumerate(texts)],
                vectors=to_blobs(vectors),
                vector_model="bench",
            )
            await world.store.index.replace(asset.id, content)
        write = time.perf_counter() - started
        size = (world.data / "director.sqlite3").stat().st_size
        everything = np.frombuffer(
            b"".join(blob for _, blob in await world.store.index.vectors("bench", batch=lines)),
            dtype="<f4",
        ).reshape(-1, DIMENSIONS)
        query = rng.standard_normal((1, DIMENSIONS)).astype(np.float32)
        query /= np.linalg.norm(query)
        timed: dict[str, list[float]] = {"collection": [], "video": [], "bm25": [], "floor": []}
        for _ in range(rounds):
            t = time.perf_counter()
            await nearest(
                world.store, "bench", query, collection_id="default", asset_id=None, limit=10
            )
            timed["collection"].append(time.perf_counter() - t)
            t = time.perf_counter()
            await nearest(
                world.store, "bench", query, collection_id=None, asset_id=assets[7].id, limit=10
            )
            timed["video"].append(time.perf_counter() - t)
            t = time.perf_counter()
            await world.store.index.search("harbour storm", collection_id="default", limit=10)
            timed["bm25"].append(time.perf_counter() - t)
            t = time.perf_counter()
            scores = everything @ query[0]
            np.argpartition(-scores, 10)[:10]
            timed["floor"].append(time.perf_counter() - t)
        tracemalloc.start()
        await nearest(world.store, "bench", query, collection_id="default", asset_id=None, limit=10)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    finally:
        await world.close()
    return {
        "lines": per_video * VIDEOS,
        "dimensions": DIMENSIONS,
        "write_seconds": write,
        "database_bytes": size,
        "vector_bytes": per_video * VIDEOS * DIMENSIONS * 4,
        "peak_bytes": peak,
        **timed,
    }


def report_semantic(figures: dict[str, Any]) -> None:
    lines, dims = figures["lines"], figures["dimensions"]
    print(f"\nsemantic search, {lines:,} lines of {dims}-dimension vectors in {VIDEOS} videos")
    print("  (seconds per query, median [fastest-slowest])")
    bm25 = statistics.median(figures["bm25"])
    for label, key in (
        ("nearest(), the whole collection", "collection"),
        ("nearest(), one video", "video"),
        ("floor: one matrix product in memory", "floor"),
        ("keyword search (FTS5 BM25)", "bm25"),
    ):
        value = statistics.median(figures[key])
        print(f"  {label:<38} {value:7.4f} {spread(figures[key]):>15}  {value / bm25:7.1f}x BM25")
    print(
        f"  memory: peak {figures['peak_bytes'] / 2**20:.1f} MiB per query (tracemalloc); "
        f"vectors {figures['vector_bytes'] / 2**20:.0f} MiB of a "
        f"{figures['database_bytes'] / 2**20:.0f} MiB database (written in "
        f"{figures['write_seconds']:.1f} s)"
    )


def spread(values: list[float]) -> str:
    return f"[{min(values):.2f}-{max(values):.2f}]"


def report(figures: dict[str, Any]) -> None:
    film = figures["film"]
    scenes = figures["scenes"]
    ours, theirs = statistics.median(scenes["ours"]), statistics.median(scenes["theirs"])
    oc, tc, truth = scenes["ours_cuts"], scenes["their_cuts"], film["cuts"]
    late = sorted(o - t for o in oc for t in truth if abs(o - t) <= TOLERANCE)
    print(f"\nscene detection of a {film['duration']:.0f} s 720p H.264 file, {len(truth)} cuts")
    print("  (seconds, median [fastest-slowest])          seconds          cuts  vs known")
    print(
        f"  media.scenes.detect_scenes (ours)          {ours:6.2f} {spread(scenes['ours']):>13}"
        f"  {len(oc):4d}  {matched(oc, truth):2d}/{len(truth)}"
    )
    print(
        f"  PySceneDetect ContentDetector              {theirs:6.2f} "
        f"{spread(scenes['theirs']):>13}  {len(tc):4d}  {matched(tc, truth):2d}/{len(truth)}"
    )
    print(f"  speed-up {theirs / ours:.2f}x, agreement {agreement(oc, tc):.0%} (within ±2 frames)")
    our_cpu, their_cpu = (
        statistics.median(scenes["ours_cpu"]),
        statistics.median(scenes["theirs_cpu"]),
    )
    print(
        f"  CPU seconds (user + system, median): ours {our_cpu:.2f}, PySceneDetect "
        f"{their_cpu:.2f}: {their_cpu / our_cpu:.2f}x less (steadier than wall time on a busy "
        "machine)"
    )
    print(f"  ours minus the known cut, frames: {late}")
    print("  target: >= 3x faster at >= 90% agreement")

    index = figures["index"]
    seconds = statistics.median(index["seconds"])
    print(
        f"\nindex (no speech): {seconds:.2f} s {spread(index['seconds'])} for "
        f"{film['duration']:.0f} s: {seconds / film['duration']:.3f} of the duration "
        f"(target <= 0.1); {index['report']['scenes']} scenes, speech: "
        f"{index['report']['speech']}"
    )

    clip = figures["clip"]
    bare = statistics.median(clip["bare"])
    print(f"\nkeyframe-aligned clip {CLIP[0]:.0f}-{CLIP[1]:.0f} s, copied (seconds, median)")
    for label, key in (("editing.cut, cold (packet scan)", "cold"), ("editing.cut, warm", "warm")):
        value = statistics.median(clip[key])
        print(f"  {label:<36} {value:6.3f} {spread(clip[key]):>13}  {value / bare:5.2f}x")
    print(f"  {'ffmpeg -ss -to -i -c copy':<36} {bare:6.3f} {spread(clip['bare']):>13}")
    print("  target: <= 1.2x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--lines", type=int, default=100_000, help="lines of the semantic part")
    parser.add_argument("--only", choices=["semantic"], help="run this part alone")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"load average {load:.1f}, {os.cpu_count()} CPUs", flush=True)
    started = time.perf_counter()
    rounds = max(1, args.rounds)
    with tempfile.TemporaryDirectory(prefix="agents-bench-") as tmp:
        figures = {} if args.only else asyncio.run(bench(Path(tmp), rounds))
        figures["semantic"] = asyncio.run(semantic(Path(tmp), rounds, args.lines))
    figures["wall_seconds"] = time.perf_counter() - started
    figures["load_before"], figures["load_after"] = load, os.getloadavg()[0]
    if not args.only:
        report(figures)
    report_semantic(figures["semantic"])
    wall, after = figures["wall_seconds"], figures["load_after"]
    print(f"\nwall time {wall:.0f} s, load average after {after:.1f}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
