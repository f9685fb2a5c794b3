"""Deliberate bugs the suite must catch. Each is a small, exact text replacement in one file of a
temporary `git worktree` of HEAD (refused if the text is not found, so a mutant never silently
becomes a no-op), and the scenarios expected to fail on it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    name: str
    bug: str
    path: str
    old: str
    new: str
    scenarios: tuple[str, ...]
    frontend: bool = False  # the bundle must be rebuilt in the worktree


MUTANTS = [
    Mutant(
        "emit-before-store",
        "a snapshot is emitted before it is stored (so before it has its seq)",
        "director_desktop/engine/turns.py",
        "        stored = await self._store.put_message(snapshot)\n"
        '        self._metrics.message("snapshot")\n'
        "        await self._publisher.message(stored)\n",
        "        await self._publisher.message(snapshot)\n"
        "        stored = await self._store.put_message(snapshot)\n"
        '        self._metrics.message("snapshot")\n',
        ("tests/chaos/test_load.py::test_load[builtin]", "tests/chaos/test_drops.py"),
    ),
    Mutant(
        "skip-import-fsync",
        "an import renames its staged original into the library without an fsync",
        "director_desktop/media/importer.py",
        "        await asyncio.to_thread(self._close, True)\n",
        "        await asyncio.to_thread(self._close, False)\n",
        ("tests/chaos/test_durability.py::test_import_fsyncs_the_original_before_its_rename",),
    ),
    Mutant(
        "job-not-swept",
        "jobs cut off by a crash are not swept at start-up",
        "director_desktop/jobs/jobs.py",
        "        for record in await self._store.jobs.sweep():\n",
        "        for record in []:\n",
        ("tests/chaos/test_kills.py::test_sigkill[import]",),
    ),
    Mutant(
        "no-origin-check",
        "the guard no longer checks Origin",
        "director_desktop/web/guard.py",
        "        if origin is not None and origin not in self._origins:\n",
        "        if False:\n",
        ("tests/chaos/test_hostile.py::test_hostile_origin_rebinding_and_traversal",),
    ),
    Mutant(
        "unescaped-session-name",
        "the sidebar renders a session's name as HTML",
        "frontend/src/components/SessionItem.vue",
        "        {{ label }}\n",
        '        <span v-html="label"></span>\n',
        ("tests/chaos/test_hostile.py::test_xss_corpus_everywhere_text_is_shown",),
        frontend=True,
    ),
]
BY_NAME = {m.name: m for m in MUTANTS}
