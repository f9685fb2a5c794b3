"""The dependency rule of DESIGN.md, checked by parsing every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "director_desktop"

# Layer of each top-level part; a module may import only its own layer or lower ones.
LAYERS = {
    "errors": 0,
    "settings": 0,
    "logs": 0,
    "assets": 0,
    "protocol": 1,
    "user_settings": 1,
    "secrets_store": 1,
    "metrics": 1,
    "instance": 1,
    "store": 2,
    "media": 2,
    "engine": 3,
    "web": 4,
    "server": 4,
    "window": 4,
    "smoke": 4,
    "launcher": 5,
    "headless": 5,
    "cli": 6,
    "__main__": 7,
    "__init__": 0,
}
# Third-party libraries and the one part allowed to import each.
OWNERS = {
    "starlette": {"web"},
    "socketio": {"web"},
    "engineio": {"web"},
    "uvicorn": {"server"},
    "webview": {"window"},
    "sqlite3": {"store"},
    "platformdirs": {"settings"},
    "xllamacpp": {"engine"},
    "keyring": {"secrets_store"},
    "httpx": {"engine"},
}


def part_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def imports_of(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_part_has_a_layer() -> None:
    unknown = {part_of(p) for p in modules()} - LAYERS.keys()
    assert not unknown, f"add these parts to LAYERS: {unknown}"


def test_imports_point_down_the_layers() -> None:
    wrong = []
    for path in modules():
        own = part_of(path)
        for name in imports_of(path):
            if not name.startswith("director_desktop."):
                continue
            target = name.split(".")[1]
            if target != own and LAYERS.get(target, 0) > LAYERS[own]:
                wrong.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert not wrong, "\n".join(wrong)


def test_each_library_lives_in_one_place() -> None:
    wrong = []
    for path in modules():
        own = part_of(path)
        for name in imports_of(path):
            top = name.split(".")[0]
            if top in OWNERS and own not in OWNERS[top]:
                wrong.append(f"{path.relative_to(PACKAGE)} imports {top}")
    assert not wrong, "\n".join(wrong)


def test_the_rule_catches_a_wrong_arrow(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from director_desktop.web import app\nimport sqlite3\n")
    assert imports_of(bad) == ["director_desktop.web", "sqlite3"]
