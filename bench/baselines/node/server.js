// The reference baseline of bench/chat_bench.py: a Node.js socket.io server doing, per chat
// message, the same work as Director Desktop's /chat namespace (PROTOCOL sections 2-4):
//
//   store the input (SQLite, better-sqlite3), emit it to the session's room, ack,
//   then UPDATES output snapshots, each stored (taking the session's next seq) and then emitted
//   to the room: the first one "progress" with the action "Reasoning the message...", the
//   middle ones appending a piece of text, the last one with status "success".
//
// SQLite as the app keeps it: one connection, WAL, synchronous=NORMAL, one row per message
// replaced on every snapshot. Auth as the app's: the CONNECT must carry auth.token.
//
//   node server.js --db PATH --updates N [--port 0]
//
// Prints "READY <port>" once listening; exits on SIGTERM/SIGINT or when stdin closes.
"use strict";

const http = require("node:http");
const { setImmediate: yieldToLoop } = require("node:timers/promises");
const { Server } = require("socket.io");
const Database = require("better-sqlite3");

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const dbPath = arg("--db");
const updates = Number(arg("--updates", "2"));
const port = Number(arg("--port", "0"));
const token = process.env.BENCH_TOKEN || "";
if (!dbPath || !(updates >= 2)) {
  console.error("usage: node server.js --db PATH --updates N (N >= 2) [--port P]");
  process.exit(2);
}

const db = new Database(dbPath);
db.pragma("journal_mode = WAL");
db.pragma("synchronous = NORMAL");
db.exec(`
  CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT PRIMARY KEY, name TEXT, created_at INTEGER, updated_at INTEGER, last_seq INTEGER);
  CREATE TABLE IF NOT EXISTS messages (
    session_id TEXT, msg_id TEXT, conv_id TEXT, msg_type TEXT, status TEXT, seq INTEGER,
    body TEXT, PRIMARY KEY (session_id, msg_id));
`);
const insertSession = db.prepare(
  "INSERT OR IGNORE INTO sessions VALUES (?, ?, ?, ?, 0)"
);
const bumpSeq = db.prepare(
  "UPDATE sessions SET last_seq = last_seq + 1, updated_at = ? WHERE session_id = ? RETURNING last_seq"
);
const putMessage = db.prepare(
  "INSERT OR REPLACE INTO messages VALUES (?, ?, ?, ?, ?, ?, ?)"
);

// One transaction per stored change: the next seq of the session, then the message row.
const store = db.transaction((message) => {
  const now = Math.floor(Date.now() / 1000);
  const { last_seq: seq } = bumpSeq.get(now, message.session_id);
  message.metadata = { ...message.metadata, seq, timestamp: new Date().toISOString() };
  putMessage.run(
    message.session_id, message.msg_id, message.conv_id, message.msg_type, message.status,
    seq, JSON.stringify(message)
  );
  return message;
});

const REPLY = "Here is a reply of a comparable size, streamed a few words at a time so that " +
  "every piece is one stored and emitted snapshot of the output message. ";

function snapshot(out) {
  return JSON.parse(JSON.stringify(out));
}

const server = http.createServer();
const io = new Server(server, { maxHttpBufferSize: 4 * 1024 * 1024, serveClient: false });
const chat = io.of("/chat");
chat.use((socket, next) => {
  if (socket.handshake.auth && socket.handshake.auth.token === token) return next();
  next(new Error("unauthorized"));
});

chat.on("connection", (socket) => {
  socket.on("chat", async (payload, ack) => {
    const reply = typeof ack === "function" ? ack : () => {};
    if (!payload || !Array.isArray(payload.content) || !payload.session_id) {
      reply({ ok: false, error: { code: "invalid_payload", message: "content is required" } });
      return;
    }
    const { session_id, conv_id, msg_id } = payload;
    const room = `session:${session_id}`;
    const now = Math.floor(Date.now() / 1000);
    const text = payload.content.map((c) => c.text || "").join(" ");
    insertSession.run(session_id, text.slice(0, 60), now, now);
    const input = store({
      session_id, conv_id, msg_id, msg_type: "input", status: "success", actions: [],
      agents: [], content: payload.content, metadata: {},
    });
    socket.join(room);
    chat.to(room).emit("chat", input);
    const outId = `${msg_id}.out`;
    reply({ ok: true, data: { session_id, conv_id, msg_id, output_msg_id: outId } });

    const out = {
      session_id, conv_id, msg_id: outId, msg_type: "output", status: "progress",
      actions: ["Reasoning the message..."], agents: [],
      content: [], metadata: {},
    };
    chat.to(room).emit("chat", store(snapshot(out)));
    out.content.push({ type: "text", status: "progress", status_message: null,
      agent_name: "assistant", text: "" });
    const pieces = updates - 2;
    for (let i = 0; i < pieces; i++) {
      await yieldToLoop(); // a stream yields between pieces, as the Python engines do
      out.content[0].text += REPLY.slice((i * 8) % REPLY.length, ((i * 8) % REPLY.length) + 8);
      chat.to(room).emit("chat", store(snapshot(out)));
    }
    await yieldToLoop();
    if (pieces === 0) out.content[0].text = REPLY;
    out.status = "success";
    out.content[0].status = "success";
    chat.to(room).emit("chat", store(snapshot(out)));
  });
});

function shutdown() {
  io.close();
  db.close();
  process.exit(0);
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
process.stdin.on("end", shutdown);
process.stdin.resume();

server.listen(port, "127.0.0.1", () => {
  process.stdout.write(`READY ${server.address().port}\n`);
});
