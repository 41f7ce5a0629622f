"""Run search tasks on a Dask cluster (the optional ``distributed`` extra).

:class:`DaskScheduler` keeps the contract of :mod:`discover.search.schedulers`: task ``i`` is
``source.make_task(i)`` whichever worker runs it; in first-hit mode no task above the lowest
success is submitted and running ones above it are told to stop (through a Dask ``Variable``
their ``should_stop`` polls), so a seed gives the same scheme on a cluster as on one machine.
Workers only run the method and return its proposals; the client hands every result to
``source.accept``, which verifies (exact check, sympy proof) before anything is saved. What a
running task reports (:mod:`.live`: progress numbers, and a long walk's checkpoints) goes
through a Dask ``Queue`` of the search, pickled, which the client drains while it waits.

Faults: a worker that dies loses its running task, which Dask reschedules on another worker
(``retries`` covers a task that raised on a dying machine). When the scheduler itself is lost
the run ends with :class:`~discover.errors.ClusterError` (what was verified is already saved).

``distributed`` is imported only when a cluster is opened, so the rest of the package never
needs it.
"""
from __future__ import annotations

import importlib.util
import logging
import pickle
import threading
import time
import uuid
from concurrent.futures import CancelledError
from typing import Any, Callable, Optional

from ..errors import ClusterError, MissingExtraError, SearchError
from .contract import SearchTask, TaskResult
from .live import install as install_live_sink
from .schedulers import TaskSource, execute, skip_done

#: How to get the extra (printed when it is missing).
INSTALL_HINT = "pip install 'strassen-discover[distributed]'"
#: Seconds between two looks of a worker at the stop signal (a look is a round trip to the scheduler).
STOP_POLL = 0.5
_NO_LIMIT = 2**62


def distributed_available() -> bool:
    """Whether Dask's ``distributed`` can be imported (without importing it)."""
    return importlib.util.find_spec("distributed") is not None


def require_distributed() -> None:
    """Raise :class:`MissingExtraError` (one line saying how to install it) without ``distributed``."""
    if not distributed_available():
        raise MissingExtraError(f"running on a Dask cluster needs the distributed extra: {INSTALL_HINT}")


def parse_cluster(spec: str, max_workers: int = 1024) -> int:
    """``local:N`` -> N (worker processes of a LocalCluster on this machine)."""
    kind, _, count = spec.partition(":")
    if kind != "local" or not count.isdigit() or not 1 <= int(count) <= max_workers:
        raise SearchError(f"--cluster {spec!r}: expected local:N with 1 <= N <= {max_workers} "
                          f"(use --scheduler tcp://HOST:PORT for a running cluster)")
    return int(count)


def _quiet_cluster_logs() -> None:
    """Silence the cluster's own log lines: they would bury the progress line, and a lost
    scheduler reaches the user as one error line from this module instead."""
    for name in list(logging.root.manager.loggerDict):
        if name.split(".")[0] in ("distributed", "tornado", "bokeh"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
    for name in ("distributed", "tornado", "bokeh"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def dask_setup(worker: Any = None) -> None:
    """Preload hook of the LocalCluster's workers: Ctrl-C reaches the whole process group, but
    only the client handles it (it tells the tasks to stop), so the workers ignore it."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


_LIVE = threading.local()  # per worker thread: the live queue of the task it runs (tasks of several searches may share a process)


def _live_sink(index: int, stats: dict) -> None:
    """The workers' live channel (:mod:`.live`): into the running task's Dask queue, pickled (numpy
    arrays in checkpoints are not msgpack data); the client drains it while it waits."""
    queue = getattr(_LIVE, "queue", None)
    if queue is not None:
        queue.put(pickle.dumps((index, stats), protocol=pickle.HIGHEST_PROTOCOL))


def _run_on_worker(task: SearchTask, stop_name: str, live_name: Optional[str] = None) -> TaskResult:
    """What a Dask worker runs: the method, with a ``should_stop`` that watches the client's signal,
    and (``live_name``) the live channel into the client's queue of that name."""
    from distributed import Queue, Variable

    signal = Variable(stop_name)
    last = [0.0, False]  # time of the last look, stop

    def should_stop() -> bool:
        now = time.monotonic()
        if not last[1] and now - last[0] >= STOP_POLL:
            last[0] = now
            try:
                above = signal.get(timeout=10)
            except Exception:  # the scheduler is gone: nobody will take the result
                above = -1
            last[1] = task.task_index > above
        return last[1]

    if live_name is None:
        return execute(task, should_stop)
    install_live_sink(_live_sink)  # the same function for every task of the process: it looks up the thread's queue
    try:
        queue = Queue(live_name)
    except Exception:  # no queue (the scheduler is busy or going): the task runs, only unseen while it runs
        queue = None
    _LIVE.queue = queue
    try:
        return execute(task, should_stop)
    finally:
        _LIVE.queue = None
        if queue is not None:
            try:
                queue.close()
            except Exception:  # the scheduler is gone: nothing to release
                pass


def _drain(live: Any, source: TaskSource) -> None:
    """Hand what the running tasks sent since the last look to the driver (statistics, checkpoints)."""
    try:
        items = live.get(batch=True)
    except Exception:  # the queue or the scheduler is gone: only a display update is lost
        return
    for item in items:
        index, stats = pickle.loads(item)  # from this search's own tasks, as their results are
        source.live(index, stats)


class DaskScheduler:
    """Runs the tasks of a search on a Dask cluster.

    Parameters
    ----------
    address : str, optional
        ``tcp://HOST:PORT`` of a running Dask scheduler.
    local_workers : int, optional
        Start a ``LocalCluster`` of this many worker processes (one thread each) instead.
    on_connect : callable, optional
        Called once with this scheduler when the cluster is up (``address``, ``dashboard``,
        ``workers`` are then set), e.g. to print the dashboard address.
    retries : int
        Times Dask reruns a task that raised (a worker lost mid-task is rescheduled anyway).

    Use it as a context manager to run several searches on one cluster; ``run`` alone opens
    and closes the cluster itself.
    """

    name = "dask"

    def __init__(self, address: Optional[str] = None, local_workers: Optional[int] = None, *,
                 on_connect: Optional[Callable[["DaskScheduler"], None]] = None, retries: int = 3) -> None:
        require_distributed()
        if (address is None) == (local_workers is None):
            raise SearchError("give a scheduler address or a local worker count, not both")
        self.address = address
        self.local_workers = local_workers
        self.on_connect = on_connect
        self.retries = retries
        self.dashboard: Optional[str] = None
        self.workers = local_workers or 0
        self.tasks_running = 0
        self._cluster: Any = None
        self._client: Any = None
        self._announced = False

    def describe(self) -> str:
        """``local:2`` or the scheduler address."""
        return f"local:{self.local_workers}" if self.local_workers else str(self.address)

    # ------------------------------------------------------------------ cluster lifecycle
    def open(self) -> "DaskScheduler":
        """Start (or join) the cluster; a scheduler that cannot be reached is a SearchError."""
        if self._client is not None:
            return self
        import distributed

        _quiet_cluster_logs()
        try:
            if self.local_workers:
                self._cluster = distributed.LocalCluster(
                    n_workers=self.local_workers, threads_per_worker=1, processes=True,
                    dashboard_address=":0", silence_logs=logging.CRITICAL, preload=[__name__])
                self.address = self._cluster.scheduler_address
                self._client = distributed.Client(self._cluster)
            else:
                self._client = distributed.Client(self.address, timeout="20s")
        except (OSError, TimeoutError) as e:
            self.close()
            raise SearchError(f"cannot reach the Dask scheduler at {self.address}: {e}") from e
        try:
            has_dashboard = "dashboard" in self._client.scheduler_info().get("services", {})
            self.dashboard = self._client.dashboard_link if has_dashboard else None
        except Exception:  # no dashboard (bokeh missing, or switched off): nothing to print
            self.dashboard = None
        self._count_workers()
        if self.on_connect is not None and not self._announced:
            self._announced = True
            self.on_connect(self)
        return self

    def close(self) -> None:
        """Disconnect, and stop the cluster when this scheduler started it."""
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        for thing in (client, cluster):
            if thing is not None:
                try:
                    thing.close()
                except Exception:  # already gone (lost scheduler, Ctrl-C): nothing left to close
                    pass

    def __enter__(self) -> "DaskScheduler":
        return self.open()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _count_workers(self) -> int:
        """Threads on the cluster now (the number of tasks worth running at once)."""
        threads = self._client.nthreads()
        self.workers = len(threads)
        return sum(threads.values())

    def _connected(self) -> bool:
        return self._client is not None and self._client.status == "running"

    # ------------------------------------------------------------------ the scheduler contract
    def run(self, source: TaskSource) -> None:
        """Run the tasks of ``source`` on the cluster (see the module docstring)."""
        owned = self._client is None
        self.open()
        try:
            self._run(source)
        except ClusterError:
            raise
        except (CancelledError, OSError, TimeoutError) as e:
            # Every call to a lost scheduler fails one of these ways (futures cancelled,
            # connection closed, timeout); anything else is a real error and propagates.
            if self._connected() and not isinstance(e, CancelledError):
                raise
            raise ClusterError(f"lost the Dask scheduler at {self.address}") from e
        finally:
            if owned:
                self.close()

    def _run(self, source: TaskSource) -> None:
        import distributed

        client = self._client
        token = uuid.uuid4().hex[:12]
        stop = distributed.Variable(f"strassen-stop-{token}", client=client)
        stop.set(_NO_LIMIT)
        # Live statistics and walk checkpoints from the running tasks (when the source takes them).
        live = distributed.Queue(f"strassen-live-{token}", client=client) if hasattr(source, "live") else None
        running: dict[Any, SearchTask] = {}
        next_index = skip_done(source, 0)
        first_success: Optional[int] = None
        try:
            while True:
                if not self._connected():
                    raise ClusterError(f"lost the Dask scheduler at {self.address}")
                stopping = source.stopping()
                if stopping:
                    stop.set(-1)
                slots = max(1, self._count_workers())
                while not stopping and len(running) < slots \
                        and (source.n_tasks is None or next_index < source.n_tasks) \
                        and (first_success is None or next_index < first_success):
                    task = source.make_task(next_index)
                    future = client.submit(_run_on_worker, task, stop.name, None if live is None else live.name,
                                           key=f"strassen-task-{token}-{next_index}", pure=False, retries=self.retries)
                    running[future] = task
                    next_index = skip_done(source, next_index + 1)
                self.tasks_running = len(running)
                if not running:
                    return
                try:
                    done = distributed.wait(list(running), timeout=0.5, return_when="FIRST_COMPLETED").done
                except TimeoutError:
                    done = set()
                if live is not None:
                    _drain(live, source)  # before the results: a task's last checkpoint comes with its result
                for future in sorted(done, key=lambda f: running[f].task_index):
                    task = running.pop(future)
                    result = self._result(future, task)
                    success = source.accept(task, result)
                    if success and not source.find_all and (first_success is None or task.task_index < first_success):
                        first_success = task.task_index
                        stop.set(first_success)
                self.tasks_running = len(running)
                source.report()
        except BaseException:
            if self._connected():
                try:
                    stop.set(-1)
                    client.cancel(list(running))
                except Exception:  # the scheduler went away meanwhile
                    pass
            raise
        finally:
            self.tasks_running = 0
            if self._connected():
                try:
                    stop.delete()
                    if live is not None:
                        live.close()
                except Exception:
                    pass

    def _result(self, future: Any, task: SearchTask) -> TaskResult:
        """The task's result; a cancelled future means the scheduler was lost."""
        if future.status == "cancelled" or not self._connected():
            raise ClusterError(f"lost the Dask scheduler at {self.address}")
        try:
            return future.result()
        except Exception as e:
            from distributed import KilledWorker

            if isinstance(e, KilledWorker):
                raise ClusterError(f"task {task.task_index} killed every worker that ran it: {e}") from e
            raise
