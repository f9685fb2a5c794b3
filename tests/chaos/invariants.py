"""The checks every fault scenario ends with (the issue's list), read from the data dir as the
app left it and from the app still running:

- every acknowledged input is stored;
- every turn ends in a non-`progress` status;
- `PRAGMA integrity_check` is `ok`;
- no job is left `queued` or `running`;
- no partial file, asset or model: nothing in staging but a paused job's folder, no `.part` file,
  every owned asset's file present and every asset folder owned by a row;
- the app keeps serving: `/health` answers and a new chat turn ends.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.integration.support import WAIT, ChatClient, chat_payload

UNFINISHED_JOBS = ("queued", "running")


@dataclass
class Findings:
    lost: list[str] = field(default_factory=list)
    stuck_turns: list[str] = field(default_factory=list)
    stuck_jobs: list[str] = field(default_factory=list)
    integrity: str = "ok"
    partial: list[str] = field(default_factory=list)

    @property
    def stuck(self) -> int:
        return len(self.stuck_turns) + len(self.stuck_jobs)

    def problems(self) -> list[str]:
        found = []
        if self.lost:
            found.append(f"acknowledged inputs lost: {self.lost[:10]}")
        if self.stuck_turns:
            found.append(f"turns left in progress: {self.stuck_turns[:10]}")
        if self.stuck_jobs:
            found.append(f"jobs left unfinished: {self.stuck_jobs[:10]}")
        if self.integrity != "ok":
            found.append(f"integrity_check: {self.integrity}")
        if self.partial:
            found.append(f"partial things left: {self.partial[:10]}")
        return found

    def merge(self, other: Findings) -> None:
        self.lost += other.lost
        self.stuck_turns += other.stuck_turns
        self.stuck_jobs += other.stuck_jobs
        if other.integrity != "ok":
            self.integrity = other.integrity
        self.partial += other.partial


def read_db(data_dir: Path) -> sqlite3.Connection:
    """A read-only connection to the app's database (WAL: it may be open in the app meanwhile)."""
    uri = f"file:{data_dir / 'director.sqlite3'}?mode=ro"
    return sqlite3.connect(uri, uri=True, timeout=WAIT)


def check_data_dir(data_dir: Path, acked: Iterable[tuple[str, str]] = ()) -> Findings:
    """Everything the issue asks of the data dir. `acked`: (session_id, msg_id) of every input the
    server acknowledged."""
    findings = Findings()
    conn = read_db(data_dir)
    try:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
        findings.integrity = "ok" if rows == [("ok",)] else repr(rows[:5])
        stored = set(conn.execute("SELECT session_id, msg_id FROM messages").fetchall())
        findings.lost = [f"{s}/{m}" for s, m in acked if (s, m) not in stored]
        findings.stuck_turns = [
            f"{s}/{m}"
            for s, m in conn.execute(
                "SELECT session_id, msg_id FROM messages WHERE status = 'progress'"
            )
        ]
        findings.stuck_jobs = [
            f"{i} {k} {st}"
            for i, k, st in conn.execute(
                "SELECT id, kind, status FROM jobs WHERE status IN (?, ?)", UNFINISHED_JOBS
            )
        ]
        findings.stuck_jobs += [
            f"index of {a} still indexing"
            for (a,) in conn.execute("SELECT asset_id FROM index_state WHERE status = 'indexing'")
        ]
        paused = {r[0] for r in conn.execute("SELECT id FROM jobs WHERE status = 'paused'")}
        assets = conn.execute("SELECT id, owned, path FROM assets").fetchall()
    finally:
        conn.close()
    findings.partial = partial_things(data_dir, paused, assets)
    return findings


def partial_things(data_dir: Path, paused: set[str], assets: list[Any]) -> list[str]:
    found = []
    staging = data_dir / "staging"
    if staging.exists():
        found += [f"staging/{p.name}" for p in staging.iterdir() if p.name not in paused]
    for folder in ("media", "models"):
        root = data_dir / folder
        if root.exists():
            found += [
                p.relative_to(data_dir).as_posix() for p in root.rglob("*") if ".part" in p.name
            ]
    media = data_dir / "media"
    ids = {asset_id for asset_id, _, _ in assets}
    for asset_id, owned, path in assets:
        if owned and not (media / path).is_file():
            found.append(f"asset {asset_id} without its file {path}")
    if media.exists():
        found += [
            f"media/{p.name} without an asset row"
            for p in media.iterdir()
            if p.is_dir() and p.name not in ids
        ]
    return found


def check_serving(base_url: str, token: str) -> None:
    """The app answers `/health` and a new chat turn reaches a final, successful snapshot."""
    health = httpx.get(
        f"{base_url}/health", headers={"Authorization": f"Bearer {token}"}, timeout=WAIT
    )
    assert health.status_code == 200, health.text
    client = ChatClient(base_url)
    try:
        client.connect(token)
        ack = client.call("chat", chat_payload("still there?"))
        assert ack["ok"], ack
        final = client.final(ack["data"]["output_msg_id"])
        assert final["status"] == "success", final
    finally:
        client.close()


def stored_counts(data_dir: Path) -> dict[str, int]:
    """Rows per user-visible table: what a refused input must not change."""
    conn = read_db(data_dir)
    try:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("sessions", "messages", "collections", "assets", "prefs")
        }
    finally:
        conn.close()


def job_errors(data_dir: Path) -> list[dict[str, Any]]:
    """Each finished-with-error job's {code, message}, for the figures."""
    conn = read_db(data_dir)
    try:
        return [
            json.loads(e) for (e,) in conn.execute("SELECT error FROM jobs WHERE error IS NOT NULL")
        ]
    finally:
        conn.close()
