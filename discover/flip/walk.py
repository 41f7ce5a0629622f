"""The flip engine: walk a flip graph from a start scheme down to the target rank.

:func:`flip_search` is what the ``flip`` search method runs. It never reports a scheme it has
not checked exactly itself (mod 2 for ring Z2, over Z/Q otherwise). Over GF(2) a scheme at the
target rank must still be lifted; when lifts keep failing the walk leaves that region with plus
transitions from where it is (never back to the start), so progress is kept. The ternary walk
needs no lift: every scheme it visits is exact over Z. Either walk may end below the target
rank (a flip can be followed by several reductions); that scheme is returned as it is.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from ..problem import Problem
from ..rings import Ring
from ..scheme import Scheme
from ..tensor import integer_reconstruction, matmul_tensor
from . import checkpoint as walk_checkpoint
from . import gf2, zt
from .gf2lifter import accepts, gf2_lifter
from .lift import is_exact_mod2, lift
from .liftrunners import lifting_runner_search
from .policy import plus_transition, reduce_all, walk_kernel
from .rng import seed_state
from .runners import PROGRESS_EVERY, RUNNER_CALL_FLIPS, Runners, seed_state_draws
from .settings import FlipSettings, is_ternary_scheme

@dataclass
class WalkOutcome:
    """What a walk produced: an exact scheme of rank ≤ target (or None) and counters.

    ``rank_mod2`` is the lowest rank the walk reached (mod 2 for gf2 walks, where a scheme of
    that rank may not lift). ``best`` is the exact scheme of lowest rank the walk holds when
    it did not reach the target (ternary walks: every visited scheme is exact; GF(2) walks
    with ring Z2: exact mod 2; other GF(2) walks: None), checked here before it is returned.
    """

    scheme: Optional[Scheme]
    rank_mod2: int
    stats: dict = field(default_factory=dict)
    best: Optional[Scheme] = None
    checkpoint: Optional[dict] = None  # where the walk stood when it stopped without a scheme

    @property
    def exact_rank(self) -> Optional[int]:
        """The lowest rank of an exact scheme the walk reached (None: only a mod-2 rank is known)."""
        if self.scheme is not None:
            return self.scheme.rank
        return self.best.rank if self.best is not None else None


def start_arrays(start: Scheme, walk_field: str):
    """The start scheme's factors for the walk: 0/1 mod 2 (gf2) or int64 ternary (zt), zero terms dropped."""
    if walk_field == "zt":
        U0, V0, W0 = start.int64_arrays()
    else:
        # a/b ≡ a·(d/b) (mod 2) for odd b, so scaling by the odd d keeps the scheme mod 2.
        d = start.denominator
        U0, V0, W0 = (np.vectorize(lambda v: int(v * d) % 2, otypes=[object])(X) for X in (start.U, start.V, start.W))
    keep = [k for k in range(start.rank) if U0[k].any() and V0[k].any() and W0[k].any()]
    return U0[keep], V0[keep], W0[keep]


def flip_search(
    problem: Problem,
    settings: FlipSettings,
    seed: np.random.SeedSequence,
    should_stop: Callable[[], bool] = lambda: False,
    time_limit: Optional[float] = None,
    on_progress: Optional[Callable[[dict], None]] = None,
    *,
    resume_from: Optional[dict] = None,
    on_checkpoint: Optional[Callable[[dict], None]] = None,
) -> WalkOutcome:
    """Walk a flip graph from the problem's start until an exact scheme of rank ≤ target is found.

    Parameters
    ----------
    problem
        Format, target rank, ring, coefficient bound and start scheme (the naive scheme when
        it has none). The settings must already have been checked against it.
    settings
        Walk knobs; ``field="auto"`` picks zt for a ternary start and rings ZT/Z/Q, else gf2.
        With gf2 and ring Z2 the GF(2) scheme itself is returned (labelled mod 2); rings ZT,
        Z, Q lift it, and a failed lift is counted and the walk goes on along the plateau;
        after ``lift_tries`` failures at one rank it takes ``escape_plus`` plus transitions
        from the current scheme and walks down again (progress is never thrown away).
    seed
        The walk's randomness; a seed and a flip budget (``max_flips``) reproduce a walk.
    should_stop, time_limit
        Polled between compiled calls of at most ``settings.chunk`` flips (sized to ~0.2 s).
    on_progress
        Called after every chunk with ``best_rank`` (exact; ternary walks), ``best_rank_mod2``
        (GF(2) walks), ``rank``, ``flips`` and ``flips_per_s`` (for the progress display).
    resume_from, on_checkpoint
        A checkpoint to go on from, and where to hand one every few minutes
        (:mod:`discover.flip.checkpoint`); the outcome carries the last one when the walk stops
        without a scheme. Runner walks and the single walk (``runners=0``) alike.

    Returns
    -------
    WalkOutcome
        ``scheme`` is None when the budget ran out first.
    """
    t0 = time.perf_counter()
    fmt, target, ring = problem.format, problem.rank, problem.ring
    start = problem.start if problem.start is not None else Scheme.naive(fmt)
    walk_field = settings.walk_field(ring, start)
    ternary = walk_field == "zt"
    walk_seed, lift_seed = seed.spawn(2)
    state = seed_state(walk_seed)
    rng = np.random.default_rng(lift_seed)
    kernel = zt if ternary else gf2
    U0, V0, W0 = start_arrays(start, walk_field)
    r0 = U0.shape[0]
    capacity = r0 + max(settings.max_plus, settings.escape_plus) + 2
    F = kernel.pack(U0, V0, W0, capacity)
    r, removed = reduce_all(F, r0, ternary)
    best = F.copy()
    best_r = r
    stats = np.zeros(5, dtype=np.int64)
    stats[3] += removed
    counters = {"lift_attempts": 0, "lift_failures": 0, "lifted_sign": 0, "lifted_hensel": 0, "lifted_ternarized": 0,
                "out_of_ring": 0, "escapes": 0}

    def out_of_budget() -> bool:
        if should_stop():
            return True
        if time_limit is not None and time.perf_counter() - t0 > time_limit:
            return True
        return bool(settings.max_flips) and stats[0] >= settings.max_flips

    def budget(n: int) -> int:
        return n if not settings.max_flips else max(0, min(n, settings.max_flips - int(stats[0])))

    if ternary and settings.runners > 0:
        return _runners_search(F, r, problem, settings, state, stats, t0, out_of_budget, on_progress,
                               resume_from, on_checkpoint)
    if settings.runners > 0:
        return _gf2_runners_search(U0, V0, W0, problem, settings, state, rng, should_stop, time_limit, on_progress,
                                   resume_from, on_checkpoint)

    found: Optional[Scheme] = None
    carry = np.zeros(3, dtype=np.int64)  # the walk's plateau counters, kept across kernel calls
    step = min(settings.chunk, 10_000)  # flips per compiled call, adapted to take ~0.2 s
    failed_here = 0
    lowest = r
    kind = f"single-{walk_field}"
    if resume_from is not None:
        values = walk_checkpoint.restore(resume_from, kind, None, state, stats,
                                         (("scheme", F), ("best", best), ("carry", carry)))
        r, best_r, step, failed_here, lowest = (int(values[name]) for name in
                                                ("rank", "best_rank", "step", "failed_here", "lowest"))
        counters.update(values["counters"])
        rng.bit_generator.state = values["lift_rng"]
    flips_before = int(stats[0])  # a resumed walk's rate counts this run's flips only
    clock = walk_checkpoint.CheckpointClock()

    def snapshot() -> dict:
        values = {"rank": int(r), "best_rank": int(best_r), "step": int(step), "failed_here": int(failed_here),
                  "lowest": int(lowest), "counters": dict(counters), "lift_rng": rng.bit_generator.state}
        return walk_checkpoint.take(kind, None, state, stats, {"scheme": F, "best": best, "carry": carry}, values)

    while found is None and (r <= target or not out_of_budget()):
        if on_checkpoint is not None and clock.due():  # between two steps of the walk: all its state is here
            on_checkpoint(snapshot())
        if r > target:
            before, tick = int(stats[0]), time.perf_counter()
            r, best_r = walk_kernel(F, r, best, best_r, target, budget(step), settings.plateau,
                                    settings.max_plus, state, stats, ternary, carry)
            # Size the next call to ~0.2 s, so stop requests and progress are prompt on any format.
            took = time.perf_counter() - tick
            if int(stats[0]) - before >= step:
                step = int(min(settings.chunk, max(1000, step * min(4.0, 0.2 / max(took, 1e-4)))))
            lowest = min(lowest, best_r, r)
            if on_progress is not None:
                elapsed = time.perf_counter() - t0
                on_progress({"best_rank": int(lowest) if ternary or ring is Ring.Z2 else None,
                             "best_rank_mod2": None if ternary else int(lowest), "rank": int(r),
                             "flips": int(stats[0]),
                             "flips_per_s": float(stats[0] - flips_before) / elapsed if elapsed > 0 else None})
            continue
        if ternary:
            U, V, W = zt.unpack(F, r, fmt)
            # The moves keep the tensor by construction; check anyway before proposing anything.
            if not (integer_reconstruction(U, V, W) == matmul_tensor(fmt)).all():
                raise RuntimeError("internal error: the ternary walk lost exactness")
            found = Scheme.from_arrays(U, V, W, fmt)
            break
        U, V, W = gf2.unpack(F, r, fmt)
        if not is_exact_mod2(U, V, W, fmt):  # cannot happen: the moves keep the tensor
            raise RuntimeError("internal error: the GF(2) walk lost exactness")
        if ring is Ring.Z2:
            found = Scheme.from_arrays(U, V, W, fmt, mod2=True)
            break
        if out_of_budget():
            break
        counters["lift_attempts"] += 1
        # Hensel lifts are rarely ternary: only worth their cost when the ring allows more.
        lifted, how = lift(U, V, W, fmt, rng, hensel=settings.hensel and ring is not Ring.ZT)
        if lifted is not None and accepts(lifted, ring, problem.coefficient_bound):
            counters[f"lifted_{how}"] += 1
            found = lifted
            break
        counters["lift_failures" if lifted is None else "out_of_ring"] += 1
        failed_here += 1
        if failed_here >= settings.lift_tries:
            # This region of the plateau does not lift: leave it with plus transitions from
            # here and walk down again (the best scheme becomes the raised one, so restarts
            # inside the walk return here, not to this unliftable region or to the start).
            failed_here = 0
            carry[:] = 0  # a new descent: fresh plateau counters
            counters["escapes"] += 1
            for _ in range(settings.escape_plus):
                r2 = plus_transition(F, r, state, False)
                stats[1] += r2 > r
                r = r2
            best[:, :r] = F[:, :r]
            best_r = r
            continue
        # Move along the plateau (no plus transitions, no restarts) and try again.
        r, _ = walk_kernel(F, r, best.copy(), r, r - 1, budget(settings.lift_interval), 1 << 60, 0, state, stats, False)
        if r < best_r:
            best_r = r
            best[:, :r] = F[:, :r]
        lowest = min(lowest, r)
    seconds = time.perf_counter() - t0
    out = {
        "field": walk_field,
        "flips": int(stats[0]),
        "plus_transitions": int(stats[1]),
        "restarts": int(stats[2]),
        "reductions": int(stats[3]),
        "failed_picks": int(stats[4]),
        "seconds": round(seconds, 4),
        "best_rank": int(lowest),
        "best_rank_mod2": int(lowest),
        **counters,
    }
    if resume_from is not None:
        out["resumed_at_flips"] = flips_before
    if found is not None:
        found = found.with_meta(name=f"flip-graph {fmt} rank {found.rank}")
    best_scheme = None if found is not None else _best_exact(best, best_r, fmt, ternary, ring)
    return WalkOutcome(found, int(lowest), out, best_scheme, None if found is not None else snapshot())


def _runners_search(F, r, problem: Problem, settings: FlipSettings, state, stats, t0: float,
                    out_of_budget: Callable[[], bool], on_progress, resume_from: Optional[dict] = None,
                    on_checkpoint: Optional[Callable[[dict], None]] = None) -> WalkOutcome:
    """The ternary walk with ``settings.runners`` walkers in one compiled kernel (see
    :func:`~discover.flip.policy.runners_kernel`): the plateau rule for plus transitions, and
    after a round that lowered the best rank, runners continue from copies of the best one."""
    fmt, target = problem.format, problem.rank
    K = settings.runners
    # No expansion at or above the naive rank (n·m·p): a walk there only needs its first reduction.
    capacity = min(r + settings.plus_diff + 3, max(r + 1, fmt.n * fmt.m * fmt.p + 1))
    F0 = np.zeros((F.shape[0], capacity), dtype=np.uint64)
    F0[:, :r] = F[:, :r]
    runners = Runners.start(F0, r, K, settings, state)
    Fs, bests, rs, best_rs, since, quiet = runners.Fs, runners.bests, runners.rs, runners.best_rs, runners.since, runners.quiet
    lowest = r
    in_round = 0
    if resume_from is not None:
        values = walk_checkpoint.restore(resume_from, "zt", runners, state, stats)
        lowest, in_round = int(values["lowest"]), int(values["in_round"])
    flips_before = int(stats[0])  # a resumed walk's rate counts this run's flips only
    clock = walk_checkpoint.CheckpointClock()

    def snapshot() -> dict:
        return walk_checkpoint.take("zt", runners, state, stats, values={"lowest": int(lowest), "in_round": in_round})

    # Fixed flips per runner per call: the runners share one generator and copy the best one at
    # call boundaries, so a call size that followed the clock (as it once did) made a seed's walk
    # depend on the machine's load. Calls stay short (milliseconds) for prompt stops.
    step = min(settings.chunk, RUNNER_CALL_FLIPS)
    shown = 0.0
    hit = -1
    cap = settings.max_flips if settings.max_flips else np.iinfo(np.int64).max
    while hit < 0 and r > target and not out_of_budget():
        hit = runners.advance(target, step, settings, cap, state, stats)
        in_round += step
        top = int(np.argmin(best_rs))
        if in_round >= settings.round_flips or best_rs[top] < lowest:
            in_round = 0
            if best_rs[top] < lowest and settings.copy_best > 0:
                draws = seed_state_draws(state, K, 1 << 20)
                for k in range(K):
                    if k != top and draws[k] < settings.copy_best * (1 << 20):
                        Fs[k] = bests[top]
                        bests[k] = bests[top]
                        rs[k] = best_rs[k] = best_rs[top]
                        since[k] = 0
                        quiet[k] = 0
        improved = int(best_rs[top]) < lowest
        lowest = min(lowest, int(best_rs[top]))
        now = time.perf_counter()
        if on_progress is not None and (improved or now - shown >= PROGRESS_EVERY):
            shown = now
            elapsed = now - t0
            on_progress({"best_rank": int(lowest), "best_rank_mod2": None, "rank": int(rs.min()), "flips": int(stats[0]),
                         "flips_per_s": float(stats[0] - flips_before) / elapsed if elapsed > 0 else None})
        if on_checkpoint is not None and hit < 0 and clock.due():
            on_checkpoint(snapshot())
    top = hit if hit >= 0 else int(np.argmin(best_rs))
    best_r = int(best_rs[top])
    U, V, W = zt.unpack(bests[top], best_r, fmt)
    # The moves keep the tensor by construction; check anyway before proposing anything.
    if not (integer_reconstruction(U, V, W) == matmul_tensor(fmt)).all():
        raise RuntimeError("internal error: the ternary walk lost exactness")
    scheme = Scheme.from_arrays(U, V, W, fmt)
    out = {"field": "zt", "runners": K, "flips": int(stats[0]), "plus_transitions": int(stats[1]),
           "restarts": int(stats[2]), "reductions": int(stats[3]), "failed_picks": int(stats[4]),
           "seconds": round(time.perf_counter() - t0, 4), "best_rank": best_r, "best_rank_mod2": best_r}
    if resume_from is not None:
        out["resumed_at_flips"] = flips_before
    if best_r <= target:
        return WalkOutcome(scheme.with_meta(name=f"flip-graph {fmt} rank {best_r}"), best_r, out, None)
    return WalkOutcome(None, best_r, out, scheme.with_meta(name=f"flip-graph {fmt} rank {best_r} (best reached)"),
                       snapshot())


def _gf2_runners_search(U0, V0, W0, problem: Problem, settings: FlipSettings, state, rng: np.random.Generator,
                        should_stop: Callable[[], bool], time_limit: Optional[float], on_progress,
                        resume_from: Optional[dict] = None,
                        on_checkpoint: Optional[Callable[[dict], None]] = None) -> WalkOutcome:
    """GF(2) runners (:mod:`.liftrunners`): each scheme at the target rank is lifted (sign lift, then
    Hensel where the ring allows more than ternary) until a lift lands in the problem's ring; with
    ring Z2 the scheme mod 2 itself is the answer."""
    fmt, target, ring = problem.format, problem.rank, problem.ring
    F0 = gf2.pack(U0, V0, W0, U0.shape[0] + settings.plus_diff + 4)
    r0, _ = reduce_all(F0, U0.shape[0], False)
    counters: dict = {}
    lift_at = gf2_lifter(fmt, ring, problem.coefficient_bound, settings.hensel, rng, counters, settings.ternarize)
    if resume_from is not None:
        counters.update(resume_from.get("values", {}).get("lifter", {}))  # the lifts' outcomes so far

    def with_lifter(held: dict) -> dict:
        held["values"]["lifter"] = dict(counters)
        return held

    out = lifting_runner_search(F0, r0, target, 2, lift_at, settings, state, should_stop, time_limit, on_progress,
                                fmt=fmt, resume_from=resume_from,
                                on_checkpoint=None if on_checkpoint is None else lambda held: on_checkpoint(with_lifter(held)))
    held = with_lifter(out.checkpoint) if out.checkpoint is not None else None
    stats = {"field": "gf2", **out.stats, "best_rank": out.lowest, "best_rank_mod2": out.lowest, **counters}
    if out.scheme is not None:
        suffix = " (mod 2)" if ring is Ring.Z2 else ""
        return WalkOutcome(out.scheme.with_meta(name=f"flip-graph {fmt} rank {out.scheme.rank}{suffix}"), out.lowest, stats)
    best = None
    if ring is Ring.Z2 and out.runners is not None:
        top = int(np.argmin(out.runners.best_rs))
        best = _best_exact(out.runners.bests[top], int(out.runners.best_rs[top]), fmt, False, ring)
    elif out.best_lifted is not None:
        best = out.best_lifted.with_meta(name=f"flip-graph {fmt} rank {out.best_lifted.rank} (best lifted)")
    return WalkOutcome(None, out.lowest, stats, best, held)


def _best_exact(best: np.ndarray, best_r: int, fmt, ternary: bool, ring: Ring) -> Optional[Scheme]:
    """The walk's lowest-rank scheme when it is exact in the problem's sense (checked here)."""
    if ternary:
        U, V, W = zt.unpack(best, best_r, fmt)
        if not (integer_reconstruction(U, V, W) == matmul_tensor(fmt)).all():
            return None
        return Scheme.from_arrays(U, V, W, fmt).with_meta(name=f"flip-graph {fmt} rank {best_r} (best reached)")
    if ring is Ring.Z2:
        U, V, W = gf2.unpack(best, best_r, fmt)
        if not is_exact_mod2(U, V, W, fmt):
            return None
        return Scheme.from_arrays(U, V, W, fmt, mod2=True).with_meta(name=f"flip-graph {fmt} rank {best_r} (best reached, mod 2)")
    return None


__all__ = ["FlipSettings", "WalkOutcome", "flip_search", "is_ternary_scheme"]
