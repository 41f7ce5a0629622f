"""The search driver shared by every method: restarts, workers, verification, saving.

A search is cut into independent :class:`~discover.search.base.SearchTask` objects. Task ``i``
gets the seed ``SeedSequence(seed, spawn_key=(i,))`` (the i-th child of the user's seed, so
results never depend on scheduling) and runs ``batch`` restarts of the method; restart
``i·batch + j`` is member ``j`` of task ``i``. Tasks run inline (one worker) or in a process
pool; because a task is plain picklable data, a distributed engine can run them the same way.

Every candidate a method proposes is checked exactly (:func:`discover.verify.verify_exact`),
then proven with sympy, and only then reported or written. Without ``find_all`` the result
comes from the successful task of lowest index: once task ``s`` succeeds, tasks above ``s`` are
told to stop, and the driver still waits for every task below ``s``. Inside a task the driver
sets ``first_hit``, so a batched method may return at its first exact member (the first to
become exact, lowest index among simultaneous ones): the outcome depends only on the seed,
never on the number of workers or on scheduling.
"""
from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import multiprocessing as mp
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

import numpy as np

from .. import __version__
from ..jsonio import default_file_name, load_scheme, now_iso, save_scheme, verification_record
from ..errors import DiscoverError
from ..scheme import Scheme
from ..verify import verify_exact, verify_sympy
from .base import Candidate, Method, Problem, SearchError, SearchTask, TaskResult, build_options, get_method
from .canonical import canonical_key


@dataclass
class Progress:
    """A snapshot for the progress display."""

    restarts_done: int
    tasks_done: int
    best_residual: float
    hits: int
    rejected: int
    elapsed: float


@dataclass
class SearchResult:
    """Outcome of :func:`search`. Every scheme in ``found`` is verified (exact and sympy).

    Attributes
    ----------
    found : list of Scheme
        Verified schemes with ``provenance`` and ``verification`` metadata, lowest restart first.
    restarts_done : int
        Restarts finished by the tasks that reported back.
    best_residual : float
        Smallest squared residual of a rounded candidate seen (0 once something is exact).
    elapsed : float
        Wall time in seconds.
    interrupted : bool
        True when Ctrl-C stopped the search.
    rejected : int
        Candidates that failed verification (never reported or saved).
    saved : list of Path
        Files written under ``out_dir``.
    """

    found: list[Scheme] = field(default_factory=list)
    restarts_done: int = 0
    best_residual: float = float("inf")
    elapsed: float = 0.0
    interrupted: bool = False
    rejected: int = 0
    saved: list[Path] = field(default_factory=list)
    tasks_done: int = 0
    first_found_seconds: Optional[float] = None


def task_seed(seed: int, index: int) -> np.random.SeedSequence:
    """The seed of task ``index``: the ``index``-th child of ``SeedSequence(seed)``."""
    return np.random.SeedSequence(seed, spawn_key=(index,))


def resolve_options(method: Method, options: Any) -> Any:
    """``None`` → defaults, a mapping → typed options (unknown keys are errors), else as given."""
    if options is None:
        return method.options_type()
    if isinstance(options, Mapping):
        return build_options(method.options_type, options)
    if not isinstance(options, method.options_type):
        raise SearchError(f"options for method {method.name!r} must be {method.options_type.__name__}")
    return options


def check_problem(problem: Problem) -> None:
    """Reject impossible or malformed problems with a clear message."""
    fmt = problem.format
    if problem.rank < 1:
        raise SearchError(f"rank must be a positive integer, got {problem.rank}")
    if problem.rank < fmt.flattening_bound:
        raise SearchError(
            f"rank {problem.rank} is impossible for {fmt}: every scheme needs at least "
            f"max(nm, mp, np) = {fmt.flattening_bound} products (flattening bound)"
        )
    if problem.ring not in ("ZT", "Z", "Q", "Z2"):
        raise SearchError(f"unknown ring {problem.ring!r}; choose one of ZT, Z, Q, Z2")
    if problem.start is not None and problem.start.format != fmt:
        raise SearchError(f"start scheme is for {problem.start.format}, not {fmt}")


# --------------------------------------------------------------------------- worker side
_STOP_ALL: Any = None  # multiprocessing.Event, inherited by forked workers
_STOP_ABOVE: Any = None  # multiprocessing.Value: tasks with a larger index should stop


def _init_worker(stop_all: Any, stop_above: Any) -> None:
    global _STOP_ALL, _STOP_ABOVE
    _STOP_ALL, _STOP_ABOVE = stop_all, stop_above
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and tells us to stop


def _run_in_worker(task: SearchTask) -> TaskResult:
    def should_stop() -> bool:
        return _STOP_ALL.is_set() or task.task_index > _STOP_ABOVE.value

    return get_method(task.method).run_task(task, should_stop)


# --------------------------------------------------------------------------- driver side
class _Collector:
    """Verifies candidates, keeps the distinct verified schemes and saves them."""

    def __init__(self, problem: Problem, method: Method, options: Any, seed: int, batch: int,
                 find_all: bool, out_dir: Optional[Path], start: float, max_found: Optional[int] = None) -> None:
        self.problem, self.method, self.options, self.seed, self.batch = problem, method, options, seed, batch
        self.find_all, self.out_dir, self.start, self.max_found = find_all, out_dir, start, max_found
        self.result = SearchResult()
        self.by_task: dict[int, Scheme] = {}  # lowest verified restart of each task (first-hit mode)
        self.keys: set = set()

    def add(self, res: TaskResult, task: SearchTask) -> bool:
        """Record one task's result; return True when it produced a verified scheme."""
        r = self.result
        r.tasks_done += 1
        r.restarts_done += res.restarts
        r.best_residual = min(r.best_residual, res.best_residual)
        success = False
        for cand in sorted(res.candidates, key=lambda c: c.sub_index):
            if self.find_all and self.max_found is not None and len(r.found) >= self.max_found:
                break  # a batch may hold more hits than were asked for
            scheme = self._verified(cand, task)
            if scheme is None:
                continue
            key = canonical_key(scheme)
            if key in self.keys:
                success = True
                continue
            self.keys.add(key)
            success = True
            r.best_residual = 0.0
            if r.first_found_seconds is None:
                r.first_found_seconds = time.monotonic() - self.start
            if self.find_all:
                r.found.append(scheme)
                self._save(scheme, unique=True)
            else:
                self.by_task[task.task_index] = scheme
                break  # the lowest restart of this task is the one that counts
        return success

    def _verified(self, cand: Candidate, task: SearchTask) -> Optional[Scheme]:
        try:
            scheme = Scheme.from_arrays(cand.U, cand.V, cand.W, self.problem.format, mod2=cand.mod2)
        except DiscoverError:
            self.result.rejected += 1
            return None
        if scheme.rank != self.problem.rank or not verify_exact(scheme).valid:
            self.result.rejected += 1
            return None
        proof = verify_sympy(scheme)
        if not proof.valid:
            self.result.rejected += 1
            return None
        restart = task.task_index * self.batch + cand.sub_index
        provenance = {
            "method": self.method.name,
            "seed": self.seed,
            "restart": restart,
            "task_index": task.task_index,
            "sub_index": cand.sub_index,
            "batch": self.batch,
            "options": dataclasses.asdict(task.options) if dataclasses.is_dataclass(task.options) else repr(task.options),
            "problem": {"format": str(self.problem.format), "rank": self.problem.rank,
                        "ring": self.problem.ring, "coefficient_bound": self.problem.coefficient_bound},
            "wall_time": round(time.monotonic() - self.start, 3),
            "date": now_iso(),
            "tool": "strassen-discover",
            "version": __version__,
            "command": _command(),
        }
        if cand.info:
            provenance["info"] = cand.info
        return scheme.with_meta(provenance=provenance, verification=verification_record(proof))

    def finish(self) -> None:
        """First-hit mode: keep (and save) only the lowest-index success."""
        if not self.find_all and self.by_task:
            scheme = self.by_task[min(self.by_task)]
            self.result.found = [scheme]
            self._save(scheme, unique=False)

    def _save(self, scheme: Scheme, unique: bool) -> None:
        if self.out_dir is None:
            return
        path = self.out_dir / default_file_name(scheme)
        n = 1
        while path.exists() and not _same_scheme_file(path, scheme):
            n += 1
            path = self.out_dir / default_file_name(scheme, suffix=str(n))
        save_scheme(scheme, path)
        self.result.saved.append(path)


def _same_scheme_file(path: Path, scheme: Scheme) -> bool:
    """True when ``path`` already holds the same scheme (then it is simply rewritten)."""
    try:
        return canonical_key(load_scheme(path)) == canonical_key(scheme)
    except DiscoverError:
        return False


def _command() -> str:
    from ..cli.common import command_line

    return command_line()


def search(
    problem: Problem,
    method: "str | Method",
    options: Any = None,
    seed: int = 0,
    restarts: Optional[int] = None,
    time_limit: Optional[float] = None,
    workers: Optional[int] = None,
    find_all: bool = False,
    out_dir: "str | Path | None" = None,
    progress: Optional[Callable[[Progress], None]] = None,
    should_stop: Optional[Callable[[], bool]] = None,
    max_found: Optional[int] = None,
) -> SearchResult:
    """Run a search and return only verified schemes.

    Parameters
    ----------
    problem : Problem
        Format, rank, ring (and optional start scheme).
    method : str or Method
        A registered method name (``lm``, ``adam``, ``sgd``, ``flip``, ...) or a method object.
    options : None, mapping or the method's options dataclass
        Method options; a mapping is typed with :func:`~discover.search.base.build_options`.
    seed : int
        Root seed; task ``i`` uses :func:`task_seed` (seed, i).
    restarts : int, optional
        Total restarts to run at most (rounded up to whole tasks only when a method has no
        ``batch`` option).
    time_limit : float, optional
        Seconds for the whole search. At least one of ``restarts`` and ``time_limit`` bounds
        the search; with neither it runs until something is found (or ``should_stop``).
    workers : int, optional
        Worker processes (default: all cores); 1 runs tasks inline.
    find_all : bool
        Collect every distinct verified scheme instead of stopping at the first.
    out_dir : path, optional
        Where verified schemes are written (atomically, as ``2x2x2_r7_ZT.json``).
    progress : callable, optional
        Called with a :class:`Progress` after every task and about once a second.
    should_stop : callable, optional
        Polled by the driver; returning True ends the search like a time limit.
    max_found : int, optional
        With ``find_all``: stop after this many distinct schemes.
    """
    if isinstance(method, str):
        method = get_method(method)
    options = resolve_options(method, options)
    check_problem(problem)
    method.check(problem, options)
    if restarts is not None and restarts < 1:
        raise SearchError(f"--restarts must be at least 1, got {restarts}")
    if time_limit is not None and time_limit <= 0:
        raise SearchError(f"--time-limit must be positive, got {time_limit}")
    if workers is not None and workers < 1:
        raise SearchError(f"--workers must be at least 1, got {workers}")
    workers = workers or os.cpu_count() or 1
    out = Path(out_dir) if out_dir is not None else None
    batch = int(getattr(options, "batch", 1) or 1)
    n_tasks = None if restarts is None else -(-restarts // batch)
    start = time.monotonic()
    deadline = None if time_limit is None else start + time_limit
    collector = _Collector(problem, method, options, seed, batch, find_all, out, start, max_found)
    user_stop = should_stop or (lambda: False)

    def make_task(i: int) -> SearchTask:
        opts = options
        if n_tasks is not None and i == n_tasks - 1 and hasattr(options, "batch"):
            last = restarts - (n_tasks - 1) * batch
            if last != batch:
                opts = dataclasses.replace(options, batch=last)
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        return SearchTask(method.name, problem, opts, task_seed(seed, i), i, time_limit=remaining, first_hit=not find_all)

    def report() -> None:
        if progress is not None:
            r = collector.result
            hits = len(r.found) if find_all else len(collector.by_task)
            progress(Progress(r.restarts_done, r.tasks_done, r.best_residual, hits, r.rejected, time.monotonic() - start))

    def enough() -> bool:
        if find_all:
            return max_found is not None and len(collector.result.found) >= max_found
        return False

    def out_of_time() -> bool:
        return (deadline is not None and time.monotonic() >= deadline) or user_stop()

    try:
        if workers == 1:
            _run_inline(method, make_task, n_tasks, collector, enough, out_of_time, report, find_all)
        else:
            _run_pool(method, make_task, n_tasks, collector, enough, out_of_time, report, find_all, workers)
    except KeyboardInterrupt:
        collector.result.interrupted = True
    collector.finish()
    collector.result.elapsed = time.monotonic() - start
    report()
    return collector.result


def _run_inline(method, make_task, n_tasks, collector, enough, out_of_time, report, find_all) -> None:
    i = 0
    while n_tasks is None or i < n_tasks:
        if out_of_time() or enough():
            return
        task = make_task(i)
        success = collector.add(method.run_task(task, out_of_time), task)
        report()
        if success and not find_all:
            return
        i += 1


def _run_pool(method, make_task, n_tasks, collector, enough, out_of_time, report, find_all, workers) -> None:
    ctx = mp.get_context("fork")
    stop_all = ctx.Event()
    stop_above = ctx.Value("q", 2**62)
    pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                                  initargs=(stop_all, stop_above))
    running: dict[cf.Future, SearchTask] = {}
    next_index = 0
    first_success: Optional[int] = None
    try:
        while True:
            stopping = out_of_time() or enough()
            if stopping:
                stop_all.set()
            while not stopping and len(running) < workers and (n_tasks is None or next_index < n_tasks) \
                    and (first_success is None or next_index < first_success):
                task = make_task(next_index)
                running[pool.submit(_run_in_worker, task)] = task
                next_index += 1
            if not running:
                return
            done, _ = cf.wait(list(running), timeout=0.5, return_when=cf.FIRST_COMPLETED)
            for fut in sorted(done, key=lambda f: running[f].task_index):
                task = running.pop(fut)
                success = collector.add(fut.result(), task)
                if success and not find_all and (first_success is None or task.task_index < first_success):
                    first_success = task.task_index
                    stop_above.value = first_success
            report()
    except BaseException:
        stop_all.set()
        for fut in running:
            fut.cancel()
        raise
    finally:
        stop_all.set()
        pool.shutdown(wait=True, cancel_futures=True)


def default_method(problem: Problem) -> str:
    """The method ``strassen search`` uses when ``--method`` is not given.

    ``lm`` (batched Levenberg–Marquardt) for 2x2x2 and for ``--ring Q`` (halves), and
    whenever no ``flip`` method is registered; ``flip`` (flip-graph walks) for every larger
    format, where ``strassen bench search`` shows it reaching the target ranks far sooner
    (2x2x3 r11: 0.05 s median against 1.5 s for ``lm``).
    """
    from .base import method_names

    if "flip" in method_names() and problem.format.naive_rank > 8 and problem.ring != "Q":
        return "flip"
    return "lm"
