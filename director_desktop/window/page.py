"""The page side of the window: the JavaScript the app runs in the Vue page, and how answers
come back. Everything runs through pywebview's run_js, never its evaluate_js or js_api: those
use eval() and `new Function`, which the app's Content-Security-Policy (script-src 'self')
refuses, and rightly so; a script the browser engine runs for its embedder is not subject to
the page's CSP. Imports nothing from the project.
"""

from __future__ import annotations

import json
from typing import Any

NEW_SESSION_JS = "window.director && window.director.newSession && window.director.newSession()"
# True when the page has a settings view to show.
OPEN_SETTINGS_JS = (
    "!!(window.director && window.director.openSettings && (window.director.openSettings(), true))"
)
READY_JS = "document.documentElement.dataset.ready === '1'"
# The native menu's Edit and Help items (issue 15): the page's own actions, as its keys do them.
EDIT_LAST_JS = "window.director && window.director.editLast && window.director.editLast()"
STOP_REPLY_JS = "window.director && window.director.stopReply && window.director.stopReply()"
SHORTCUTS_JS = "window.director && window.director.openShortcuts && window.director.openShortcuts()"
# The last reply's markdown source ('' when there is none), for the menu to put on the clipboard
# itself: a page may write the clipboard only from a key or click of its own.
LAST_REPLY_JS = (
    "(window.director && window.director.lastReply && window.director.lastReply()) || ''"
)
# Where the page's own time went, for the start-up trace: ms since the page's time origin
# (`origin`, ms since the epoch) for the response, the first paint, the DOM, each request and
# the page's own marks (`director:*`: its data in, its socket open and connected, ready).
TIMING_JS = r"""
(() => {
  const nav = performance.getEntriesByType('navigation')[0] || {};
  const paint = {};
  for (const e of performance.getEntriesByType('paint')) paint[e.name] = Math.round(e.startTime);
  const requests = performance.getEntriesByType('resource').map((e) => [
    e.name.replace(location.origin, '').split('?')[0],
    Math.round(e.startTime),
    Math.round(e.responseEnd),
  ]);
  return {
    origin: performance.timeOrigin, response: Math.round(nav.responseEnd || 0),
    dom: Math.round(nav.domContentLoadedEventEnd || 0), paint, requests,
    marks: performance.getEntriesByType('mark').map((e) => [e.name, Math.round(e.startTime)]),
    now: Math.round(performance.now()),
  };
})()
"""
# `window.directorDesktop` in the page: the native side of the UI. Calls are posted to the
# `director` message handler (GTK); answers come back through `_answer`.
BRIDGE_JS = r"""
(() => {
  if (window.directorDesktop) return true;
  const pending = new Map();
  let next = 1;
  const call = (method, args) => new Promise((resolve, reject) => {
    const id = next++;
    pending.set(id, {resolve, reject});
    window.webkit.messageHandlers.director.postMessage(JSON.stringify({id, method, args}));
  });
  window.directorDesktop = {
    chooseFiles: (options) => call('chooseFiles', options || {}),
    openExternal: (url) => call('openExternal', String(url)),
    _answer: (id, ok, value) => {
      const p = pending.get(id); pending.delete(id);
      if (p) (ok ? p.resolve : p.reject)(value);
    },
  };
  return true;
})()
"""


class PageError(RuntimeError):
    """A script in the page failed, or the page did not answer."""


def wrap(expression: str) -> str:
    """A script answering `{ok, value}` or `{ok: false, error}` for a JavaScript expression."""
    body = expression.strip().rstrip(";")
    return (
        "JSON.stringify((function(){try{return {ok:true,value:(" + body + ")}}"
        "catch(e){return {ok:false,error:String(e)}}})())"
    )


def unwrap(raw: object) -> Any:
    if not isinstance(raw, str):
        raise PageError(f"no answer from the page ({raw!r})")
    answer = json.loads(raw)
    if isinstance(answer, str):  # WebView2 hands back the script's value JSON-encoded once more
        answer = json.loads(answer)
    if not isinstance(answer, dict):
        raise PageError(f"unexpected answer from the page ({raw!r})")
    if not answer.get("ok"):
        raise PageError(str(answer.get("error")))
    return answer.get("value")
