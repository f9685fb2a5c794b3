"""The dependency rule of DESIGN.md, checked by parsing every module's imports with `ast`.

Every import is an arrow: `import director_desktop.x`, `from director_desktop import x` (the module
`director_desktop.x`), relative imports at any level, imports under `if TYPE_CHECKING:` or inside
a function, and `importlib.import_module("...")` with a literal name. Arrows point down the layers;
rooms on one layer never import each other; a room imports freely within itself. Each third-party
library has one owner room, and no import cycle runs through the project's modules.

Every check takes the package root, so the self-tests plant a fake `director_desktop` in a temp dir
and run the very functions the real tree is checked with, and watch each kind of wrong arrow fail.
"""

from __future__ import annotations

import ast
import itertools
import textwrap
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "director_desktop"

# DESIGN.md's arrows, the spine of LAYERS below.
DESIGN_ARROWS = (
    "launcher → window, server, web → engine → media → jobs → store → protocol, settings"
)

# Top to bottom. A room (a top-level module or package) imports only rooms on lower layers.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("__main__",),  # `python -m director_desktop`: runs cli
    ("cli",),  # arguments → Settings → launcher (window) or headless
    ("launcher", "headless"),  # the two ways a process runs: with the window, or the server alone
    ("composition", "smoke"),  # the one composition root; the smoke test that drives the window
    ("web", "window", "server"),
    ("engine",),
    ("media",),
    ("jobs",),
    ("store",),
    ("user_settings", "secrets_store", "instance", "logs", "metrics"),  # the process's leaves
    ("protocol", "settings"),
    ("json_file", "background", "asgi", "__init__"),  # helpers and types; the package: version()
    ("errors", "assets"),  # imports nothing; assets is a data folder
)
HEIGHT = {room: len(LAYERS) - i for i, rooms in enumerate(LAYERS) for room in rooms}

# Third-party libraries and the one room allowed to import each.
OWNERS = {
    "starlette": "web",
    "socketio": "web",
    "engineio": "web",
    "uvicorn": "server",
    "webview": "window",
    "gi": "window",
    "sqlite3": "store",
    "platformdirs": "settings",
    "xllamacpp": "engine",
    "httpx": "engine",
    "keyring": "secrets_store",
    "imageio_ffmpeg": "media",
    "pywhispercpp": "engine",
    "_pywhispercpp": "engine",  # pywhispercpp's compiled binding, imported by its own name
    "pysubs2": "media",
}


@dataclass(frozen=True)
class Arrow:
    """One imported name: who imports what, and where it is written."""

    where: str  # "director_desktop/web/chat.py:18"
    statement: str  # the import as written
    context: str  # "", " (under TYPE_CHECKING)" or " (inside a function)"
    source: str  # the importing module, dotted
    target: str  # the imported project module, dotted; or a library's top-level name
    project: bool

    def __str__(self) -> str:
        return f"{self.where}: `{self.statement}`{self.context}"


def modules(root: Path) -> dict[str, Path]:
    """Every module of the package at `root` by dotted name; a package by its `__init__.py`."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def room_of(module: str) -> str:
    """The top-level part a project module belongs to (`__init__` for the package itself)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def arrows(root: Path) -> list[Arrow]:
    """Every import arrow of every module under `root`, in file and line order."""
    known = modules(root)
    found: list[Arrow] = []
    for module, path in known.items():
        found += arrows_of(module, path, root, known)
    return found


def arrows_of(module: str, path: Path, root: Path, known: Mapping[str, Path]) -> list[Arrow]:
    source = path.read_text(encoding="utf-8")
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    where = path.relative_to(root.parent).as_posix()
    found = []
    for node, context in _imports(ast.parse(source)):
        statement = " ".join((ast.get_source_segment(source, node) or "").split())
        for target in dict.fromkeys(_targets(node, package, root.name, known)):
            project = target.split(".")[0] == root.name
            found.append(
                Arrow(f"{where}:{node.lineno}", statement, context, module, target, project)
            )
    return sorted(found, key=lambda arrow: int(arrow.where.rpartition(":")[2]))


def _imports(tree: ast.AST) -> Iterator[tuple[ast.Import | ast.ImportFrom | ast.Call, str]]:
    """Import statements and literal `import_module` calls, with where they sit."""
    stack: list[tuple[ast.AST, str]] = [(tree, "")]
    while stack:
        node, context = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom) or (
            isinstance(node, ast.Call) and _literal_import_call(node)
        ):
            yield node, context
        for child in ast.iter_child_nodes(node):
            stack.append((child, _context(node, child, context)))


def _context(parent: ast.AST, child: ast.AST, context: str) -> str:
    if isinstance(parent, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
        return " (inside a function)"
    if isinstance(parent, ast.If) and child in parent.body and _is_type_checking(parent.test):
        return " (under TYPE_CHECKING)"
    return context


def _is_type_checking(test: ast.expr) -> bool:
    name = test.attr if isinstance(test, ast.Attribute) else getattr(test, "id", "")
    return name == "TYPE_CHECKING"


def _literal_import_call(call: ast.Call) -> str:
    """The module `importlib.import_module("...")` or `__import__("...")` names, or ""."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    first = call.args[0] if call.args else None
    if name in {"import_module", "__import__"} and isinstance(first, ast.Constant):
        return first.value if isinstance(first.value, str) else ""
    return ""


def _targets(
    node: ast.Import | ast.ImportFrom | ast.Call, package: str, top: str, known: Mapping[str, Path]
) -> Iterator[str]:
    """The dotted names one import statement brings in, resolved to project modules."""
    if isinstance(node, ast.Import):
        yield from (_module(alias.name, top, known) for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
        base = _absolute(node.module or "", node.level, package)
        for alias in node.names:
            yield _from(base, alias.name, top, known)
    else:
        name = _literal_import_call(node)
        dots = len(name) - len(name.lstrip("."))
        yield _module(_absolute(name[dots:], dots, package), top, known)


def _absolute(name: str, level: int, package: str) -> str:
    """A relative module name resolved against the importing module's package."""
    if level == 0:
        return name
    parts = package.split(".")
    if level > len(parts):
        return f"<beyond the package>.{name}"  # Python refuses it too: an arrow to nowhere
    anchor = ".".join(parts[: len(parts) - level + 1])
    return f"{anchor}.{name}" if name else anchor


def _from(base: str, name: str, top: str, known: Mapping[str, Path]) -> str:
    """`from base import name`: the module `base.name` when there is one, else `base`."""
    is_module = f"{base}.{name}" in known or (base == top and name in HEIGHT)
    if base.split(".")[0] == top and is_module:
        return f"{base}.{name}"  # a room given a layer but not written yet is a module too
    return _module(base, top, known)


def _module(name: str, top: str, known: Mapping[str, Path]) -> str:
    """A project name as the module that holds it; a library as its top-level name."""
    parts = name.split(".")
    if parts[0] != top:
        return parts[0]
    for end in range(len(parts), 1, -1):
        if ".".join(parts[:end]) in known:
            return ".".join(parts[:end])
    return name  # not written yet: its room still counts


def unplaced_rooms(root: Path) -> list[str]:
    """Rooms of the package with no layer in LAYERS."""
    return sorted({f"{room_of(m)} ({m})" for m in modules(root) if room_of(m) not in HEIGHT})


def layer_violations(root: Path) -> list[str]:
    """Arrows that point up, across one layer, or to a room with no layer."""
    wrong = []
    for arrow in arrows(root):
        own, other = room_of(arrow.source), room_of(arrow.target)
        if not arrow.project or own == other:
            continue
        if own not in HEIGHT or other not in HEIGHT:
            rooms = ", ".join(r for r in (own, other) if r not in HEIGHT)
            wrong.append(f"{arrow} → {arrow.target}: no layer for {rooms}")
        elif HEIGHT[other] == HEIGHT[own]:
            wrong.append(
                f"{arrow} → {arrow.target}: {own} and {other} share a layer, "
                "and rooms on one layer never import each other"
            )
        elif HEIGHT[other] > HEIGHT[own]:
            wrong.append(f"{arrow} → {arrow.target}: {own} imports {other}, which is above it")
    return wrong


def library_violations(root: Path) -> list[str]:
    """Imports of a third-party library outside the one room that owns it."""
    return [
        f"{arrow}: {arrow.target} belongs to {OWNERS[arrow.target]} alone"
        for arrow in arrows(root)
        if not arrow.project
        and arrow.target in OWNERS
        and room_of(arrow.source) != OWNERS[arrow.target]
    ]


def import_cycles(root: Path) -> list[str]:
    """The shortest cycle through each module on one, each arrow with where it is written."""
    known = modules(root)
    graph: dict[str, dict[str, Arrow]] = {module: {} for module in known}
    for arrow in arrows(root):
        if arrow.target in known and arrow.target != arrow.source:
            graph[arrow.source].setdefault(arrow.target, arrow)
    found = []
    for group in _strongly_connected(graph):
        shown: set[str] = set()
        for start in sorted(group):
            if start in shown:
                continue
            path = _shortest_cycle(start, group, graph)
            shown.update(path)
            steps = [graph[a][b] for a, b in itertools.pairwise(path)]
            found.append(" → ".join(path) + "".join(f"\n    {step}" for step in steps))
    return found


def _strongly_connected(graph: Mapping[str, Mapping[str, Arrow]]) -> list[set[str]]:
    """Tarjan's algorithm; only the groups of more than one module (the cycles)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups, key=min)


def _shortest_cycle(
    start: str, group: set[str], graph: Mapping[str, Mapping[str, Arrow]]
) -> list[str]:
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in sorted(graph[node]):
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [*reversed(path), start]
            if nxt in group and nxt not in came_from:
                came_from[nxt] = node
                queue.append(nxt)
    raise AssertionError(f"no cycle through {start}")  # a strongly connected group has one


CHECKS: dict[str, Callable[[Path], list[str]]] = {
    "layers": layer_violations,
    "libraries": library_violations,
    "cycles": import_cycles,
    "rooms": unplaced_rooms,
}


# The real tree.


def test_every_room_has_a_layer() -> None:
    unplaced = unplaced_rooms(PACKAGE)
    assert not unplaced, f"give these rooms a layer in LAYERS: {unplaced}"


def test_imports_point_down_the_layers() -> None:
    wrong = layer_violations(PACKAGE)
    assert not wrong, "\n".join(wrong)


def test_each_library_lives_in_one_room() -> None:
    wrong = library_violations(PACKAGE)
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle() -> None:
    cycles = import_cycles(PACKAGE)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_layers_follow_the_design_arrows() -> None:
    steps = [[room.strip() for room in step.split(",")] for step in DESIGN_ARROWS.split("→")]
    for upper, lower in itertools.pairwise(steps):
        assert len({HEIGHT[room] for room in upper}) == 1, f"{upper} share a layer"
        assert all(HEIGHT[a] > HEIGHT[b] for a in upper for b in lower), f"{upper} → {lower}"
    assert sum(len(rooms) for rooms in LAYERS) == len(HEIGHT), "a room on two layers"


# The self-test: the same checks on a planted tree.

CLEAN = {
    "__init__.py": "def version() -> str:\n    return '0'\n",
    "__main__.py": "from director_desktop.cli import main\n",
    "cli.py": """
        import importlib

        from director_desktop import version
        from director_desktop.settings import Settings

        def main() -> None:
            importlib.import_module("director_desktop.launcher")
            from . import headless
    """,
    "launcher.py": "from . import composition, smoke, window\nfrom .server import Server\n",
    "headless.py": """
        import director_desktop.server
        from director_desktop import composition, logs
    """,
    "composition.py": """
        from director_desktop import engine, store, user_settings
        from director_desktop.web.app import create_app
    """,
    "smoke.py": "from .window import AppWindow\n",
    "server.py": "import uvicorn\n",
    "window/__init__.py": "from .app_window import AppWindow\n",
    "window/app_window.py": """
        from ..settings import APP_NAME

        def start() -> None:
            import webview
            from gi.repository import Gtk
    """,
    "web/__init__.py": "",
    "web/app.py": """
        import socketio
        from starlette.applications import Starlette

        from director_desktop.asgi import ASGIApp

        from . import rest
    """,
    "web/rest.py": """
        from typing import TYPE_CHECKING

        from director_desktop.engine.turns import TurnRunner

        if TYPE_CHECKING:
            from ..store import Store
    """,
    "engine/__init__.py": "",
    "engine/turns.py": "from ..media import library\nfrom .llm.openai_http import Provider\n",
    "engine/llm/__init__.py": "",
    "engine/llm/openai_http.py": "import httpx\n\nfrom ...errors import ModelError\n",
    "media/__init__.py": "",
    "media/library.py": "from director_desktop.jobs import Jobs\n",
    "jobs.py": "from .store import Store\nfrom director_desktop.background import Tasks\n",
    "store/__init__.py": "from .store import Store\n",
    "store/store.py": """
        import sqlite3

        from director_desktop.protocol import check_id

        from . import codec
    """,
    "store/codec.py": "from director_desktop.errors import InvalidPayload\n",
    "user_settings.py": "from director_desktop.json_file import write_atomically\n",
    "secrets_store.py": "import keyring\n\nfrom .json_file import read\n",
    "logs.py": "",
    "json_file.py": "from .errors import DirectorError\n",
    "background.py": "",
    "protocol.py": "from .errors import DirectorError\n",
    "settings.py": "import platformdirs\n",
    "errors.py": "",
}

TYPE_CHECKING_SERVER = """
    from typing import TYPE_CHECKING

    if TYPE_CHECKING:
        from director_desktop.server import Server
"""

# A wrong arrow of each kind: (the check it trips, the file, its planted text, what the failure
# names besides the file and the import). Each points at a leaf, so it trips no cycle as well.
WRONG = {
    "relative import up a layer": (
        "layers",
        "store/codec.py",
        "from ..engine.llm import openai_http\n",
        "store imports engine",
    ),
    "package import of web in store": (
        "layers",
        "store/codec.py",
        "from director_desktop import web\n",
        "store imports web",
    ),
    "same layer: web imports window": (
        "layers",
        "web/rest.py",
        "from director_desktop.window import AppWindow\n",
        "share a layer",
    ),
    "relative import within one layer": (
        "layers",
        "launcher.py",
        "from . import headless\n",
        "share a layer",
    ),
    "TYPE_CHECKING import up": ("layers", "engine/turns.py", TYPE_CHECKING_SERVER, "TYPE_CHECKING"),
    "function-level import up": (
        "layers",
        "store/store.py",
        "def f() -> None:\n    from .. import smoke\n",
        "function",
    ),
    "deep relative import up": (
        "layers",
        "engine/llm/openai_http.py",
        "from ...window import app_window\n",
        "engine imports window",
    ),
    "import_module up": (
        "layers",
        "store/codec.py",
        "import importlib\nimportlib.import_module('director_desktop.web')\n",
        "web",
    ),
    "a part not written yet": (
        "layers",
        "errors.py",
        "from director_desktop import metrics\n",
        "errors imports metrics",
    ),
    "jobs imports media": (
        "layers",
        "jobs.py",
        "from director_desktop import media\n",
        "jobs imports media, which is above it",
    ),
    "a room with no layer": (
        "layers",
        "store/codec.py",
        "import director_desktop.gadgets\n",
        "no layer",
    ),
    "library outside its owner": (
        "libraries",
        "engine/turns.py",
        "import sqlite3\n",
        "store alone",
    ),
    "library inside a function": (
        "libraries",
        "server.py",
        "def show() -> None:\n    from gi.repository import Gtk\n",
        "window",
    ),
    "import cycle": (
        "cycles",
        "store/codec.py",
        "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from .store import Store\n",
        "director_desktop.store.codec → director_desktop.store.store"
        " → director_desktop.store.codec",
    ),
}


def plant(root: Path, files: Mapping[str, str]) -> Path:
    package = root / "director_desktop"
    for name, text in files.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return package


def test_a_clean_planted_tree_passes(tmp_path: Path) -> None:
    package = plant(tmp_path, CLEAN)
    assert {name: check(package) for name, check in CHECKS.items()} == {name: [] for name in CHECKS}


# What some imports of the clean tree resolve to: (file, the import as written) → (target, context).
RESOLVED = {
    ("cli.py", 'importlib.import_module("director_desktop.launcher")'): (
        "director_desktop.launcher",
        " (inside a function)",
    ),
    ("cli.py", "from . import headless"): ("director_desktop.headless", " (inside a function)"),
    ("cli.py", "from director_desktop import version"): ("director_desktop", ""),
    ("headless.py", "from director_desktop import composition, logs"): (
        "director_desktop.logs",
        "",
    ),
    ("headless.py", "import director_desktop.server"): ("director_desktop.server", ""),
    ("composition.py", "from director_desktop.web.app import create_app"): (
        "director_desktop.web.app",
        "",
    ),
    ("web/rest.py", "from ..store import Store"): (
        "director_desktop.store",
        " (under TYPE_CHECKING)",
    ),
    ("engine/turns.py", "from ..media import library"): ("director_desktop.media.library", ""),
    ("engine/llm/openai_http.py", "from ...errors import ModelError"): (
        "director_desktop.errors",
        "",
    ),
    ("window/__init__.py", "from .app_window import AppWindow"): (
        "director_desktop.window.app_window",
        "",
    ),
    ("window/app_window.py", "from gi.repository import Gtk"): ("gi", " (inside a function)"),
    ("store/store.py", "from . import codec"): ("director_desktop.store.codec", ""),
}


def test_imports_resolve_to_project_modules(tmp_path: Path) -> None:
    package = plant(tmp_path, CLEAN)
    found = {(a.where.split(":")[0], a.statement, a.target, a.context) for a in arrows(package)}
    for (name, statement), (target, context) in RESOLVED.items():
        assert (f"director_desktop/{name}", statement, target, context) in found, statement


@pytest.mark.parametrize("case", WRONG)
def test_a_planted_wrong_arrow_fails(tmp_path: Path, case: str) -> None:
    check, name, text, names = WRONG[case]
    package = plant(tmp_path, {**CLEAN, name: text})
    wrong = CHECKS[check](package)
    statement = " ".join(textwrap.dedent(text).strip().splitlines()[-1].split())
    assert any(f"director_desktop/{name}:" in line and statement in line for line in wrong), wrong
    assert any(names in line for line in wrong), wrong
    others = {other: CHECKS[other](package) for other in CHECKS if other != check}
    assert not any(others.values()), others  # each wrong arrow trips its one check


def test_a_planted_room_without_a_layer_fails(tmp_path: Path) -> None:
    package = plant(tmp_path, {**CLEAN, "gadgets/__init__.py": ""})
    assert unplaced_rooms(package) == ["gadgets (director_desktop.gadgets)"]
