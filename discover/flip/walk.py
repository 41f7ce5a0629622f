"""The flip-graph search loop: walk to the target rank over GF(2), lift, keep walking.

:func:`flip_search` is what the ``flip`` search method runs. It never reports a scheme it has
not checked exactly itself (mod 2 for ring Z2, over Q otherwise).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from ..formats import Format
from ..scheme import Scheme
from . import gf2
from .lift import is_exact_mod2, lift


@dataclass
class WalkSettings:
    """Knobs of the walk (see :class:`discover.search.methods.flip.FlipOptions`)."""

    plateau: int = 20000
    max_plus: int = 2
    chunk: int = 200_000
    lift_interval: int = 2000
    lift_tries: int = 10
    hensel: bool = True
    max_flips: int = 0  # 0: unlimited (then a time limit or should_stop ends the walk)


@dataclass
class WalkOutcome:
    """What a search produced: an exact scheme (or None) and counters."""

    scheme: Optional[Scheme]
    rank_mod2: int
    stats: dict = field(default_factory=dict)


def _accepts(scheme: Scheme, ring: str, bound: int) -> bool:
    """Whether a lifted scheme is in the ring the problem asks for."""
    if ring == "ZT":
        return scheme.ring == "ZT"
    if ring == "Z":
        return scheme.ring in ("ZT", "Z") and scheme.max_abs_coefficient <= bound
    return True  # Q: any exact rational scheme


def flip_search(
    fmt: Format,
    target: int,
    ring: str,
    start: Scheme,
    seed: np.random.SeedSequence,
    settings: WalkSettings,
    should_stop: Callable[[], bool] = lambda: False,
    time_limit: Optional[float] = None,
    coefficient_bound: int = 2,
) -> WalkOutcome:
    """Walk the GF(2) flip graph from ``start`` until an exact scheme of rank ≤ target is found.

    Parameters
    ----------
    ring
        "Z2": return the GF(2) scheme (labelled mod 2). "ZT", "Z", "Q": lift it; a failed
        lift is counted and the walk goes on from the same scheme (rank-preserving flips).

    Returns
    -------
    WalkOutcome
        ``scheme`` is None when the budget ran out first.
    """
    t0 = time.perf_counter()
    walk_seed, lift_seed = seed.spawn(2)
    state = gf2.seed_state(walk_seed)
    rng = np.random.default_rng(lift_seed)
    d = start.denominator
    if d % 2 == 0:
        raise ValueError("the start scheme has even denominators: it has no reduction mod 2")
    # a/b ≡ a·(d/b) (mod 2) for odd b, so scaling by the odd d keeps the scheme mod 2.
    U0, V0, W0 = (np.vectorize(lambda v: int(v * d) % 2, otypes=[object])(X) for X in (start.U, start.V, start.W))
    keep = [k for k in range(start.rank) if U0[k].any() and V0[k].any() and W0[k].any()]
    r0 = len(keep)
    capacity = r0 + settings.max_plus + 2
    F = gf2.pack(U0[keep], V0[keep], W0[keep], capacity)
    origin = F.copy()
    best = F.copy()
    r = best_r = r0
    stats = np.zeros(5, dtype=np.int64)
    counters = {"lift_attempts": 0, "lift_failures": 0, "lifted_sign": 0, "lifted_hensel": 0, "out_of_ring": 0}

    def out_of_budget() -> bool:
        if should_stop():
            return True
        if time_limit is not None and time.perf_counter() - t0 > time_limit:
            return True
        return bool(settings.max_flips) and stats[0] >= settings.max_flips

    def budget(n: int) -> int:
        return n if not settings.max_flips else max(0, min(n, settings.max_flips - int(stats[0])))

    found: Optional[Scheme] = None
    failed_here = 0
    while found is None and not out_of_budget():
        if r > target:
            r, best_r = gf2.walk_kernel(
                F, r, best, best_r, target, budget(settings.chunk), settings.plateau, settings.max_plus, state, stats
            )
            continue
        U, V, W = gf2.unpack(F, r, fmt)
        if not is_exact_mod2(U, V, W, fmt):  # cannot happen: the moves keep the tensor
            raise RuntimeError("internal error: the GF(2) walk lost exactness")
        if ring == "Z2":
            found = Scheme.from_arrays(U, V, W, fmt, mod2=True)
            break
        counters["lift_attempts"] += 1
        # Hensel lifts are rarely ternary: only worth their cost when the ring allows more.
        lifted, how = lift(U, V, W, fmt, rng, hensel=settings.hensel and ring != "ZT")
        if lifted is not None and _accepts(lifted, ring, coefficient_bound):
            counters[f"lifted_{how}"] += 1
            found = lifted
            break
        counters["lift_failures" if lifted is None else "out_of_ring"] += 1
        failed_here += 1
        if failed_here >= settings.lift_tries:
            # This region of the rank-r plateau does not lift: start over.
            F[:] = origin
            best[:] = origin
            r = best_r = r0
            failed_here = 0
            continue
        # Move along the plateau (no plus transitions, no restarts) and try again.
        r, _ = gf2.walk_kernel(F, r, best.copy(), r, r - 1, budget(settings.lift_interval), 1 << 60, 0, state, stats)
        if r < best_r:
            best_r = r
            best[:, :r] = F[:, :r]
    seconds = time.perf_counter() - t0
    out = {
        "flips": int(stats[0]),
        "plus_transitions": int(stats[1]),
        "restarts": int(stats[2]),
        "reductions": int(stats[3]),
        "seconds": round(seconds, 4),
        "best_rank_mod2": int(min(best_r, r)),
        **counters,
    }
    if found is not None:
        found = found.with_meta(name=f"flip-graph {fmt} rank {found.rank}")
    return WalkOutcome(found, int(min(best_r, r)), out)
