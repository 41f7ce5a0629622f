"""``cyclic``: cyclic-symmetric flip-graph walks for square formats (Moosbauer–Poole).

The walk (:func:`discover.flip.cyclic.cyclic_walk`, compiled) keeps a scheme of <n,n,n> invariant
under the cyclic symmetry (a, b, c) → (b, c, a) of the trace form: it holds one representative
per orbit of three terms plus the fixed terms (x, x, x), and applies every flip, reduction and
expansion to a whole orbit at once. The rank is 3·(orbits) + (fixed terms); the naive scheme has
n fixed terms, which the walk keeps, so the ranks it can reach are those ≡ n (mod 3) (3x3x3: 24,
21, ...); a ``cubes:`` start (:mod:`discover.cubes`) regroups them to reach the other classes.
Each task is one walk from the naive scheme's orbits (or from ``--start``, any scheme
invariant under the symmetry: over Z up to factor signs, or mod 2 with ``field=gf2``, e.g. the
Kronecker product of two such schemes), until the target rank, its flip budget or its time; the
fewest-orbit scheme it reached is expanded to the full scheme and proposed only when it is exact
and cyclic-invariant (the driver then checks and proves it again). A walk cut short (time limit,
Ctrl-C, a kill) goes on from its checkpoint on ``--resume`` (:mod:`discover.flip.checkpoint`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Optional


from ...errors import SearchError
from ...rings import Ring
from ..contract import Candidate, Problem, SearchTask, TaskResult
from ..live import Throttle, send_checkpoint


@dataclass(frozen=True)
class CyclicOptions:
    """Options of the ``cyclic`` method.

    Attributes
    ----------
    max_flips : int
        Flips per walk (one task is one walk); 0: until the task's time runs out.
    plus_min, plus_max : int
        A walk that has gone a random number of flips in [plus_min, plus_max] without a reduction
        expands one orbit (rank + 3) ...
    plus_diff : int
        ... while it holds fewer than its best + plus_diff orbits; otherwise it returns to its best.
    quiet_flips : int
        Flips after an expansion during which reductions wait (so that one cannot simply undo it).
    field : str
        "zt" (default): the walk over Z with ternary coefficients, every scheme exact; "gf2": the
        walk mod 2 (no ternary restriction on the moves), each scheme at the target rank expanded
        and lifted like the ``flip`` GF(2) walk's (sign lift, Hensel where the ring allows more;
        ring Z2: the scheme mod 2 itself); a failed lift walks on along that plateau. Mod 2 the
        fixed terms x⊗x⊗x are orbits of (x, x, x) (three copies, 3 ≡ 1), so they can merge and
        form, and the ranks are not tied to n mod 3.
    fixed_moves : int
        Field gf2: whether flips may break an (x, x, x) orbit into three terms (rank + 2): 0 never
        (default), 1 only at the walk's best rank, 2 always.
    lift_lows : int
        Field gf2, 1: also lift each new lowest rank on the way down (below the start and below
        the best lift so far), and when the target is not reached, report the lowest lifted scheme
        as the best exact one (a long record run keeps its verified progress). 0 (default): lift
        only at the target.
    replay_lift : int
        Field gf2: the flip count after which to lift whatever the lift budget says (the
        ``lift_point`` a found scheme records; ``catalog rebuild`` adds it), -1 (default): none.
        The walk and each lift's outcome replay from the seed; the clock only picks which of the
        walk's schemes get lifted.
    walk : str
        Field gf2: "orbit" (default): pick an orbit, then a partner; settle every reduction; go
        back to the best when ``plus_diff`` orbits above it. "pairs": Moosbauer–Poole's rules
        (:mod:`discover.flip.pairwalk`): pick a shared factor value, then two of its terms; only
        the reductions flips make; plus transitions (every ``plus_min``–``plus_max`` flips
        without a reduction) while the rank is below ``plus_cap``, and no return to the best.
        From ``cubes:5x5x5:10001+01010+00100`` the orbit walk stalls at 100–107 mod 2 where
        pairs walks reach 93.
    plus_cap : int
        Walk pairs: the rank below which plus transitions are taken (0, default: the start's).
    patience : int
        Walk pairs: a walk ends after this many flips without a new lowest rank (0, default:
        never; each new low gives it that many more), so that restarts take over from a walk
        that has stalled.
    mirror : int
        Walk pairs, 1: keep the scheme invariant under the mirror (i, j) → (n−1−i, n−1−j) of every
        factor too (Moosbauer–Poole's 6-way symmetry, with which they found 6x6x6 r153); the start
        must be invariant (e.g. ``cubes:6x6x6:110000+001100+000011``), its orbits are walked in
        mirror pairs, and each move is made on a pair and on its mirror. 0 (default): off.
    """

    max_flips: int = 0
    plus_min: int = 5000
    plus_max: int = 100000
    plus_diff: int = 2
    quiet_flips: int = 0
    field: str = "zt"
    fixed_moves: int = 0
    lift_lows: int = 0
    replay_lift: int = -1
    walk: str = "orbit"
    plus_cap: int = 0
    patience: int = 0
    mirror: int = 0


class CyclicMethod:
    """The ``cyclic`` search method (see the module docstring)."""

    name = "cyclic"
    options_type = CyclicOptions
    description = "cyclic-symmetric flip-graph walk for square formats (flips on whole orbits, compiled)"

    def check(self, problem: Problem, options: CyclicOptions) -> None:
        """Square formats, integer or rational rings, from the naive scheme or a cyclic-invariant start."""
        n, m, p = problem.format.dims
        if not n == m == p:
            raise SearchError(f"cyclic: needs a square format (NxNxN), got {problem.format}")
        if options.field not in ("zt", "gf2"):
            raise SearchError(f"cyclic: field={options.field!r}: choose zt or gf2")
        if options.fixed_moves not in (0, 1, 2):
            raise SearchError(f"cyclic: fixed_moves={options.fixed_moves}: choose 0, 1 or 2")
        if options.lift_lows not in (0, 1):
            raise SearchError(f"cyclic: lift_lows={options.lift_lows}: choose 0 or 1")
        if options.replay_lift >= 0 and options.field != "gf2":
            raise SearchError("cyclic: replay_lift replays a lift of the walk mod 2; add -O field=gf2")
        if options.replay_lift < -1:
            raise SearchError(f"cyclic: replay_lift={options.replay_lift}: a flip count, or -1 for none")
        if options.walk not in ("orbit", "pairs"):
            raise SearchError(f"cyclic: walk={options.walk!r}: choose orbit or pairs")
        if options.walk == "pairs" and options.field != "gf2":
            raise SearchError("cyclic: walk=pairs walks mod 2; add -O field=gf2")
        if options.walk != "pairs" and (options.plus_cap or options.patience or options.mirror):
            raise SearchError("cyclic: plus_cap, patience and mirror are options of -O walk=pairs")
        if options.mirror not in (0, 1):
            raise SearchError(f"cyclic: mirror={options.mirror}: choose 0 or 1")
        if options.lift_lows and options.field != "gf2":
            raise SearchError("cyclic: lift_lows lifts walks mod 2; add -O field=gf2")
        if problem.ring is Ring.Z2 and options.field != "gf2":
            raise SearchError("cyclic: walks over Z; use --ring ZT, Z or Q, or -O field=gf2 for --ring Z2")
        if problem.start is not None:
            from ...flip.cyclic import scheme_orbits

            try:
                reps, _ = scheme_orbits(problem.start, mod2=options.field == "gf2")
            except ValueError as exc:
                where = "mod 2 " if options.field == "gf2" else ""
                raise SearchError(f"cyclic: the start scheme {where}is not a cyclic walk's start: {exc}") from None
        if options.mirror:
            from ...flip.cyclic import naive_orbits
            from ...flip.pairwalk import mirror_pairs

            try:
                mirror_pairs(reps if problem.start is not None else naive_orbits(n)[0], n)
            except ValueError as exc:
                raise SearchError(f"cyclic: mirror=1: {exc}") from None
        if n * n > 64:
            raise SearchError(f"cyclic: a factor of {problem.format} has {n * n} entries; the walk holds at most 64")
        for name in ("plus_min", "plus_max", "plus_diff"):
            if getattr(options, name) < 1:
                raise SearchError(f"cyclic: {name} must be at least 1, got {getattr(options, name)}")
        for name in ("max_flips", "quiet_flips", "plus_cap", "patience"):
            if getattr(options, name) < 0:
                raise SearchError(f"cyclic: {name} must be at least 0, got {getattr(options, name)}")
        if options.plus_max < options.plus_min:
            raise SearchError(f"cyclic: plus_max ({options.plus_max}) is below plus_min ({options.plus_min})")

    def run_task(self, task: SearchTask, should_stop: Callable[[], bool]) -> TaskResult:
        """One walk from the start's orbits; its end point, when exact and invariant, is the proposal."""
        from ...flip.cyclic import cyclic_walk, expand, is_cyclic_invariant, is_exact

        t0 = time.perf_counter()
        problem, opts = task.problem, task.options
        n = problem.format.dims[0]

        def stop() -> bool:
            return should_stop() or (task.time_limit is not None and time.perf_counter() - t0 > task.time_limit)

        walk_seed, lift_seed = task.seed.spawn(2)
        start = {}
        if problem.start is not None:  # its orbits (checked in check()); the naive scheme's otherwise
            from ...flip.cyclic import scheme_orbits

            start["reps"], start["fixed"] = scheme_orbits(problem.start, mod2=opts.field == "gf2")
        held = _Checkpoints(task.task_index)
        walk = dict(**start, max_flips=opts.max_flips, plus_min=opts.plus_min, plus_max=opts.plus_max,
                    plus_diff=opts.plus_diff, quiet_flips=opts.quiet_flips, should_stop=stop,
                    on_progress=Throttle(task.task_index), resume_from=task.resume_from,
                    on_checkpoint=held)  # the walk's settings, either field
        if opts.walk == "pairs":
            walk.update(pairs=True, plus_cap=opts.plus_cap, patience=opts.patience, mirror=bool(opts.mirror))
        if opts.field == "gf2":
            return self._run_gf2(task, n, walk_seed, lift_seed, walk, t0, held)
        reps, fixed, stats = cyclic_walk(n, problem.rank, walk_seed, **walk)
        scheme = expand(reps, fixed, n)
        if not (is_exact(scheme) and is_cyclic_invariant(scheme)):  # the orbit moves keep both
            raise RuntimeError("internal error: the cyclic walk lost exactness or the symmetry")
        scheme = scheme.with_meta(name=f"cyclic-symmetric flip graph {problem.format} rank {scheme.rank}")
        info = {"orbits": int(len(reps)), "fixed": int(len(fixed))}
        hit = scheme.rank <= problem.rank
        return TaskResult(task_index=task.task_index, restarts=1,
                          candidates=[Candidate.of(scheme, info=info)] if hit else [],
                          best_residual=0.0 if hit else float(scheme.rank - problem.rank),
                          seconds=time.perf_counter() - t0, stats={"field": "zt", **info, **stats},
                          best_rank=scheme.rank, best_scheme=None if hit else scheme,
                          checkpoint=None if hit else held.final)


    def _run_gf2(self, task: SearchTask, n: int, walk_seed, lift_seed, walk: dict, t0: float,
                 held: "_Checkpoints") -> TaskResult:
        """The walk mod 2; each scheme at the target rank is expanded and lifted (the lift decides)."""
        import numpy as np

        from ...flip import gf2
        from ...flip.cyclic import cyclic_walk, expand_mod2
        from ...flip.gf2lifter import gf2_lifter
        from ...jsonio import scheme_from_dict, scheme_to_dict

        problem, opts = task.problem, task.options
        counters: dict = {}
        lift_at = gf2_lifter(problem.format, problem.ring, problem.coefficient_bound, True,
                             np.random.default_rng(lift_seed), counters)
        found: list = []
        lows: list = []  # lift_lows: the lowest lift above the target so far
        if task.resume_from is not None:  # what the walk's lifts had given before it was cut
            kept = task.resume_from.get("values", {})
            counters.update(kept.get("lifter", {}))
            if kept.get("best_lifted") is not None:
                lows.append(scheme_from_dict(kept["best_lifted"]))

        def with_lifts(checkpoint: dict) -> dict:
            checkpoint["values"]["lifter"] = dict(counters)
            checkpoint["values"]["best_lifted"] = scheme_to_dict(lows[0]) if lows else None
            return checkpoint

        held.add = with_lifts

        def accept(reps: np.ndarray) -> Optional[bool]:
            U, V, W = expand_mod2(reps, n).int64_arrays()
            lifted = lift_at(gf2.pack(U, V, W), U.shape[0])
            if lifted is None:
                return False
            if lifted.rank <= problem.rank:
                found.append(lifted)
                return True
            if lows and lifted.rank >= lows[0].rank:  # a replayed lift (replay_lift) above a lower one kept
                return False
            lows[:] = [lifted]
            return None

        start_rank = problem.start.rank if problem.start is not None else n ** 3

        def ceiling() -> int:
            """One below the best lift so far (or the start): only a lower lift is progress."""
            return (lows[0].rank if lows else start_rank) - 1

        reps, _, stats = cyclic_walk(n, problem.rank, walk_seed, mod2=True, accept=accept,
                                     fixed_moves=opts.fixed_moves, ceiling=ceiling if opts.lift_lows else None,
                                     deep_lifts=lift_at.deep,
                                     replay_lift=opts.replay_lift if opts.replay_lift >= 0 else None, **walk)
        rank_mod2 = expand_mod2(reps, n).rank
        stats = {"field": "gf2", "orbits": int(len(reps)), **stats, **counters,
                 "best_rank_mod2": rank_mod2}
        candidates = []
        if found:
            scheme = found[0].with_meta(name=f"cyclic-symmetric flip graph mod 2 {problem.format} rank "
                                             f"{found[0].rank}, lifted")
            candidates.append(Candidate.of(scheme, info=dict(stats)))
        best = None
        if not candidates and lows:
            best = lows[0].with_meta(name=f"cyclic-symmetric flip graph mod 2 {problem.format} rank "
                                          f"{lows[0].rank}, lifted (best lifted)")
            stats["best_lifted"] = lows[0].rank
        return TaskResult(task_index=task.task_index, restarts=1, candidates=candidates,
                          best_residual=0.0 if candidates else float(rank_mod2 - problem.rank),
                          seconds=time.perf_counter() - t0, stats=stats, best_rank_mod2=rank_mod2,
                          best_rank=best.rank if best is not None else None, best_scheme=best,
                          checkpoint=None if candidates else held.final)


class _Checkpoints:
    """The walk's checkpoints: those taken while it runs go to the driver through the live channel
    (``send_checkpoint``), the one taken when it stops is kept for the task's result; ``add``
    puts the method's own state in (the gf2 walk's lift counters and best lift)."""

    def __init__(self, task_index: int) -> None:
        self.task_index = task_index
        self.final: Optional[dict] = None
        self.add: Callable[[dict], dict] = lambda checkpoint: checkpoint

    def __call__(self, checkpoint: dict, final: bool) -> None:
        checkpoint = self.add(checkpoint)
        if final:
            self.final = checkpoint
        else:
            send_checkpoint(self.task_index, checkpoint)


METHOD = CyclicMethod()
