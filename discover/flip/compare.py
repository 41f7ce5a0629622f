"""Side-by-side runs of our flip search and a locally built peer binary, same budget and threads.

``strassen bench flip --compare-binary PATH`` prints what :func:`compare_row` measures. The peer
is any executable: its command line is a template (:data:`PEER_ARGS`, fields ``{n} {m} {p}
{target} {threads} {seed} {out}``) and its best rank is read from its standard output with a
regular expression (:data:`PEER_RANK`: one group, the rank). The defaults fit
dronperminov/ternary_flip_graph's ``flip_graph`` (built outside this repository; nothing of it
is shipped). Both columns start from the naive scheme, ternary coefficients, and run back to
back on the same machine; the peer's time includes its start-up, as ours does.
"""
from __future__ import annotations

import os
import re
import shlex
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Optional

from ..formats import Format
from ..problem import Problem
from ..rings import Ring

#: The peer's command line (after the binary): from naive, ternary, 16 runners, 10^5 flips per round.
PEER_ARGS = ("-n1 {n} -n2 {m} -n3 {p} --ring ZT --count 16 --flip-iterations 100000 --threads {threads} "
             "--target-rank {target} --seed {seed} -o {out}")
#: How the peer reports a new best rank on stdout.
PEER_RANK = r"improved from \d+ to (\d+)"
#: How the peer starts one report (one round of count × flip-iterations walk steps).
PEER_ROUND = r"^\| dimension:"
#: The comparison rows: (format, target rank).
COMPARE_ROWS = [("3x3x3", 23), ("2x4x4", 26), ("3x4x4", 38), ("3x4x5", 47), ("2x5x5", 40), ("4x4x5", 61)]


@dataclass
class Run:
    """One timed run: seconds to the target (None: not reached) and the best rank reached."""

    seconds: Optional[float]
    best_rank: Optional[int]
    wall: float


@dataclass
class CompareRow:
    """Both columns of one format (one run per seed each)."""

    format: str
    target: int
    ours: list[Run] = field(default_factory=list)
    peer: list[Run] = field(default_factory=list)
    load: list[float] = field(default_factory=list)


def summarise(runs: list[Run], budget: float) -> str:
    """``3.8 s`` (median time to target when most runs reached it) or ``rank 40`` (median best rank)."""
    hits = [r.seconds for r in runs if r.seconds is not None]
    if hits and len(hits) * 2 > len(runs):
        return f"{statistics.median(hits + [float('inf')] * (len(runs) - len(hits))):.1f} s"
    ranks = [r.best_rank for r in runs if r.best_rank is not None]
    return f"rank {statistics.median_low(ranks)} (>{budget:g} s)" if ranks else f"- (>{budget:g} s)"


def run_ours(fmt: str, target: int, budget: float, workers: int, method: str, seed: int) -> Run:
    """Our search from the naive scheme, ternary, through the search front door (wall time)."""
    from ..search import search  # the front door: same process pool and verification as `strassen search`

    t0 = time.perf_counter()
    result = search(Problem(Format.parse(fmt), target, Ring.ZT), method, None, seed=seed, time_limit=budget,
                    workers=workers)
    wall = time.perf_counter() - t0
    reached = result.first_found_seconds if result.found else None
    return Run(reached, result.best_rank, wall)


def run_peer(binary: str, fmt: str, target: int, budget: float, threads: int, seed: int,
             args: str = PEER_ARGS, rank_pattern: str = PEER_RANK) -> Run:
    """Run the peer until it reaches the target or the budget is spent; read its ranks from stdout."""
    n, m, p = Format.parse(fmt).dims
    pattern = re.compile(rank_pattern)
    with tempfile.TemporaryDirectory(prefix="peer-") as out:
        cmd = [binary] + shlex.split(args.format(n=n, m=m, p=p, target=target, threads=threads, seed=seed, out=out))
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                                start_new_session=True)
        best: list[int] = []
        reached: list[float] = []

        def read() -> None:
            for line in proc.stdout:  # type: ignore[union-attr]
                found = pattern.search(line)
                if found:
                    best.append(int(found.group(1)))
                    if best[-1] <= target and not reached:
                        reached.append(time.perf_counter() - t0)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            proc.wait(timeout=budget)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        wall = time.perf_counter() - t0
        reader.join(timeout=5)
        proc.stdout.close()  # type: ignore[union-attr]
    # The default arguments start from the naive scheme: no report means it never went below it.
    naive = n * m * p if "{n}" in args else None
    return Run(reached[0] if reached else None, min(best) if best else naive, wall)


def peer_rate(binary: str, seconds: float = 20.0, count: int = 16, iterations: int = 100_000) -> Optional[float]:
    """The peer's walk steps per CPU second on one thread (3x3x3 from naive, ternary).

    Counted from its reports: each report closes a round of ``count × iterations`` walk steps
    (flip attempts; the peer does not print successful flips separately), so this is an upper
    bound on its flips per second. The rate between reports is divided by the share of a CPU
    the peer got (its CPU time over its wall time), so a loaded machine does not lower it, as
    :func:`discover.flip.bench.throughput` counts ours. None when no round completed in ``seconds``.
    """
    import resource

    def children_cpu() -> float:
        use = resource.getrusage(resource.RUSAGE_CHILDREN)
        return use.ru_utime + use.ru_stime

    cpu0 = children_cpu()
    cmd = [binary] + shlex.split(f"-n1 3 -n2 3 -n3 3 --ring ZT --count {count} --flip-iterations {iterations} "
                                 f"--threads 1 --seed 1 -o {{out}}")
    rounds: list[float] = []
    with tempfile.TemporaryDirectory(prefix="peer-") as out:
        cmd = [c.replace("{out}", out) for c in cmd]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env=dict(os.environ, OMP_NUM_THREADS="1"), start_new_session=True)
        start_pattern = re.compile(PEER_ROUND)

        def read() -> None:
            for line in proc.stdout:  # type: ignore[union-attr]
                if start_pattern.search(line):
                    rounds.append(time.perf_counter() - t0)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        wall = time.perf_counter() - t0
        reader.join(timeout=5)
        proc.stdout.close()  # type: ignore[union-attr]
    if len(rounds) < 2:
        return None
    share = min(1.0, max(1e-3, (children_cpu() - cpu0) / wall))  # the peer is reaped: its CPU time is in
    # Between the first and the last report: start-up and the first round's set-up excluded.
    return (len(rounds) - 1) * count * iterations / (rounds[-1] - rounds[0]) / share


def compare_row(binary: str, fmt: str, target: int, budget: float, workers: int, method: str, seeds: int,
                args: str = PEER_ARGS, rank_pattern: str = PEER_RANK, on_run=None, first_seed: int = 0) -> CompareRow:
    """Ours then the peer, back to back, for each seed (peer seed = ours + 1: its 0 means 'time-based')."""
    row = CompareRow(fmt, target)
    for seed in range(first_seed, first_seed + seeds):
        row.load.append(os.getloadavg()[0])
        if on_run is not None:
            on_run(fmt, seed, "ours")
        row.ours.append(run_ours(fmt, target, budget, workers, method, seed))
        if on_run is not None:
            on_run(fmt, seed, "peer")
        row.peer.append(run_peer(binary, fmt, target, budget, workers, seed + 1, args, rank_pattern))
    return row
