"""The search front door: one place that owns a search request.

:func:`search` checks the whole request once (problem, method, options, limits, output folder),
applies the naive policy (a rank at or above n·m·p is met by the schoolbook scheme), cuts the
search into independent :class:`~discover.search.contract.SearchTask` objects and hands them to a
scheduler; a :class:`~discover.search.collector.Collector` verifies what comes back and a
:class:`~discover.search.store.SchemeStore` saves it.

Task ``i`` gets the seed ``SeedSequence(seed, spawn_key=(i,))`` (the i-th child of the user's
seed, so results never depend on scheduling) and runs ``batch`` restarts of the method; restart
``i·batch + j`` is member ``j`` of task ``i``. Without ``find_all`` the result comes from the
successful task of lowest index, and inside a task the driver sets ``first_hit``, so a batched
method may return at its first exact member: the outcome depends only on the seed, never on
the number of workers or on the scheduler.

With an output folder the search keeps a state file there (:mod:`.state`), so
``search(..., resume=True)`` continues a search that was stopped (Ctrl-C, crash, SIGKILL)
without redoing finished tasks or saving a scheme twice; a runner walk cut short left its
checkpoint there (:mod:`.checkpoints`), and its task goes on from it instead of from its start.
"""
from __future__ import annotations

import dataclasses
import math
import os
import time
from pathlib import Path
from typing import Any, Callable, Literal, Mapping, Optional, Union

import numpy as np

from ..errors import ClusterError, SearchError
from ..problem import Problem
from ..provenance import certify
from ..scheme import Scheme
from ..flip.checkpoint import checkpoint_seconds
from . import checkpoints
from .collector import Collector, Progress, SearchResult
from .contract import Method, SearchTask, build_options
from .live import CHECKPOINT
from .registry import default_method, get_method
from .interrupt import GracefulStop
from .schedulers import Scheduler, local_scheduler
from .state import SearchState, describe_request
from .store import open_store

#: Seconds a search runs when neither a restart count nor a time limit bounds it.
DEFAULT_TIME_LIMIT = 600.0
#: Most worker processes one machine is asked for.
MAX_WORKERS = max(64, 8 * (os.cpu_count() or 1))


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


def _positive_int(name: str, value: Optional[int], high: Optional[int] = None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise SearchError(f"{name} must be a positive integer, got {value!r}")
    if high is not None and value > high:
        raise SearchError(f"{name} must be at most {high}, got {value}")


def check_request(seed: int, restarts: Optional[int], time_limit: Optional[float], workers: Optional[int],
                  max_found: Optional[int]) -> None:
    """Reject limits no search can run with (one line each)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SearchError(f"seed must be a non-negative integer, got {seed!r}")
    _positive_int("restarts", restarts)
    _positive_int("workers", workers, MAX_WORKERS)
    _positive_int("max_found", max_found)
    if time_limit is not None:
        if isinstance(time_limit, bool) or not isinstance(time_limit, (int, float)) \
                or not math.isfinite(time_limit) or time_limit <= 0:
            raise SearchError(f"time limit must be a positive number of seconds, got {time_limit!r}")


def search(
    problem: Problem,
    method: "str | Method | None" = None,
    options: Any = None,
    *,
    seed: int = 0,
    restarts: Optional[int] = None,
    time_limit: Optional[float] = None,
    workers: Optional[int] = None,
    find_all: bool = False,
    max_found: Optional[int] = None,
    out_dir: "str | os.PathLike[str] | None" = None,
    progress: Optional[Callable[[Progress], None]] = None,
    should_stop: Optional[Callable[[], bool]] = None,
    scheduler: Optional[Scheduler] = None,
    on_found: Optional[Callable[[Scheme, Optional[Path]], None]] = None,
    on_start: Optional[Callable[[str, Optional[float]], None]] = None,
    resume: Union[bool, Literal["if-same"]] = False,
) -> SearchResult:
    """Run a search and return only verified schemes.

    Parameters
    ----------
    problem : Problem
        Format, target rank, ring (and optional start scheme). A scheme of lower rank than
        the target is accepted and reported under its own rank.
    method : str or Method, optional
        A method name (``lm``, ``adam``, ``sgd``, ``flip``) or object; default: ``flip`` for
        formats above 2x2x2 (ring Q excepted), else ``lm``.
    options : None, mapping or the method's options dataclass
        Method options; a mapping is typed (unknown keys and non-finite numbers are errors).
    seed : int
        Root seed (≥ 0); task ``i`` uses :func:`task_seed` (seed, i).
    restarts : int, optional
        Total restarts to run at most (rounded up to whole tasks when a method has no
        ``batch`` option).
    time_limit : float, optional
        Seconds for the whole search. With neither ``restarts`` nor ``time_limit`` the search
        stops after :data:`DEFAULT_TIME_LIMIT` seconds (recorded in the result).
    workers : int, optional
        Worker processes of the default local scheduler (default: all cores); 1 runs inline.
    find_all : bool
        Collect every distinct verified scheme instead of stopping at the first.
    max_found : int, optional
        With ``find_all``: stop after this many distinct schemes.
    out_dir : path, optional
        Folder for verified schemes (checked writable before the search starts).
    progress : callable, optional
        Called with a :class:`Progress` after every task and about twice a second.
    should_stop : callable, optional
        Polled by the driver; returning True ends the search like a time limit.
    scheduler : Scheduler, optional
        Where tasks run (default: a local process pool of ``workers``).
    on_found : callable, optional
        Called with ``(scheme, saved path or None)`` as soon as each result is final.
    on_start : callable, optional
        Called with ``(method name, time limit)`` once the request is checked, before any work.
    resume : bool or "if-same"
        Continue the search whose state is in ``out_dir`` (same problem, method, options,
        seed, restarts and mode, else SearchError): finished tasks are skipped, the schemes
        it saved count as found, and a walk cut short goes on from its checkpoint. Time limits
        apply to this run. ``"if-same"``: resume when the folder holds the state of this same
        request, else start a new search there (no error).

    Returns
    -------
    SearchResult
        ``found`` holds verified schemes only; ``interrupted`` is True after Ctrl-C, and every
        scheme verified by then is in ``found`` and saved.

    Raises
    ------
    SearchError
        For a request no search can run (unknown method or option, bad limits, an output
        folder that cannot be written, a method that cannot handle the problem, a resume
        that does not match the saved state).
    ClusterError
        When the scheduler loses its cluster; its ``result`` holds what was verified (and saved).
    """
    if not isinstance(problem, Problem):
        raise SearchError(f"problem must be a Problem, got {type(problem).__name__}")
    check_request(seed, restarts, time_limit, workers, max_found)
    if resume and out_dir is None:
        raise SearchError("--resume needs the output folder (-o DIR) of the search to continue")
    store = open_store(out_dir)
    start = time.monotonic()
    if problem.naive:
        if on_start is not None:
            on_start("naive", None)
        return _naive_result(problem, seed, store, on_found, start)
    if method is None:
        method = default_method(problem)
    method_obj = get_method(method) if isinstance(method, str) else method
    options = resolve_options(method_obj, options)
    fill_defaults = getattr(method_obj, "fill_defaults", None)
    if fill_defaults is not None:  # defaults that depend on the problem (e.g. lm's batch), fixed before numbering
        options = fill_defaults(problem, options)
    method_obj.check(problem, options)
    checkpoint_seconds()  # a bad $STRASSEN_CHECKPOINT_SECONDS is one line now, not an error in a worker
    if restarts is None and time_limit is None:
        time_limit = DEFAULT_TIME_LIMIT
    workers = workers or os.cpu_count() or 1
    scheduler = scheduler or local_scheduler(workers)
    if on_start is not None:
        on_start(method_obj.name, time_limit)
    batch = int(getattr(options, "batch", 1) or 1)
    n_tasks = None if restarts is None else -(-restarts // batch)
    deadline = None if time_limit is None else start + time_limit
    collector = Collector(problem, method_obj.name, int(seed), batch, find_all, store, start, max_found, on_found)
    collector.result.time_limit = time_limit
    collector.workers = scheduler.workers
    graceful = GracefulStop()
    asked = should_stop or (lambda: False)

    def user_stop() -> bool:
        return graceful.requested or asked()
    state = None
    walks: dict[int, dict] = {}  # checkpoints of the walks the resumed search had cut short
    if store is not None:
        request = describe_request(problem, method_obj.name, options, seed, restarts, find_all, batch)
        state = _open_state(store.folder, request, resume)
        if state.resumed:
            walks = checkpoints.load_all(store.folder)
        else:
            checkpoints.drop_all(store.folder)  # the walks of an earlier, other search in this folder
        collector.restore(state.saved_schemes(), len(state.done), state.restarts_done, state.best_rank,
                          state.best_rank_mod2, state.best_saved_scheme())
        state.record(collector)
    needed = n_tasks
    if not find_all and collector.by_task:  # resumed after a success: only lower tasks can beat it
        needed = min(collector.by_task) if needed is None else min(needed, min(collector.by_task))

    class _Source:
        """The driver's side of the scheduler contract."""

        def __init__(self) -> None:
            self.n_tasks = needed
            self.find_all = find_all
            self.last_report = 0.0
            self.running: dict[int, dict] = {}  # live statistics of running tasks (discover.search.live)
            self.finished: set[int] = set()
            self.last_modulus = 2  # the prime of the last rank mod p shown

        def make_task(self, i: int) -> SearchTask:
            opts = options
            if n_tasks is not None and i == n_tasks - 1 and hasattr(options, "batch"):
                last = restarts - (n_tasks - 1) * batch
                if last != batch:
                    opts = dataclasses.replace(options, batch=last)
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            return SearchTask(method_obj.name, problem, opts, task_seed(seed, i), i, time_limit=remaining,
                              first_hit=not find_all, resume_from=walks.get(i))

        def accept(self, task, result) -> bool:
            self.running.pop(task.task_index, None)
            self.finished.add(task.task_index)
            if task.resume_from is not None and task.resume_from.get("counted"):
                result = dataclasses.replace(result, restarts=0)  # the walk's run before counted it
            success = collector.accept(task, result)
            if state is not None:
                # A task cut short by the time limit or a stop is not finished: a resume reruns it,
                # from where its walk stood when there is a checkpoint.
                cut_short = self.stopping()
                if cut_short and result.checkpoint is not None:
                    checkpoints.save(store.folder, task.task_index, {**result.checkpoint, "counted": True})
                else:
                    checkpoints.drop(store.folder, task.task_index)
                state.record(collector, None if cut_short else task.task_index)
            return success

        def is_done(self, i: int) -> bool:
            return state is not None and i in state.done

        def live(self, index: int, stats: dict) -> None:
            """A running task's statistics (display only; see discover.search.live), or its walk's checkpoint."""
            if index in self.finished:  # a late message from a task already collected
                return
            if CHECKPOINT in stats:
                if store is not None:  # a walk resumed from a counted run stays counted if it is killed now
                    counted = bool((walks.get(index) or {}).get("counted"))
                    checkpoints.save(store.folder, index, {**stats[CHECKPOINT], "counted": counted})
                return
            self.running[index] = stats

        def modulus(self, live: list) -> int:
            """The prime of the ranks mod p shown: the live tasks', else the last one seen (a walk mod 3
            stays mod 3 on the line printed after its task ended)."""
            seen = next((s["modulus"] for s in live if s.get("modulus")), None)
            if seen is not None:
                self.last_modulus = seen
            return self.last_modulus

        def stopping(self) -> bool:
            return (deadline is not None and time.monotonic() >= deadline) or user_stop() or collector.enough()

        def report(self) -> None:
            r = collector.result
            elapsed = time.monotonic() - start
            live = list(self.running.values())
            best = _lowest([r.best_rank] + [s.get("best_rank") for s in live])
            mod2 = _lowest([r.best_rank_mod2] + [s.get("best_rank_mod2") for s in live])
            # The history (for --progress-plot) follows what the progress line shows.
            shown = best if best is not None else mod2 if mod2 is not None else r.best_residual
            if shown != float("inf"):
                r.history.append((round(elapsed, 3), float(shown), collector.hits))
            if progress is not None:
                rates = [s["flips_per_s"] for s in live if s.get("flips_per_s")]
                pools = next((s["pools"] for s in reversed(live) if s.get("pools")), None) or r.pools
                progress(Progress(r.restarts_done, r.tasks_done, r.best_residual, collector.hits, r.rejected,
                                  elapsed, best, problem.rank,
                                  tasks_running=getattr(scheduler, "tasks_running", None),
                                  workers=getattr(scheduler, "workers", None), best_rank_mod2=mod2,
                                  flips_per_s=sum(rates) if rates else None, pools=pools,
                                  modulus=self.modulus(live)))

    lost: Optional[ClusterError] = None
    try:
        with graceful:
            scheduler.run(_Source())
        collector.result.interrupted = graceful.requested
    except KeyboardInterrupt:
        collector.result.interrupted = True
    except ClusterError as e:
        lost = e
    collector.finish()
    if state is not None:
        state.record(collector)
    if lost is not None:
        collector.result.elapsed = time.monotonic() - start
        lost.result = collector.result
        raise lost
    collector.result.elapsed = time.monotonic() - start
    _Source().report()
    return collector.result


def _open_state(folder: Path, request: dict, resume: Union[bool, str]) -> SearchState:
    """The folder's state: resumed (``resume``), new, or with "if-same" resumed only when it matches."""
    if resume == "if-same":
        try:
            return SearchState.open(folder, request, True)
        except SearchError:  # none there, unreadable, or another request: a new search
            return SearchState.open(folder, request, False)
    return SearchState.open(folder, request, bool(resume))


def _lowest(values) -> Optional[int]:
    known = [int(v) for v in values if v is not None]
    return min(known) if known else None


def _naive_result(problem: Problem, seed: int, store, on_found, start: float) -> SearchResult:
    """Rank at or above n·m·p: the schoolbook algorithm already does it."""
    scheme = certify(Scheme.naive(problem.format), {"method": "naive", "problem": problem.to_json()})
    result = SearchResult(problem=problem, method="naive", seed=int(seed), found=[scheme], best_rank=scheme.rank,
                          best_residual=0.0)
    path = store.save(scheme) if store is not None else None
    if path is not None:
        result.saved.append(path)
    if on_found is not None:
        on_found(scheme, path)
    result.elapsed = time.monotonic() - start
    return result


def find(format: Any, rank: Optional[int] = None, method: "str | Method | None" = None, *, ring: str = "ZT",
         start: "Scheme | str | None" = None, bound: int = 2, options: Any = None, seed: int = 0,
         restarts: Optional[int] = None, time_limit: Optional[float] = None, workers: Optional[int] = None,
         find_all: bool = False, max_found: Optional[int] = None, out: "str | os.PathLike[str] | None" = None,
         progress: Optional[Callable[[Progress], None]] = None, **method_options: Any) -> SearchResult:
    """:func:`search` for a format string and a rank (what ``discover.search(...)`` calls).

    Method options are keyword arguments (``discover.search("2x2x2", 7, method="lm", batch=16)``) or
    ``options=``. ``start`` is a scheme or a scheme source (``"catalog:4x4x4"``, a file, ...).

    Examples
    --------
    >>> import discover
    >>> result = discover.search("2x2x3", 11, method="flip", seed=1, workers=1, time_limit=60)
    >>> result.found[0].rank, str(result.found[0].ring)
    (11, 'ZT')
    """
    if isinstance(format, Problem):
        problem = format
    else:
        if rank is None:
            raise SearchError("search needs a rank: discover.search('3x3x3', 23)")
        if isinstance(start, str):
            from ..sources import load_source

            start = load_source(start)
        problem = Problem(format, rank, ring=ring, coefficient_bound=bound, start=start)
    if method_options:
        if options is not None:
            raise SearchError("give method options either as keywords or as options=, not both")
        options = method_options
    return search(problem, method, options, seed=seed, restarts=restarts, time_limit=time_limit, workers=workers,
                  find_all=find_all, max_found=max_found, out_dir=out, progress=progress)
