"""``pool``: pool descent over the ternary flip graph (:mod:`discover.flip.pool`).

Many short walks from a pool of distinct exact schemes of the current rank; walks that reach a
lower rank fill the next pool, and the search moves down when that pool is full (or after a
patience budget). Task ``i`` runs one descent with the ``i``-th child seed; with ``pool_dir``
(``strassen search -o DIR`` sets ``DIR/pools``) the tasks of a run, and later runs, share and
continue the same pools, so they may run under any scheduler that sees that folder. Rings ZT,
Z and Q (the walk stays ternary, so every pool member is an integer scheme); with ``field=gf2``
the pools hold schemes mod 2 and what reaches the target rank is lifted into the asked ring
(ring Z2: the scheme mod 2 itself); ``field=gf3`` (ring Q) walks mod 3 and lifts 3-adically
(schemes with halves).
"""
from __future__ import annotations

import time
from typing import Callable

from ...errors import SearchError
from ...flip.pool import PoolSettings, pool_descent
from ...flip.settings import is_ternary_scheme
from ...rings import Ring
from ...scheme import Scheme
from ..contract import Candidate, Problem, SearchTask, TaskResult
from ..live import Throttle
from .flip import start_scheme


class PoolMethod:
    """The ``pool`` search method (see the module docstring)."""

    name = "pool"
    options_type = PoolSettings
    description = ("pool descent over the ternary flip graph (pools of exact schemes per rank, split and sandwich "
                   "moves), or over GF(2)/GF(3) with lifts at the target (field=gf2, gf3)")

    def check(self, problem: Problem, options: PoolSettings) -> None:
        """Reject problems the pool descent cannot handle."""
        if problem.ring is Ring.Z2 and options.field != "gf2":
            raise SearchError("pool: the pools hold ternary integer schemes; use -O field=gf2 for --ring Z2")
        if options.field == "gf3" and problem.ring is not Ring.Q:
            raise SearchError("pool: field=gf3 lifts to rationals (halves); use it with --ring Q")
        if max(a * b for a, b in problem.format.shapes) > 64:
            raise SearchError(f"pool: format {problem.format} has a factor with more than 64 entries")
        options.check(problem.start)

    def _start(self, problem: Problem, options: PoolSettings) -> Scheme:
        if options.field == "gf2":
            return start_scheme(problem, options.start, lambda s: s.denominator % 2 == 1)
        if options.field == "gf3":
            return start_scheme(problem, options.start, lambda s: s.denominator % 3 != 0)
        return start_scheme(problem, options.start, is_ternary_scheme)

    def run_task(self, task: SearchTask, should_stop: Callable[[], bool]) -> TaskResult:
        """One pool descent from the start scheme (and the pools already in ``pool_dir``)."""
        t0 = time.perf_counter()
        problem = task.problem
        out = pool_descent(problem.format, problem.rank, self._start(problem, task.options), task.options, task.seed,
                           should_stop, task.time_limit, on_progress=Throttle(task.task_index),
                           ring=problem.ring, bound=problem.coefficient_bound)
        candidates = [Candidate.of(out.scheme, info={k: v for k, v in out.stats.items() if k != "pools"})] \
            if out.scheme is not None else []
        return TaskResult(task_index=task.task_index, restarts=1, candidates=candidates,
                          best_residual=0.0 if candidates else float(out.best_rank - problem.rank),
                          seconds=time.perf_counter() - t0, stats=out.stats,
                          best_rank=out.best.rank if out.best is not None else (out.scheme.rank if candidates else None),
                          best_rank_mod2=out.best_rank if task.options.field != "zt" else None,
                          best_scheme=out.best)


METHOD = PoolMethod()

__all__ = ["METHOD", "PoolMethod", "PoolSettings"]
