"""The search progress display on stderr (one self-updating line on a terminal)."""
from __future__ import annotations

import sys
import time
from typing import TextIO

from .collector import Progress


def format_progress(p: Progress) -> str:
    """``tasks 12 done, 2 running, 2 workers | restarts 48 | best rank 24 (target 23) | exact 1 | 3.2 s``.

    The residual replaces the rank for numerical methods; the task part shows when the
    scheduler reports it.
    """
    if p.best_rank is not None:
        best = f"best rank {p.best_rank}" + (f" (target {p.target})" if p.target is not None else "")
    else:
        best = "best residual " + ("-" if p.best_residual == float("inf") else f"{p.best_residual:.3g}")
    extra = f" | rejected {p.rejected}" if p.rejected else ""
    tasks = ""
    if p.tasks_running is not None:  # the scheduler reports its tasks and workers
        tasks = f"tasks {p.tasks_done} done, {p.tasks_running} running" + \
            (f", {p.workers} workers" if p.workers is not None else "") + " | "
    return f"{tasks}restarts {p.restarts_done} | {best} | exact {p.hits}{extra} | {p.elapsed:.1f} s"


class ProgressLine:
    """Callable for :func:`discover.search.driver.search`'s ``progress`` argument.

    On a terminal the line is redrawn at most ``hz`` times a second; otherwise a line is
    written every ``every`` seconds, so logs stay short.
    """

    def __init__(self, stream: TextIO | None = None, hz: float = 5.0, every: float = 10.0) -> None:
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = 1.0 / hz if self.tty else every
        self.last = 0.0
        self.drawn = False

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        if now - self.last < self.interval:
            return
        self.last = now
        text = format_progress(p)
        if self.tty:
            self.stream.write("\r\033[K" + text)
            self.drawn = True
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End the self-updating line so later messages start on a fresh line."""
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False
