"""Long-running work (PROTOCOL 7): imports, transcodes, downloads — stored, broadcast, cancellable.

`Jobs` starts work as jobs and controls them (cancel, pause, resume), and sweeps what a previous
process left at start-up; the work is handed a `JobContext` for progress, its staging folder and
cleanups. Imports `store`, `protocol` and `errors` only: the rooms above hand their work down.
"""

from __future__ import annotations

from director_desktop.jobs.context import Cleanup, JobContext
from director_desktop.jobs.jobs import PROGRESS_INTERVAL, Jobs
from director_desktop.jobs.live import Notify, Work

__all__ = ["PROGRESS_INTERVAL", "Cleanup", "JobContext", "Jobs", "Notify", "Work"]
