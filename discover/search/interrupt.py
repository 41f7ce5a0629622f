"""A first Ctrl-C (or SIGTERM) asks a running search to stop; a second one stops it at once.

A walk or a pool descent holds its best scheme until its task returns. When the signal raised
``KeyboardInterrupt`` straight away, that scheme was lost: only what a task had already handed back
was kept. While :class:`GracefulStop` is active the first SIGINT or SIGTERM only sets a flag. The
driver sees it among its stop conditions, the tasks see it through ``should_stop`` and return
what they hold, and the search ends as interrupted with everything verified by then saved. A
second signal raises ``KeyboardInterrupt``, as before, for tasks that take long to notice.

SIGINT keeps being ignored when the process started with it ignored (a background job of a
shell): then ``kill -INT`` does nothing, as for any other program, and SIGTERM still works.
"""
from __future__ import annotations

import signal
import sys
import threading
from types import FrameType
from typing import Any, Optional


class GracefulStop:
    """Context manager: turns the first SIGINT/SIGTERM into ``requested`` (main thread only)."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: Optional[FrameType]) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        sys.stderr.write("\nstopping: the running tasks hand back their best (press Ctrl-C again to stop at once)\n")
        sys.stderr.flush()

    def __enter__(self) -> "GracefulStop":
        if threading.current_thread() is not threading.main_thread():
            return self  # signals reach the main thread only; a caller in a thread stops as before
        for sig in (signal.SIGINT, signal.SIGTERM):
            current = signal.getsignal(sig)
            if sig == signal.SIGINT and current == signal.SIG_IGN:
                continue
            self._previous[sig] = current
            signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
