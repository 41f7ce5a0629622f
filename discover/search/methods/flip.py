"""``flip``: flip-graph random walks (ternary over Z, or over GF(2) then lifted) with plus transitions.

Starts from ``problem.start`` (any exact scheme, e.g. a direct sum or Kronecker product), the
catalog's best scheme (``start=catalog``) or the naive scheme, and walks a flip graph
(:mod:`discover.flip`) until the rank is at most the target. The options are the flip engine's
:class:`~discover.flip.settings.FlipSettings`.

* ``field=zt``: the walk runs over Z with coefficients in {-1, 0, 1}; every scheme it visits
  is exact, so no lifting is needed (rings ZT, Z, Q).
* ``field=gf2``: the walk runs mod 2; ring Z2 returns the mod-2 scheme itself, labelled mod 2;
  other rings lift it (sign lift mod 4, then Hensel lifting).
* ``field=gf3`` (ring Q): the walk runs mod 3 and lifts 3-adically (schemes with halves,
  :mod:`discover.flip.gf3runners`).
* ``field=auto`` (default): zt for rings ZT, Z, Q with a ternary start, gf2 otherwise.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Callable

from ...errors import DiscoverError, SearchError
from ...flip.settings import FlipSettings, is_ternary_scheme
from ...flip.walk import flip_search
from ...scheme import Scheme
from ..live import Throttle, send_checkpoint
from ..contract import Candidate, Problem, SearchTask, TaskResult


def start_scheme(problem: Problem, start: str, usable: Callable[[Scheme], bool]) -> Scheme:
    """Where a walk starts: the problem's start scheme, else (``start="catalog"``) the catalog's
    best scheme when ``usable`` accepts it, else the naive scheme."""
    if problem.start is not None:
        return problem.start
    if start == "catalog":
        from ...catalog import best

        try:
            found = best(problem.format)
        except DiscoverError:  # no catalog, or no scheme of this format in it
            found = None
        if found is not None and usable(found):
            return found
    return Scheme.naive(problem.format)


class FlipMethod:
    """The ``flip`` search method (see the module docstring)."""

    name = "flip"
    options_type = FlipSettings
    description = "flip-graph walk, ternary over Z or over GF(2) with sign/Hensel lifting (flips, reductions, plus transitions)"

    def check(self, problem: Problem, options: FlipSettings) -> None:
        """Reject problems the walk cannot handle."""
        if max(a * b for a, b in problem.format.shapes) > 64:
            raise SearchError(f"flip: format {problem.format} has a factor with more than 64 entries")
        options.check(problem.start)
        if options.field == "gf3" and problem.ring != "Q":
            raise SearchError("flip: field=gf3 lifts to rationals (halves); use it with --ring Q")
        if options.field == "gf3" and problem.start is not None and problem.start.denominator % 3 == 0:
            raise SearchError("flip: field=gf3 needs a start scheme whose denominators are prime to 3 (it walks mod 3)")

    def _start(self, problem: Problem, options: FlipSettings) -> Scheme:
        ternary = options.field == "zt"
        return start_scheme(problem, options.start,
                            lambda s: is_ternary_scheme(s) if ternary else s.denominator % 2 == 1)

    def run_task(self, task: SearchTask, should_stop: Callable[[], bool]) -> TaskResult:
        """Walk from the start scheme until an exact scheme of rank ≤ target is found."""
        t0 = time.perf_counter()
        problem = task.problem
        if task.options.field == "gf3":
            return self._run_gf3(task, should_stop, t0)
        if problem.start is None:
            problem = dataclasses.replace(problem, start=self._start(problem, task.options))
        outcome = flip_search(problem, task.options, task.seed, should_stop, task.time_limit,
                              on_progress=Throttle(task.task_index), resume_from=task.resume_from,
                              on_checkpoint=lambda held: send_checkpoint(task.task_index, held))
        candidates = []
        if outcome.scheme is not None:
            candidates.append(Candidate.of(outcome.scheme, info=dict(outcome.stats)))
        return TaskResult(
            task_index=task.task_index,
            restarts=1,
            candidates=candidates,
            best_residual=0.0 if candidates else float(outcome.rank_mod2 - problem.rank),
            seconds=time.perf_counter() - t0,
            stats=outcome.stats,
            best_rank=outcome.exact_rank,
            best_rank_mod2=outcome.rank_mod2 if outcome.stats.get("field") == "gf2" else None,
            best_scheme=outcome.best,
            checkpoint=outcome.checkpoint,
        )

    def _run_gf3(self, task: SearchTask, should_stop: Callable[[], bool], t0: float) -> TaskResult:
        """Runners mod 3 from the start scheme, each scheme at the target rank lifted 3-adically."""
        from ...flip.gf3runners import gf3_runner_search

        problem, opts = task.problem, task.options
        start = start_scheme(problem, opts.start, lambda s: s.denominator % 3 != 0)
        out = gf3_runner_search(problem.format, problem.rank, start, opts, task.seed, should_stop, task.time_limit,
                                on_progress=Throttle(task.task_index), resume_from=task.resume_from,
                                on_checkpoint=lambda held: send_checkpoint(task.task_index, held))
        candidates = [Candidate.of(out.scheme, info=dict(out.stats))] if out.scheme is not None else []
        return TaskResult(task_index=task.task_index, restarts=1, candidates=candidates,
                          best_residual=0.0 if candidates else float(out.rank_mod3 - problem.rank),
                          seconds=time.perf_counter() - t0, stats=out.stats, best_rank_mod2=out.rank_mod3,
                          checkpoint=out.checkpoint)


METHOD = FlipMethod()
