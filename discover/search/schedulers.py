"""Where search tasks run: inline, in a local process pool, or (later) on a cluster.

A scheduler gets a :class:`TaskSource` from the driver and runs its tasks until the source says
stop. It never verifies or saves anything: it hands each :class:`TaskResult` back through
``accept`` (which the driver's collector answers), so every scheduler keeps the same contract:

* task ``i`` is ``source.make_task(i)``, whatever worker runs it;
* in first-hit mode (``not source.find_all``) no task above the lowest successful index is
  started, running ones above it are told to stop, and every task below it still finishes, so
  the reported scheme depends only on the seed;
* ``source.stopping()`` (time limit, enough found, the caller's stop flag) ends the run;
* a task for which ``source.is_done(i)`` is true (finished by an earlier run that is being
  resumed) is skipped (:func:`skip_done` does it);
* Ctrl-C (``KeyboardInterrupt``) propagates after the workers were told to stop.

A scheduler may keep ``tasks_running`` and ``workers`` current for the progress display.
To add a scheduler (:mod:`discover.search.dask_scheduler` is one), implement
:class:`Scheduler` and pass it to :func:`discover.search.search` as ``scheduler=``.
"""
from __future__ import annotations

import concurrent.futures as cf
import ctypes
import multiprocessing as mp
import os
import signal
import sys
import threading
from typing import Any, Callable, Optional, Protocol

from .live import install as install_live_sink
from .contract import SearchTask, TaskResult
from .registry import get_method


class TaskSource(Protocol):
    """What the driver hands a scheduler."""

    n_tasks: Optional[int]  # None: unbounded (a time limit or a stop flag ends the run)
    find_all: bool

    def make_task(self, index: int) -> SearchTask: ...

    def accept(self, task: SearchTask, result: TaskResult) -> bool:
        """Collect a task's result; True when it produced a verified scheme."""

    def stopping(self) -> bool: ...

    def report(self) -> None: ...

    def is_done(self, index: int) -> bool:
        """True for a task an earlier run finished (resume): it is not run again."""


def skip_done(source: TaskSource, index: int) -> int:
    """The first task index at or after ``index`` that still has to run."""
    is_done = getattr(source, "is_done", None)
    while is_done is not None and (source.n_tasks is None or index < source.n_tasks) and is_done(index):
        index += 1
    return index


class Scheduler(Protocol):
    """Runs the tasks of a :class:`TaskSource`."""

    name: str
    workers: int

    def run(self, source: TaskSource) -> None: ...


def execute(task: SearchTask, should_stop: Callable[[], bool]) -> TaskResult:
    """Run one task with its method (what every worker does)."""
    return get_method(task.method).run_task(task, should_stop)


class InlineScheduler:
    """Runs tasks one after the other in this process (``workers=1``)."""

    name = "inline"
    workers = 1
    tasks_running = 0

    def run(self, source: TaskSource) -> None:
        previous = install_live_sink(_inline_sink(source))
        try:
            i = skip_done(source, 0)
            while source.n_tasks is None or i < source.n_tasks:
                if source.stopping():
                    return
                task = source.make_task(i)
                self.tasks_running = 1
                try:
                    result = execute(task, source.stopping)
                finally:
                    self.tasks_running = 0
                success = source.accept(task, result)
                source.report()
                if success and not source.find_all:
                    return
                i = skip_done(source, i + 1)
        finally:
            install_live_sink(previous)


def _inline_sink(source: TaskSource) -> Optional[Callable[[int, dict], None]]:
    """Live statistics straight to the driver (when its source takes them), then redraw."""
    note = getattr(source, "live", None)
    if note is None:
        return None

    def sink(index: int, stats: dict) -> None:
        note(index, stats)
        source.report()
    return sink


# --------------------------------------------------------------------------- process pool, worker side
_STOP_ALL: Any = None  # multiprocessing.Event, handed to each worker when it starts
_STOP_ABOVE: Any = None  # multiprocessing.Value: tasks with a larger index should stop
_LIVE: Any = None  # multiprocessing queue of (task index, statistics) for the progress display


def _die_with_parent() -> None:
    """End this worker when the process that asked for it dies (even by SIGKILL).

    Linux sends SIGTERM when the parent dies (PR_SET_PDEATHSIG). A worker from the fork server
    has the server as its parent, so a daemon thread also waits on the requester's sentinel.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    requester = mp.parent_process()
    if requester is not None and requester.pid != os.getppid():
        def watch() -> None:
            requester.join()
            os.kill(os.getpid(), signal.SIGTERM)
        threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


def _init_worker(stop_all: Any, stop_above: Any, live_queue: Any = None) -> None:
    global _STOP_ALL, _STOP_ABOVE, _LIVE
    _STOP_ALL, _STOP_ABOVE, _LIVE = stop_all, stop_above, live_queue
    if live_queue is not None:
        install_live_sink(_queue_sink)
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and tells us to stop
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _queue_sink(index: int, stats: dict) -> None:
    try:
        _LIVE.put((index, stats))  # small and at most a few a second: the parent drains every 0.5 s
    except (OSError, ValueError):  # a closed pipe only costs a display update
        pass


def _drain(queue: Any, source: TaskSource) -> None:
    """Hand the workers' live statistics to the driver (latest per task wins)."""
    note = getattr(source, "live", None)
    for _ in range(10_000):  # bounded: workers may keep writing while we read
        try:
            if queue.empty():
                return
            index, stats = queue.get()
        except (OSError, EOFError, ValueError):  # a closed pipe: nothing more to show
            return
        if note is not None:
            note(index, stats)


def _run_in_worker(task: SearchTask) -> TaskResult:
    def should_stop() -> bool:
        return _STOP_ALL.is_set() or task.task_index > _STOP_ABOVE.value

    return execute(task, should_stop)


def _pool_context() -> Any:
    """How to start workers: from a fork server, never by forking the caller.

    A fork copies the caller's threads' locks but not the threads (torch's OpenMP pool, numba's,
    OpenBLAS's, a notebook's or a test runner's): a worker that touches a lock held at that
    instant waits forever (it happened in CI). The fork server is a fresh one-thread interpreter
    that has imported the search code once and forks the workers; spawn where it does not exist.
    """
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload([__name__])
        return ctx
    return mp.get_context("spawn")


class ProcessPoolScheduler:
    """Runs tasks in ``workers`` processes of this machine (the default)."""

    name = "processes"

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.tasks_running = 0

    def run(self, source: TaskSource) -> None:
        ctx = _pool_context()
        stop_all = ctx.Event()
        stop_above = ctx.Value("q", 2**62)
        live_queue = ctx.SimpleQueue() if hasattr(source, "live") else None
        pool = cf.ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx, initializer=_init_worker,
                                      initargs=(stop_all, stop_above, live_queue))
        running: dict[cf.Future, SearchTask] = {}
        next_index = skip_done(source, 0)
        first_success: Optional[int] = None
        try:
            while True:
                stopping = source.stopping()
                if stopping:
                    stop_all.set()
                while not stopping and len(running) < self.workers \
                        and (source.n_tasks is None or next_index < source.n_tasks) \
                        and (first_success is None or next_index < first_success):
                    task = source.make_task(next_index)
                    running[pool.submit(_run_in_worker, task)] = task
                    next_index = skip_done(source, next_index + 1)
                self.tasks_running = len(running)
                if not running:
                    return
                done, _ = cf.wait(list(running), timeout=0.5, return_when=cf.FIRST_COMPLETED)
                if live_queue is not None:
                    _drain(live_queue, source)
                for fut in sorted(done, key=lambda f: running[f].task_index):
                    task = running.pop(fut)
                    success = source.accept(task, fut.result())
                    if success and not source.find_all and (first_success is None or task.task_index < first_success):
                        first_success = task.task_index
                        stop_above.value = first_success
                self.tasks_running = len(running)
                source.report()
        except BaseException:
            stop_all.set()
            for fut in running:
                fut.cancel()
            raise
        finally:
            stop_all.set()
            if live_queue is not None:
                _drain(live_queue, source)  # unblock a worker writing its last update
            pool.shutdown(wait=True, cancel_futures=True)


def local_scheduler(workers: int) -> Scheduler:
    """Inline for one worker, else a process pool."""
    return InlineScheduler() if workers == 1 else ProcessPoolScheduler(workers)
