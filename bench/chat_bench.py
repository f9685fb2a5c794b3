"""The chat benchmark: Director Desktop's `/chat` server and two baselines, side by side, one run.

    .venv/bin/pip install -r requirements/bench.txt
    (cd bench/baselines/node && npm ci)
    .venv/bin/python bench/chat_bench.py [--quick] [--json out.json] [--no-pin]

Servers (each its own subprocess on a free loopback port, with a fresh data dir):

- ``ours``: Director Desktop's real server stack (guard, python-socketio ``AsyncServer`` in
  ``ASGIApp``, uvicorn with uvloop/httptools, ``TurnRunner``, the SQLite ``Store`` with its worker
  thread, JSON logs at INFO), composed exactly as ``headless.py`` composes it, with one change: the
  engine is ``BenchEngine`` below, which writes the same reply as the baselines. The built-in
  assistant paces its pieces (``DIRECTOR_ASSISTANT_PACE``) and the handler throttles streamed
  snapshots to one per 50 ms (PROTOCOL section 4), so it cannot produce "20 updates per message"
  as fast as the server can store and emit them; ``BenchEngine`` flushes each update itself.
- ``ours-assistant``: the app as shipped, ``python -m director_desktop --headless`` (started by
  ``tests/live_server.py``) with the built-in assistant and ``DIRECTOR_ASSISTANT_PACE=0``: its
  real help reply, streamed and throttled. Measured in the reply variant only, for reference; its
  number of snapshots per turn is whatever the throttle lets through (printed).
- ``director``: Director's stack, ``bench/baselines/director_stack.py`` (Flask + Flask-SocketIO,
  threading mode, a new sqlite3 connection per operation, default journal mode).
- ``director-nodelay``: the same with TCP_NODELAY set on each connection (reply variant only).
  Director does not set it, and Werkzeug's websocket writes small frames: Nagle's algorithm then
  holds a frame until the client's delayed ACK (~40 ms on Linux). That delay is part of
  Director's stack as it runs; this column shows what the stack costs without it.
- ``node``: the reference, ``bench/baselines/node/server.js`` (socket.io 4 + better-sqlite3 12,
  one connection, WAL).
- ``python-bare``: the issue's "bare prototype", ``bench/baselines/socketio_bare.py``: server.js
  translated line for line to python-socketio under uvicorn with the app's settings, SQLite on
  the event loop as better-sqlite3 is on Node's thread, and nothing else (no store thread,
  validation, guard, logs, metrics or pending reply). ``python-bare / node`` is the floor that
  python-socketio and uvicorn set on this machine; ``ours / python-bare`` is what the app's
  guarantees cost on top of it.
- ``python-bare-thread``: the same bare server with its SQLite on one worker thread, each call
  awaited (``--store-thread``), as the app keeps its store off the event loop so that a slow,
  locked or full disk never stalls every client. ``python-bare-thread / python-bare`` is what
  that one guarantee costs any python-socketio server: two thread hand-offs per stored message.

The work per message (one "turn"), identical for ``ours``, ``director`` and ``node``: store the
input, emit it to the session's room, ack, then U output snapshots, each stored (taking the
session's next ``seq``) and then emitted to the room: first ``progress`` with the action
"Reasoning the message...", then U-2 updates that each append a piece of text, then the final
snapshot with status ``success`` (ours adds one snapshot of its own before these: the pending
reply, see "chat events per turn" below). Variants: **reply** U=2 (a progress snapshot and the
answer, as Director's handler does) and **stream** U=22 (20 streamed updates between them).

The load generator is Node (``bench/baselines/node/loadgen.js``, socket.io-client 4 over
websocket, the client the app's page uses): on 2 shared cores a python-socketio client costs
about as much CPU per message as the servers under test, so at 100 streaming clients it would
measure itself. By default each server is pinned to CPU 0 and the load generator to CPU 1
(``--no-pin`` to let the OS place them). Each client has its own session and runs turns one
after another (closed loop), each a new ``conv_id``.

What each printed number means:

- **ack**: ms from emitting ``chat`` to its ack. Director's stack acks when its handler returns,
  after the reply; the others ack once the input is stored.
- **first**: ms from emitting ``chat`` to the turn's first output snapshot (the progress one).
- **turn** (the round trip): ms from emitting ``chat`` until both the ack and the turn's final
  output snapshot (status not ``progress``) have arrived. The issue's "round trip p50/p99" is
  this number with one client in the reply variant.
- **msgs/s**: ``chat`` events delivered to clients per second of the load phase (input echoes
  plus output snapshots, 1+U per turn), counted at the clients; **turns/s** likewise for turns.
  The load phase lasts ``--duration`` seconds (no turn starts after it) plus the time the turns
  in flight need to finish.
- **server CPU ms per msg**: user+system CPU time of the server process (all its threads, from
  /proc/<pid>/stat) during the load phase, divided by the messages delivered. Unlike msgs/s it
  hardly moves when other programs share the machine: it is what one message costs the server.
- **lost**: snapshots the clients never received. Every stored change carries the session's
  ``metadata.seq`` 1, 2, 3..., and a client's turns run one after another, so a missing snapshot
  of a finished turn leaves a gap below that turn's final seq: lost = gaps below the highest seq
  a client saw, plus one for each turn whose final snapshot never came within the turn timeout
  (30 s; those are also counted as **late**). **dup** = seq values received twice.
- **chat events per turn**: ``chat`` events a client received per turn (1 input + the outputs).
  Ours is one more than the baselines': the handler stores the empty pending reply with the
  input (crash safety) and emits it, so per turn it stores and emits one snapshot more.
- **RSS**: VmRSS of the server process from /proc/<pid>/status, idle with no client and with N
  idle ``/chat`` connections (1,000; 200 with --quick). ``ours`` here is the shipped headless app.

Each measurement runs ``rounds`` times (3; 1 with --quick), the servers taking turns in a rotating
order. Round trips pool the samples of every round; for a load, the round with the median msgs/s
is shown, and lost/late/dup/errors add up over all rounds.

Ratios are printed against the targets of issue 3: round trip p50 within 1.5x of Node's and at
least 4x below Director's; at 100 streaming clients at least 3x Director's msgs/s and at least
half of Node's; zero lost messages. Nothing here is a test: it prints, it never asserts.
Every loop is bounded by a count or a duration and every wait by a deadline.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import re
import secrets
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from baselines.turn_work import REPLY  # the reply text every server writes

ROOT = Path(__file__).resolve().parent.parent
BASELINES = ROOT / "bench" / "baselines"
NODE_DIR = BASELINES / "node"
URL_LINE = re.compile(
    r"^Director Desktop at http://127\.0\.0\.1:(?P<port>\d+)/#token=(?P<token>\S+)$"
)
READY_LINE = re.compile(r"^READY (?P<port>\d+)$")
START_DEADLINE = 60.0
STOP_DEADLINE = 10.0
SERVER_CPU = 0
CLIENT_CPU = 1

# --------------------------------------------------------------------------------------------
# ours, with the bench engine: `chat_bench.py --serve-ours --updates U --data-dir D`
# --------------------------------------------------------------------------------------------


class BenchEngine:
    """An `Engine` writing the baselines' reply: U-2 text updates, each flushed (stored, then
    emitted) at once. The handler adds the first (progress) and the final snapshot."""

    provider = "bench"
    wants_history = False  # it never reads turn.history (nor do the baselines)

    def __init__(self, updates: int) -> None:
        self._pieces = updates - 2

    async def run(self, turn: Any) -> None:
        output = turn.output
        if self._pieces == 0:
            output.append_text(REPLY)
            return
        for i in range(self._pieces):
            start = (i * 8) % len(REPLY)
            output.append_text(REPLY[start : start + 8])
            await output.flush()

    def status(self) -> dict[str, Any]:
        return {"provider": self.provider, "model": None, "loaded": True, "error": None}

    @property
    def llm_configured(self) -> bool:
        return True

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None


def serve_ours(updates: int, data_dir: Path) -> int:
    """What `headless._serve` does, with `BenchEngine` as the engine."""
    import logging

    from director_desktop import logs
    from director_desktop.composition import build_library
    from director_desktop.engine.agents import default_registry
    from director_desktop.headless import url_line
    from director_desktop.server import Server
    from director_desktop.settings import build_settings
    from director_desktop.store import Store
    from director_desktop.user_settings import UserSettings
    from director_desktop.web.app import create_app

    settings = build_settings(
        data_dir=data_dir, log_dir=data_dir.parent / (data_dir.name + "-logs"), headless=True
    )
    setup = logs.configure(settings.log_dir, secrets=[settings.token], level=logging.INFO)
    server = Server.bind(settings.host, 0)
    settings = dataclasses.replace(settings, port=server.port)
    store = Store(settings.db_path, backups_dir=settings.backups_dir)
    app = create_app(
        settings,
        store,
        BenchEngine(updates),
        default_registry(),
        build_library(settings, store, UserSettings(settings.user_settings_path)),
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server.start(app)
    print(url_line(settings, server.port), flush=True)
    try:
        while not stop.wait(0.5) and server.running:
            pass
    finally:
        server.stop()
        setup.close()
    return 0


# --------------------------------------------------------------------------------------------
# processes
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class ServerProcess:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    token: str
    stop_fn: Callable[[], object] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.stop_fn is not None:
            self.stop_fn()
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None and not pipe.closed:
                pipe.close()


def first_line(
    process: subprocess.Popen[bytes],
    deadline: float,
    log_path: Path,
    pattern: re.Pattern[str] | None = None,
) -> str:
    """The first stdout line of the process (matching `pattern`, if given: Werkzeug prints a
    banner first), within `deadline` seconds, or an error with the process's stderr."""
    assert process.stdout is not None
    out = bytearray()
    end = time.monotonic() + deadline
    with selectors.DefaultSelector() as sel:
        sel.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < end:
            while b"\n" in out:
                raw, _, rest = bytes(out).partition(b"\n")
                out = bytearray(rest)
                line = raw.decode("utf-8", "replace").strip()
                if pattern is None or pattern.match(line):
                    return line
            if sel.select(timeout=max(0.0, end - time.monotonic())):
                chunk = os.read(process.stdout.fileno(), 65536)
                if not chunk:
                    break
                out.extend(chunk)
    process.kill()
    process.wait()
    tail = log_path.read_bytes()[-3000:].decode("utf-8", "replace") if log_path.exists() else ""
    raise RuntimeError(
        f"no ready line within {deadline} s; stdout: {bytes(out)[-500:]!r}; stderr: {tail}"
    )


def spawn(
    name: str, args: Sequence[str], workdir: Path, token: str, pattern: re.Pattern[str]
) -> ServerProcess:
    log_path = workdir / f"{name}-stderr.txt"
    env = {**os.environ, "BENCH_TOKEN": token, "PYTHONUNBUFFERED": "1"}
    with log_path.open("ab") as stderr:
        process = subprocess.Popen(
            list(args),
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
    line = first_line(process, START_DEADLINE, log_path, pattern)
    match = pattern.match(line)
    if match is None:
        process.kill()
        process.wait()
        raise RuntimeError(f"{name}: unexpected first line {line!r}")
    # Nobody reads stdout after the ready line: drain it so a chatty server never blocks on it.
    threading.Thread(target=drain, args=(process,), daemon=True).start()
    found = match.groupdict()
    return ServerProcess(name, process, int(found["port"]), found.get("token") or token)


def drain(process: subprocess.Popen[bytes]) -> None:
    assert process.stdout is not None
    with contextlib.suppress(OSError, ValueError):
        while os.read(process.stdout.fileno(), 65536):
            pass


def start_server(name: str, updates: int, workdir: Path) -> ServerProcess:
    workdir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    if name == "ours":
        args = [sys.executable, __file__, "--serve-ours", "--updates", str(updates)]
        args += ["--data-dir", str(workdir / "data")]
        return spawn(name, args, workdir, token, URL_LINE)
    if name == "ours-assistant":
        return start_shipped(workdir)
    if name in ("director", "director-nodelay"):
        script = BASELINES / "director_stack.py"
        args = [sys.executable, str(script), "--db", str(workdir / "director.db")]
        args += ["--updates", str(updates), *(["--nodelay"] if name == "director-nodelay" else [])]
        return spawn(name, args, workdir, token, READY_LINE)
    if name in ("python-bare", "python-bare-thread"):
        script = BASELINES / "socketio_bare.py"
        args = [sys.executable, str(script), "--db", str(workdir / f"{name}.db")]
        args += ["--updates", str(updates)]
        if name == "python-bare-thread":
            args.append("--store-thread")
        return spawn(name, args, workdir, token, READY_LINE)
    if name == "node":
        args = ["node", str(NODE_DIR / "server.js"), "--db", str(workdir / "node.db")]
        return spawn(name, [*args, "--updates", str(updates)], workdir, token, READY_LINE)
    raise ValueError(name)


def start_shipped(workdir: Path) -> ServerProcess:
    """The app as shipped: `python -m director_desktop --headless`, via tests/live_server.py."""
    sys.path.insert(0, str(ROOT))
    from tests.live_server import start_headless

    server = start_headless(workdir / "data", env={"DIRECTOR_ASSISTANT_PACE": "0"})
    return ServerProcess("ours-assistant", server.process, server.port, server.token, server.stop)


def pin(pid: int, cpu: int) -> None:
    """Pin every thread of a process (threads started later inherit it from their creator)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(ProcessLookupError):
            os.sched_setaffinity(int(task.name), {cpu})


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the whole process (every thread) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


# --------------------------------------------------------------------------------------------
# the load generator
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Options:
    quick: bool
    pinned: bool
    repeat: int | None = None

    @property
    def rounds(self) -> int:
        """Each measurement is repeated, the servers taking turns, to even out a busy machine."""
        return self.repeat or (1 if self.quick else 3)

    @property
    def latency_turns(self) -> int:
        return 60 if self.quick else 150

    @property
    def duration(self) -> float:
        return 2.0 if self.quick else 4.0

    @property
    def idle_clients(self) -> int:
        return 200 if self.quick else 1000


def loadgen_command(server: ServerProcess, mode: str, options: Options, *extra: str) -> list[str]:
    return ["node", str(NODE_DIR / "loadgen.js"), "--url", server.url, "--mode", mode, *extra]


def loadgen_env(server: ServerProcess) -> dict[str, str]:
    return {**os.environ, "BENCH_TOKEN": server.token}


def client_affinity(options: Options) -> Callable[[], None] | None:
    if not options.pinned:
        return None
    return lambda: os.sched_setaffinity(0, {CLIENT_CPU})


def run_loadgen(
    server: ServerProcess, mode: str, options: Options, *extra: str, timeout: float
) -> dict[str, Any]:
    completed = subprocess.run(
        loadgen_command(server, mode, options, *extra),
        env=loadgen_env(server),
        capture_output=True,
        timeout=timeout,
        preexec_fn=client_affinity(options),
        check=False,
    )
    for line in completed.stdout.decode().splitlines():
        if line.startswith("RESULT "):
            result: dict[str, Any] = json.loads(line[len("RESULT ") :])
            if "error" in result:
                raise RuntimeError(f"{server.name} {mode}: {result['error']}")
            return result
    raise RuntimeError(
        f"{server.name} {mode}: no result; stderr: {completed.stderr.decode()[-2000:]}"
    )


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def latency_round(server: ServerProcess, updates: int, options: Options) -> dict[str, Any]:
    # Director's stack needs ~0.5 s per streamed turn: fewer turns keep the run under 15 minutes.
    turns = options.latency_turns if updates <= 2 else options.latency_turns // 3
    return run_loadgen(
        server,
        "latency",
        options,
        "--turns",
        str(turns),
        "--warmup",
        "20",
        timeout=120 + turns,
    )


def combine_latency(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    samples = [s for r in rounds for s in r["samples"]]
    acks = [s[0] for s in samples]
    firsts = [s[1] for s in samples]
    turn_ms = [max(s[0], s[2]) for s in samples]
    started = sum(r["turns_started"] for r in rounds)
    return {
        "turns": len(samples),
        "ack_p50": percentile(acks, 50),
        "first_p50": percentile(firsts, 50),
        "first_p99": percentile(firsts, 99),
        "turn_p50": percentile(turn_ms, 50),
        "turn_p99": percentile(turn_ms, 99),
        "snapshots_per_turn": sum(r["events"] for r in rounds) / max(1, started),
        "lost": sum(r["lost"] for r in rounds),
        "turns_lost": sum(r["turns_lost"] for r in rounds),
    }


def measure_load(
    server: ServerProcess, updates: int, clients: int, options: Options
) -> dict[str, Any]:
    cpu_before = cpu_seconds(server.pid)
    raw = run_loadgen(
        server,
        "load",
        options,
        "--clients",
        str(clients),
        "--duration",
        str(options.duration),
        "--turn-timeout",
        "30",
        timeout=options.duration + 120,
    )
    cpu = cpu_seconds(server.pid) - cpu_before
    latencies = raw.pop("final_ms")
    elapsed = raw["elapsed_s"]
    return {
        **raw,
        "msgs_per_s": raw["events"] / elapsed,
        "turns_per_s": raw["turns_done"] / elapsed,
        "turn_p50": percentile(latencies, 50),
        "turn_p99": percentile(latencies, 99),
        "server_cpu_s": cpu,
        "cpu_ms_per_msg": 1000 * cpu / max(1, raw["events"]),
    }


def combine_loads(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The round with the median msgs/s stands for them all; losses add up over every round."""
    ordered = sorted(rounds, key=lambda r: r["msgs_per_s"])
    result = dict(ordered[len(ordered) // 2])
    for key in ("lost", "turns_lost", "duplicates", "errors", "disconnected"):
        result[key] = sum(r[key] for r in rounds)
    result["cpu_ms_per_msg"] = sorted(r["cpu_ms_per_msg"] for r in rounds)[len(rounds) // 2]
    result["msgs_per_s_rounds"] = [round(r["msgs_per_s"]) for r in rounds]
    return result


def measure_idle(server: ServerProcess, options: Options) -> dict[str, Any]:
    before = rss_mib(server.pid)
    clients = options.idle_clients
    process = subprocess.Popen(
        loadgen_command(server, "idle", options, "--clients", str(clients)),
        env=loadgen_env(server),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=client_affinity(options),
    )
    assert process.stdin is not None
    try:
        line = first_line(process, 120.0, Path("/nonexistent"))
        if not line.startswith("IDLE "):
            raise RuntimeError(f"{server.name} idle: {line}")
        connected = int(line.split()[1])
        # Let the server settle the burst of handshakes: sample until two readings agree.
        samples = [rss_mib(server.pid)]
        for _ in range(20):
            time.sleep(0.25)
            samples.append(rss_mib(server.pid))
            if abs(samples[-1] - samples[-2]) < 0.1:
                break
        during = samples[-1]
        process.stdin.write(b"close\n")
        process.stdin.flush()
        out, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    result = json.loads(out.decode().split("RESULT ", 1)[1])
    return {
        "connected": connected,
        "disconnected_while_idle": result.get("disconnected", 0),
        "rss_idle_mib": before,
        "rss_connected_mib": during,
        "kib_per_connection": (during - before) * 1024 / max(1, connected),
    }


# --------------------------------------------------------------------------------------------
# the run
# --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def servers(
    names: Sequence[str], updates: int, workdir: Path, options: Options
) -> Iterator[dict[str, ServerProcess]]:
    started: dict[str, ServerProcess] = {}
    try:
        for name in names:
            started[name] = start_server(name, updates, workdir / f"{name}-u{updates}")
            if options.pinned:
                pin(started[name].pid, SERVER_CPU)
        yield started
    finally:
        for server in started.values():
            with contextlib.suppress(Exception):
                server.stop()


def rotated(procs: dict[str, ServerProcess], index: int) -> list[tuple[str, ServerProcess]]:
    """The servers in a different order each round, so none always runs first or last."""
    items = list(procs.items())
    shift = index % len(items)
    return items[shift:] + items[:shift]


def say(text: str = "") -> None:
    print(text, flush=True)


SERVERS = (
    "ours",
    "ours-assistant",
    "director",
    "director-nodelay",
    "python-bare",
    "python-bare-thread",
    "node",
)
"""Every server the full run measures (the reply variant's round trip has them all)."""


def run(options: Options, workdir: Path, only: str | None = None) -> dict[str, Any]:
    """Every phase; `only="idle"` just the idle connections, `only="latency"` just the reply
    variant's 1-client round trip of ours, python-bare, python-bare-thread and node (a short run
    for one figure)."""
    report: dict[str, Any] = {"options": dataclasses.asdict(options), "variants": {}}
    plans: tuple[tuple[str, int, tuple[str, ...]], ...] = (
        ("reply", 2, SERVERS),
        ("stream", 22, ("ours", "director", "python-bare", "node")),
    )
    if only == "idle":
        plans = ()
    elif only == "latency":
        plans = (("reply", 2, ("ours", "python-bare", "python-bare-thread", "node")),)
    for variant, updates, names in plans:
        data: dict[str, Any] = {"updates": updates, "latency": {}, "load": {}}
        report["variants"][variant] = data
        with servers(names, updates, workdir, options) as procs:
            latency: dict[str, list[dict[str, Any]]] = {name: [] for name in procs}
            for index in range(options.rounds):
                for name, server in rotated(procs, index):
                    say(f"[{variant}] {name}: round trip, 1 client, round {index + 1}")
                    latency[name].append(latency_round(server, updates, options))
            data["latency"] = {name: combine_latency(r) for name, r in latency.items()}
            for clients in () if only == "latency" else (1, 10, 100):
                loads: dict[str, list[dict[str, Any]]] = {name: [] for name in procs}
                for index in range(options.rounds):
                    for name, server in rotated(procs, index):
                        say(f"[{variant}] {name}: {clients} clients, round {index + 1}")
                        loads[name].append(measure_load(server, updates, clients, options))
                data["load"][str(clients)] = {n: combine_loads(r) for n, r in loads.items()}
    report["idle"] = {}
    idle_names: tuple[str, ...] = ("ours-assistant", "director", "node")
    if only == "idle":  # issue 17's figure: against Node, and python-socketio's own floor
        idle_names = ("ours-assistant", "python-bare", "node")
    elif only == "latency":
        idle_names = ()
    for name in idle_names:
        say(f"[idle] {name}: RSS with {options.idle_clients} idle connections")
        with servers((name,), 2, workdir / "idle", options) as procs:
            label = "ours" if name == "ours-assistant" else name
            report["idle"][label] = measure_idle(procs[name], options)
    return report


# --------------------------------------------------------------------------------------------
# printing
# --------------------------------------------------------------------------------------------


def ratio(a: float, b: float) -> float:
    return a / b if b else float("inf")


def table(title: str, rows: Sequence[tuple[str, str]], columns: dict[str, dict[str, Any]]) -> None:
    names = list(columns)
    width = max(17, *(len(n) + 2 for n in names))
    say(title)
    say("  " + " " * 26 + "".join(f"{n:>{width}}" for n in names))
    for label, key in rows:
        cells = []
        for n in names:
            value = columns[n].get(key)
            cells.append(
                f"{value:>{width}.2f}" if isinstance(value, float) else f"{value!s:>{width}}"
            )
        say(f"  {label:<26}" + "".join(cells))
    say()


def verdict(value: float, ok: bool, target: str) -> str:
    return f"{value:6.2f}x  ({target}: {'met' if ok else 'MISSED'})"


def print_report(report: dict[str, Any]) -> None:
    say()
    say("=" * 100)
    say(
        "Director Desktop /chat benchmark: ours, Director's stack (Flask-SocketIO), bare "
        "python-socketio, Node socket.io"
    )
    say("(definitions of every number: the docstring of bench/chat_bench.py)")
    machine = report.get("machine", {})
    if machine:
        say(
            f"machine: {machine['cpus']} CPUs, servers pinned to CPU {SERVER_CPU} and the load "
            f"generator to CPU {CLIENT_CPU}: {machine['pinned']}; 1-minute load average "
            f"{machine['load_average_before']:.1f} before, {machine['load_average_after']:.1f} "
            f"after, {report['seconds']:.0f} s. A load average near or above the CPU count means "
            "other programs shared the cores: latencies then measure the scheduler as much as "
            "the servers; CPU ms per msg stays meaningful."
        )
    say("=" * 100)
    latency_rows = [
        ("ack p50 ms", "ack_p50"),
        ("first snapshot p50 ms", "first_p50"),
        ("first snapshot p99 ms", "first_p99"),
        ("turn (round trip) p50 ms", "turn_p50"),
        ("turn (round trip) p99 ms", "turn_p99"),
        ("chat events per turn", "snapshots_per_turn"),
        ("lost", "lost"),
    ]
    load_rows = [
        ("msgs/s", "msgs_per_s"),
        ("turns/s", "turns_per_s"),
        ("turn p50 ms (under load)", "turn_p50"),
        ("turn p99 ms (under load)", "turn_p99"),
        ("server CPU ms per msg", "cpu_ms_per_msg"),
        ("turns done", "turns_done"),
        ("lost", "lost"),
        ("late (turn timeout)", "turns_lost"),
        ("dup", "duplicates"),
        ("errors", "errors"),
    ]
    for variant, data in report["variants"].items():
        u = data["updates"]
        table(f"[{variant}, U={u}] round trip, 1 client", latency_rows, data["latency"])
        for clients, columns in data["load"].items():
            table(f"[{variant}, U={u}] load, {clients} concurrent clients", load_rows, columns)
    idle_rows = [
        ("connections", "connected"),
        ("RSS idle MiB", "rss_idle_mib"),
        ("RSS with connections MiB", "rss_connected_mib"),
        ("KiB per connection", "kib_per_connection"),
        ("dropped while idle", "disconnected_while_idle"),
    ]
    if report["idle"]:
        table("Idle connections", idle_rows, report["idle"])
    if "stream" in report["variants"]:
        print_ratios(report)
    else:
        print_partial_ratios(report)


def line(label: str, value: float, target: str = "", ok: bool | None = None) -> None:
    verdict = "" if ok is None else f"  ({target}: {'met' if ok else 'MISSED'})"
    say(f"  {label:<52}{value:8.2f}x{verdict}")


def print_ratios(report: dict[str, Any]) -> None:
    reply, stream = report["variants"]["reply"], report["variants"]["stream"]
    ours, node, director = (reply["latency"][n] for n in ("ours", "node", "director"))
    say("Ratios (ours = the real server stack with the bench engine; targets from issue 3)")
    p50 = ratio(ours["turn_p50"], node["turn_p50"])
    line("round trip p50, ours / node (reply)", p50, "target <= 1.5x", p50 <= 1.5)
    p50 = ratio(director["turn_p50"], ours["turn_p50"])
    line("round trip p50, director / ours (reply)", p50, "target >= 4x", p50 >= 4)
    if "director-nodelay" in reply["latency"]:
        nodelay = reply["latency"]["director-nodelay"]
        p50 = ratio(nodelay["turn_p50"], ours["turn_p50"])
        line("round trip p50, director-nodelay / ours (reply)", p50, "same target >= 4x", p50 >= 4)
    if "python-bare" in reply["latency"]:
        bare = reply["latency"]["python-bare"]
        line(
            "round trip p50, python-bare / node (the floor)",
            ratio(bare["turn_p50"], node["turn_p50"]),
        )
        line(
            "round trip p50, ours / python-bare (the app's cost)",
            ratio(ours["turn_p50"], bare["turn_p50"]),
        )
        print_thread_floor(reply["latency"])
    line("round trip p99, ours / node (reply)", ratio(ours["turn_p99"], node["turn_p99"]))
    line("round trip p99, director / ours (reply)", ratio(director["turn_p99"], ours["turn_p99"]))
    for variant, data in (("stream", stream), ("reply", reply)):
        for clients, columns in data["load"].items():
            rate = columns["ours"]["msgs_per_s"]
            vs_director = ratio(rate, columns["director"]["msgs_per_s"])
            vs_node = ratio(rate, columns["node"]["msgs_per_s"])
            heavy = variant == "stream" and clients == "100"
            label = f"{variant}, {clients} clients: msgs/s"
            line(
                f"{label}, ours / director",
                vs_director,
                "target >= 3x",
                vs_director >= 3 if heavy else None,
            )
            line(
                f"{label}, ours / node",
                vs_node,
                "target >= 0.5x",
                vs_node >= 0.5 if heavy else None,
            )
    heavy = stream["load"]["100"]
    for other in ("node", "python-bare", "director"):
        if other not in heavy:
            continue
        cpu = ratio(heavy["ours"]["cpu_ms_per_msg"], heavy[other]["cpu_ms_per_msg"])
        line(f"stream, 100 clients: server CPU per msg, ours / {other}", cpu)
        turns = ratio(heavy["ours"]["turns_per_s"], heavy[other]["turns_per_s"])
        line(f"stream, 100 clients: turns/s, ours / {other}", turns)
    lost = {
        name: sum(col["lost"] for data in report["variants"].values() for col in runs(data, name))
        for name in SERVERS
    }
    mark = "met" if lost["ours"] + lost["ours-assistant"] == 0 else "MISSED"
    say(f"  lost messages, all runs: {lost}  (target 0 for ours: {mark})")
    idle = report["idle"]
    count = idle["ours"]["connected"]
    for other in ("node", "director"):
        rss = ratio(idle["ours"]["rss_connected_mib"], idle[other]["rss_connected_mib"])
        line(f"RSS with {count} idle connections, ours / {other}", rss)


def print_partial_ratios(report: dict[str, Any]) -> None:
    """The ratios of a `--only` run (issue 17's two: RSS against Node's, the app's round-trip
    cost over python-bare's)."""
    say("Ratios (targets from issue 17)")
    reply = report["variants"].get("reply")
    if reply:
        ours, bare, node = (reply["latency"][n] for n in ("ours", "python-bare", "node"))
        cost = ratio(ours["turn_p50"], bare["turn_p50"])
        line("round trip p50, ours / python-bare", cost, "target <= 1.15x", cost <= 1.15)
        line(
            "round trip p50, python-bare / node (the floor)",
            ratio(bare["turn_p50"], node["turn_p50"]),
        )
        line("round trip p50, ours / node", ratio(ours["turn_p50"], node["turn_p50"]))
        print_thread_floor(reply["latency"])
    idle = report["idle"]
    if idle:
        count = idle["ours"]["connected"]
        rss = ratio(idle["ours"]["rss_connected_mib"], idle["node"]["rss_connected_mib"])
        line(f"RSS with {count} idle connections, ours / node", rss, "target <= 1.15x", rss <= 1.15)
        for other in ("python-bare", "director"):
            if other in idle:
                other_rss = ratio(
                    idle["ours"]["rss_connected_mib"], idle[other]["rss_connected_mib"]
                )
                line(f"RSS with {count} idle connections, ours / {other}", other_rss)


def print_thread_floor(latency: dict[str, dict[str, Any]]) -> None:
    """What keeping SQLite off the event loop costs a bare server (the floor under the app's
    round trip, which keeps it off too), and what the app costs beyond that."""
    if "python-bare-thread" not in latency:
        return
    ours, bare, threaded = (latency[n] for n in ("ours", "python-bare", "python-bare-thread"))
    floor = ratio(threaded["turn_p50"], bare["turn_p50"])
    line("round trip p50, python-bare-thread / python-bare", floor)
    if floor > 1.15:
        say("    (issue 17's target for ours / python-bare, <= 1.15x, sits below this floor)")
    line(
        "round trip p50, ours / python-bare-thread",
        ratio(ours["turn_p50"], threaded["turn_p50"]),
    )


def runs(data: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """Every measurement of one server in one variant (latency and each load)."""
    found = [data["latency"][name]] if name in data["latency"] else []
    return found + [columns[name] for columns in data["load"].values() if name in columns]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Director Desktop chat benchmark (see the module docstring)."
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="short runs (about a minute): a smoke test of the bench",
    )
    parser.add_argument(
        "--no-pin",
        action="store_true",
        help="don't pin servers to CPU 0 and the load generator to CPU 1",
    )
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument(
        "--only",
        choices=("idle", "latency"),
        help="one phase: RSS with idle connections, or the 1-client reply round trip",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        help="how many times each measurement is repeated, the servers taking turns (default 3)",
    )
    parser.add_argument("--serve-ours", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--updates", type=int, default=2, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_ours:
        return serve_ours(args.updates, args.data_dir)
    if not (NODE_DIR / "node_modules").is_dir():
        parser.error(f"run `npm ci` in {NODE_DIR} first (see bench/README.md)")
    pinned = not args.no_pin and len(os.sched_getaffinity(0)) >= 2
    options = Options(quick=args.quick, pinned=pinned, repeat=args.rounds)
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="chat-bench-") as tmp:
        report = run(options, Path(tmp), args.only)
    report["seconds"] = time.monotonic() - started
    report["machine"] = {
        "cpus": os.cpu_count(),
        "pinned": pinned,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg()[0],
    }
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
