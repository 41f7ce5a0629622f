"""The search progress display on stderr (one self-updating line on a terminal)."""
from __future__ import annotations

import sys
import time
from typing import TextIO

from .collector import Progress


def format_progress(p: Progress) -> str:
    """``tasks 3 done, 2 running, 2 workers | restarts 2 | best rank 24 (target 23) | 1.9M flips/s | exact 0 | 3.2 s``.

    Flip walks show the lowest exact rank reached (GF(2) and GF(3) walks: ``best rank mod 2``/``mod 3``,
    which may not lift), the pool method the size of each pool (``pools r24:16 r23:3``), numerical
    methods the best residual.
    """
    target = f" (target {p.target})" if p.target is not None else ""
    parts = []
    if p.tasks_running is not None:  # the scheduler reports its tasks and workers
        parts.append(f"tasks {p.tasks_done} done, {p.tasks_running} running"
                     + (f", {p.workers} workers" if p.workers is not None else ""))
    parts.append(f"restarts {p.restarts_done}")
    if p.best_rank is not None:
        parts.append(f"best rank {p.best_rank}{target}")
    if p.best_rank_mod2 is not None and (p.best_rank is None or p.best_rank_mod2 < p.best_rank):
        parts.append(f"best rank mod {p.modulus} {p.best_rank_mod2}" + ("" if p.best_rank is not None else target))
    if p.best_rank is None and p.best_rank_mod2 is None:
        parts.append("best residual " + ("-" if p.best_residual == float("inf") else f"{p.best_residual:.3g}"))
    if p.flips_per_s:
        parts.append(f"{si_count(p.flips_per_s)} flips/s")
    if p.pools:
        parts.append("pools " + " ".join(f"r{k}:{v}" for k, v in sorted(p.pools.items(), reverse=True)[-4:]))
    parts.append(f"exact {p.hits}")
    if p.rejected:
        parts.append(f"rejected {p.rejected}")
    parts.append(f"{p.elapsed:.1f} s")
    return " | ".join(parts)


def si_count(x: float) -> str:
    """1234567 -> ``1.2M``."""
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if x >= scale:
            return f"{x / scale:.1f}{unit}"
    return f"{x:.0f}"


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
