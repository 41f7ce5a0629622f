"""A search's progress as records (seconds, best rank or residual, exact hits), for a picture.

No plotting here (and no matplotlib import): a search driver keeps a :class:`ProgressLog`,
calls :meth:`ProgressLog.record` whenever it reports progress, and at the end
:meth:`ProgressLog.plot` draws the curve through :func:`discover.plot.plot_progress`.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Optional


class ProgressLog:
    """Timestamped (seconds, best, hits) records of one search.

    Parameters
    ----------
    clock : callable, optional
        Returns the current time in seconds (default :func:`time.monotonic`); tests pass a fake.
    """

    def __init__(self, clock: Optional[Callable[[], float]] = None) -> None:
        self._clock = clock or time.monotonic
        self._start = self._clock()
        self.records: list[tuple[float, float, int]] = []

    def record(self, best: float, hits: int, seconds: Optional[float] = None) -> None:
        """Add one record: the best rank or residual so far and the exact hits so far.

        ``seconds`` is the elapsed time since the start; measured from the clock when omitted.
        """
        elapsed = self._clock() - self._start if seconds is None else float(seconds)
        self.records.append((elapsed, float(best), int(hits)))

    def plot(self, path: Any, *, title: Optional[str] = None, metric: Optional[str] = None) -> Any:
        """Write the progress curve (see :func:`discover.plot.plot_progress`)."""
        from .plot import plot_progress

        return plot_progress(self.records, path, title=title, metric=metric)

    def to_json(self) -> list[dict[str, Any]]:
        return [{"seconds": t, "best": b, "hits": h} for t, b, h in self.records]
