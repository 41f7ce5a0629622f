"""Checkpoints of a walk: where its runners (or its orbits) stand, so a stopped walk goes on from there.

A walk of hours is cut many times: by its time limit (``catalog improve`` runs it in slices),
by Ctrl-C, by a restart of the job, by a kill. Without a checkpoint every cut sends the runners
back to the start scheme. A checkpoint is a plain picklable dict,
``{"walk": KIND, "arrays": {name: ndarray}, "values": {name: JSON value}}``: the runners'
arrays (:class:`~discover.flip.runners.Runners`; the cyclic walk, which has none, keeps its
packed orbits instead), the walk's generator state and flip counters,
and what the walk kept besides (its lowest rank, lift counters, ...). The walk hands it out
(methods never write files); the search driver writes it into the output folder
(:mod:`discover.search.checkpoints`) and gives it back to the task on ``--resume``.

Taken at a boundary between two compiled calls, after that call's lifts, a checkpoint holds all
the walk's state: a walk with a flip budget (``max_flips``) that is stopped at such a boundary
and resumed makes the very flips and lifts of the walk that was never stopped (the tests check
it). The flip count carries on, so recorded lift points (``replay_lift``) stay valid.
"""
from __future__ import annotations

import math
import os
import time
from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from ..errors import SearchError

if TYPE_CHECKING:  # the runners' module compiles kernels; the driver reads the seconds from here
    from .runners import Runners

#: Seconds between two checkpoints a walk hands out while it runs (a kill loses at most this much).
CHECKPOINT_EVERY = 300.0
#: The environment variable that sets those seconds instead (e.g. 60 on a machine that may be taken away).
CHECKPOINT_ENV = "STRASSEN_CHECKPOINT_SECONDS"
#: The runner arrays, in :class:`Runners` field order.
RUNNER_ARRAYS = ("Fs", "bests", "rs", "best_rs", "since", "periods", "quiet")


def take(walk: str, runners: Optional["Runners"], state: np.ndarray, stats: np.ndarray,
         arrays: Optional[dict[str, np.ndarray]] = None, values: Optional[dict[str, Any]] = None) -> dict:
    """A checkpoint of a walk of kind ``walk`` (copies: the walk goes on changing its arrays).

    Parameters
    ----------
    walk
        What kind of walk it is ("gf2", "gf3", "zt", "single-…", "cyclic-…"): a checkpoint is
        only given back to its own kind.
    runners, state, stats
        The runners (None: a walk without runners, the single or the cyclic walk), the walk's generator
        state and its flip counters.
    arrays, values
        Further arrays and JSON-able values the walk needs to go on (its own names).
    """
    names = RUNNER_ARRAYS if runners is not None else ()
    held = {name: np.array(getattr(runners, name), copy=True) for name in names}
    held["state"] = np.array(state, copy=True)
    held["stats"] = np.array(stats, copy=True)
    for name, value in (arrays or {}).items():
        held[name] = np.array(value, copy=True)
    return {"walk": walk, "arrays": held, "values": dict(values or {})}


def restore(checkpoint: dict, walk: str, fresh: Optional["Runners"], state: np.ndarray, stats: np.ndarray,
            arrays: tuple[tuple[str, np.ndarray], ...] = ()) -> dict[str, Any]:
    """Put a checkpoint back: ``fresh`` (runners just started, or None), ``state``, ``stats`` and
    the named ``arrays`` are overwritten in place; returns the checkpoint's values.

    Raises
    ------
    SearchError
        When the checkpoint is of another kind of walk or its arrays do not fit this walk's
        (another start, another number of runners): one line, nothing changed.
    """
    if checkpoint.get("walk") != walk:
        raise SearchError(f"the walk checkpoint is of a {checkpoint.get('walk')!r} walk, not a {walk!r} one")
    held = checkpoint.get("arrays") or {}
    targets = [(name, getattr(fresh, name)) for name in (RUNNER_ARRAYS if fresh is not None else ())]
    targets += [("state", state), ("stats", stats)]
    targets += list(arrays)
    for name, into in targets:
        got = held.get(name)
        if got is None or got.shape != into.shape or got.dtype != into.dtype:
            seen = "missing" if got is None else f"{got.dtype}{list(got.shape)}"
            raise SearchError(f"the walk checkpoint's {name} ({seen}) does not fit this walk "
                              f"({into.dtype}{list(into.shape)}): another start or other settings")
    for name, into in targets:
        into[...] = held[name]
    return dict(checkpoint.get("values") or {})


def checkpoint_seconds() -> float:
    """Seconds between two checkpoints: ``$STRASSEN_CHECKPOINT_SECONDS``, else :data:`CHECKPOINT_EVERY`.

    Raises
    ------
    SearchError
        When the variable is set to anything but a finite number ≥ 0 (the driver asks before any work).
    """
    text = os.environ.get(CHECKPOINT_ENV, "").strip()
    if not text:
        return CHECKPOINT_EVERY
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        raise SearchError(f"{CHECKPOINT_ENV}={text!r}: expected seconds between walk checkpoints (a number >= 0)")
    return seconds


class CheckpointClock:
    """Says when a running walk is due to hand out its next checkpoint (every ``every`` seconds)."""

    def __init__(self, every: Optional[float] = None) -> None:
        self.every = checkpoint_seconds() if every is None else every
        self.last = time.monotonic()

    def due(self) -> bool:
        """True once ``every`` seconds have passed since the last checkpoint (and restarts the clock)."""
        now = time.monotonic()
        if now - self.last < self.every:
            return False
        self.last = now
        return True
