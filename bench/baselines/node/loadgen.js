// The load generator of bench/chat_bench.py: socket.io-client 4.x (the client the app's page
// uses) over websocket, on /chat with auth {token}. One process drives every client; it prints
// one JSON result on stdout. Every loop is bounded by a turn count or a duration, and every wait
// by a deadline, so it always ends by itself.
//
//   node loadgen.js --url URL --mode latency --turns N [--warmup W]
//   node loadgen.js --url URL --mode load --clients C --duration S [--per-turn K]
//   node loadgen.js --url URL --mode idle --clients C      (holds them until stdin says "close")
//
// The token comes from the BENCH_TOKEN environment variable (never the command line).
//
// A turn: emit `chat` {content:[{type:"text",text}], session_id, conv_id, msg_id} and wait for
// the ack and the turn's final output snapshot (msg_type "output", status not "progress").
// Each client has its own session; its turns run one after another (closed loop), each with a
// new conv_id. Times, from the emit: ack, first output snapshot, final output snapshot.
// Lost (the bench uses the first rule): every snapshot carries the session's metadata.seq (1, 2, 3... per session); a missing
// seq value is a lost message. With --per-turn K (1 input + K-1 outputs known in advance) the
// expected count is turns x K; otherwise gaps below the highest seq seen, plus any turn whose
// final snapshot never came.
"use strict";

const { io } = require("socket.io-client");
const { performance } = require("node:perf_hooks");
const readline = require("node:readline");

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const url = arg("--url");
const mode = arg("--mode", "latency");
const clients = Number(arg("--clients", "1"));
const turns = Number(arg("--turns", "200"));
const warmup = Number(arg("--warmup", "20"));
const duration = Number(arg("--duration", "5")) * 1000;
const perTurn = Number(arg("--per-turn", "0"));
const turnTimeout = Number(arg("--turn-timeout", "15")) * 1000;
const connectTimeout = Number(arg("--connect-timeout", "60")) * 1000;
const token = process.env.BENCH_TOKEN || "";
const runId = `${process.pid}-${Date.now()}`;
const TEXT = "Hello! What can you do for me today?";

function connect() {
  return new Promise((resolve, reject) => {
    const socket = io(`${url}/chat`, {
      transports: ["websocket"],
      auth: (cb) => cb({ token }),
      reconnection: false,
      forceNew: true,
      timeout: connectTimeout,
    });
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error("connect timeout"));
    }, connectTimeout);
    socket.once("connect", () => { clearTimeout(timer); resolve(socket); });
    socket.once("connect_error", (err) => {
      clearTimeout(timer);
      socket.close();
      reject(err);
    });
  });
}

class Client {
  constructor(index) {
    this.sessionId = `bench-${runId}-${index}`;
    this.seqs = new Set();
    this.duplicates = 0;
    this.events = 0;
    this.turnsStarted = 0;
    this.turnsDone = 0;
    this.turnsLost = 0;
    this.errors = 0;
    this.samples = []; // [ack, first, final] ms
    this.current = null;
    this.disconnected = false;
  }

  async open() {
    this.socket = await connect();
    this.socket.on("chat", (m) => this.onChat(m));
    this.socket.on("disconnect", () => { this.disconnected = true; });
  }

  onChat(m) {
    this.events++;
    const seq = m && m.metadata && m.metadata.seq;
    if (typeof seq === "number") {
      if (this.seqs.has(seq)) this.duplicates++;
      else this.seqs.add(seq);
    } else if (m && m.status === "error") {
      this.errors++;
    }
    const t = this.current;
    if (!t || !m || m.conv_id !== t.convId || m.msg_type !== "output") return;
    const now = performance.now();
    if (t.first === null) t.first = now - t.start;
    if (m.status !== "progress") {
      t.final = now - t.start;
      t.maybeDone();
    }
  }

  turn(n) {
    return new Promise((resolve) => {
      const convId = `c${n}`;
      const t = { convId, start: performance.now(), ack: null, first: null, final: null };
      let settled = false;
      const finish = (ok) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.current = null;
        if (ok) {
          this.turnsDone++;
          this.samples.push([t.ack, t.first, t.final]);
        } else {
          this.turnsLost++;
        }
        resolve(ok);
      };
      t.maybeDone = () => { if (t.ack !== null && t.final !== null) finish(true); };
      const timer = setTimeout(() => finish(false), turnTimeout);
      this.current = t;
      this.turnsStarted++;
      this.socket.emit(
        "chat",
        { content: [{ type: "text", text: TEXT }], session_id: this.sessionId,
          conv_id: convId, msg_id: `m${n}` },
        (ack) => {
          if (!ack || ack.ok !== true) { this.errors++; finish(false); return; }
          t.ack = performance.now() - t.start;
          t.maybeDone();
        }
      );
    });
  }

  lost() {
    if (perTurn > 0) return Math.max(0, this.turnsStarted * perTurn - this.seqs.size);
    let top = 0;
    for (const s of this.seqs) top = Math.max(top, s);
    return top - this.seqs.size + this.turnsLost;
  }

  close() {
    if (this.socket) this.socket.close();
  }
}

async function openAll(n) {
  const all = [];
  const batch = 50; // connect in small batches: a burst of 1,000 handshakes is a different test
  for (let i = 0; i < n; i += batch) {
    const group = [];
    for (let j = i; j < Math.min(n, i + batch); j++) {
      const c = new Client(j);
      all.push(c);
      group.push(c.open());
    }
    await Promise.all(group);
  }
  return all;
}

function summary(all, elapsedMs) {
  const sum = (f) => all.reduce((acc, c) => acc + f(c), 0);
  return {
    clients: all.length,
    elapsed_s: elapsedMs / 1000,
    turns_started: sum((c) => c.turnsStarted),
    turns_done: sum((c) => c.turnsDone),
    turns_lost: sum((c) => c.turnsLost),
    events: sum((c) => c.events),
    distinct_seqs: sum((c) => c.seqs.size),
    duplicates: sum((c) => c.duplicates),
    lost: sum((c) => c.lost()),
    errors: sum((c) => c.errors),
    disconnected: sum((c) => (c.disconnected ? 1 : 0)),
  };
}

async function latency() {
  const [c] = await openAll(1);
  for (let i = 0; i < warmup; i++) await c.turn(i);
  c.samples = [];
  const t0 = performance.now();
  for (let i = warmup; i < warmup + turns; i++) await c.turn(i);
  const result = summary([c], performance.now() - t0);
  result.samples = c.samples;
  c.close();
  return result;
}

async function load() {
  const all = await openAll(clients);
  const t0 = performance.now();
  const end = t0 + duration;
  await Promise.all(all.map(async (c) => {
    let n = 0;
    while (performance.now() < end) {
      const ok = await c.turn(n++);
      if (!ok && c.disconnected) break;
    }
  }));
  const elapsed = performance.now() - t0;
  // Late snapshots of lost turns still count if they arrive within a short grace period.
  await new Promise((r) => setTimeout(r, 200));
  const result = summary(all, elapsed);
  const lat = all.flatMap((c) => c.samples.map((s) => s[2]));
  result.final_ms = lat;
  all.forEach((c) => c.close());
  return result;
}

async function idle() {
  const t0 = performance.now();
  const all = await openAll(clients);
  process.stdout.write(`IDLE ${all.length} ${((performance.now() - t0) / 1000).toFixed(2)}\n`);
  const rl = readline.createInterface({ input: process.stdin });
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, 120000); // bounded: never hold sockets forever
    rl.on("line", (line) => { if (line.trim() === "close") { clearTimeout(timer); resolve(); } });
    rl.on("close", () => { clearTimeout(timer); resolve(); });
  });
  const result = summary(all, performance.now() - t0);
  all.forEach((c) => c.close());
  rl.close();
  return result;
}

const modes = { latency, load, idle };
if (!url || !modes[mode]) {
  console.error("usage: node loadgen.js --url URL --mode latency|load|idle [options]");
  process.exit(2);
}
modes[mode]()
  // Exit only once the result is written: a pipe write is asynchronous in Node, and exiting
  // earlier cuts a long result at 64 KiB.
  .then((result) => {
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`, () => process.exit(0));
  })
  .catch((err) => {
    const error = String((err && err.message) || err);
    process.stdout.write(`RESULT ${JSON.stringify({ error })}\n`, () => process.exit(1));
  });
