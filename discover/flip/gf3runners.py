"""The compiled flip walk mod 3 with runners, and its 3-adic lift to Q (schemes with halves).

Residues mod 3 are written −1, 0, 1 (2 ≡ −1 ≡ 1/2), so a scheme mod 3 packs exactly like a
ternary scheme (:mod:`discover.flip.zt`), and the ternary kernels run on it with ``mod3`` set:
sums are taken mod 3 (never refused), and two terms equal in all three slots merge (2·t ≡ −t).
The runners are those of ``flip`` (:func:`discover.flip.policy.runners_kernel`: pair lists,
plus transitions by the plateau rule). A runner that reaches the target rank mod 3 hands its
scheme to the 3-adic Hensel lift (:func:`discover.flip.gf3.hensel_lift3`); when the lift fails
the runner walks on at that rank and is lifted again every ``lift_interval`` flips (lifts take
at most a quarter of the time), so one descent gives many lift attempts. Only a lift that passes the exact check over Q is returned.

The start can be any exact scheme whose denominators are prime to 3 (reduced mod 3), e.g. an
integer scheme one rank above the target: a walk mod 3 may then drop a term that no ternary
walk over Z can.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable, Optional

import numpy as np

from ..errors import SearchError
from ..formats import Format
from ..scheme import Scheme
from . import zt
from .gf3 import hensel_lift3, is_exact_mod3
from .policy import reduce_all
from .rng import seed_state
from .settings import FlipSettings
from .walk import PROGRESS_EVERY, RUNNER_CALL_FLIPS, Runners

LIFT_SHARE = 0.25  # most of the time spent lifting, as a share of the search's time


def residues_mod3(scheme: Scheme) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """U, V, W of ``scheme`` reduced mod 3 and written in {-1, 0, 1}.

    Raises
    ------
    SearchError
        If a coefficient has a denominator divisible by 3 (it has no residue mod 3).
    """
    out = []
    for X in scheme.factors:
        arr = np.asarray(X, dtype=object)
        flat = []
        for v in arr.ravel():
            q = Fraction(v)
            if q.denominator % 3 == 0:
                raise SearchError(f"field=gf3: the start scheme has the coefficient {q}, whose denominator 3 has no inverse mod 3")
            res = (q.numerator * pow(q.denominator, -1, 3)) % 3
            flat.append(-1 if res == 2 else res)
        out.append(np.array(flat, dtype=np.int64).reshape(arr.shape))
    return out[0], out[1], out[2]


def flat_residues(F: np.ndarray, r: int, fmt: Format) -> list[np.ndarray]:
    """The first r packed terms as flat (r, ·) arrays of residues in {0, 1, 2}."""
    return [X.reshape(r, -1) % 3 for X in zt.unpack(F, r, fmt)]


@dataclass
class Gf3Outcome:
    """A lifted scheme over Q of rank ≤ target (or None), the lowest rank reached mod 3, counters."""

    scheme: Optional[Scheme]
    rank_mod3: int
    stats: dict = field(default_factory=dict)


def gf3_runner_search(fmt: Format, target: int, start: Scheme, settings: FlipSettings, seed: np.random.SeedSequence,
                      should_stop: Callable[[], bool] = lambda: False, time_limit: Optional[float] = None,
                      on_progress: Optional[Callable[[dict], None]] = None) -> Gf3Outcome:
    """Walk mod 3 with ``settings.runners`` runners until a scheme of rank ≤ ``target`` lifts to Q.

    Parameters
    ----------
    fmt, target
        The format and the rank to reach.
    start
        An exact scheme (denominators prime to 3); its residues mod 3 are the walk's start.
    settings
        ``runners``, ``plus_min``, ``plus_max``, ``plus_diff``, ``lift_interval``, ``max_flips``.
    seed
        The walk's randomness (with ``max_flips``, a seed replays the walk and its lifts).
    should_stop, time_limit, on_progress
        As for :func:`discover.flip.walk.flip_search`.
    """
    t0 = time.perf_counter()
    state = seed_state(seed)
    stats = np.zeros(5, dtype=np.int64)
    U, V, W = residues_mod3(start)
    keep = [k for k in range(start.rank) if U[k].any() and V[k].any() and W[k].any()]
    K = settings.runners
    capacity = len(keep) + settings.plus_diff + 4
    F0 = zt.pack(U[keep], V[keep], W[keep], capacity)
    r0, _ = reduce_all(F0, len(keep), True, True)
    runners = Runners.start(F0, r0, K, settings, state)
    Fs, bests, rs, best_rs = runners.Fs, runners.bests, runners.rs, runners.best_rs
    last_lift = np.full(K, -(1 << 62), dtype=np.int64)  # flips walked (per runner) at its last lift
    walked = np.zeros(K, dtype=np.int64)
    counters = {"lift_attempts": 0, "lift_failures": 0, "lift_seconds": 0.0}
    lowest = r0
    found: Optional[Scheme] = None
    shown = 0.0
    cap = settings.max_flips if settings.max_flips else np.iinfo(np.int64).max

    def out_of_budget() -> bool:
        return (should_stop() or (time_limit is not None and time.perf_counter() - t0 > time_limit)
                or int(stats[0]) >= cap)

    def try_lift(k: int, F: np.ndarray, r: int) -> Optional[Scheme]:
        t = time.perf_counter()
        last_lift[k] = walked[k]
        counters["lift_attempts"] += 1
        flat = flat_residues(F, r, fmt)
        if not is_exact_mod3(flat, fmt):
            raise RuntimeError("internal error: the walk mod 3 lost exactness")
        lifted = hensel_lift3(flat, fmt)
        counters["lift_failures"] += lifted is None
        counters["lift_seconds"] += time.perf_counter() - t
        return lifted

    def lift_due(k: int) -> bool:
        # A lift of a large format takes seconds: at most a quarter of the time goes to lifts.
        # With a flip budget the clock plays no part, so a seed replays the walk and its lifts.
        share_ok = bool(settings.max_flips) or counters["lift_seconds"] <= LIFT_SHARE * (time.perf_counter() - t0)
        return rs[k] <= target and walked[k] - last_lift[k] >= settings.lift_interval and share_ok

    if r0 <= target:
        found = try_lift(0, F0, r0)
        walked[:] = 0
    while found is None and not out_of_budget():
        # Once the target rank is reached, a call stops only on a rank below every one seen so far;
        # runners at the target rank walk on and are lifted from here every lift_interval flips.
        stop_at = min(target, lowest - 1)
        hit = runners.advance(stop_at, RUNNER_CALL_FLIPS, settings, cap, state, stats, mod3=True)
        walked[: (hit + 1 if hit >= 0 else K)] += RUNNER_CALL_FLIPS
        lowest = min(lowest, int(best_rs.min()))
        for k in range(K):
            if hit == k and best_rs[k] <= target:
                found = try_lift(k, bests[k], int(best_rs[k]))  # a new lowest rank: lift it at once
            elif lift_due(k):
                found = try_lift(k, Fs[k], int(rs[k]))
            if found is not None:
                break
        now = time.perf_counter()
        if on_progress is not None and now - shown >= PROGRESS_EVERY:
            shown = now
            elapsed = now - t0
            on_progress({"best_rank": None, "best_rank_mod2": int(lowest), "modulus": 3, "rank": int(rs.min()),
                         "flips": int(stats[0]), "flips_per_s": float(stats[0]) / elapsed if elapsed > 0 else None})
    out = {"field": "gf3", "runners": K, "flips": int(stats[0]), "plus_transitions": int(stats[1]),
           "reductions": int(stats[3]), "seconds": round(time.perf_counter() - t0, 4), "best_rank_mod3": int(lowest),
           **counters, "lift_seconds": round(counters["lift_seconds"], 3)}
    if found is not None:
        found = found.with_meta(name=f"GF(3) flip graph {fmt} rank {found.rank}, 3-adic lift")
    return Gf3Outcome(found, int(lowest), out)
