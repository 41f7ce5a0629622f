"""The flip benchmark's engine: walk throughput and time to a verified scheme per format.

``strassen bench flip`` prints what :func:`throughput` and :func:`bench_format` measure.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..best_known import best_known
from ..formats import Format
from ..known import strassen
from ..problem import Problem
from ..rings import Ring
from ..scheme import Scheme
from ..symmetry import kron
from ..verify import verify_exact
from . import gf2, zt
from .policy import runners_kernel
from .pool import PoolSettings, pool_descent
from .rng import seed_state
from .settings import FlipSettings
from .walk import flip_search

#: (format, target rank) of the benchmark rows; the best known rank comes from :mod:`discover.best_known`.
ROWS = [("3x3x3", 23), ("2x4x4", 26), ("3x3x4", 29), ("3x4x4", 38), ("4x4x4", 49), ("2x5x5", 40),
        ("3x4x5", 47), ("4x4x5", 61)]
QUICK_ROWS = ROWS[:3]


def start_scheme(fmt: Format) -> Scheme:
    """The naive scheme; for 4x4x4 Strassen⊗Strassen (plain walks from the naive 4x4x4 stall near 54)."""
    return kron(strassen(), strassen()) if fmt.dims == (4, 4, 4) else Scheme.naive(fmt)


def throughput(walk_field: str = "gf2", seconds: float = 2.0) -> int:
    """Flips per CPU second (one thread) on 3x3x3, walking at rank 23 (reductions checked, none taken).

    CPU time, like the peer's rate (:func:`discover.flip.compare.peer_rate`), so a loaded machine
    lowers neither figure. Both fields are timed in the kernel their searches use: the runner walk,
    flips drawn from pair lists (:mod:`discover.flip.pairs`; GF(2) schemes walk a copy in the
    ternary layout with sums mod 2).
    """
    fmt = Format.parse("3x3x3")
    ternary = walk_field == "zt"
    found = flip_search(Problem(fmt, 23, Ring.ZT if ternary else Ring.Z2), FlipSettings(field=walk_field),
                        np.random.SeedSequence(0)).scheme
    U, V, W = found.int64_arrays()
    F = (zt if ternary else gf2).pack(U, V, W, 26)
    stats, state, r = np.zeros(5, np.int64), seed_state(1), found.rank
    # One runner, plus periods beyond the timing: flips only, the pair lists built once per call.
    Fs, rs = F[None].copy(), np.array([r], dtype=np.int64)
    bests, best_rs = Fs.copy(), rs.copy()
    since, quiet, periods = np.zeros(1, np.int64), np.zeros(1, np.int64), np.full(1, 1 << 60, np.int64)
    runners_kernel(Fs, rs, bests, best_rs, since, periods, quiet, 0, 1, 1 << 60, 1 << 60, 0, 0,
                   1 << 62, state, stats, ternary)  # compiled (or loaded from the cache) before the clock starts
    stats[:] = 0
    t0, c0 = time.perf_counter(), time.process_time()
    while time.perf_counter() - t0 < seconds:
        runners_kernel(Fs, rs, bests, best_rs, since, periods, quiet, 0, 200_000, 1 << 60, 1 << 60, 0, 0,
                       1 << 62, state, stats, ternary)
    return int(stats[0] / max(time.process_time() - c0, 1e-9))


@dataclass
class FormatRow:
    """One row of the flip benchmark."""

    format: str
    target: int
    best_known: Optional[int]
    seeds: int
    times: list[float] = field(default_factory=list)
    reached: list[int] = field(default_factory=list)
    lifts: int = 0

    def median(self, budget: float) -> str:
        return f"{statistics.median(self.times):.2f}" if len(self.times) * 2 > self.seeds else f">{budget:g}"


def bench_format(name: str, target: int, budget: float, seeds: int, walk_field: str, ring: Ring,
                 on_seed=None, strategy: str = "flip") -> FormatRow:
    """Walk ``seeds`` times from the start scheme within ``budget`` seconds each; verify what is found.

    ``strategy="pool"`` runs a pool descent (:mod:`discover.flip.pool`, ternary, in memory)
    instead of one walk.
    """
    fmt = Format.parse(name)
    known = best_known(fmt)
    row = FormatRow(name, target, known.rank if known else None, seeds)
    problem = Problem(fmt, target, ring, start=start_scheme(fmt))
    for seed in range(seeds):
        if on_seed is not None:
            on_seed(name, seed)
        t0 = time.perf_counter()
        if strategy == "pool":
            out = pool_descent(fmt, target, problem.start, PoolSettings(), np.random.SeedSequence(seed), time_limit=budget)
            dt = time.perf_counter() - t0
            if out.scheme is not None and verify_exact(out.scheme).valid:
                row.times.append(dt)
                row.reached.append(out.scheme.rank)
            else:
                row.reached.append(out.best_rank)
            continue
        out = flip_search(problem, FlipSettings(field=walk_field), np.random.SeedSequence(seed), time_limit=budget)
        dt = time.perf_counter() - t0
        row.lifts += out.stats.get("lift_attempts", 0)
        if out.scheme is not None and verify_exact(out.scheme).valid and out.scheme.ring <= ring:
            row.times.append(dt)
            row.reached.append(out.scheme.rank)
        else:
            row.reached.append(out.stats.get("best_rank", out.rank_mod2))
    return row
