"""Each mutant still applies to this tree: its text is in its file exactly once and its scenarios
exist. A refactor that moves the text would otherwise surface only when someone runs
`scripts/chaos --mutant` (as the session-name mutant's did after the sidebar's rewrite)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chaos.mutants import MUTANTS, Mutant

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_the_mutant_applies_to_this_tree(mutant: Mutant) -> None:
    text = (ROOT / mutant.path).read_text("utf-8")
    assert text.count(mutant.old) == 1, f"{mutant.path} must hold the mutant's text exactly once"
    assert mutant.old != mutant.new
    for scenario in mutant.scenarios:
        module, _, name = scenario.partition("::")
        assert (ROOT / module).is_file(), scenario
        if name:  # a test of the module, not the whole module
            assert f"def {name.split('[')[0]}(" in (ROOT / module).read_text("utf-8"), scenario
