"""docs/protocol.md documents the app as it is: every route of the router, every `/chat` event and
every error code, read from the app and the code themselves, and nothing the app no longer has.

The conventions (stated in docs/protocol.md, "How to read this document"):
- A route is documented by a code span holding exactly its method in capitals, one space and
  its path template as the router spells it, parameter names and converters included
  (`` `GET /session/{session_id}` ``), on a table row (a line starting with `|`) or a heading
  (a line starting with `#`). A code span with a query string (`` `GET /search?q=` ``) is an
  example, not a route. A `GET` covers the `HEAD` the router adds to it.
- A `/chat` event is documented by a table row whose first cell is its name as a code span,
  under the heading `### Client to server`.
- An error code is documented by a table row whose first cell is the code as a code span,
  under the heading `#### Error codes`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import pytest

from director_desktop import errors
from director_desktop.composition import build_library
from director_desktop.engine.agents import default_registry
from director_desktop.engine.assistant import BuiltinAssistant
from director_desktop.settings import build_settings
from director_desktop.store import Store
from director_desktop.user_settings import UserSettings
from director_desktop.web.app import DirectorApp, create_app

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = ROOT / "docs" / "protocol.md"
ROUTE_CLAIM = re.compile(r"`(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) (/[^`\s?]*)`")
FIRST_CELL = re.compile(r"^\|\s*`([^`]+)`\s*\|")
EVENTS_HEADING = "### Client to server"
ERRORS_HEADING = "#### Error codes"

Routes = Iterable[tuple[str, set[str]]]


# --- reading the doc ---------------------------------------------------------------------------
def route_claims(doc: str) -> set[tuple[str, str]]:
    """The (method, path template) pairs the doc documents."""
    found: set[tuple[str, str]] = set()
    for line in doc.splitlines():
        if line.startswith(("|", "#")):
            found.update(ROUTE_CLAIM.findall(line))
    return found


def section(doc: str, heading: str) -> list[str]:
    """The lines under `heading`, up to the next heading of the same or a higher level."""
    lines = doc.splitlines()
    if heading not in lines:
        return []
    level = len(heading) - len(heading.lstrip("#"))
    start = lines.index(heading) + 1
    body: list[str] = []
    for line in lines[start:]:
        depth = len(line) - len(line.lstrip("#"))
        if line.startswith("#") and depth <= level:
            break
        body.append(line)
    return body


def first_cells(doc: str, heading: str) -> set[str]:
    """The code spans that open a table row under `heading`."""
    return {m.group(1) for line in section(doc, heading) if (m := FIRST_CELL.match(line))}


# --- checking it against the app ---------------------------------------------------------------
def route_keys(routes: Routes) -> set[tuple[str, str]]:
    """Every (method, path template) of a router; HEAD goes with GET."""
    return {
        (method, path)
        for path, methods in routes
        for method in methods
        if not (method == "HEAD" and "GET" in methods)
    }


def undocumented(routes: Routes, doc: str) -> list[str]:
    """The routes `doc` does not document, as "METHOD /path"."""
    return sorted(f"{m} {p}" for m, p in route_keys(routes) - route_claims(doc))


def stale(routes: Routes, doc: str) -> list[str]:
    """The routes `doc` documents that the app does not have."""
    return sorted(f"{m} {p}" for m, p in route_claims(doc) - route_keys(routes))


def undocumented_events(events: Iterable[str], doc: str) -> list[str]:
    return sorted(set(events) - first_cells(doc, EVENTS_HEADING))


def error_codes() -> set[str]:
    """The stable `code` of every error class in errors.py."""
    return {
        cls.code
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.DirectorError)
    }


def build_app(tmp_path: Path, bundle_dir: Path | None) -> DirectorApp:
    """The app as `create_app` builds it; nothing is opened or served (the port only has to be
    a real one for the allow-lists)."""
    settings = build_settings(data_dir=tmp_path / "data", log_dir=tmp_path / "logs", environ={})
    settings = replace(settings, port=8123)
    store = Store(settings.db_path, backups_dir=settings.backups_dir)
    agents = default_registry()
    engine = BuiltinAssistant(store, agents, models_dir=settings.models_dir)
    return create_app(
        settings,
        store,
        engine,
        agents,
        build_library(settings, store, UserSettings(settings.user_settings_path)),
        bundle_dir=bundle_dir,
    )


@pytest.fixture(scope="module")
def doc() -> str:
    return PROTOCOL.read_text(encoding="utf-8")


@pytest.fixture
def apps(tmp_path: Path) -> list[DirectorApp]:
    """The app with the committed bundle, and with none built (`/assets/...` is then a route)."""
    return [build_app(tmp_path, None), build_app(tmp_path, tmp_path / "no-bundle")]


def all_routes(apps: list[DirectorApp]) -> list[tuple[str, set[str]]]:
    return [route for app in apps for route in app.routes]


# --- the doc against the app --------------------------------------------------------------------
def test_every_route_is_documented(apps: list[DirectorApp], doc: str) -> None:
    missing = undocumented(all_routes(apps), doc)
    assert not missing, f"document these routes in docs/protocol.md: {missing}"


def test_every_documented_route_exists(apps: list[DirectorApp], doc: str) -> None:
    gone = stale(all_routes(apps), doc)
    assert not gone, f"docs/protocol.md documents routes the app does not have: {gone}"


def test_every_socket_event_is_documented(apps: list[DirectorApp], doc: str) -> None:
    events = apps[0].events
    assert "chat" in events  # the app reports its events: an empty list would prove nothing
    missing = undocumented_events(events, doc)
    assert not missing, f"document these /chat events under {EVENTS_HEADING!r}: {missing}"


def test_every_error_code_is_documented(doc: str) -> None:
    missing = sorted(error_codes() - first_cells(doc, ERRORS_HEADING))
    assert not missing, f"document these error codes under {ERRORS_HEADING!r}: {missing}"


# --- the checks catch what they claim -----------------------------------------------------------
ROUTES = [("/session/{session_id}", {"GET", "HEAD"}), ("/prefs", {"PATCH"})]
DOCUMENTED = """# API
| route | answer |
|---|---|
| `GET /session/{session_id}` | the session |

## `PATCH /prefs`
"""


def test_a_route_missing_from_the_doc_is_reported() -> None:
    assert undocumented(ROUTES, DOCUMENTED) == []
    assert undocumented([*ROUTES, ("/jobs", {"GET", "HEAD"})], DOCUMENTED) == ["GET /jobs"]
    without = DOCUMENTED.replace("`GET /session/{session_id}`", "the session")
    assert undocumented(ROUTES, without) == ["GET /session/{session_id}"]


def test_only_an_exact_claim_on_a_row_or_heading_documents_a_route() -> None:
    for near_miss in (
        "Send `GET /session/{session_id}` to read it.",  # prose, not a row or heading
        "| `GET /session/{id}` | another parameter name |",
        "| `get /session/{session_id}` | not the method as written |",
        "| `GET /session/{session_id}?limit=5` | an example with a query |",
        "| GET /session/{session_id} | not a code span |",
    ):
        assert undocumented(ROUTES[:1], near_miss) == ["GET /session/{session_id}"], near_miss


def test_a_documented_route_the_app_lacks_is_reported() -> None:
    assert stale(ROUTES, DOCUMENTED) == []
    assert stale(ROUTES[:1], DOCUMENTED) == ["PATCH /prefs"]


def test_an_event_missing_from_its_table_is_reported() -> None:
    doc = f"""{EVENTS_HEADING}
| event | payload |
|---|---|
| `chat` | an input |

### Server to client
| `stop` | listed in another table: does not count |
"""
    assert undocumented_events(["chat"], doc) == []
    assert undocumented_events(["chat", "stop"], doc) == ["stop"]
