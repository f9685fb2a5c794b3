"""Untyped payload dicts stay at the true boundaries (issue 11): at most `LIMIT` lines of
`director_desktop/` name `JSONDict`, `dict[str, Any]` or `Mapping[str, Any]`, so a payload whose
shape is known gets a TypedDict (or an existing type such as `Message`) rather than an open dict.

The count is the issue's own, one per matching line of every `.py` file:

    grep -rnE --include=*.py "JSONDict|dict\\[str, Any\\]|Mapping\\[str, Any\\]" director_desktop

The boundaries left are JSON read from outside before it is checked (request bodies, an imported
file, a server's stream), the ASGI scope, and the free-form metadata a client sends.
"""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "director_desktop"
UNTYPED = re.compile(r"JSONDict|dict\[str, Any\]|Mapping\[str, Any\]")
LIMIT = 60


def untyped_lines(root: Path) -> dict[str, list[int]]:
    """Per module (its path under `root`'s parent), the numbers of its lines naming an untyped
    dict."""
    found: dict[str, list[int]] = {}
    for path in sorted(root.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        hits = [n for n, line in enumerate(lines, start=1) if UNTYPED.search(line)]
        if hits:
            found[path.relative_to(root.parent).as_posix()] = hits
    return found


def over_limit(root: Path, limit: int) -> str:
    """'' when at most `limit` lines name an untyped dict; else the count and every file's."""
    found = untyped_lines(root)
    total = sum(len(hits) for hits in found.values())
    if total <= limit:
        return ""
    worst = sorted(found.items(), key=lambda item: (-len(item[1]), item[0]))
    files = "\n".join(f"  {len(hits):3d}  {name} (lines {hits})" for name, hits in worst)
    return (
        f"{total} lines name JSONDict, dict[str, Any] or Mapping[str, Any] (at most {limit}); "
        f"give the payloads whose shape is known a TypedDict:\n{files}"
    )


def test_untyped_payload_dicts_stay_at_the_boundaries() -> None:
    message = over_limit(PACKAGE, LIMIT)
    assert not message, message


def test_every_spelling_counts_and_the_files_are_named(tmp_path: Path) -> None:
    root = tmp_path / "director_desktop"
    (root / "store").mkdir(parents=True)
    (root / "store" / "rows.py").write_text(
        "def a(x: JSONDict) -> None: ...\n"
        "def b(x: dict[str, Any]) -> Mapping[str, Any]: ...\n"
        "def c(x: dict[str, int]) -> None: ...\n",
        encoding="utf-8",
    )
    (root / "web.py").write_text("scope: Mapping[str, Any]\n", encoding="utf-8")
    assert untyped_lines(root) == {
        "director_desktop/store/rows.py": [1, 2],
        "director_desktop/web.py": [1],
    }
    assert over_limit(root, 3) == ""
    message = over_limit(root, 2)
    assert message.startswith("3 lines name")
    assert "2  director_desktop/store/rows.py (lines [1, 2])" in message
    assert "1  director_desktop/web.py (lines [1])" in message
