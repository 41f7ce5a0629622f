"""The StrassenNets experiment shared by the demos: a full-precision teacher, then SPN students.

For each seed a full-precision model is trained; each StrassenNets version (budget factor f)
is trained through the three phases FULL → TERNARY → FROZEN with knowledge distillation from
it, all by the one loop :func:`discover.nn.distill.train`. A :class:`Task` says what differs
between demos (model, data, score, which operations count); :func:`format_table` prints the
score as mean ± sd over seeds with the operations per input and the cut in multiplications.
"""
from __future__ import annotations

import dataclasses
import pickle
import statistics
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

import torch
from torch import nn

from .distill import TrainConfig, train
from .spn_layers import Phase, set_phase

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Schedule:
    """Epochs per phase; the baseline trains for ``baseline`` epochs."""

    baseline: int = 30
    full: int = 12
    ternary: int = 20
    frozen: int = 6

    @classmethod
    def quick(cls) -> "Schedule":
        return cls(baseline=3, full=1, ternary=2, frozen=1)


@dataclass(frozen=True)
class Metric:
    """How a task's score is named and printed."""

    name: str
    """In progress lines: ``accuracy``, ``bpc``."""
    column: str
    """Table header of the score, e.g. ``test acc %``."""
    diff_column: str
    """Table header of the difference to the baseline."""
    scale: float = 1.0
    """Printed value = scale × score (100 for percentages)."""
    decimals: int = 2


@dataclass(frozen=True)
class Task:
    """One demo: data, models, score and operation count.

    ``make_model(None)`` is the full-precision baseline, ``make_model(f)`` its StrassenNets
    version with budget factor f. ``ops(model)`` gives the multiplications and additions per
    ``unit`` (image, character) of the layers the demo compares.
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    make_model: Callable[[Optional[float]], nn.Module]
    score: Callable[[nn.Module], float]
    ops: Callable[[nn.Module], tuple[int, int]]
    metric: Metric
    baseline_name: str
    unit: str
    note: str
    config: TrainConfig = TrainConfig()
    """Batch size, clipping and distillation settings; epochs and rates come per phase."""
    baseline_lr: float = 1e-2
    phase_lrs: tuple[float, float, float] = (1e-2, 5e-3, 2e-3)


@dataclass
class Row:
    """One line of the demo table (over several seeds)."""

    name: str
    scores: list[float] = field(default_factory=list)
    mults: int = 0
    adds: int = 0

    @property
    def accuracies(self) -> list[float]:
        """The scores under the image demo's name for them."""
        return self.scores


def train_baseline(task: Task, schedule: Schedule, seed: int, progress: Progress) -> nn.Module:
    """The full-precision teacher."""
    torch.manual_seed(seed)
    model = task.make_model(None)
    config = dataclasses.replace(task.config, epochs=schedule.baseline, lr=task.baseline_lr)
    train(model, task.x_train, task.y_train, config, seed=seed)
    progress(f"seed {seed}: baseline {task.metric.name} {task.score(model):.4f}")
    return model


def train_spn(task: Task, teacher: nn.Module, factor: float, schedule: Schedule, seed: int, progress: Progress) -> nn.Module:
    """A StrassenNets model trained FULL → TERNARY → FROZEN with distillation from ``teacher``."""
    torch.manual_seed(seed)
    model = task.make_model(factor)
    phases = zip((Phase.FULL, Phase.TERNARY, Phase.FROZEN), (schedule.full, schedule.ternary, schedule.frozen), task.phase_lrs)
    for phase, epochs, lr in phases:
        set_phase(model, phase)
        config = dataclasses.replace(task.config, epochs=epochs, lr=lr)
        train(model, task.x_train, task.y_train, config, seed=seed, teacher=teacher)
        progress(f"seed {seed}: r = {factor:g}×out, {phase.value:7s} {task.metric.name} {task.score(model):.4f}")
    return model


def _seed_results(task: Task, factors: Sequence[float], schedule: Schedule, seed: int, progress: Progress) -> list[tuple[float, int, int]]:
    """Score, mults and adds of the baseline and of each SPN model for one seed."""
    teacher = train_baseline(task, schedule, seed, progress)
    models = [teacher] + [train_spn(task, teacher, f, schedule, seed, progress) for f in factors]
    return [(task.score(model), *task.ops(model)) for model in models]


def _seed_worker(task: Task, factors: Sequence[float], schedule: Schedule, seed: int, queue) -> None:
    # One torch thread per worker: ``jobs`` workers share the cores.
    torch.set_num_threads(1)

    def progress(message: str) -> None:  # printed by the parent, so workers never share a stream
        queue.put((seed, "progress", message))

    try:
        queue.put((seed, "result", _seed_results(task, factors, schedule, seed, progress)))
    except BaseException as e:  # reported by the parent; a worker must not die silently
        queue.put((seed, "error", f"{type(e).__name__}: {e}"))


def _worker_context():
    """``forkserver`` where the platform has it, else ``spawn``: never a plain fork.

    A plain fork copies the parent's threads' locks in whatever state they are (torch's OpenMP
    pool, a stream or logging lock held by a thread that a test or a Dask cluster left running),
    and a child that takes one waits for ever: clean-clone CI runs hung so. Forkserver children
    fork from a fresh single-threaded server that has only imported this module.
    """
    import multiprocessing

    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])  # torch imported once, in the server
        return context
    return multiprocessing.get_context("spawn")


def _parallel_results(task: Task, factors: Sequence[float], schedule: Schedule, seeds: Sequence[int],
                      progress: Progress, jobs: int) -> dict[int, list[tuple[float, int, int]]]:
    # The task goes to each worker pickled (its callables are module functions and partials);
    # results and progress lines come back through one queue. Each seed's run is the same as in
    # one process: training seeds its own RNGs.
    context = _worker_context()
    queue = context.Queue()
    results: dict[int, list[tuple[float, int, int]]] = {}
    pending, running = list(seeds), {}
    try:
        while pending or running:
            while pending and len(running) < jobs:
                seed = pending.pop(0)
                process = context.Process(target=_seed_worker, args=(task, factors, schedule, seed, queue))
                try:
                    process.start()
                except (pickle.PicklingError, AttributeError, TypeError) as e:
                    raise TypeError(f"parallel seeds need a task that pickles (module functions and "
                                    f"partials, not lambdas): {e}") from e
                running[seed] = process
            seed, kind, payload = _next_report(queue, running)
            if kind == "progress":
                progress(payload)
                continue
            running.pop(seed).join()
            if kind == "error":
                raise RuntimeError(f"seed {seed} failed: {payload}")
            results[seed] = payload
    finally:
        for process in running.values():  # on errors and Ctrl-C: no orphaned workers
            process.terminate()
            process.join()
    return results


def _next_report(queue, running: dict) -> tuple[int, str, object]:
    """The next worker report ``(seed, kind, payload)``; a worker that died without a result
    (killed, crashed, or its task could not be unpickled) is an error."""
    import queue as queue_module

    while True:
        try:
            return queue.get(timeout=1.0)
        except queue_module.Empty:
            for seed, process in running.items():
                if process.exitcode not in (None, 0):
                    return seed, "error", f"worker exited with code {process.exitcode}"


def run_task(
    task: Task,
    factors: Sequence[float],
    seeds: Sequence[int],
    schedule: Schedule,
    names: Sequence[str],
    progress: Progress = lambda message: None,
    jobs: int = 1,
) -> list[Row]:
    """Train the baseline and the SPN versions (one per factor, named ``names``) for every seed.

    ``jobs > 1`` trains that many seeds at once in worker processes (forkserver, else spawn), each
    on one torch thread; ``task`` must then pickle (module-level functions and
    :func:`functools.partial` of them, not lambdas). Progress lines come back to ``progress`` in
    the parent. The results are those of ``jobs = 1`` where torch's ops run on one thread anyway
    (the demos' model sizes; a test checks it); above torch's parallel grain the summation order,
    and so the last bits, may differ.
    """
    if jobs > 1 and len(seeds) > 1:
        results = _parallel_results(task, factors, schedule, seeds, progress, jobs)
    else:
        results = {seed: _seed_results(task, factors, schedule, seed, progress) for seed in seeds}
    rows = [Row(task.baseline_name)] + [Row(name) for name in names]
    for seed in seeds:
        for row, (score, mults, adds) in zip(rows, results[seed]):
            row.scores.append(score)
            row.mults, row.adds = mults, adds
    return rows


def format_table(rows: Sequence[Row], metric: Metric, unit: str, note: str) -> str:
    """Score (mean ± sd over seeds), mults/adds per ``unit``, cut in mults and score difference."""
    base = rows[0]
    head = ("model", metric.column, f"mults/{unit}", f"adds/{unit}", "mult cut", metric.diff_column)
    base_mean = statistics.fmean(base.scores)
    d = metric.decimals
    lines = []
    for row in rows:
        mean = statistics.fmean(row.scores)
        sd = statistics.stdev(row.scores) if len(row.scores) > 1 else 0.0
        cut = 1.0 - row.mults / base.mults if base.mults else 0.0
        diff = round(metric.scale * (mean - base_mean), d) + 0.0  # + 0.0: no "-0.00"
        lines.append((
            row.name, f"{metric.scale * mean:.{d}f} ± {metric.scale * sd:.{d}f}", f"{row.mults:,}", f"{row.adds:,}",
            f"{100 * cut:.1f} %", f"{diff:+.{d}f}",
        ))
    widths = [max(len(r[i]) for r in [head, *lines]) for i in range(len(head))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    seeds = len(base.scores)
    return "\n".join([line(head), *map(line, lines), f"({seeds} seed{'s' if seeds != 1 else ''}; {note})"])
