"""The search benchmark: success rate per restart and time to the first verified scheme.

For each (method, target) cell, within a wall-time budget:

* **rate**: whole tasks only (every member of a batch runs to the end; the first task ignores
  the budget so each cell measures at least one batch) with seeds derived from the bench seed; a restart succeeds when its candidate passes the exact check. Gives the
  restarts tried, the success rate per restart and seconds per restart.
* **time to first**: independent searches through the driver (first-hit mode, one worker, or
  the scheduler given, e.g. a Dask cluster; seeds ``seed + 1000 + s``), timed from the start to
  the first scheme proven with sympy (imports excluded). Gives the median and max over the
  searches that succeeded.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Optional

from ..machine import describe_machine
from ..errors import DiscoverError
from ..formats import Format
from ..scheme import Scheme
from ..verify import verify_exact
from ..problem import Problem
from .contract import SearchTask, build_options
from .driver import search, task_seed
from .registry import get_method, method_names
from .schedulers import Scheduler

#: (format, rank) targets of the full benchmark.
TARGETS = [("2x2x2", 7), ("2x2x3", 11), ("2x3x3", 15), ("2x2x4", 14), ("2x3x4", 20), ("3x3x3", 23)]
QUICK_TARGETS = [("2x2x2", 7), ("2x2x3", 11)]
#: Methods benchmarked by default (``flip`` when registered).
DEFAULT_METHODS = ("lm", "adam", "sgd", "flip")


@dataclass
class Cell:
    """One row of the table."""

    method: str
    target: str
    restarts: int = 0
    successes: int = 0
    rate_seconds: float = 0.0
    searches: int = 0
    found_times: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def rate(self) -> Optional[float]:
        return self.successes / self.restarts if self.restarts else None

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["rate"] = self.rate
        doc["median_first"] = statistics.median(self.found_times) if self.found_times else None
        doc["max_first"] = max(self.found_times) if self.found_times else None
        return doc


def machine_description() -> str:
    """The machine line, with torch's version and the GPU when present."""
    import torch

    gpu = f"GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ""
    return describe_machine(f"torch {torch.__version__}", gpu)


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def bench_cell(method: str, fmt: str, rank: int, budget: float, seed: int = 0, searches: int = 3,
               options: Optional[dict] = None, scheduler: Optional[Scheduler] = None) -> Cell:
    """Measure one (method, target) cell within ``budget`` seconds (half rate, half time-to-first).

    The timed searches run on ``scheduler`` (default: one worker in this process).
    """
    cell = Cell(method, f"{fmt} r{rank}")
    m = get_method(method)
    if str((options or {}).get("device", "")).lower() == "cuda" and not _cuda_available():
        cell.note = "no GPU"  # the GPU row of a CPU-only machine
        return cell
    try:
        problem = Problem(Format.parse(fmt), rank)
        opts = build_options(m.options_type, options or {})
        m.check(problem, opts)
    except DiscoverError as e:  # a method that cannot handle the target gets a note, not a crash
        cell.note = str(e)
        return cell
    # Rate: whole tasks, every member runs to the end.
    deadline = time.monotonic() + budget / 2
    i = 0
    start = time.monotonic()
    last = 0.0
    # Only whole tasks count (a batch cut short would understate the rate): the first always
    # runs, each further one only when a task as long as the last still fits in the budget.
    while i == 0 or time.monotonic() + last < deadline:
        task = SearchTask(method, problem, opts, task_seed(seed, i), i)
        t0 = time.monotonic()
        res = m.run_task(task, lambda: False)
        last = time.monotonic() - t0
        cell.restarts += res.restarts
        for cand in res.candidates:
            try:
                scheme = cand.scheme if cand.scheme is not None else \
                    Scheme.from_arrays(cand.U, cand.V, cand.W, problem.format, mod2=cand.mod2)
                ok = verify_exact(scheme).valid
            except DiscoverError:
                ok = False
            cell.successes += int(ok)
        i += 1
    cell.rate_seconds = time.monotonic() - start
    # Time to first: independent first-hit searches.
    deadline = time.monotonic() + budget / 2
    for s in range(searches):
        left = deadline - time.monotonic()
        if left <= 0.5 and s > 0:
            break
        result = search(problem, m, opts, seed=seed + 1000 + s, time_limit=max(left, 1.0), workers=1,
                        scheduler=scheduler)
        cell.searches += 1
        if result.found and result.first_found_seconds is not None:
            cell.found_times.append(result.first_found_seconds)
    return cell


def run_bench(methods: list[str], targets: list[tuple[str, int]], budget: float, seed: int = 0, searches: int = 3,
              on_cell: Optional[Callable[[Cell], None]] = None, method_options: Optional[dict] = None,
              scheduler: Optional[Scheduler] = None) -> list[Cell]:
    """Every (method, target) cell; ``on_cell`` is called as each one finishes (timed searches on ``scheduler``)."""
    known = method_names()
    cells = []
    for spec in methods:
        # "sgd:quantizer=ste" benchmarks a method with options; the spec labels its rows
        method, _, opts = spec.partition(":")
        if method not in known:
            continue
        options = dict((method_options or {}).get(method) or {})
        options.update(dict(pair.split("=", 1) for pair in opts.split(";") if pair))
        for fmt, rank in targets:
            cell = bench_cell(method, fmt, rank, budget, seed, searches, options or None, scheduler)
            cell.method = spec
            cells.append(cell)
            if on_cell is not None:
                on_cell(cell)
    return cells


def format_table(cells: list[Cell]) -> list[str]:
    """A fixed-width table: method, target, restarts, successes, rate, s/restart, median/max first."""
    header = f"{'method':<18} {'target':<9} {'restarts':>8} {'exact':>6} {'rate':>7} {'s/restart':>9} {'searches':>8} {'median 1st':>10} {'max 1st':>8}"
    lines = [header, "-" * len(header)]
    for c in cells:
        if c.note:
            lines.append(f"{c.method:<18} {c.target:<9} {c.note}")
            continue
        rate = f"{100 * c.rate:.1f}%" if c.rate is not None else "-"
        per = f"{c.rate_seconds / c.restarts:.3f}" if c.restarts else "-"
        med = f"{statistics.median(c.found_times):.2f}s" if c.found_times else "-"
        mx = f"{max(c.found_times):.2f}s" if c.found_times else "-"
        found = f"{len(c.found_times)}/{c.searches}"
        lines.append(f"{c.method:<18} {c.target:<9} {c.restarts:>8} {c.successes:>6} {rate:>7} {per:>9} {found:>8} {med:>10} {mx:>8}")
    return lines
