"""How hard the torture suite pushes: the CI run (inside the normal `pytest`, a few minutes on two
cores) or the full run (`scripts/chaos`, `DIRECTOR_CHAOS=full`). Both run the same scenarios;
only the counts differ, so a scenario that passes in CI is the one the table reports.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    name: str
    clients: int  # concurrent chat clients in the load scenario
    load_seconds: float  # how long they chat, per model
    kills: int  # SIGKILLs per kill scenario (mid-run, mid-import, mid-index)
    drops: int  # socket drops
    fuzz_examples: int  # hypothesis examples per fuzz target
    media_mutations: int  # broken media files through import and index


CI = Scale(
    "ci", clients=100, load_seconds=4.0, kills=2, drops=40, fuzz_examples=10, media_mutations=6
)
FULL = Scale(
    "full",
    clients=500,
    load_seconds=20.0,
    kills=50,
    drops=1000,
    fuzz_examples=160,
    media_mutations=60,
)


def current() -> Scale:
    """`DIRECTOR_CHAOS=full` picks the full run; anything else the CI run. Counts can be lowered
    one by one (`DIRECTOR_CHAOS_CLIENTS=...`) when a machine cannot carry the full run."""
    base = FULL if os.environ.get("DIRECTOR_CHAOS") == "full" else CI
    overrides = {}
    for field in ("clients", "kills", "drops", "fuzz_examples", "media_mutations"):
        value = os.environ.get(f"DIRECTOR_CHAOS_{field.upper()}")
        if value:
            overrides[field] = int(value)
    seconds = os.environ.get("DIRECTOR_CHAOS_LOAD_SECONDS")
    if seconds:
        overrides["load_seconds"] = float(seconds)  # type: ignore[assignment]
    return Scale(**{**base.__dict__, **overrides}) if overrides else base
