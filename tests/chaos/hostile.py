"""What the hostile-page scenario runs: a second origin on loopback serving the attacker's page,
the script that page runs against the app, and the checks of what the app answered (its own
`/metrics` error counters) and of what the DOM holds.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import http.server
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.integration.media_support import file_server
from tests.integration.support import WAIT
from tests.live_server import HeadlessServer

REBIND_HOST = "rebind.test"  # resolved to 127.0.0.1 by Chromium's --host-resolver-rules
COUNTER = re.compile(r'^director_errors_total\{code="(\w+)"\} (\d+)', re.M)

# Runs in the attacker's page (another origin): every way it might reach the app. Each attempt
# reports what the page could learn; nothing may come back readable.
ATTACK = """async ({app, guesses, media}) => {
  const out = {readable: [], ws_opened: 0, ws_attempts: 0, fetches: 0, images_loaded: 0}
  const tryFetch = async (url, init) => {
    out.fetches++
    try {
      const r = await fetch(url, init)
      if (r.type !== 'opaque') {
        out.readable.push(url + ' ' + r.status + ' ' + (await r.text()).slice(0, 80))
      }
    } catch (e) { /* refused: what we want */ }
  }
  await tryFetch(app + '/session', {mode: 'no-cors'})
  await tryFetch(app + '/session', {mode: 'cors'})
  await tryFetch(app + '/health', {headers: {Authorization: 'Bearer guess'}})
  await tryFetch(app + '/session/import', {method: 'POST', mode: 'no-cors', body: '{}'})
  await tryFetch(app + '/prefs', {method: 'PATCH', mode: 'no-cors', body: '{"theme":"dark"}'})
  for (const token of guesses) {
    await tryFetch(app + '/session', {headers: {Authorization: 'Bearer ' + token}})
  }
  for (const token of guesses) await tryFetch(app + '/health?token=' + token, {mode: 'no-cors'})
  const sockets = [
    app.replace('http', 'ws') + '/socket.io/?EIO=4&transport=websocket',
    app.replace('http', 'ws') + '/socket.io/?EIO=4&transport=websocket&token=' + guesses[0],
  ]
  for (const url of sockets) {
    out.ws_attempts++
    await new Promise(done => {
      const ws = new WebSocket(url)
      ws.onopen = () => { out.ws_opened++; ws.close(); done() }
      ws.onerror = () => done()
      ws.onclose = () => done()
    })
  }
  for (const src of media) {
    await new Promise(done => {
      const img = new Image()
      img.onload = () => { out.images_loaded++; done() }
      img.onerror = () => done()
      img.src = src
    })
  }
  return out
}"""

# How many of these images load (run on the app's own origin, so only the signature decides).
LOAD_IMAGES = """async (urls) => {
  let loaded = 0
  for (const src of urls) {
    await new Promise(done => {
      const img = new Image()
      img.onload = () => { loaded++; done() }
      img.onerror = () => done()
      img.src = src
    })
  }
  return loaded
}"""

# Every element under text the server sent that could run or load something (the detector of
# tests/e2e/test_xss.py, widened to the media library).
ACTIVE_PARTS = """() => {
  const found = []
  const risky = ['script', 'iframe', 'object', 'embed', 'base', 'meta', 'form', 'svg', 'math']
  const shown = '.thread *, [data-testid=sessions] *, [data-testid=search-hits] *, ' +
    '.topbar .title *, [data-testid=collections] li *, [data-testid=asset-card], ' +
    '[data-testid=asset-card] *'
  for (const el of document.querySelectorAll(shown)) {
    const tag = el.tagName.toLowerCase()
    if (risky.includes(tag) && !el.closest('svg.app-icon')) found.push('<' + tag + '>')
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase()
      if (name.startsWith('on')) found.push(tag + '[' + name + ']')
      const value = attr.value.replace(/[\\s\\u0000-\\u001f]/g, '').toLowerCase()
      const url = ['href', 'src', 'xlink:href', 'action', 'formaction', 'data'].includes(name)
      if (url && /^(javascript|vbscript|data):/.test(value)) found.push(tag + '[' + name + ']')
    }
  }
  return found
}"""


@contextmanager
def attacker_origin(directory: Path) -> Iterator[str]:
    """A second origin on loopback (another port) serving the attacker's page."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "index.html").write_text("<!doctype html><title>elsewhere</title>", "utf-8")
    with file_server(directory) as origin:
        yield origin


def error_counts(server: HeadlessServer) -> dict[str, int]:
    """The app's own count of errors answered, by code."""
    answer = httpx.get(f"{server.base_url}/metrics", headers=server.auth_headers, timeout=WAIT)
    assert answer.status_code == 200
    return {code: int(n) for code, n in COUNTER.findall(answer.text)}


def signed(token: str, path: str, expiry: int) -> str:
    """A signature made with the real key (the launch token) but the given expiry."""
    digest = hmac.new(token.encode(), f"{path}\n{expiry}".encode(), hashlib.sha256).hexdigest()
    return f"{path}?sig={expiry}.{digest}"


TRAVERSALS = [
    "/../director.sqlite3",
    "/%2e%2e/director.sqlite3",
    "/assets/../../director.sqlite3",
    "/assets/%2e%2e/%2e%2e/director.sqlite3",
    "/assets/..%2f..%2fdirector.sqlite3",
    "/assets/....//....//etc/passwd",
    "/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/media/..%2fdirector.sqlite3",
    "/media/%2e%2e/%2e%2e/director.sqlite3",
    "/media/../settings.json",
    "/index.html/../../director.sqlite3",
    "/assets/%00../../etc/passwd",
    "/favicon.ico/..%5c..%5cdirector.sqlite3",
]


def raw_get(server: HeadlessServer, path: str, *, token: bool) -> tuple[int, bytes]:
    """A GET with the path exactly as written (no client-side normalising of `..`)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=WAIT)
    try:
        headers = server.auth_headers if token else {}
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()
