"""The engine benchmark: tokens per second through the whole app against xllamacpp called
directly on the same model, and the time from sending a message to the first snapshot, in one run.

    .venv/bin/python bench/engine_bench.py [--turns 5] [--size tiny|small|both] [--json out.json]

For each model size a random-weight GGUF is written (no download; tests/fixtures/tiny_gguf.py)
whose end-of-turn token is never sampled, so every answer is exactly as long as the app's
answer budget (`reasoning.Limits.answer_budget`: a quarter of the 4096-token context, 1024 tokens),
on both sides:

- ``tiny``: the test suite's model (64-wide, 2 layers; thousands of tokens/s): the app's
  per-token overhead at its most visible.
- ``small``: 512-wide, 8 layers (~40 MB in F16): closer to the pace of a real local model.

**direct**: `xllamacpp.Server(...).handle_chat_completions(request, callback)` streaming on a
thread, in a worker process of its own (this script with `--direct-worker`), with exactly the
messages and tools the app sends (the reasoning loop's system prompt and agent tools), timed
from the call: first token and last token.

**app**: the shipped app, `python -m director_desktop --headless` (tests/live_server.py) with the
model chosen in its settings.json, driven by a python-socketio client over a websocket: `chat`
emitted, snapshots received. Timed from the emit to the first snapshot (the stored input echo),
the first snapshot carrying answer text, and the final snapshot. The answer's length in tokens
is taken from the direct runs (same model, same tokens per character).

Throughput: tokens / (last token - first token) — generation speed, prompt processing excluded,
the same window on both sides. Targets (issue 7): app ≥ 90% of direct, first token + < 20 ms.
Each side gets a warm-up turn first (the model's first call builds its compute graphs).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import socketio  # noqa: E402
import xllamacpp  # noqa: E402

from director_desktop.engine.agents import default_registry  # noqa: E402
from director_desktop.engine.reasoning import Limits, ReasoningLoop, user_text  # noqa: E402
from tests.fixtures.tiny_gguf import write_model  # noqa: E402
from tests.live_server import HeadlessServer, start_headless  # noqa: E402

SIZES = {
    "tiny": {},
    "small": {"n_embd": 512, "n_layer": 8, "n_head": 8, "n_ff": 1024, "f16": True},
}
PROMPT = "Tell me a long story about my videos."
CONTEXT = 4096  # the generated models' own context, which the app uses as is
WAIT = 900.0  # a 1024-token answer of the small model on a loaded 2-core machine


@dataclass
class Timing:
    first: float  # s from send to the first snapshot (app) / first chunk (direct)
    first_text: float  # s from send to the first answer text
    last_text: float  # s from send to the last answer text
    chars: int
    tokens: int | None = None


def system_messages() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The messages and tools the app's reasoning loop sends for PROMPT in a new chat."""
    loop = ReasoningLoop(provider=None, agents=default_registry(), store=None)  # type: ignore[arg-type]

    class _Input:
        text = PROMPT
        agents: list[str] = []
        collection_id = video_id = None

    class _Turn:
        input = _Input()

    turn: Any = _Turn()
    messages = [
        {"role": "system", "content": loop.system_prompt(turn)},
        {"role": "user", "content": user_text(turn)},
    ]
    return messages, loop.tools()


def direct_turn(server: Any, tokens: int) -> Timing:
    messages, tools = system_messages()
    request = {"messages": messages, "tools": tools, "stream": True, "max_tokens": tokens}
    marks: dict[str, float] = {}
    chars = [0]
    count = [0]
    start = time.perf_counter()

    def on_chunk(chunk: Any) -> bool:
        now = time.perf_counter()
        marks.setdefault("first", now)
        for choice in chunk.get("choices") or []:
            content = (choice.get("delta") or {}).get("content")
            if content:
                marks.setdefault("first_text", now)
                marks["last_text"] = now
                chars[0] += len(content)
                count[0] += 1
        return False

    worker = threading.Thread(target=server.handle_chat_completions, args=(request, on_chunk))
    worker.start()
    worker.join()
    return Timing(
        marks["first"] - start,
        marks["first_text"] - start,
        marks["last_text"] - start,
        chars[0],
        count[0],
    )


class DirectWorker:
    """xllamacpp called directly, in a process of its own with nothing else in it (no client
    threads), driven turn by turn over stdin/stdout so its turns interleave with the app's."""

    def __init__(self, model: Path, tokens: int) -> None:
        command = [sys.executable, __file__, "--direct-worker", str(model), str(tokens)]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        assert self.process.stdin is not None
        self._out, self._in = self.process.stdout, self.process.stdin
        if self._out.readline().strip() != "ready":
            raise RuntimeError("the direct worker did not start")

    def turn(self) -> Timing:
        self._in.write("go\n")
        self._in.flush()
        line = self._out.readline()
        if not line:
            raise RuntimeError("the direct worker died")
        return Timing(**json.loads(line))

    def close(self) -> None:
        self._in.close()
        self.process.wait(timeout=30)


def direct_worker(model: str, tokens: int) -> int:
    server = direct_server(Path(model))
    print("ready", flush=True)
    for _line in sys.stdin:
        print(json.dumps(asdict(direct_turn(server, tokens))), flush=True)
    return 0


class AppClient:
    def __init__(self, app: HeadlessServer) -> None:
        self.sio = socketio.Client(reconnection=False)
        self._cond = threading.Condition()
        self._events: list[tuple[float, dict[str, Any]]] = []
        self.sio.on("chat", self._on_chat, namespace="/chat")
        self.sio.connect(
            app.base_url, auth={"token": app.token}, namespaces=["/chat"], transports=["websocket"]
        )

    def _on_chat(self, data: dict[str, Any]) -> None:
        with self._cond:
            self._events.append((time.perf_counter(), data))
            self._cond.notify_all()

    def turn(self) -> Timing:
        with self._cond:
            self._events.clear()
        payload = {
            "content": [{"type": "text", "text": PROMPT}],
            "session_id": str(uuid.uuid4()),
            "conv_id": str(uuid.uuid4()),
        }
        start = time.perf_counter()
        self.sio.emit("chat", payload, namespace="/chat")
        with self._cond:
            ok = self._cond.wait_for(
                lambda: any(
                    e.get("msg_type") == "output" and e.get("status") != "progress"
                    for _, e in self._events
                ),
                WAIT,
            )
            events = list(self._events)
        if not ok:
            raise RuntimeError("the app's turn did not finish in time")
        final = next(
            e for _, e in events if e.get("msg_type") == "output" and e["status"] != "progress"
        )
        if final["status"] != "success":
            raise RuntimeError(f"the app's turn ended {final['status']}: {final['content']}")
        with_text = [(t, answer(e)) for t, e in events if answer(e)]
        return Timing(
            first=events[0][0] - start,
            first_text=with_text[0][0] - start,
            last_text=with_text[-1][0] - start,
            chars=len(answer(final)),
        )

    def close(self) -> None:
        self.sio.disconnect()


def answer(message: dict[str, Any]) -> str:
    for item in message.get("content") or []:
        if item.get("type") == "text" and item.get("agent_name") == "assistant":
            return str(item.get("text") or "")
    return ""


def direct_server(path: Path) -> Any:
    params = xllamacpp.CommonParams()
    params.model.path = str(path)
    params.n_ctx = CONTEXT
    params.n_parallel = 1
    params.use_jinja = True
    params.warmup = False
    params.verbosity = -1
    params.api_keys = [uuid.uuid4().hex]
    return xllamacpp.Server(params)


def start_app(workdir: Path, model: Path) -> HeadlessServer:
    data = workdir / "data"
    (data / "models").mkdir(parents=True)
    (data / "models" / model.name).symlink_to(model)
    (data / "settings.json").write_text(
        json.dumps({"llm": {"provider": "embedded", "model": model.name}})
    )
    app = start_headless(data)
    deadline = time.monotonic() + WAIT
    with httpx.Client(base_url=app.base_url, headers=app.auth_headers) as http:
        while http.get("/config/models/status").json()["state"] != "ready":
            if time.monotonic() > deadline:
                raise RuntimeError("the app's model did not load")
            time.sleep(0.05)  # a readiness poll with a deadline, not a race
    return app


def rates(timings: list[Timing], tokens_per_char: float) -> list[float]:
    return [
        t.chars * tokens_per_char / (t.last_text - t.first_text)
        for t in timings
        if t.last_text > t.first_text
    ]


def tokens_per_second(timings: list[Timing], tokens_per_char: float) -> float:
    return statistics.median(rates(timings, tokens_per_char))


def spread(timings: list[Timing], tokens_per_char: float) -> list[int]:
    """Slowest and fastest turn: on a shared machine the spread says how far to trust a median."""
    values = rates(timings, tokens_per_char)
    return [round(min(values)), round(max(values))]


def ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def bench(size: str, turns: int, tokens: int, workdir: Path) -> dict[str, Any]:
    workdir.mkdir(parents=True)
    model = workdir / f"{size}.gguf"
    write_model(str(model), eos_bias=-30.0, **SIZES[size])  # type: ignore[arg-type]
    worker = DirectWorker(model, tokens)
    app = start_app(workdir / "app", model)
    client = AppClient(app)
    try:
        worker.turn()  # warm-up
        client.turn()
        direct: list[Timing] = []
        through_app: list[Timing] = []
        for _ in range(turns):  # interleaved, so drift in machine load hits both sides alike
            direct.append(worker.turn())
            through_app.append(client.turn())
    finally:
        client.close()
        app.stop()
        worker.close()
    per_char = statistics.median(t.tokens / t.chars for t in direct if t.tokens and t.chars)
    direct_rate = tokens_per_second(direct, per_char)
    app_rate = tokens_per_second(through_app, per_char)
    return {
        "size": size,
        "model_mib": round(model.stat().st_size / 2**20, 1),
        "tokens": tokens,
        "turns": turns,
        "direct_tok_s": round(direct_rate),
        "app_tok_s": round(app_rate),
        "ratio": round(app_rate / direct_rate, 3),
        "direct_tok_s_range": spread(direct, per_char),
        "app_tok_s_range": spread(through_app, per_char),
        "direct_first_token_ms": round(ms([t.first_text for t in direct]), 1),
        "app_first_snapshot_ms": round(ms([t.first for t in through_app]), 1),
        "app_first_token_ms": round(ms([t.first_text for t in through_app]), 1),
        "added_first_token_ms": round(
            ms([t.first_text for t in through_app]) - ms([t.first_text for t in direct]), 1
        ),
        "app_chars_per_turn": statistics.median(t.chars for t in through_app),
        "direct_chars_per_turn": statistics.median(t.chars for t in direct),
    }


# --- model downloads (issue 14) ---------------------------------------------------------------
DOWNLOAD_MODEL = {"n_embd": 1024, "n_layer": 12, "n_head": 8, "n_ff": 2048, "f16": True}
# The baseline: a plain httpx stream of the file (following the hub's redirect) written to disk
# and hashed, timed from the request to the file closed. Prints "<seconds> <sha256>".
PLAIN_DOWNLOAD = """
import hashlib, sys, time
import httpx
began = time.perf_counter()
digest = hashlib.sha256()
with httpx.Client(follow_redirects=True, timeout=60) as client, client.stream(
    "GET", sys.argv[1]
) as response, open(sys.argv[2], "wb") as out:
    for chunk in response.iter_bytes():
        out.write(chunk)
        digest.update(chunk)
print(time.perf_counter() - began, digest.hexdigest())
"""


def download_bench(workdir: Path, rounds: int) -> dict[str, Any]:
    """Download throughput through the app (`POST /config/models/downloads`, a `download` job:
    range requests, staging, SHA-256, GGUF check, the move into the models folder) against a
    plain `httpx` stream of the same file from the same local hub double (following the same
    redirect, writing the file and hashing it, as any correct download must). Timed from the
    request to the job's `done` (polled every 0.1 s) / to the file closed. Rounds interleave."""
    import hashlib

    from tests.fixtures.hub_double import hub_double

    workdir.mkdir(parents=True)
    model = workdir / "bench-model-f16.gguf"
    write_model(str(model), **DOWNLOAD_MODEL)  # type: ignore[arg-type]
    data = model.read_bytes()
    repo = "bench/Bench-GGUF"
    app_s: list[float] = []
    plain_s: list[float] = []
    with hub_double() as hub:
        hub.add(repo, model.name, data)
        url = f"{hub.endpoint}/{repo}/resolve/main/{model.name}"
        server = start_headless(workdir / "data", env={"HF_ENDPOINT": hub.endpoint})
        try:
            http = httpx.Client(base_url=server.base_url, headers=server.auth_headers, timeout=60)
            for i in range(rounds):
                target = workdir / f"plain-{i}.gguf"
                # In a process of its own, as the app is: in this one it would share the GIL
                # with the hub double's threads.
                done = subprocess.run(
                    [sys.executable, "-c", PLAIN_DOWNLOAD, url, str(target)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                seconds, digest = done.stdout.split()
                plain_s.append(float(seconds))
                assert digest == hashlib.sha256(data).hexdigest()
                target.unlink()

                began = time.perf_counter()
                job = http.post(
                    "/config/models/downloads", json={"repo": repo, "file": model.name}
                ).json()
                while job["status"] not in ("done", "error", "cancelled"):
                    time.sleep(0.1)  # at most 0.1 s late on a ~10 s download; polling
                    # faster loads the app's own loop and slows what is measured
                    job = next(j for j in http.get("/jobs").json() if j["id"] == job["id"])
                app_s.append(time.perf_counter() - began)
                assert job["status"] == "done", job
                http.delete(f"/config/models/files/{job['result']['model']}")
            http.close()
        finally:
            server.stop()
    mb = len(data) / 1e6
    plain_rate, app_rate = mb / statistics.median(plain_s), mb / statistics.median(app_s)
    return {
        "file_mb": round(mb, 1),
        "plain_mb_s": round(plain_rate, 1),
        "app_mb_s": round(app_rate, 1),
        "ratio": round(app_rate / plain_rate, 3),
        "plain_s": [round(t, 3) for t in plain_s],
        "app_s": [round(t, 3) for t in app_s],
    }


# --- a model of a real small model's shape (issue 14) -----------------------------------------
# Qwen2.5-0.5B-Instruct's layer shape (896 wide, 14 query heads, 2 KV heads, 4864 FFN) with 32
# layers instead of 24: the test vocabulary has 267 tokens, not 151,936, so the 136M parameters
# of a real model's (tied) embedding/output matrix are made up in layers: ~0.48B parameters,
# Q8_0 like the files users download, ~0.5 GB, so each token costs what it costs a user.
REAL_SHAPE = {"n_embd": 896, "n_layer": 32, "n_head": 14, "n_head_kv": 2, "n_ff": 4864}
REAL_TOKENS = 256  # each answer, both sides (the app's `max_tokens` model setting)


def write_real_small_model(workdir: Path) -> tuple[Path, int]:
    """The REAL_SHAPE model in Q8_0: written in F16 by the test generator, then every 2-D weight
    quantized with gguf-py's reference Q8_0 (what llama.cpp's quantizer writes for Q8_0).
    Returns the file and its parameter count."""
    import gguf
    import numpy as np
    from gguf import quants

    f16 = workdir / "real-f16.gguf"
    write_model(str(f16), eos_bias=-30.0, f16=True, **REAL_SHAPE)  # type: ignore[arg-type]
    reader = gguf.GGUFReader(f16)
    out = workdir / "real-q8_0.gguf"
    writer = gguf.GGUFWriter(out, arch="llama")
    for field in reader.fields.values():
        if field.name.startswith("GGUF.") or field.name == "general.architecture":
            continue
        if field.name == "general.file_type":
            writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0)
            continue
        sub_type = field.types[-1] if field.types[0] == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), field.types[0], sub_type)
    q8 = gguf.GGMLQuantizationType.Q8_0
    params = sum(int(np.prod(t.shape)) for t in reader.tensors)
    for tensor in reader.tensors:
        data = np.asarray(tensor.data)
        if data.ndim == 2:
            packed = quants.quantize(data.astype(np.float32), q8)
            writer.add_tensor(tensor.name, packed, raw_dtype=q8)
        else:
            writer.add_tensor(tensor.name, data.astype(np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    f16.unlink()
    return out, params


def real_model_bench(workdir: Path, turns: int) -> dict[str, Any]:
    """Tokens per second through the app against xllamacpp direct on the REAL_SHAPE model, the
    answer capped at REAL_TOKENS on both sides (the app through its `max_tokens` model setting in
    settings.json, which the benchmark thereby also exercises). Turns interleave; a warm-up turn
    each first."""
    workdir.mkdir(parents=True)
    model, params = write_real_small_model(workdir)
    worker = DirectWorker(model, REAL_TOKENS)
    data = workdir / "app" / "data"
    (data / "models").mkdir(parents=True)
    (data / "models" / model.name).symlink_to(model)
    settings = {
        "llm": {"provider": "embedded", "model": model.name},
        "model_params": {"max_tokens": REAL_TOKENS},
    }
    (data / "settings.json").write_text(json.dumps(settings))
    app = start_headless(data)
    # Loading half a gigabyte keeps the app's event loop busy for seconds on this machine (see
    # the issue note), so the readiness poll waits as long as the load may take.
    deadline = time.monotonic() + WAIT
    with httpx.Client(base_url=app.base_url, headers=app.auth_headers, timeout=WAIT) as http:
        while http.get("/config/models/status").json()["state"] != "ready":
            if time.monotonic() > deadline:
                raise RuntimeError("the app's model did not load")
            time.sleep(0.05)  # a readiness poll with a deadline, not a race
    client = AppClient(app)
    try:
        worker.turn()
        client.turn()
        direct: list[Timing] = []
        through_app: list[Timing] = []
        for _ in range(turns):
            direct.append(worker.turn())
            through_app.append(client.turn())
    finally:
        client.close()
        app.stop()
        worker.close()
    per_char = statistics.median(t.tokens / t.chars for t in direct if t.tokens and t.chars)
    direct_rate = tokens_per_second(direct, per_char)
    app_rate = tokens_per_second(through_app, per_char)
    return {
        "size": "real-0.5b-q8_0",
        "params_m": round(params / 1e6),
        "model_mib": round(model.stat().st_size / 2**20, 1),
        "tokens": REAL_TOKENS,
        "turns": turns,
        "direct_tok_s": round(direct_rate, 1),
        "app_tok_s": round(app_rate, 1),
        "ratio": round(app_rate / direct_rate, 3),
        "direct_tok_s_range": spread(direct, per_char),
        "app_tok_s_range": spread(through_app, per_char),
        "app_chars_per_turn": statistics.median(t.chars for t in through_app),
        "direct_chars_per_turn": statistics.median(t.chars for t in direct),
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--direct-worker"]:
        return direct_worker(argv[1], int(argv[2]))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--size", choices=[*SIZES, "both"], default="both")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--download-only", action="store_true", help="only the model download throughput"
    )
    parser.add_argument(
        "--real-only", action="store_true", help="only the ~0.5B Q8_0 model's tokens/s"
    )
    args = parser.parse_args(argv)
    sizes = list(SIZES) if args.size == "both" else [args.size]
    results = []
    with tempfile.TemporaryDirectory(prefix="engine-bench-") as tmp:
        if not args.download_only:
            real = real_model_bench(Path(tmp) / "real", max(args.turns, 3))
            results.append(real)
            print(
                f"real-shaped {real['params_m']}M params Q8_0 ({real['model_mib']} MiB), "
                f"{real['tokens']} tokens: direct {real['direct_tok_s']} tok/s "
                f"{real['direct_tok_s_range']}, app {real['app_tok_s']} tok/s "
                f"{real['app_tok_s_range']}, ratio {real['ratio']:.3f} (target >= 0.97)",
                flush=True,
            )
            if args.real_only:
                if args.json:
                    args.json.write_text(json.dumps(results, indent=2))
                return 0
        download = download_bench(Path(tmp) / "download", max(args.turns, 3))
        print(
            f"download ({download['file_mb']} MB from the local hub double): plain httpx "
            f"{download['plain_mb_s']} MB/s, app {download['app_mb_s']} MB/s, "
            f"ratio {download['ratio']:.2f} (target >= 0.90)",
            flush=True,
        )
        results.append({"download": download})
        for size in [] if args.download_only else sizes:
            result = bench(size, args.turns, Limits().answer_budget(CONTEXT), Path(tmp) / size)
            results.append(result)
            print(
                f"{size:>5} ({result['model_mib']} MiB): "
                f"direct {result['direct_tok_s']} tok/s {result['direct_tok_s_range']}, "
                f"app {result['app_tok_s']} tok/s {result['app_tok_s_range']}, "
                f"ratio {result['ratio']:.2f} (target >= 0.90); "
                f"first token direct {result['direct_first_token_ms']} ms, "
                f"app {result['app_first_token_ms']} ms "
                f"(+{result['added_first_token_ms']} ms, target < 20); "
                f"send -> first snapshot {result['app_first_snapshot_ms']} ms",
                flush=True,
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
