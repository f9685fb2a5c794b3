"""`scripts/chaos`: the torture suite's full run, which writes RELIABILITY.md, and its mutants.

    scripts/chaos                      the full run (DIRECTOR_CHAOS=full) -> RELIABILITY.md
    scripts/chaos --mutant NAME|all    apply a deliberate bug in a temporary git worktree of HEAD
                                       and run the scenarios that must catch it (they must FAIL)
    scripts/chaos --list               the mutants
Extra arguments go to pytest. Counts can be lowered for a slow machine with DIRECTOR_CHAOS_*
variables (tests/chaos/scale.py); DIRECTOR_CHAOS_NOTE adds a line to the table's header.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.chaos.mutants import BY_NAME, MUTANTS, Mutant

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "RELIABILITY.md"
BEGIN, END = "<!-- mutants:begin -->", "<!-- mutants:end -->"


def full_run(pytest_args: list[str]) -> int:
    mutants_section = _section(TABLE.read_text("utf-8")) if TABLE.exists() else ""
    env = {
        **os.environ,
        "DIRECTOR_CHAOS": "full",
        "DIRECTOR_CHAOS_REPORT": str(TABLE),
        "DIRECTOR_TEST_ALL": "1",
    }
    code = subprocess.call(
        [sys.executable, "-m", "pytest", "tests/chaos", "-p", "no:cacheprovider", *pytest_args],
        cwd=ROOT,
        env=env,
    )
    if mutants_section and TABLE.exists():  # the mutants' results outlive a re-run of the table
        TABLE.write_text(TABLE.read_text("utf-8") + "\n" + mutants_section + "\n", "utf-8")
    return code


def _section(text: str) -> str:
    if BEGIN in text and END in text:
        return text[text.index(BEGIN) : text.index(END) + len(END)]
    return ""


def run_mutant(mutant: Mutant, pytest_args: list[str]) -> tuple[bool, list[str], float]:
    """Answers (caught, the scenarios that failed, seconds)."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"chaos-{mutant.name}-") as parent:
        tree = Path(parent) / "tree"
        git = ["git", "-C", str(ROOT)]
        subprocess.run(
            [*git, "worktree", "add", "--detach", "--quiet", str(tree), "HEAD"], check=True
        )
        try:
            _apply(tree, mutant)
            # The suite itself as it is in this checkout (it may be newer than HEAD).
            shutil.rmtree(tree / "tests" / "chaos", ignore_errors=True)
            shutil.copytree(
                ROOT / "tests" / "chaos",
                tree / "tests" / "chaos",
                ignore=shutil.ignore_patterns("__pycache__"),
            )
            if mutant.frontend:
                _build_frontend(tree)
            junit = Path(parent) / "junit.xml"
            env = {
                **os.environ,
                "PYTHONPATH": str(tree),
                "DIRECTOR_CHAOS": "ci",
                "DIRECTOR_TEST_ALL": "1",
                "DIRECTOR_CHAOS_REPORT": str(Path(parent) / "t.md"),
            }
            subprocess.call(
                [
                    sys.executable,
                    "-m",
                    "pytest",
                    *mutant.scenarios,
                    "-p",
                    "no:cacheprovider",
                    "-q",
                    f"--junitxml={junit}",
                    *pytest_args,
                ],
                cwd=tree,
                env=env,
            )
            failed = _failed(junit) if junit.exists() else []
        finally:
            subprocess.run([*git, "worktree", "remove", "--force", str(tree)], check=False)
    return bool(failed), failed, time.monotonic() - started


def _apply(tree: Path, mutant: Mutant) -> None:
    target = tree / mutant.path
    text = target.read_text("utf-8")
    if text.count(mutant.old) != 1:
        raise SystemExit(
            f"mutant {mutant.name}: the text to replace is not in {mutant.path} "
            "exactly once at HEAD; update tests/chaos/mutants.py"
        )
    target.write_text(text.replace(mutant.old, mutant.new), "utf-8")
    check = subprocess.run(
        ["git", "-C", str(tree), "diff", "--stat"], capture_output=True, text=True, check=True
    )
    if mutant.path not in check.stdout:
        raise SystemExit(f"mutant {mutant.name}: the patch did not apply")


def _build_frontend(tree: Path) -> None:
    (tree / "frontend" / "node_modules").symlink_to(ROOT / "frontend" / "node_modules")
    subprocess.run(["npm", "run", "build", "--silent"], cwd=tree / "frontend", check=True)


def _failed(junit: Path) -> list[str]:
    """Test cases that failed an assertion (errors in set-up do not count as a catch)."""
    failed = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        if case.find("failure") is not None:
            failed.append(f"{case.get('classname')}::{case.get('name')}")
    return failed


def _short(case: str) -> str:
    """`tests.chaos.test_load::test_load[builtin]` -> `test_load.py::test_load[builtin]`."""
    module, _, name = case.partition("::")
    return f"{module.rsplit('.', 1)[-1]}.py::{name}"


def write_mutants(results: list[tuple[Mutant, bool, list[str], float]]) -> None:
    lines = [
        BEGIN,
        "",
        "## Mutants: deliberate bugs the suite must catch",
        "",
        f"`scripts/chaos --mutant NAME` (run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
        ", each in a temporary git worktree of HEAD, CI scale).",
        "",
        "| mutant | the bug | caught | by |",
        "|---|---|---|---|",
    ]
    for mutant, caught, failed, seconds in results:
        by = ", ".join(_short(f) for f in failed) or "-"
        lines.append(
            f"| {mutant.name} | {mutant.bug} | {'yes' if caught else 'NO'} "
            f"({seconds:.0f} s) | {by} |"
        )
    lines += ["", END]
    section = "\n".join(lines)
    text = TABLE.read_text("utf-8") if TABLE.exists() else ""
    old = _section(text)
    TABLE.write_text(text.replace(old, section) if old else text + "\n" + section + "\n", "utf-8")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/chaos",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--mutant", help="a mutant's name, or 'all'")
    parser.add_argument("--list", action="store_true", help="list the mutants")
    args, pytest_args = parser.parse_known_args(argv)
    if args.list:
        for m in MUTANTS:
            print(f"{m.name:24} {m.bug}")
        return 0
    if not args.mutant:
        return full_run(pytest_args)
    chosen = MUTANTS if args.mutant == "all" else [BY_NAME[args.mutant]]
    results = []
    for mutant in chosen:
        caught, failed, seconds = run_mutant(mutant, pytest_args)
        print(f"{mutant.name}: {'caught by ' + ', '.join(failed) if caught else 'NOT CAUGHT'}")
        results.append((mutant, caught, failed, seconds))
    write_mutants(results)
    return 0 if all(caught for _, caught, _, _ in results) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
