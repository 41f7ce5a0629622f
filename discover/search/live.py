"""Live statistics from running tasks (best rank, flips/s, pool sizes) for the progress display.

A task's :class:`~discover.search.contract.TaskResult` arrives only when the task ends, and a
flip walk may run for the whole time limit. So a method may also call :func:`report` while it
runs; the scheduler that runs the task installs the sink (:func:`install`): the inline
scheduler passes the numbers straight to the driver, the process pool sends them through a
queue that the parent drains while it waits, a Dask cluster through a Dask queue that the
client drains (:mod:`.dask_scheduler`). Without a sink (a scheduler that knows nothing of
this) :func:`report` does nothing: live numbers are a display aid, never a result, and
nothing here is verified or saved.

The same channel carries a long walk's checkpoints (:func:`send_checkpoint`, every few minutes):
the driver writes them into the output folder, so a walk killed outright resumes from its last
one. They are no result either: one lost costs only the walk's progress since the one before.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Optional

_SINK: Optional[Callable[[int, dict], None]] = None


def install(sink: Optional[Callable[[int, dict], None]]) -> Optional[Callable[[int, dict], None]]:
    """Set the function that receives ``(task_index, stats)``; returns the previous one."""
    global _SINK
    previous, _SINK = _SINK, sink
    return previous


def report(task_index: int, stats: dict[str, Any]) -> None:
    """Send a running task's statistics to whoever displays progress (no-op without a sink)."""
    sink = _SINK
    if sink is not None:
        try:
            sink(task_index, dict(stats))
        except Exception:  # noqa: BLE001 - a display channel must never break a search
            pass


#: The key under which :func:`send_checkpoint` sends a checkpoint (never a display statistic).
CHECKPOINT = "checkpoint"


def send_checkpoint(task_index: int, checkpoint: dict) -> None:
    """Send a running walk's checkpoint (:mod:`discover.flip.checkpoint`) to the driver."""
    report(task_index, {CHECKPOINT: checkpoint})


class Throttle:
    """Calls ``report`` at most every ``interval`` seconds (a walk calls it after every chunk)."""

    def __init__(self, task_index: int, interval: float = 0.5) -> None:
        self.task_index, self.interval, self.last = task_index, interval, 0.0

    def __call__(self, stats: dict[str, Any], force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self.last >= self.interval:
            self.last = now
            report(self.task_index, stats)
