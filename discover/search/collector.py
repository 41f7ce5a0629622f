"""Turning proposals into results: the exact check, the sympy proof, deduplication, saving.

Every candidate a method proposes goes through :meth:`Collector.accept`: it is built into a
scheme (keeping the candidate's metadata), checked exactly, proven with sympy, stamped with its
provenance and, when new (by canonical form), saved and reported. A scheme whose rank is below
the target is a better answer: it is accepted, saved under its own rank and reported as such.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from ..canonical import canonical_key
from ..errors import DiscoverError
from ..flip.liftfailures import LIFT_FAILURES
from ..problem import Problem
from ..provenance import stamp
from ..scheme import Scheme
from ..verify import verify_exact, verify_sympy
from .contract import Candidate, SearchTask, TaskResult
from .store import SchemeStore


@dataclass
class Progress:
    """A snapshot for the progress display."""

    restarts_done: int
    tasks_done: int
    best_residual: float
    hits: int
    rejected: int
    elapsed: float
    best_rank: Optional[int] = None
    target: Optional[int] = None
    tasks_running: Optional[int] = None  # from the scheduler, when it says
    workers: Optional[int] = None
    best_rank_mod2: Optional[int] = None  # GF(2) walks: lowest rank reached mod 2 (may not lift)
    flips_per_s: Optional[float] = None  # flip methods: all running walkers together
    pools: Optional[dict[int, int]] = None  # pool method: rank -> schemes in that pool
    modulus: int = 2  # the prime of best_rank_mod2 (3 for walks mod 3)


@dataclass
class SearchResult:
    """Outcome of :func:`discover.search.search`. Every scheme in ``found`` is verified.

    Attributes
    ----------
    found : list of Scheme
        Verified schemes (exact check and sympy proof) with ``provenance`` and
        ``verification`` metadata, lowest restart first. Their rank is at most the target.
    problem : Problem
        What was asked.
    method : str
        The method that ran (``naive`` when the schoolbook scheme already meets the rank).
    seed : int
        The root seed.
    best_rank : int or None
        The lowest rank reached: of a found scheme, else the lowest a flip walk reached.
    best_residual : float
        Smallest squared residual of a rounded candidate seen (0 once something is exact).
    restarts_done, tasks_done : int
        Work finished by the tasks that reported back.
    rejected : int
        Candidates that failed verification (never reported or saved).
    saved : list of Path
        Files written, in the order they were written.
    elapsed : float
        Wall time in seconds.
    interrupted : bool
        True when Ctrl-C (or SIGTERM) stopped the search.
    time_limit : float or None
        The time limit the search ran under.
    history : list of (seconds, best, hits)
        The progress as it was reported: best rank (flip) or best residual (numerical methods)
        and verified hits against time; :func:`discover.plot.plot_progress` draws it.
    best_rank_mod2 : int or None
        GF(2) walks: the lowest rank reached mod 2 (a scheme of that rank may not lift).
    best_scheme : Scheme or None
        When nothing reached the target: the verified scheme of lowest rank a task proposed
        (exact check and sympy proof, stamped), saved under its own rank; else None.
    best_saved : Path or None
        Where ``best_scheme`` was saved.
    flips : int
        Flips done by the tasks that reported back (flip methods); a walk resumed from its
        checkpoint counts on from the flips it had made before (the walk's own count).
    resumed_walks, resumed_flips : int
        Walks that went on from a checkpoint (``--resume``), and the flips they had made before
        this run (``flips_per_s`` counts this run's flips only).
    pools : dict or None
        Pool method: rank -> number of distinct exact schemes in that pool at the end.
    lift_attempts, lift_failures : int
        Walks mod 2 or 3: lifts tried, and those that gave no scheme in the asked ring (their
        schemes hold only mod p, or, for a ternary ring, on no ±1 signs of their support).
    lift_failure_kinds : dict
        Walks mod 2: the failed lifts by reason (the counters of
        :data:`~discover.flip.liftfailures.LIFT_FAILURES` that are not zero).
    """

    problem: Optional[Problem] = None
    method: str = ""
    seed: int = 0
    found: list[Scheme] = field(default_factory=list)
    restarts_done: int = 0
    best_residual: float = float("inf")
    best_rank: Optional[int] = None
    elapsed: float = 0.0
    interrupted: bool = False
    rejected: int = 0
    saved: list[Path] = field(default_factory=list)
    tasks_done: int = 0
    first_found_seconds: Optional[float] = None
    time_limit: Optional[float] = None
    history: list[tuple[float, float, int]] = field(default_factory=list)
    best_rank_mod2: Optional[int] = None
    best_scheme: Optional[Scheme] = None
    best_saved: Optional[Path] = None
    flips: int = 0
    pools: Optional[dict[int, int]] = None
    lift_attempts: int = 0
    lift_failures: int = 0
    lift_failure_kinds: dict[str, int] = field(default_factory=dict)
    resumed_walks: int = 0
    resumed_flips: int = 0

    @property
    def below_target(self) -> bool:
        """True when a found scheme has fewer products than the target rank."""
        return self.problem is not None and any(s.rank < self.problem.rank for s in self.found)

    def to_json(self) -> dict[str, Any]:
        """The machine-readable summary (schemes as file paths; the CLI adds the documents)."""
        p = self.problem
        return {
            "format": str(p.format) if p else None, "rank": p.rank if p else None,
            "ring": p.ring.value if p else None, "method": self.method, "seed": self.seed,
            "found_ranks": [s.rank for s in self.found], "best_rank": self.best_rank,
            "restarts": self.restarts_done, "tasks": self.tasks_done, "elapsed": round(self.elapsed, 3),
            "best_residual": None if self.best_residual == float("inf") else self.best_residual,
            "rejected": self.rejected, "interrupted": self.interrupted, "saved": [str(s) for s in self.saved],
            "time_limit": self.time_limit,
            "best_rank_mod2": self.best_rank_mod2, "flips": self.flips,
            "flips_per_s": (round((self.flips - self.resumed_flips) / self.elapsed)
                            if self.flips and self.elapsed > 0 else None),
            "resumed_walks": self.resumed_walks, "resumed_flips": self.resumed_flips,
            "best_scheme_rank": self.best_scheme.rank if self.best_scheme is not None else None,
            "best_saved": str(self.best_saved) if self.best_saved is not None else None,
            "pools": {str(k): v for k, v in sorted(self.pools.items())} if self.pools else None,
            "lift_attempts": self.lift_attempts, "lift_failures": self.lift_failures,
            "lift_failure_kinds": dict(self.lift_failure_kinds),
        }


def _lower(a: Optional[int], b: Optional[int]) -> Optional[int]:
    return b if a is None else a if b is None else min(a, b)


class Collector:
    """Verifies candidates, keeps the distinct verified schemes and saves them.

    Parameters
    ----------
    on_found
        Called with ``(scheme, path or None)`` as soon as a scheme is final: at once with
        ``find_all``, at :meth:`finish` otherwise (only then is the lowest task index known).
    """

    def __init__(self, problem: Problem, method: str, seed: int, batch: int, find_all: bool,
                 store: Optional[SchemeStore], start: float, max_found: Optional[int] = None,
                 on_found: Optional[Callable[[Scheme, Optional[Path]], None]] = None) -> None:
        self.problem, self.method, self.seed, self.batch = problem, method, seed, batch
        self.find_all, self.store, self.start, self.max_found = find_all, store, start, max_found
        self.on_found = on_found
        self.workers: Optional[int] = None  # recorded in provenance; set by the driver
        self.result = SearchResult(problem=problem, method=method, seed=seed)
        self.by_task: dict[int, Scheme] = {}  # lowest verified restart of each task (first-hit mode)
        self.keys: set = set()
        # The lowest-rank exact proposal above the target, its task, and the seconds into the search
        # when its walk found it (None when the walk does not say).
        self.best: Optional[tuple[Scheme, SearchTask, Optional[float]]] = None
        self.best_lift_point: Optional[dict] = None  # where a runner walk lifted self.best (replay_lift)
        # Resumed: the best exact scheme above the target an earlier run saved (scheme, task, file);
        # only a lower one (or as low, from a lower task) replaces it.
        self.kept_best: Optional[tuple[Scheme, int, Path]] = None

    @property
    def hits(self) -> int:
        return len(self.result.found) if self.find_all else len(self.by_task)

    def enough(self) -> bool:
        return self.find_all and self.max_found is not None and len(self.result.found) >= self.max_found

    def accept(self, task: SearchTask, res: TaskResult) -> bool:
        """Record one task's result; return True when it produced a verified scheme."""
        r = self.result
        r.tasks_done += 1
        r.restarts_done += res.restarts
        r.best_residual = min(r.best_residual, res.best_residual)
        r.best_rank = _lower(r.best_rank, res.best_rank)
        r.best_rank_mod2 = _lower(r.best_rank_mod2, res.best_rank_mod2)
        r.flips += int(res.stats.get("flips", 0) or 0)
        if res.stats.get("resumed_at_flips") is not None:
            r.resumed_walks += 1
            r.resumed_flips += int(res.stats["resumed_at_flips"])
        r.lift_attempts += int(res.stats.get("lift_attempts", 0) or 0)
        r.lift_failures += int(res.stats.get("lift_failures", 0) or 0)
        for kind in LIFT_FAILURES:
            count = int(res.stats.get(kind, 0) or 0)
            if count:
                r.lift_failure_kinds[kind] = r.lift_failure_kinds.get(kind, 0) + count
        if res.stats.get("pools"):
            r.pools = {int(k): int(v) for k, v in res.stats["pools"].items()}
        self._consider_best(task, res)
        success = False
        for cand in sorted(res.candidates, key=lambda c: c.sub_index):
            if self.enough():
                break  # a batch may hold more hits than were asked for
            scheme = self._verified(cand, task)
            if scheme is None:
                continue
            success = True
            key = canonical_key(scheme)
            if key in self.keys:
                continue
            self.keys.add(key)
            r.best_residual = 0.0
            r.best_rank = _lower(r.best_rank, scheme.rank)
            if r.first_found_seconds is None:
                r.first_found_seconds = time.monotonic() - self.start
            if self.find_all:
                self._keep(scheme)
            else:
                self.by_task[task.task_index] = scheme
                break  # the lowest restart of this task is the one that counts
        return success

    def restore(self, saved: list[tuple[Optional[int], Scheme, Optional[Path]]], tasks_done: int,
                restarts_done: int, best_rank: Optional[int], best_rank_mod2: Optional[int] = None,
                best_saved: Optional[tuple[int, Scheme, Path]] = None) -> None:
        """Resume: take back what an earlier run of the same search verified (see :mod:`.state`).

        ``saved`` holds ``(task index, scheme, saved path or None)``. With ``find_all`` the
        schemes count as found (and are not saved or reported again); in first-hit mode they
        compete with the new results for the lowest task index. ``best_saved`` is the best exact
        scheme above the target the earlier run saved ``(task index, scheme, path)``: it stays the
        search's best (not saved again) unless a lower one comes.
        """
        r = self.result
        if best_saved is not None:
            task_index, scheme, path = best_saved
            self.kept_best = (scheme, task_index, path)
            r.best_rank = _lower(r.best_rank, scheme.rank)
        r.tasks_done += tasks_done
        r.restarts_done += restarts_done
        r.best_rank = _lower(r.best_rank, best_rank)
        r.best_rank_mod2 = _lower(r.best_rank_mod2, best_rank_mod2)
        for task_index, scheme, path in saved:
            r.best_residual = 0.0
            r.best_rank = _lower(r.best_rank, scheme.rank)
            if self.find_all:
                key = canonical_key(scheme)
                if key in self.keys or path is None:
                    continue
                self.keys.add(key)
                r.found.append(scheme)
                r.saved.append(path)
            elif task_index is not None and task_index not in self.by_task:
                self.by_task[task_index] = scheme

    def _consider_best(self, task: SearchTask, res: TaskResult) -> None:
        """Keep the lowest-rank exact ``best_scheme`` proposed so far (checked exactly here); of equal
        ranks the one of the lowest task, so the kept scheme does not depend on which task ended first."""
        s = res.best_scheme
        held = [(best[0].rank, best[1].task_index) for best in [self.best] if best is not None]
        held += [(kept[0].rank, kept[1]) for kept in [self.kept_best] if kept is not None]
        if s is None or s.format != self.problem.format or any((s.rank, task.task_index) >= h for h in held):
            return
        if s.mod2 != (self.problem.ring == "Z2") or not verify_exact(s).valid:
            self.result.rejected += 1
            return
        # A walk that says when it found its best (seconds into the task) dates it from the search's
        # start; otherwise the scheme is dated when it is stamped (the end of the search).
        inside = res.stats.get("best_lifted_seconds")
        found_after = (None if inside is None else
                       round(max(0.0, time.monotonic() - self.start - res.seconds) + float(inside), 3))
        self.best = (s, task, found_after)
        self.best_lift_point = res.stats.get("best_lift_point")
        self.result.best_rank = _lower(self.result.best_rank, s.rank)

    def _verified(self, cand: Candidate, task: SearchTask, max_rank: Optional[int] = None,
                  wall_time: Optional[float] = None) -> Optional[Scheme]:
        try:
            scheme = cand.scheme if cand.scheme is not None else \
                Scheme.from_arrays(cand.U, cand.V, cand.W, self.problem.format, mod2=cand.mod2)
        except DiscoverError:
            self.result.rejected += 1
            return None
        limit = self.problem.rank if max_rank is None else max_rank
        if scheme.format != self.problem.format or scheme.rank > limit or not verify_exact(scheme).valid:
            self.result.rejected += 1
            return None
        proof = verify_sympy(scheme)
        if not proof.valid:
            self.result.rejected += 1
            return None
        restart = task.task_index * self.batch + cand.sub_index
        options = dataclasses.asdict(task.options) if dataclasses.is_dataclass(task.options) else repr(task.options)
        if self.problem.start is not None and isinstance(options, dict):
            # The walks' `start` option picks a start only when the problem has none; recorded beside
            # a given start it would name a scheme the search never started from.
            options.pop("start", None)
        provenance: dict[str, Any] = {
            "method": self.method,
            "seed": self.seed,
            "restart": restart,
            "task_index": task.task_index,
            "sub_index": cand.sub_index,
            "batch": self.batch,
            "options": options,
            "problem": self.problem.to_json(),
            "wall_time": round(time.monotonic() - self.start, 3) if wall_time is None else wall_time,
            "time_limit": self.result.time_limit,  # the budget: `catalog rebuild` checks a rerun against it
            "workers": self.workers,
        }
        if self.problem.start_file:
            provenance["start_file"] = self.problem.start_file
        if self.problem.start_pinned:
            provenance["start_pinned"] = self.problem.start_pinned
        if cand.info:
            provenance["info"] = cand.info
        return stamp(scheme, proof, provenance)

    def _keep(self, scheme: Scheme) -> None:
        # Save before reporting: a scheme is never printed without its file (Ctrl-C may come next).
        path = self.store.save(scheme) if self.store is not None else None
        if path is not None:
            self.result.saved.append(path)
        self.result.found.append(scheme)
        if self.on_found is not None:
            self.on_found(scheme, path)

    def finish(self) -> None:
        """First-hit mode: keep (and save) only the lowest-index success."""
        if not self.find_all and self.by_task and not self.result.found:
            self._keep(self.by_task[min(self.by_task)])
        if not self.result.found and self.best is not None:
            self._keep_best()
        elif not self.result.found and self.kept_best is not None:  # the earlier run's best stands
            self.result.best_scheme, _, self.result.best_saved = self.kept_best

    def best_file(self) -> Optional[tuple[int, Path]]:
        """(task index, file) of the best exact scheme above the target saved so far, this run's or
        an earlier one's (for the state, so that a resumed search keeps it)."""
        if self.result.best_saved is not None and self.best is not None:
            return self.best[1].task_index, self.result.best_saved
        if self.kept_best is not None:
            return self.kept_best[1], self.kept_best[2]
        return None

    def _keep_best(self) -> None:
        """Nothing reached the target: prove, stamp and save the best exact scheme under its own rank."""
        scheme, task, found_after = self.best
        info: dict[str, Any] = {"best_above_target": True}
        if found_after is not None:
            info["search_seconds"] = round(time.monotonic() - self.start, 3)  # wall_time: when it was found
        if self.best_lift_point is not None:
            info["lift_point"] = self.best_lift_point
        proven = self._verified(Candidate.of(scheme, info=info), task, max_rank=scheme.rank, wall_time=found_after)
        if proven is None:
            return
        self.result.best_scheme = proven
        if self.store is not None:
            self.result.best_saved = self.store.save(proven)
            self.result.saved.append(self.result.best_saved)
