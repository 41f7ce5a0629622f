"""Runner walks over a finite field that lift at the target rank: the engine of ``field=gf2`` and ``gf3``.

A walk mod p (p = 2: bit-packed terms, :mod:`.gf2`; p = 3: residues packed like ternary terms,
:mod:`.zt` with ``mod3``) only proves a scheme mod p; what it finds at the target rank must be
lifted to characteristic 0 (sign or 2-adic Hensel lift for p = 2, 3-adic for p = 3). The runners
are those of the ternary walk (:func:`discover.flip.policy.runners_kernel`: plus transitions by
the plateau rule). A runner that reaches the target rank is lifted at once; when the lift fails
it walks on at that rank and is lifted again every ``lift_interval`` flips (lifts take at most a
quarter of the time, or of the flips under a flip budget: :class:`LiftBudget`), so one descent
gives many lift attempts, from different regions of the plateau. Only a lift the caller accepts
(exact, in the asked ring) is returned.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from ..formats import Format
from ..scheme import Scheme
from . import checkpoint as walk_checkpoint
from .lifter import Lifter
from .runners import PROGRESS_EVERY, RUNNER_CALL_FLIPS, Runners
from .settings import FlipSettings, parse_replay_lift
from .zt import GF3_MOVES, OVER_Z

LIFT_SHARE = 0.25  # most of the time spent lifting, as a share of the search's time (or of its flips)
#: What one sign lift costs in flips of a compiled walk, per unit of its linear system's size (tensor
#: entries × rank × factor entries). Measured on 3x3x3 … 5x5x5 (a sign lift of a walk's scheme mod 2
#: takes 0.6 ms on 3x3x3 r23, 43 ms on 4x5x5 r77; walks run 3–4 M flips/s): 1.3e-3 … 4.6e-3, mostly 3e-3.
LIFT_FLIPS_PER_UNIT = 3e-3
#: A lift that goes on to Hensel lifting (20 digits, several branches) costs about this many sign
#: lifts. With the bit-packed Jacobian that factors only spanning rows: the schemes a 2x6x6 walk
#: offered 8.8× (mean) and 14.6× (median), 6x6x6 r159 14× (5.1 s against 0.36 s), scrambled 3x4x5
#: r47s 9.8×; it was 20 when every row was factored (3x4x5 111 ms against 6 ms). No recorded step
#: with a flip budget lifts deep, so none replays differently.
HENSEL_FACTOR = 12


def lift_cost_in_flips(fmt: Format, rank: int, deep: bool = False) -> float:
    """The flips a walk could make in the time one lift of a rank-``rank`` scheme of ``fmt`` takes
    (``deep``: a lift that may go on to Hensel lifting)."""
    tensor_entries = fmt.naive_rank ** 2  # (nm)(mp)(pn): the rows of a lift's linear system
    factor_entries = sum(a * b for a, b in fmt.shapes)
    return LIFT_FLIPS_PER_UNIT * tensor_entries * rank * factor_entries * (HENSEL_FACTOR if deep else 1)


@dataclass
class LiftBudget:
    """The share of a search that lifts may take: ``LIFT_SHARE`` of its time.

    Lifts of large formats take tens of milliseconds, a walk makes millions of flips a second,
    and a runner at the target rank is due a lift every ``lift_interval`` flips: unchecked, the
    lifts would take nearly all the time. With a flip budget (``budgeted``) the clock must play
    no part, so that a seed replays the walk and its lifts exactly: each lift is then charged its
    estimated cost in flips (:func:`lift_cost_in_flips`; ``deep`` when the lifts may go on to
    Hensel lifting), and lifts may take ``LIFT_SHARE`` of the flips walked. The first lift always runs.
    """

    fmt: Format
    budgeted: bool
    t0: float = field(default_factory=time.perf_counter)
    deep: bool = False
    seconds: float = 0.0
    charged_flips: float = 0.0

    def allows(self, flips_walked: int) -> bool:
        """Whether a lift may run now, after ``flips_walked`` flips of the walk."""
        if self.budgeted:
            return self.charged_flips <= LIFT_SHARE * flips_walked
        return self.seconds <= LIFT_SHARE * (time.perf_counter() - self.t0)

    def charge(self, rank: int, seconds: float) -> None:
        """Record one lift of a rank-``rank`` scheme that took ``seconds``."""
        self.seconds += seconds
        self.charged_flips += lift_cost_in_flips(self.fmt, rank, self.deep)


@dataclass
class LiftOutcome:
    """A lifted scheme of rank ≤ target (or None), the lowest rank reached mod p, counters, and
    the runners (for a caller that wants the best scheme mod p)."""

    scheme: Optional[Scheme]
    lowest: int
    stats: dict = field(default_factory=dict)
    runners: Optional[Runners] = None
    best_lifted: Optional[Scheme] = None  # settings.lift_lows: the lowest lift above the target
    checkpoint: Optional[dict] = None  # where the walk stood when it stopped without a scheme


def lifting_runner_search(F0: np.ndarray, r0: int, target: int, modulus: int, lift_at: Lifter,
                          settings: FlipSettings, state: np.ndarray,
                          should_stop: Callable[[], bool] = lambda: False, time_limit: Optional[float] = None,
                          on_progress: Optional[Callable[[dict], None]] = None, *,
                          fmt: Format, resume_from: Optional[dict] = None,
                          on_checkpoint: Optional[Callable[[dict], None]] = None) -> LiftOutcome:
    """Walk mod ``modulus`` (2 or 3) with ``settings.runners`` runners until ``lift_at`` accepts a scheme.

    Parameters
    ----------
    F0, r0
        The packed start (reductions taken) and its rank; ``F0`` has room for the expansions.
    target
        The rank to reach.
    modulus
        2 (GF(2) packing) or 3 (ternary packing, sums mod 3).
    lift_at
        Lifts a packed scheme at the target rank (:class:`~discover.flip.lifter.Lifter`); counts its
        own outcomes, and says whether it may go on to Hensel lifting (what a lift costs, :class:`LiftBudget`).
    settings
        ``runners``, ``plus_min``, ``plus_max``, ``plus_diff``, ``lift_interval``, ``max_flips``.
    state
        The walk's generator state (with ``max_flips``, a seed replays the walk and its lifts).
    should_stop, time_limit, on_progress
        As for :func:`discover.flip.walk.flip_search`.
    fmt
        The format (what a lift costs).
    resume_from
        A checkpoint of this walk (:mod:`.checkpoint`): the runners, generator state, counters
        and lift budget go on from it instead of from ``F0`` (the start itself is not lifted again).
    on_checkpoint
        Called with a checkpoint every :data:`~.checkpoint.CHECKPOINT_EVERY` seconds; the
        outcome carries the last one when the walk stops without a scheme.
    """
    t0 = time.perf_counter()
    stats = np.zeros(5, dtype=np.int64)
    ternary = modulus == 3  # residues mod 3 are packed like ternary terms
    mod3 = GF3_MOVES[settings.gf3_moves] if ternary else OVER_Z
    K = settings.runners
    runners = Runners.start(F0, r0, K, settings, state)
    Fs, bests, rs, best_rs = runners.Fs, runners.bests, runners.rs, runners.best_rs
    last_lift = np.full(K, -(1 << 62), dtype=np.int64)  # flips walked (per runner) at its last lift
    walked = np.zeros(K, dtype=np.int64)
    counters = {"lift_attempts": 0, "lift_failures": 0}
    budget = LiftBudget(fmt, bool(settings.max_flips), t0, lift_at.deep)
    lowest = r0
    found: Optional[Scheme] = None
    best_lifted: Optional[Scheme] = None
    walk = "gf3" if ternary else "gf2"
    resumed = resume_from is not None
    if resumed:
        values = walk_checkpoint.restore(resume_from, walk, runners, state, stats,
                                         (("walked", walked), ("last_lift", last_lift)))
        lowest = int(values["lowest"])
        if values.get("best_lifted") is not None:  # proposed again at the end: a kill must not lose it
            from ..jsonio import scheme_from_dict

            best_lifted = scheme_from_dict(values["best_lifted"])
        counters.update(values.get("counters", {}))
        budget.seconds, budget.charged_flips = float(values["lift_seconds"]), float(values["charged_flips"])
        budget.t0 = t0 - float(values["walk_seconds"])  # the lifts' share counts the walk's whole time
    clock = walk_checkpoint.CheckpointClock()
    flips_before = int(stats[0])  # a resumed walk's rate counts this run's flips only
    shown = 0.0
    cap = settings.max_flips if settings.max_flips else np.iinfo(np.int64).max

    def out_of_budget() -> bool:
        return (should_stop() or (time_limit is not None and time.perf_counter() - t0 > time_limit)
                or int(stats[0]) >= cap)

    def try_lift(k: int, F: np.ndarray, r: int) -> Optional[Scheme]:
        t = time.perf_counter()
        last_lift[k] = walked[k]
        counters["lift_attempts"] += 1
        lifted = lift_at(F, r)
        counters["lift_failures"] += lifted is None
        budget.charge(r, time.perf_counter() - t)
        return lifted

    def point(k: int, which: str) -> dict:
        """Where a lift was made: what ``replay_lift`` needs to make it again."""
        return {"flips": int(stats[0]), "runner": int(k), "scheme": which}

    def ceiling() -> int:
        """The highest rank worth lifting: the target, or with lift_lows anything below the best lift."""
        if not settings.lift_lows:
            return target
        return max(target, (best_lifted.rank if best_lifted is not None else r0) - 1)

    def may_lift() -> bool:
        return budget.allows(int(stats[0]))

    def lift_due(k: int) -> bool:
        return rs[k] <= ceiling() and walked[k] - last_lift[k] >= settings.lift_interval and may_lift()

    def snapshot() -> dict:
        from ..jsonio import scheme_to_dict

        values = {"lowest": int(lowest), "best_lifted": None if best_lifted is None else scheme_to_dict(best_lifted),
                  "counters": dict(counters),
                  "lift_seconds": budget.seconds, "charged_flips": budget.charged_flips,
                  "walk_seconds": time.perf_counter() - budget.t0}
        return walk_checkpoint.take(walk, runners, state, stats, {"walked": walked, "last_lift": last_lift}, values)

    replay = parse_replay_lift(settings.replay_lift, K)
    if r0 <= target and not resumed:
        found = try_lift(0, F0, r0)
        walked[:] = 0
        if found is not None:
            counters["lift_point"] = point(0, "start")  # the start itself lifted: nothing to replay
    while found is None and not out_of_budget():
        # Once the target rank is reached, a call stops only on a rank below every one seen so far;
        # runners at the target rank walk on and are lifted from here every lift_interval flips.
        # With lift_lows every new lowest rank stops the call, to be lifted (so the walk differs).
        stop_at = lowest - 1 if settings.lift_lows else min(target, lowest - 1)
        hit = runners.advance(stop_at, RUNNER_CALL_FLIPS, settings, cap, state, stats, mod3=mod3, ternary=ternary)
        walked[: (hit + 1 if hit >= 0 else K)] += RUNNER_CALL_FLIPS
        lowest = min(lowest, int(best_rs.min()))
        replayed = replay is not None and replay[0] == int(stats[0])
        # The recorded lift first, made whatever the lift budget says: the walk got here as it did
        # when the lift was recorded, and a lift's outcome depends on the scheme alone.
        if replayed:
            counters["replayed_lift"] = True
        for k, forced in ([replay[1:]] if replayed else []) + [(k, "") for k in range(K)]:
            if forced:
                which = forced
            elif hit == k and (best_rs[k] <= target or (best_rs[k] <= ceiling() and may_lift())):
                which = "best"  # a new lowest rank: lift it at once
            elif lift_due(k):
                which = "current"
            else:
                continue
            F, r = (bests[k], int(best_rs[k])) if which == "best" else (Fs[k], int(rs[k]))
            lifted = try_lift(k, F, r)
            if lifted is not None and lifted.rank <= target:
                found = lifted
                counters["lift_point"] = point(k, which)
                break
            if lifted is not None and (best_lifted is None or lifted.rank < best_lifted.rank):
                best_lifted = lifted  # lift_lows: above the target, and below the best lift so far
                counters["best_lifted_seconds"] = round(time.perf_counter() - budget.t0, 3)  # of the whole walk
                counters["best_lift_point"] = point(k, which)
        now = time.perf_counter()
        if on_progress is not None and now - shown >= PROGRESS_EVERY:
            shown = now
            elapsed = now - t0
            on_progress({"best_rank": None, "best_rank_mod2": int(lowest), "modulus": modulus, "rank": int(rs.min()),
                         "flips": int(stats[0]),
                         "flips_per_s": float(stats[0] - flips_before) / elapsed if elapsed > 0 else None})
        if on_checkpoint is not None and found is None and clock.due():
            on_checkpoint(snapshot())
    if replay is not None:
        counters.setdefault("replayed_lift", False)  # False: the walk never stood at the recorded point
    out = {"runners": K, "flips": int(stats[0]), "plus_transitions": int(stats[1]), "reductions": int(stats[3]),
           "failed_picks": int(stats[4]), "seconds": round(time.perf_counter() - t0, 4),
           **counters, "lift_seconds": round(budget.seconds, 3)}
    if resumed:
        out["resumed_at_flips"] = flips_before
    return LiftOutcome(found, int(lowest), out, runners, best_lifted if found is None else None,
                       snapshot() if found is None else None)
