"""Cold start of the desktop app: launch → page ready, median of several runs, from source and
frozen, beside a bare pywebview window; then the shipped headless app's idle memory.

    .venv/bin/python bench/startup_bench.py [--runs 7] [--frozen DIR] [--before TREE]
        [--before-frozen DIR]

Runs under its own Xvfb (no window manager needed). Each launch starts a new process in a fresh
data dir (a new database, migrated on open) and ends when the page reports ready
(`document.documentElement.dataset.ready = "1"`, which the Vue app sets once its socket is
connected and the first view rendered); the app logs that moment ("page ready after", with the
start-up trace). The time is from just before `Popen` to the moment the page set its flag, on
the clock every process shares (`time.time()` here, `performance.timeOrigin + now()` in the
page, which the app logs as `ready_epoch`): the pollers that notice the flag (the app's every
50 ms, the floors' every 5 ms) add nothing to any contender's figure.

Baseline, measured the same way in the same run: the floor any pywebview app pays here, a bare
`webview.create_window` + `webview.start(gui="gtk")` process showing a page that sets the same
flag at once. The difference says what the app adds on top of the toolkit (imports, the server
and store, the Vue bundle, the socket handshake). Two more floors split that difference:

- the **stack floor**: the same window showing a page that uvicorn + python-socketio serve from
  a thread started as the window opens, ready once its Socket.IO socket to `/chat` connects:
  what any app of this architecture pays, with no app in it;
- the **UI floor**: the same stack serving the app's own built page (`frontend_dist/`) and
  answering its requests with the app's own answers for a fresh profile, recorded from the
  headless app at the start of the run; ready when the page sets its flag. No store, engine or
  routes: what this UI costs WebKit to load, mount and draw when the server costs nothing. The
  app's figure minus this one is what its server side still adds to the launch.

Contenders:

- `source`: `python -m director_desktop` from this checkout;
- `frozen`: the PyInstaller onedir build (`--frozen DIR`, default `dist/director-desktop` when it
  exists): the executable inside DIR;
- `before` / `before-frozen` (optional): the same from another tree or build, e.g. the last
  commit (`git archive HEAD | tar -x -C /tmp/old`) and its build, for before/after in one run.

Source trees are byte-compiled first (`compileall`), as a second launch finds them: with
`PYTHONDONTWRITEBYTECODE` set (as it is in some shells and containers, this workplace's among
them) every launch from source would otherwise compile ~140 modules again, ~0.3 s of CPU that no
installed app pays (the frozen app ships bytecode).

Launches alternate (floor, source, frozen, ... in turn), so a change in machine load affects
all. The OS file cache is warm after the first run ("cold" means a new process and a new data
dir, not a cold disk). The median of each kind's "page ready" trace is printed too (where the
time goes, on the launch's own clock).

Memory: each contender once more with `--headless` on a fresh data dir; VmRSS of the process
(/proc/<pid>/status) once it has printed its URL and two samples 0.25 s apart agree (idle, no
client). The window's own process RSS (without WebKit's helper processes, which the floor has
too) is sampled at page ready in every windowed launch; its median is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.xvfb import display_env, xvfb  # noqa: E402

DEADLINE = 60.0

# What both floors' pages run to set the ready flag, with the moment on the shared clock.
SET_READY = (
    "const d = document.documentElement.dataset;"
    "d.readyAt = performance.timeOrigin + performance.now(); d.ready = '1'"
)
# The floors' last lines: poll the flag every 5 ms, print the page's own moment, on the GTK loop.
# READY_AT: that moment, on the clock every process shares.
WATCH = """
def watch():
    while window.evaluate_js("document.documentElement.dataset.ready") != "1":
        time.sleep(0.005)
    print("ready", window.evaluate_js(READY_AT), flush=True)
webview.start(watch, gui="gtk", private_mode=False, storage_path=sys.argv[1])
"""
FLAG_AT = 'READY_AT = "document.documentElement.dataset.readyAt"\n'
# The app's page marks the moment it sets its flag (`director:ready_flag`, as the app logs it).
PAGE_FLAG_AT = (
    'READY_AT = "performance.timeOrigin + '
    "performance.getEntriesByName('director:ready_flag')[0].startTime\"\n"
)

FLOOR_APP = (
    FLAG_AT
    + f"""
import sys, time, webview
page = "<!doctype html><title>floor</title><script>{SET_READY}</script>"
window = webview.create_window("floor", html=page)
"""
    + WATCH
)

# The served floors' common parts: the socket bound at once (the window gets its URL), then
# uvicorn + python-socketio started on a thread while the window opens, as the app's server is.
# `serve()` is completed by each floor's lines defining `web`, the Starlette app beside the
# socket; a socket to `/chat` connects with any auth.
SERVED_HEAD = """
import socket, sys, threading, time
sock = socket.socket()
sock.bind(("127.0.0.1", 0))
sock.listen(128)
port = sock.getsockname()[1]
"""
SERVE_HEAD = """
def serve():
    import socketio, uvicorn
    from starlette.applications import Starlette
    sio = socketio.AsyncServer(async_mode="asgi")
    sio.on("connect", lambda sid, environ, auth=None: True, namespace="/chat")
"""
SERVE_TAIL = """
    config = uvicorn.Config(
        socketio.ASGIApp(sio, web), log_config=None, access_log=False, lifespan="off",
        ws_per_message_deflate=False,
    )
    uvicorn.Server(config).run(sockets=[sock])
threading.Thread(target=serve, daemon=True).start()
import webview
"""


def served_floor(ready_at: str, setup: str, routes: str, title: str, path: str) -> str:
    """A floor script whose window shows `path` from its own server: `setup` runs first (module
    level), `routes` inside `serve()` (indented, defining `web`)."""
    window = f'window = webview.create_window("{title}", f"http://127.0.0.1:{{port}}{path}")\n'
    return ready_at + SERVED_HEAD + setup + SERVE_HEAD + routes + SERVE_TAIL + window + WATCH


# The floor of this architecture, with no app in it: the page comes over HTTP and sets the flag
# once a Socket.IO socket to `/chat` has connected over a websocket, as the app's page does. No
# store, no engine, no Vue bundle. argv: storage dir, socket.io's browser client.
STACK_APP = served_floor(
    FLAG_AT,
    f"""PAGE = (
    "<!doctype html><title>stack floor</title><script src='/io.js'></script>"
    "<script>io('/chat', {{transports: ['websocket']}}).on('connect', () => {{ {SET_READY} }})"
    "</script>"
)
""",
    """    from starlette.responses import FileResponse, HTMLResponse
    from starlette.routing import Route
    async def page(request):
        return HTMLResponse(PAGE)
    async def client(request):
        return FileResponse(sys.argv[2], media_type="text/javascript")
    web = Starlette(routes=[Route("/", page), Route("/io.js", client)])
""",
    "stack floor",
    "/",
)
# The UI floor: the app's built page and, for every other GET, the app's own answer for a fresh
# profile, 404 for anything else. The page runs as it does in the app, token in the URL's
# fragment included. argv: storage dir, answers JSON, the built page's folder.
UI_APP = served_floor(
    PAGE_FLAG_AT,
    """import json
from pathlib import Path
ANSWERS = json.loads(Path(sys.argv[2]).read_text())
DIST = Path(sys.argv[3])
""",
    """    from starlette.responses import FileResponse, JSONResponse, Response
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles
    async def page(request):
        return FileResponse(DIST / "index.html")
    async def answer(request):
        body = ANSWERS.get(request.url.path)
        if body is None:
            return JSONResponse({"error": {"code": "not_found", "message": "no"}}, 404)
        return Response(body, media_type="application/json")
    web = Starlette(routes=[
        Route("/", page),
        Mount("/assets", StaticFiles(directory=DIST / "assets")),
        Route("/{path:path}", answer),
    ])
""",
    "ui floor",
    "/#token=ui-floor-0123456789",
)
# What the app's page asks for before it is ready (and soon after), answered for the UI floor.
PAGE_GETS = (
    "/prefs",
    "/session",
    "/agent",
    "/videodb/collection",
    "/videodb/collection/default/video",
    "/jobs",
    "/config/check",
    "/config/media",
    "/config/models/status",
)

# socket.io's browser client, as the Node baseline's package ships it (`npm ci` in
# bench/baselines/node, which `scripts/bench startup` runs), else the frontend's own copy.
IO_CLIENTS = [
    ROOT / "bench/baselines/node/node_modules/socket.io/client-dist/socket.io.min.js",
    ROOT / "frontend/node_modules/socket.io-client/dist/socket.io.min.js",
]


@dataclass
class Contender:
    name: str
    command: list[str]
    cwd: Path
    floor_script: str | None = None
    """A floor's script (run with `-c`, `command` as its arguments after the storage dir);
    None for the app itself."""
    times: list[float] = field(default_factory=list)
    window_rss: list[float] = field(default_factory=list)
    traces: list[dict[str, float]] = field(default_factory=list)

    @property
    def is_floor(self) -> bool:
        return self.floor_script is not None


def wait_for(what: str, check: Callable[[], bool], proc: subprocess.Popen[bytes]) -> float:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if check():
            return time.monotonic()
        if proc.poll() is not None:
            raise SystemExit(f"{what}: the process exited with {proc.returncode}")
        time.sleep(0.005)
    raise SystemExit(f"{what}: not ready within {DEADLINE} s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)  # the measurement is over; WebKit's helpers too
    proc.wait()


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def ready_record(log: Path) -> dict[str, object] | None:
    try:
        for line in log.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if str(record.get("message", "")).startswith("page ready after"):
                return dict(record)
    except (OSError, ValueError):
        pass
    return None


def launch_app(contender: Contender, env: dict[str, str], work: Path) -> None:
    data = work / "data"
    log = data / "logs" / "director-desktop.log"
    run_env = {**env, "DIRECTOR_LOG_DIR": str(log.parent)}
    launched = time.time()
    proc = subprocess.Popen(
        [*contender.command, "--data-dir", str(data), f"--token={secrets.token_urlsafe(32)}"],
        env=run_env, cwd=contender.cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        wait_for(contender.name, lambda: ready_record(log) is not None, proc)
        contender.window_rss.append(rss_mib(proc.pid))
        record = ready_record(log) or {}
        contender.times.append(float(str(record["ready_epoch"])) - launched)
        if "trace" in record:
            contender.traces.append(json.loads(str(record["trace"])))
    finally:
        stop(proc)


def launch_floor(contender: Contender, env: dict[str, str], work: Path) -> None:
    """A floor: `contender.command` is its script's arguments after the storage dir."""
    assert contender.floor_script is not None
    launched = time.time()
    proc = subprocess.Popen(
        [sys.executable, "-c", contender.floor_script, str(work / "webview"), *contender.command],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    assert proc.stdout is not None
    os.set_blocking(proc.stdout.fileno(), False)
    seen = b""

    def ready() -> bool:
        nonlocal seen
        chunk = proc.stdout.read() if proc.stdout else None
        seen += chunk or b""
        return b"ready" in seen and seen.endswith(b"\n")

    try:
        wait_for(contender.name, ready, proc)
        ready_epoch = float(seen.split(b"ready", 1)[1].split()[0]) / 1000
        contender.times.append(ready_epoch - launched)
        contender.window_rss.append(rss_mib(proc.pid))
    finally:
        stop(proc)
        proc.stdout.close()


def headless_idle_rss(contender: Contender, work: Path) -> float:
    """VmRSS (MiB) of `--headless` once it printed its URL and settled, no client."""
    proc = subprocess.Popen(
        [*contender.command, "--headless", "--data-dir", str(work / "data"),
         "--log-dir", str(work / "logs")],
        cwd=contender.cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        line = proc.stdout.readline()
        if not line.startswith(b"Director Desktop at"):
            raise SystemExit(f"{contender.name} --headless: no URL line ({line!r})")
        samples = [rss_mib(proc.pid)]
        for _ in range(40):
            time.sleep(0.25)
            samples.append(rss_mib(proc.pid))
            if abs(samples[-1] - samples[-2]) < 0.05:
                break
        return samples[-1]
    finally:
        stop(proc)
        proc.stdout.close()


def record_answers(work: Path) -> Path:
    """The headless app's answers to `PAGE_GETS` on a fresh profile, as a JSON file for the UI
    floor (`{path: body}`; a path the app refuses is left out, and the floor answers 404)."""
    import urllib.error
    import urllib.request

    proc = subprocess.Popen(
        [sys.executable, "-m", "director_desktop", "--headless", "--data-dir", str(work / "data"),
         "--log-dir", str(work / "logs")],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    assert proc.stdout is not None
    answers: dict[str, str] = {}
    try:
        line = proc.stdout.readline().decode()
        if not line.startswith("Director Desktop at"):
            raise SystemExit(f"--headless: no URL line ({line!r})")
        url = line.split()[-1]
        base, token = url.split("/#token=")
        for path in PAGE_GETS:
            request = urllib.request.Request(
                base + path, headers={"Authorization": f"Bearer {token}"}
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    answers[path] = response.read().decode()
            except urllib.error.HTTPError:
                continue
    finally:
        stop(proc)
        proc.stdout.close()
    file = work / "answers.json"
    file.write_text(json.dumps(answers))
    return file


def median_trace(traces: list[dict[str, float]]) -> dict[str, float]:
    steps = {
        step for trace in traces for step in trace if not step.startswith(("request ", "response "))
    }
    medians = {step: statistics.median(t[step] for t in traces if step in t) for step in steps}
    return dict(sorted(medians.items(), key=lambda item: item[1]))


def contenders(args: argparse.Namespace, work: Path) -> list[Contender]:
    found = [Contender("bare pywebview window (floor)", [], ROOT, FLOOR_APP)]
    client = next((path for path in IO_CLIENTS if path.is_file()), None)
    if client is None:
        print("no socket.io client to serve (run `scripts/bench startup`): no stack floor")
    else:
        found.append(
            Contender("bare server + socket (stack floor)", [str(client)], ROOT, STACK_APP)
        )
    dist = ROOT / "frontend_dist"
    answers = record_answers(work)
    found.append(
        Contender("bare server + app page (UI floor)", [str(answers), str(dist)], ROOT, UI_APP)
    )
    found += [
        Contender("director-desktop, source", [sys.executable, "-m", "director_desktop"], ROOT),
    ]
    frozen = args.frozen or (ROOT / "dist" / "director-desktop")
    if (frozen / "director-desktop").is_file():
        found.append(
            Contender("director-desktop, frozen", [str(frozen / "director-desktop")], frozen)
        )
    if args.before:
        found.append(
            Contender("before, source", [sys.executable, "-m", "director_desktop"], args.before)
        )
    if args.before_frozen:
        exe = args.before_frozen / "director-desktop"
        found.append(Contender("before, frozen", [str(exe)], args.before_frozen))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--frozen", type=Path, help="a onedir build (default dist/director-desktop)"
    )
    parser.add_argument("--before", type=Path, help="another source tree to compare with")
    parser.add_argument("--before-frozen", type=Path, help="another onedir build to compare with")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="startup-bench-answers-"))
    kinds = contenders(args, work)
    for tree in {c.cwd for c in kinds if c.command[:1] == [sys.executable]}:
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", str(tree / "director_desktop")], check=True
        )
    floor = kinds[0]
    load_before = os.getloadavg()[0]
    with xvfb() as display:
        env = display_env(display)
        for run in range(args.runs):
            for contender in kinds:
                with tempfile.TemporaryDirectory(prefix="startup-bench-") as tmp:
                    if contender.is_floor:
                        launch_floor(contender, env, Path(tmp))
                    else:
                        launch_app(contender, env, Path(tmp))
            print(f"run {run + 1}: " + ", ".join(f"{c.name} {c.times[-1]:.3f} s" for c in kinds))
    idle: dict[str, float] = {}
    apps = [c for c in kinds if not c.is_floor]
    for contender in apps:
        with tempfile.TemporaryDirectory(prefix="startup-bench-") as tmp:
            idle[contender.name] = headless_idle_rss(contender, Path(tmp))
    floor_median = statistics.median(floor.times)
    print()
    print(
        f"cold start, launch -> page ready ({args.runs} runs each, median; load average "
        f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after)"
    )
    for contender in kinds:
        median = statistics.median(contender.times)
        added = "" if contender is floor else f"  added {median - floor_median:+.3f} s"
        print(
            f"  {contender.name:<36}{median:.3f} s  (min {min(contender.times):.3f})"
            f"  x{median / floor_median:.2f}{added}"
            f"  window process RSS {statistics.median(contender.window_rss):.0f} MiB"
        )
    print("  target: the app adds <= 0.3 s over the bare window")
    for label in ("stack floor", "UI floor"):
        other = next((c for c in kinds if c.name.endswith(f"({label})")), None)
        if other is None:
            continue
        other_median = statistics.median(other.times)
        print(f"  the {label} adds {other_median - floor_median:+.3f} s to the bare window;")
        for contender in apps:
            added = statistics.median(contender.times) - other_median
            print(f"    {contender.name} adds {added:+.3f} s to the {label}")
    print()
    print("idle RSS, --headless, no client (MiB)")
    for name, rss in idle.items():
        print(f"  {name:<36}{rss:.1f}")
    for contender in apps:
        if contender.traces:
            print()
            print(f"where the time goes, {contender.name} (median s since the launch began):")
            for step, at in median_trace(contender.traces).items():
                print(f"  {at:7.3f}  {step}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
