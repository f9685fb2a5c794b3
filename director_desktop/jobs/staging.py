"""The staging folder (PROTOCOL 7): `<data dir>/staging/<job_id>/`, a job's partial work.

Nothing but the job that owns a folder reads it; a finished job's result is moved out of it to
where the user's files live. A folder is removed when its job ends (done, failed or cancelled; a
paused one keeps it), and at start-up every folder not owned by a paused job (an orphan a crash
or a kill left) is removed.
Blocking file system calls: the `jobs` room runs them in a thread. Imports nothing from the project.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Collection
from pathlib import Path

log = logging.getLogger(__name__)


def check_name(name: str) -> str:
    """A file name inside a job's folder: one plain component, so a job cannot write elsewhere."""
    if (
        not name
        or name in (".", "..")
        or "/" in name
        or "\\" in name
        or "\0" in name
        or os.sep in name
    ):
        raise ValueError(f"a staging file name is one plain name, not {name!r}")
    return name


def make_folder(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def remove(path: Path) -> None:
    """Remove a file, a link (never what it points to) or a whole folder; gone already is fine."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    except FileNotFoundError:
        pass
    except OSError as error:  # the next start-up tries again
        log.warning("could not remove staging %s: %s", path.name, error)


def remove_orphans(staging_dir: Path, keep: Collection[str]) -> list[str]:
    """Remove everything in `staging_dir` but the folders named in `keep`; answers the names
    removed. Creates `staging_dir` (user-only) when it is missing."""
    make_folder(staging_dir)
    removed = []
    with os.scandir(staging_dir) as entries:
        for entry in entries:
            if entry.name in keep and entry.is_dir(follow_symlinks=False):
                continue
            remove(Path(entry.path))
            removed.append(entry.name)
    return sorted(removed)
