"""``cyclic``: cyclic-symmetric flip-graph walks for square formats (Moosbauer–Poole).

The walk (:func:`discover.flip.cyclic.cyclic_walk`) keeps a scheme of <n,n,n> invariant under
the cyclic symmetry (a, b, c) → (b, c, a) of the trace form: it holds one representative per
orbit of three terms plus the fixed terms (x, x, x), and applies every flip, reduction and split
to a whole orbit at once. The rank is 3·(orbits) + (fixed terms); the naive scheme has n fixed
terms, which the walk keeps, so the ranks it can reach are those ≡ n (mod 3) (3x3x3: 24, 21, ...).
Each task is one walk from the naive scheme's orbits; its end point is expanded to the full
scheme and proposed only when it is exact and cyclic-invariant (the driver then checks and
proves it again). A numpy walk, one move per Python step: small square formats.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ...errors import SearchError
from ...rings import Ring
from ..contract import Candidate, Problem, SearchTask, TaskResult


@dataclass(frozen=True)
class CyclicOptions:
    """Options of the ``cyclic`` method.

    Attributes
    ----------
    max_flips : int
        Moves per walk (one task is one walk).
    plateau : int
        Moves without a lower rank before an orbit is split (rank + 3) or the walk returns to its best.
    """

    max_flips: int = 5000
    plateau: int = 300


class CyclicMethod:
    """The ``cyclic`` search method (see the module docstring)."""

    name = "cyclic"
    options_type = CyclicOptions
    description = "cyclic-symmetric flip-graph walk for square formats (flips on whole orbits, numpy)"

    def check(self, problem: Problem, options: CyclicOptions) -> None:
        """Square formats, integer or rational rings, from the naive scheme."""
        n, m, p = problem.format.dims
        if not n == m == p:
            raise SearchError(f"cyclic: needs a square format (NxNxN), got {problem.format}")
        if problem.ring is Ring.Z2:
            raise SearchError("cyclic: walks over Z; use --ring ZT, Z or Q")
        if problem.start is not None:
            raise SearchError("cyclic: walks from the naive scheme's orbits; --start is not supported")
        for name in ("max_flips", "plateau"):
            if getattr(options, name) < 1:
                raise SearchError(f"cyclic: {name} must be at least 1, got {getattr(options, name)}")

    def run_task(self, task: SearchTask, should_stop: Callable[[], bool]) -> TaskResult:
        """One walk from the naive orbits; its end point, when exact and invariant, is the proposal."""
        from ...flip.cyclic import cyclic_walk, expand, is_cyclic_invariant, is_exact

        t0 = time.perf_counter()
        problem, opts = task.problem, task.options
        n = problem.format.dims[0]

        def stop() -> bool:
            return should_stop() or (task.time_limit is not None and time.perf_counter() - t0 > task.time_limit)

        reps, fixed = cyclic_walk(n, problem.rank, np.random.default_rng(task.seed), max_flips=opts.max_flips,
                                  plateau=opts.plateau, should_stop=stop)
        scheme = expand(reps, fixed, n)
        if not (is_exact(scheme) and is_cyclic_invariant(scheme)):  # the orbit moves keep both
            raise RuntimeError("internal error: the cyclic walk lost exactness or the symmetry")
        scheme = scheme.with_meta(name=f"cyclic-symmetric flip graph {problem.format} rank {scheme.rank}")
        info = {"orbits": int(len(reps)), "fixed": int(len(fixed))}
        hit = scheme.rank <= problem.rank
        return TaskResult(task_index=task.task_index, restarts=1,
                          candidates=[Candidate.of(scheme, info=info)] if hit else [],
                          best_residual=0.0 if hit else float(scheme.rank - problem.rank),
                          seconds=time.perf_counter() - t0, stats={"field": "zt", **info},
                          best_rank=scheme.rank, best_scheme=None if hit else scheme)


METHOD = CyclicMethod()
