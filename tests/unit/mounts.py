"""Real size-limited and read-only locations for the unit tier: a tmpfs mounted for one test.

Tests run as root, which ignores file modes, so "read-only" and "disk full" are made real with a
mount. Where mounting is impossible the test is skipped, except with DIRECTOR_TEST_ALL=1 (CI),
where that is a failure.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    where.mkdir(parents=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        reason = f"cannot mount a tmpfs here ({done.stderr.strip()}): no real read-only/full disk"
        if os.environ.get("DIRECTOR_TEST_ALL") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield where
    finally:
        # A failed test may leave a file open there; detach the mount anyway (lazy) so no test
        # run leaves mounts behind.
        if subprocess.run(["umount", str(where)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(where)], check=True)


def remount(where: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(where)], check=True)
