"""Pool descent (Kauers–Moosbauer's flip graph with pools of schemes per rank).

Instead of one long walk, many short walks start from the members of a *pool*: distinct exact
schemes of the current rank L. A walk (flips, reductions, plus transitions, at most
``walk_flips`` flips) that reaches a rank below L adds its scheme to the pool of that rank; a
walk that ends at rank L adds its end point to pool L while that pool is short of
``pool_size`` (so the pool spreads over the plateau). The search moves down to the next pool
when it holds ``pool_size`` schemes, or when ``patience`` walks at level L have passed since
that pool got its first member.

Every scheme is checked exactly (the integer tensor of its ternary coefficients equals the
matmul tensor) before it enters a pool; pools are deduplicated by
:func:`discover.canonical.canonical_key`. With a folder, each member is also a file
``<folder>/<format>_ZT/r<rank>/<key hash>.json`` written atomically, and walkers reread the
folder every ``sync`` seconds: several processes (or a later run) share and continue the same
pools. Files that fail the exact check on reading are ignored.

``field="gf2"`` runs the same descent over GF(2) (bit-packed terms, no ternary restriction on
flips, several times more flips a second): the pools hold schemes exact mod 2 (folder
``<format>_Z2``, files labelled Z2), splits replace the ternary split and sandwich moves, and every
scheme at the target rank or below (each new pool member there, and each walk's end point on that
plateau) is lifted (sign lift, then Hensel where the ring allows more than ternary; lifts take at
most a quarter of the time) until a lift lands in the asked ring. ``field="gf3"`` (ring Q) does
the same mod 3 (residues packed like ternary terms, sums mod 3) with the 3-adic lift of
:mod:`.gf3runners`, which gives schemes with halves; its pools live in memory only (a scheme
exact mod 3 has no ring label to be saved under), and it runs the runner kernel.
"""
from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from ..canonical import canonical_key
from ..errors import DiscoverError, SearchError
from ..formats import Format
from ..jsonio import load_scheme, save_scheme
from ..scheme import Scheme
from ..tensor import integer_reconstruction, matmul_tensor
from ..rings import Ring
from . import gf2, zt
from .gf2lifter import gf2_lifter
from .gf3 import hensel_lift3, is_exact_mod3
from .gf3runners import flat_residues, residues_mod3
from .lift import is_exact_mod2
from .lifter import Lifter
from .liftrunners import LiftBudget
from .moves import perturb
from .policy import plus_transition, reduce_all, runners_kernel, walk_kernel
from .rng import below, next_u64, seed_state
from .runners import PROGRESS_EVERY, RUNNER_CALL_FLIPS
from .settings import check_gf3_moves, is_ternary_scheme
from .walk import start_arrays


@dataclass(frozen=True)
class PoolSettings:
    """Options of the ``pool`` search method.

    Attributes
    ----------
    pool_size : int
        Schemes a pool should hold before the search moves down to it (the peer's ``--count``).
    walk_flips : int
        Flips of one walk from a pool member (the peer's ``--flip-iterations``).
    patience : int
        Walks at one level, after the next pool got its first member, before moving down anyway.
    plateau, max_plus : int
        Plus-transition policy inside a walk (as for ``flip``).
    split_p, sandwich_p : float
        Probability that a walk starts with a split (the inverse of a reduction: one factor
        cut in two, rank + 1) or with a sandwich (a random ±1 elementary symmetry
        A → XAY⁻¹, B → YBZ⁻¹, C → XCZ⁻¹, kept only when the result stays ternary), to leave
        plateaus (:mod:`discover.flip.moves`).
    sync : float
        Seconds between rereads of the pool folder (other walkers' schemes).
    pool_dir : str
        Folder of the pools ("" keeps them in memory; ``strassen search -o DIR`` sets
        ``DIR/pools``).
    max_walks : int
        Walks per task (0: until the time limit); with a budget and no folder a seed
        reproduces the search.
    start : str
        Start scheme when the problem has none: "naive" or "catalog".
    kernel : str
        "runners" (default): ``runners`` walks at once in the pair-list kernel of ``flip``
        (:func:`~discover.flip.policy.runners_kernel`), plus transitions by the plateau rule
        (``plus_min``..``plus_max`` flips without a reduction, at most ``plus_diff`` above the
        level); "walk": one walk at a time in the plain kernel with ``plateau`` and ``max_plus``.
    runners, plus_min, plus_max, plus_diff : int
        The runner walks' settings (as for ``flip``).
    field : str
        "zt" (default): pools of exact ternary schemes over Z; "gf2" / "gf3": pools of schemes
        exact mod 2 / mod 3, lifted at the target rank (see the module docstring).
    gf3_moves : str
        field=gf3: "ternary" (default) or "mod3", which flips and plus transitions the walks mod 3
        take (as ``flip``'s ``gf3_moves``).
    ternarize : int
        field=gf2, ring ZT: a scheme whose sign lift fails is Hensel-lifted over Z and walked
        towards ternary coefficients for up to this many moves (as ``flip``'s ``ternarize``).
    """

    pool_size: int = 16
    walk_flips: int = 100_000
    patience: int = 64
    plateau: int = 20_000
    max_plus: int = 4
    split_p: float = 0.05
    sandwich_p: float = 0.05
    sync: float = 2.0
    pool_dir: str = ""
    max_walks: int = 0
    start: str = "naive"
    kernel: str = "runners"
    runners: int = 8
    plus_min: int = 5_000
    plus_max: int = 100_000
    plus_diff: int = 4
    field: str = "zt"
    ternarize: int = 0
    gf3_moves: str = "ternary"

    def check(self, start: Optional[Scheme] = None) -> None:
        """Raise :class:`~discover.errors.SearchError` for settings no pool search can run with."""
        for name in ("pool_size", "walk_flips", "patience", "plateau", "runners", "plus_min", "plus_diff"):
            if getattr(self, name) < 1:
                raise SearchError(f"pool: {name} must be at least 1, got {getattr(self, name)}")
        for name in ("max_plus", "max_walks", "ternarize"):
            if getattr(self, name) < 0:
                raise SearchError(f"pool: {name} must be at least 0, got {getattr(self, name)}")
        if self.ternarize and self.field != "gf2":
            raise SearchError(f"pool: ternarize moves GF(2) lifts to ternary; field={self.field} has nothing to lift")
        for name in ("split_p", "sandwich_p"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise SearchError(f"pool: {name} must be a probability in [0, 1], got {getattr(self, name)}")
        if self.plus_max < self.plus_min:
            raise SearchError(f"pool: plus_max ({self.plus_max}) must be at least plus_min ({self.plus_min})")
        if self.kernel not in ("runners", "walk"):
            raise SearchError(f"pool: kernel={self.kernel!r}: choose runners or walk")
        if self.sync <= 0:
            raise SearchError(f"pool: sync must be positive, got {self.sync}")
        if self.start not in ("naive", "catalog"):
            raise SearchError(f"pool: start={self.start!r}: choose naive or catalog")
        if self.field not in ("zt", "gf2", "gf3"):
            raise SearchError(f"pool: field={self.field!r}: choose zt, gf2 or gf3")
        check_gf3_moves("pool", self.gf3_moves)
        if self.field == "gf3" and self.kernel != "runners":
            raise SearchError("pool: field=gf3 runs the runner kernel (kernel=runners)")
        if start is not None and self.field == "gf3" and start.denominator % 3 == 0:
            raise SearchError("pool: field=gf3 needs a start scheme whose denominators are prime to 3 (it walks mod 3)")
        if start is not None and self.field == "zt" and not is_ternary_scheme(start):
            raise SearchError("pool: the start scheme must have coefficients in {-1, 0, 1} (or use field=gf2)")
        if start is not None and self.field == "gf2" and start.denominator % 2 == 0:
            raise SearchError("pool: field=gf2 needs a start scheme whose denominators are odd (it walks mod 2)")


def _key_hash(scheme: Scheme) -> str:
    return hashlib.sha1(repr(canonical_key(scheme)).encode()).hexdigest()[:20]


def _exact(U: np.ndarray, V: np.ndarray, W: np.ndarray, fmt: Format) -> bool:
    return bool((integer_reconstruction(U, V, W) == matmul_tensor(fmt)).all())


class Pools:
    """Distinct exact schemes per rank (ternary over Z, mod 2 or mod 3), optionally mirrored in a folder.

    Parameters
    ----------
    fmt
        The format of every member.
    folder
        Where the pools live on disk (shared by walkers and later runs), or None.
    field
        "zt": packed ternary schemes, checked over Z; "gf2": GF(2)-packed schemes, checked mod 2;
        "gf3": residues mod 3 packed like ternary schemes, checked mod 3 (never in a folder).
    """

    def __init__(self, fmt: Format, folder: "str | os.PathLike[str] | None" = None, field: str = "zt") -> None:
        self.fmt = fmt
        self.mod2 = field == "gf2"
        self.mod3 = field == "gf3"
        self.kernel = gf2 if self.mod2 else zt
        if self.mod3:
            folder = None  # a scheme exact only mod 3 has no ring label to be saved under
        self.folder = None if not folder else Path(folder) / f"{fmt}_{'Z2' if self.mod2 else 'ZT'}"
        self.members: dict[int, dict[str, np.ndarray]] = {}  # rank -> key hash -> packed (6, rank)
        self.rejected = 0
        if self.folder is not None:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise SearchError(f"pool: cannot create the pool folder {self.folder}: {e.strerror or e}") from e

    def sizes(self) -> dict[int, int]:
        """rank -> number of members."""
        return {r: len(m) for r, m in sorted(self.members.items()) if m}

    def lowest(self) -> Optional[int]:
        """The lowest rank with a member (None when empty)."""
        ranks = [r for r, m in self.members.items() if m]
        return min(ranks) if ranks else None

    def add(self, F: np.ndarray, r: int, persist: bool = True) -> bool:
        """Check a packed scheme exactly (mod 2 for gf2) and add it when new; True when it was added."""
        U, V, W = self.kernel.unpack(F, r, self.fmt)
        if self.mod3:
            exact = is_exact_mod3(flat_residues(F, r, self.fmt), self.fmt)
        else:
            exact = is_exact_mod2(U, V, W, self.fmt) if self.mod2 else _exact(U, V, W, self.fmt)
        if not exact:
            self.rejected += 1
            return False
        scheme = Scheme.from_arrays(U, V, W, self.fmt, mod2=self.mod2)
        key = _key_hash(scheme)
        pool = self.members.setdefault(r, {})
        if key in pool:
            return False
        pool[key] = np.ascontiguousarray(F[:, :r])
        if persist and self.folder is not None:
            path = self.folder / f"r{r}" / f"{key}.json"
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                over = "Z2" if self.mod2 else "Z"
                save_scheme(scheme.with_meta(name=f"pool {self.fmt} rank {r}"), path,
                            verification={"valid": True, "checked_over": over, "method": "exact tensor (pool entry)"})
        return True

    def sync(self, below: Optional[int] = None) -> int:
        """Read members other walkers wrote (ranks ≤ ``below`` when given); returns how many were new."""
        if self.folder is None or not self.folder.exists():
            return 0
        new = 0
        for sub in self.folder.iterdir():
            if not (sub.is_dir() and sub.name.startswith("r") and sub.name[1:].isdigit()):
                continue
            rank = int(sub.name[1:])
            if below is not None and rank > below:
                continue
            known = self.members.setdefault(rank, {})
            for path in sub.glob("*.json"):
                if path.stem in known:
                    continue
                try:
                    scheme = load_scheme(path)
                    U, V, W = scheme.int64_arrays()
                    F = self.kernel.pack(U, V, W)
                except (DiscoverError, ValueError, OSError):
                    self.rejected += 1
                    continue
                if scheme.format != self.fmt or scheme.rank != rank or scheme.mod2 != self.mod2:
                    self.rejected += 1
                    continue
                new += self.add(F, rank, persist=False)
        return new

    def pick(self, rank: int, state: np.ndarray) -> np.ndarray:
        """A uniformly random member of pool ``rank`` (packed, shape (6 or 3, rank))."""
        pool = list(self.members[rank].values())
        return pool[int(below(state, len(pool)))]

    def scheme(self, rank: int) -> Scheme:
        """One member of pool ``rank`` as a scheme (the first by key, so it is reproducible)."""
        key = min(self.members[rank])
        U, V, W = self.kernel.unpack(self.members[rank][key], rank, self.fmt)
        return Scheme.from_arrays(U, V, W, self.fmt, mod2=self.mod2)


class _Goal:
    """When the descent is done, and the lifts of field gf2.

    Field zt: done when a pool at rank ≤ target has a member (every member is exact over Z).
    Field gf2: each scheme offered at rank ≤ target is lifted (while lifts have taken at most
    a quarter of the time, or with a walk budget a quarter of the flips, :class:`.liftrunners.LiftBudget`);
    done when a lift is accepted, which becomes ``scheme``.
    """

    def __init__(self, pools: Pools, target: int, lift_at: Optional[Lifter], t0: float, stats: np.ndarray,
                 budgeted: bool = False) -> None:
        self.pools, self.target, self.lift_at, self.stats = pools, target, lift_at, stats
        # a walk budget: the clock plays no part, so a seed replays the lifts
        self.budget = LiftBudget(pools.fmt, budgeted, t0, lift_at is not None and lift_at.deep)
        self.scheme: Optional[Scheme] = None
        self.counters = {"lift_attempts": 0, "lift_failures": 0, "lifts_deferred": 0}

    def reached(self) -> bool:
        if self.lift_at is None:
            lowest = self.pools.lowest()
            return lowest is not None and lowest <= self.target
        return self.scheme is not None

    def offer(self, F: np.ndarray, r: int) -> None:
        """Lift a GF(2) scheme of rank r (no-op for field zt, above the target, or once done)."""
        if self.lift_at is None or self.scheme is not None or r > self.target:
            return
        c = self.counters
        if not self.budget.allows(int(self.stats[0])):
            c["lifts_deferred"] += 1
            return
        t = time.perf_counter()
        c["lift_attempts"] += 1
        lifted = self.lift_at(F, r)
        c["lift_failures"] += lifted is None
        self.budget.charge(r, time.perf_counter() - t)
        self.scheme = lifted


@dataclass
class PoolOutcome:
    """What a pool descent produced: a scheme of rank ≤ target (or None), the best exact one, counters."""

    scheme: Optional[Scheme]
    best: Optional[Scheme]
    best_rank: int
    stats: dict = field(default_factory=dict)


def pool_descent(
    fmt: Format,
    target: int,
    start: Scheme,
    settings: PoolSettings,
    seed: np.random.SeedSequence,
    should_stop: Callable[[], bool] = lambda: False,
    time_limit: Optional[float] = None,
    on_progress: Optional[Callable[[dict], None]] = None,
    ring: Ring = Ring.ZT,
    bound: int = 1,
) -> PoolOutcome:
    """Descend rank by rank through pools of exact schemes until rank ≤ ``target``.

    Parameters
    ----------
    fmt, target
        The format and the rank to reach.
    start
        An exact scheme (it enters the pool of its rank after its reductions): ternary for field
        zt, any odd denominators for gf2. Pools already in ``settings.pool_dir`` are continued
        from their lowest rank.
    settings
        See :class:`PoolSettings`.
    seed
        The walks' randomness (with ``max_walks`` and no folder, a seed reproduces the run).
    should_stop, time_limit
        Polled between walks and inside long walks.
    on_progress
        Called after every walk with ``best_rank``, ``level``, ``pools``, ``flips``, ``flips_per_s``.
    ring, bound
        Field gf2: the ring the lifts must land in (Z2: the scheme mod 2 itself) and the largest
        coefficient for ring Z.

    Returns
    -------
    PoolOutcome
        ``scheme`` (rank ≤ target) is None when the budget ran out; ``best`` is a member of
        the lowest pool reached (exact; field gf2: only for ring Z2, else None), ``best_rank``
        its rank (mod 2 for field gf2).
    """
    t0 = time.perf_counter()
    state = seed_state(seed)
    mod2, mod3 = settings.field == "gf2", settings.field == "gf3"
    modular = mod2 or mod3
    kernel = gf2 if mod2 else zt
    if mod3:
        U0, V0, W0 = residues_mod3(start)
        keep = [k for k in range(start.rank) if U0[k].any() and V0[k].any() and W0[k].any()]
        U0, V0, W0 = U0[keep], V0[keep], W0[keep]
    else:
        U0, V0, W0 = start_arrays(start, settings.field)
    F0 = kernel.pack(U0, V0, W0, U0.shape[0] + 8)
    r0, _ = reduce_all(F0, U0.shape[0], not mod2, mod3)
    pools = Pools(fmt, settings.pool_dir or None, settings.field)
    lift_counters: dict = {}
    lift_at: Optional[Lifter] = None
    if mod2:
        rng = np.random.default_rng(seed.spawn(1)[0] if isinstance(seed, np.random.SeedSequence) else seed)
        lift_at = gf2_lifter(fmt, ring, bound, True, rng, lift_counters, settings.ternarize)
    elif mod3:
        def lift3(F: np.ndarray, r: int) -> Optional[Scheme]:
            return hensel_lift3(flat_residues(F, r, fmt), fmt)
        lift_at = Lifter(lift3, deep=True)  # a 3-adic Hensel lift
    stats = np.zeros(5, dtype=np.int64)
    goal = _Goal(pools, target, lift_at, t0, stats, budgeted=settings.max_walks > 0 and not settings.pool_dir)
    pools.add(F0, r0)
    pools.sync()
    for rank in sorted(pools.members):
        for F in list(pools.members[rank].values()):
            goal.offer(F, rank)  # a start (or a pool folder) already at the target rank
    counters = {"walks": 0, "improvements": 0, "splits": 0, "sandwiches": 0, "levels": 0}

    def out_of_time() -> bool:
        return should_stop() or (time_limit is not None and time.perf_counter() - t0 > time_limit)

    descend = _descend_with_runners if settings.kernel == "runners" else _descend_one_walk_at_a_time
    descend(fmt, goal, pools, settings, state, stats, counters, out_of_time, t0, on_progress)
    lowest = pools.lowest()
    if modular:
        found = goal.scheme
    else:
        found = pools.scheme(lowest) if lowest is not None and lowest <= target else None
    out = {"field": settings.field, "flips": int(stats[0]), "plus_transitions": int(stats[1]),
           "reductions": int(stats[3]), "seconds": round(time.perf_counter() - t0, 4), "best_rank": lowest,
           "level": counters.pop("level"), "pools": pools.sizes(), "pool_rejected": pools.rejected, **counters}
    if modular:
        out.update(goal.counters, lift_seconds=round(goal.budget.seconds, 3), **lift_counters)
        out["best_rank_mod3" if mod3 else "best_rank_mod2"] = lowest
    if found is not None:
        suffix = " (mod 2)" if found.mod2 else ""
        found = found.with_meta(name=f"pool descent {fmt} rank {found.rank}{suffix}")
        return PoolOutcome(found, None, found.rank, out)
    if mod3 or (mod2 and ring is not Ring.Z2):
        return PoolOutcome(None, None, lowest, out)  # a scheme mod 2 is no answer for this ring
    best = pools.scheme(lowest).with_meta(name=f"pool descent {fmt} rank {lowest} (best reached)")
    return PoolOutcome(None, best, lowest, out)


class _Levels:
    """Which pool the walks start from: the lowest full one, or the next one after ``patience`` walks.

    The search moves down when a lower pool holds ``pool_size`` members, or when ``patience``
    walks have passed since a lower pool got its first member.
    """

    def __init__(self, pools: Pools, settings: PoolSettings) -> None:
        self.pools, self.settings = pools, settings
        self.level = pools.lowest()
        self.entered_next: Optional[int] = None  # walks done when a lower pool got its first member
        self.last_sync = time.perf_counter()

    def update(self, walks: int, counters: dict) -> bool:
        """Reread the folder when due and move down when the rule says so; True when the level moved."""
        if self.settings.pool_dir and time.perf_counter() - self.last_sync > self.settings.sync:
            self.pools.sync(below=self.level)
            self.last_sync = time.perf_counter()
        sizes = self.pools.sizes()
        lower = sorted(rk for rk in sizes if rk < self.level)
        if not lower:
            return False
        if self.entered_next is None:
            self.entered_next = walks
        full = [rk for rk in lower if sizes[rk] >= self.settings.pool_size]
        if full or walks - self.entered_next >= self.settings.patience:
            self.level = min(full) if full else lower[0]
            self.entered_next = None
            counters["levels"] += 1
            return True
        return False


def _progress(pools: Pools, level: int, stats: np.ndarray, elapsed: float) -> dict:
    """The progress report of a descent (the lowest rank is a rank mod 2 for field gf2)."""
    lowest = pools.lowest()
    modular = pools.mod2 or pools.mod3
    return {"best_rank": None if modular else lowest, "best_rank_mod2": lowest if modular else None,
            "modulus": 3 if pools.mod3 else 2,
            "level": level, "pools": pools.sizes(), "flips": int(stats[0]),
            "flips_per_s": float(stats[0]) / elapsed if elapsed > 0 else None}


def _mod3(settings: PoolSettings) -> int:
    """The kernels' ``mod3`` argument for a pool search (see :data:`discover.flip.zt.OVER_Z`)."""
    return zt.GF3_MOVES[settings.gf3_moves] if settings.field == "gf3" else zt.OVER_Z


def _perturb(F: np.ndarray, r: int, state: np.ndarray, settings: PoolSettings, fmt: Format) -> tuple[int, str]:
    """The walk's opening move: a ternary split or sandwich (field zt), or a GF(2) split (gf2)."""
    if settings.field == "zt":
        return perturb(F, r, state, settings.split_p, settings.sandwich_p, fmt)
    if settings.split_p <= 0 or float(next_u64(state) >> np.uint64(11)) / float(1 << 53) >= settings.split_p:
        return r, ""
    r2 = zt.plus_move(F, r, state, _mod3(settings)) if settings.field == "gf3" else plus_transition(F, r, state, False)
    return r2, "splits" if r2 > r else ""


def _descend_one_walk_at_a_time(fmt, goal, pools, settings, state, stats, counters, out_of_time, t0,
                                on_progress) -> None:
    """``kernel="walk"``: one walk per pick in the plain kernel (plateau rule of ``walk_kernel``)."""
    levels = _Levels(pools, settings)
    ternary = settings.field == "zt"
    rows = 6 if ternary else 3
    while not goal.reached():
        if out_of_time() or (settings.max_walks and counters["walks"] >= settings.max_walks):
            break
        levels.update(counters["walks"], counters)
        level = levels.level
        F = np.zeros((rows, level + settings.max_plus + 8), dtype=np.uint64)
        F[:, :level] = pools.pick(level, state)
        r, how = _perturb(F, level, state, settings, fmt)
        if how:
            counters[how] += 1
        best = F.copy()
        best_r = r
        walked = 0
        while walked < settings.walk_flips and r >= level and not out_of_time():
            before = int(stats[0])
            r, best_r = walk_kernel(F, r, best, best_r, level - 1, min(settings.walk_flips - walked, 50_000),
                                    settings.plateau, settings.max_plus, state, stats, ternary)
            walked += int(stats[0]) - before
            if int(stats[0]) == before:
                break  # a dead end: no flip applies
        counters["walks"] += 1
        if best_r < level:
            counters["improvements"] += pools.add(best, best_r)
            goal.offer(best, best_r)
        else:
            if r == level and len(pools.members.get(level, {})) < settings.pool_size:
                pools.add(F, r)  # spread the pool over the plateau
            goal.offer(F, r)  # on the target plateau: another region to lift from
        if on_progress is not None:
            elapsed = time.perf_counter() - t0
            on_progress(_progress(pools, level, stats, elapsed))
    counters["level"] = levels.level


def _descend_with_runners(fmt, goal, pools, settings, state, stats, counters, out_of_time, t0,
                          on_progress) -> None:
    """``kernel="runners"``: ``settings.runners`` walks at once in the pair-list runner kernel.

    Each runner starts from a random member of the current pool (after a possible split or
    sandwich) and walks until it reaches a rank below the level (its best scheme joins that
    pool) or has walked ``walk_flips`` flips (its end point joins the level's pool while that is
    short); then it starts again from a new pick. Calls have a fixed size, so a seed replays
    the search under any load (without a folder, which other processes may fill).
    """
    K = settings.runners
    ternary = settings.field != "gf2"  # gf3 residues are packed like ternary terms
    mod3 = _mod3(settings)
    levels = _Levels(pools, settings)
    capacity = levels.level + settings.plus_diff + 4
    Fs = np.zeros((K, 6 if ternary else 3, capacity), dtype=np.uint64)
    bests = np.zeros_like(Fs)
    rs = np.zeros(K, dtype=np.int64)
    best_rs = np.zeros(K, dtype=np.int64)
    since = np.zeros(K, dtype=np.int64)
    quiet = np.zeros(K, dtype=np.int64)
    periods = np.zeros(K, dtype=np.int64)
    walked = np.zeros(K, dtype=np.int64)
    span = settings.plus_max - settings.plus_min + 1

    def start_runner(k: int) -> None:
        level = levels.level
        Fs[k] = 0
        Fs[k, :, :level] = pools.pick(level, state)
        r, how = _perturb(Fs[k], level, state, settings, fmt)
        if how:
            counters[how] += 1
        bests[k] = Fs[k]
        rs[k] = best_rs[k] = r
        since[k] = quiet[k] = walked[k] = 0
        periods[k] = settings.plus_min + int(below(state, span))

    for k in range(K):
        start_runner(k)
    step = RUNNER_CALL_FLIPS
    shown = 0.0
    while not goal.reached():
        if out_of_time() or (settings.max_walks and counters["walks"] >= settings.max_walks):
            break
        level = levels.level
        hit = runners_kernel(Fs, rs, bests, best_rs, since, periods, quiet, level - 1, step, settings.plus_min,
                             settings.plus_max, settings.plus_diff, 0, np.iinfo(np.int64).max,
                             state, stats, ternary, mod3)
        walked[: (hit + 1 if hit >= 0 else K)] += step
        ended = 0
        for k in range(K):
            if best_rs[k] < level:
                counters["improvements"] += pools.add(bests[k], int(best_rs[k]))
                goal.offer(bests[k], int(best_rs[k]))
            elif walked[k] < settings.walk_flips:
                continue
            else:
                if rs[k] == level and len(pools.members.get(level, {})) < settings.pool_size:
                    pools.add(Fs[k], level)  # spread the pool over the plateau
                goal.offer(Fs[k], int(rs[k]))  # on the target plateau: another region to lift from
            counters["walks"] += 1
            ended += 1
            start_runner(k)
        if ended and levels.update(counters["walks"], counters):
            for k in range(K):
                start_runner(k)  # every runner moves down with the level
        now = time.perf_counter()
        if on_progress is not None and (ended or now - shown >= PROGRESS_EVERY):
            shown = now
            elapsed = now - t0
            on_progress(_progress(pools, levels.level, stats, elapsed))
    counters["level"] = levels.level
