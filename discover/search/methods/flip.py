"""``flip``: flip-graph random walks (ternary over Z, or over GF(2) then lifted) with plus transitions.

Starts from ``problem.start`` (any exact scheme, e.g. a direct sum or Kronecker product) or the
naive scheme and walks a flip graph (rank-preserving flips, every reduction taken, plus
transitions out of plateaus, restarts from the best scheme with adaptive path lengths) until
the rank is at most the target.

* ``field=zt``: the walk runs over Z with coefficients in {-1, 0, 1}; every scheme it visits
  is exact, so no lifting is needed (rings ZT, Z, Q).
* ``field=gf2``: the walk runs mod 2; ring Z2 returns the mod-2 scheme itself, labelled mod 2;
  other rings lift it (sign lift mod 4, then Hensel lifting), and a failed lift moves the walk
  along the plateau or, after ``lift_tries`` failures, out of that region by plus transitions.
* ``field=auto`` (default): zt for rings ZT, Z, Q with a ternary start, gf2 otherwise.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, fields
from typing import Callable

import numpy as np

from ...flip.walk import WalkSettings, flip_search
from ...flip.zt import is_ternary
from ...errors import DiscoverError
from ...scheme import Scheme
from ..base import Candidate, Problem, SearchError, SearchTask, TaskResult, register


@dataclass(frozen=True)
class FlipOptions:
    """Options of the ``flip`` method.

    Attributes
    ----------
    field : str
        "auto" (zt for rings ZT/Z/Q with a ternary start, else gf2), "zt" (ternary walk over
        Z) or "gf2" (walk mod 2, then lift).
    plateau : int
        Flips without a new best rank before a plus transition (or a restart from the best).
    max_plus : int
        Plus transitions allowed above the best rank before restarting from the best scheme.
    chunk : int
        Flips per compiled call (between checks of the stop flag and the time limit).
    lift_interval : int
        Flips along a plateau between two lifting attempts.
    lift_tries : int
        Failed lifts at one rank before the walk leaves that region by plus transitions.
    escape_plus : int
        Plus transitions taken (gf2) to leave a target-rank region whose lifts keep failing.
    hensel : bool
        Try Hensel lifting (rationals, larger integers) when the sign lift fails (rings Z and Q).
    max_flips : int
        Flip budget per task (0: unlimited). With a budget and no time limit a seed
        reproduces the walk exactly.
    start : str
        Start scheme when the problem has none: "naive" or "catalog" (the catalog's best).
    """

    field: str = "auto"
    plateau: int = 20000
    max_plus: int = 2
    chunk: int = 200_000
    lift_interval: int = 2000
    lift_tries: int = 10
    escape_plus: int = 2
    hensel: bool = True
    max_flips: int = 0
    start: str = "naive"


def _is_ternary(scheme: Scheme) -> bool:
    return scheme.denominator == 1 and is_ternary(scheme.U, scheme.V, scheme.W)


def choose_field(field: str, ring: str, start: Scheme) -> str:
    """The field a walk runs in: ``field`` itself unless it is "auto"."""
    if field != "auto":
        return field
    return "zt" if ring != "Z2" and _is_ternary(start) else "gf2"


class FlipMethod:
    """The ``flip`` search method (see the module docstring)."""

    name = "flip"
    options_type = FlipOptions
    description = "flip-graph walk, ternary over Z or over GF(2) with sign/Hensel lifting (flips, reductions, plus transitions)"

    def check(self, problem: Problem, options: FlipOptions) -> None:
        """Reject problems the walk cannot handle."""
        if options.field not in ("auto", "zt", "gf2"):
            raise SearchError(f"flip: field={options.field!r}: choose auto, zt or gf2")
        if options.start not in ("naive", "catalog"):
            raise SearchError(f"flip: start={options.start!r}: choose naive or catalog")
        if options.plateau < 1 or options.chunk < 1 or options.lift_interval < 1 or options.lift_tries < 1:
            raise SearchError("flip: plateau, chunk, lift_interval and lift_tries must be positive")
        if options.max_plus < 0 or options.max_flips < 0 or options.escape_plus < 0:
            raise SearchError("flip: max_plus, escape_plus and max_flips must be ≥ 0")
        if max(a * b for a, b in problem.format.shapes) > 64:
            raise SearchError(f"flip: format {problem.format} has a factor with more than 64 entries")
        start = problem.start
        if start is not None:
            if start.format != problem.format:
                raise SearchError(f"flip: the start scheme is for {start.format}, not {problem.format}")
            if options.field == "zt" and not _is_ternary(start):
                raise SearchError("flip: field=zt needs a start scheme with coefficients in {-1, 0, 1}")
            if options.field != "zt" and not _is_ternary(start) and start.denominator % 2 == 0:
                raise SearchError("flip: the start scheme has even denominators, so it has no reduction mod 2")
        if problem.rank < 1:
            raise SearchError("flip: the target rank must be positive")

    def _start(self, problem: Problem, options: FlipOptions) -> Scheme:
        if problem.start is not None:
            return problem.start
        if options.start == "catalog":
            from ...catalog import best

            try:
                found = best(problem.format)
            except DiscoverError:  # no catalog, or no scheme of this format in it
                found = None
            usable = _is_ternary(found) if found is not None and options.field == "zt" else (
                found is not None and found.denominator % 2 == 1
            )
            if usable:
                return found
        return Scheme.naive(problem.format)

    def run_task(self, task: SearchTask, should_stop: Callable[[], bool]) -> TaskResult:
        """Walk from the start scheme until an exact scheme of the target rank is found."""
        t0 = time.perf_counter()
        problem, options = task.problem, task.options
        self.check(problem, options)
        start = self._start(problem, options)
        # The walk's knobs are the method's options of the same names (field resolved first).
        shared = {f.name: getattr(options, f.name) for f in fields(WalkSettings) if f.name != "field"}
        settings = WalkSettings(field=choose_field(options.field, problem.ring, start), **shared)
        outcome = flip_search(
            problem.format,
            problem.rank,
            problem.ring,
            start,
            task.seed,
            settings,
            should_stop,
            task.time_limit,
            problem.coefficient_bound,
        )
        candidates = []
        if outcome.scheme is not None:
            s = outcome.scheme
            candidates.append(Candidate(np.array(s.U), np.array(s.V), np.array(s.W), mod2=s.mod2, info=dict(outcome.stats)))
        return TaskResult(
            task_index=task.task_index,
            restarts=1,
            candidates=candidates,
            best_residual=0.0 if candidates else float(outcome.rank_mod2 - problem.rank),
            seconds=time.perf_counter() - t0,
            stats=outcome.stats,
        )


register(FlipMethod())
