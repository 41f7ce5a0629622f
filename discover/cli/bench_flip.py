"""``strassen bench flip``: flip-graph walk throughput and time to a verified scheme per format."""
from __future__ import annotations

import statistics
import sys
import time

import click
import numpy as np

from ..flip import gf2
from ..flip.walk import WalkSettings, flip_search
from ..formats import Format
from ..known import strassen
from ..scheme import Scheme
from ..symmetry import kron
from ..verify import verify_exact
from ..machine import describe_machine
from .bench_cmd import bench_group

#: (format, target rank, best known rank in characteristic 0) of the issue's benchmark rows.
ROWS = [
    ("3x3x3", 23, 23),
    ("2x4x4", 26, 26),
    ("3x3x4", 29, 29),
    ("3x4x4", 38, 38),
    ("4x4x4", 49, 48),
    ("2x5x5", 40, 40),
    ("3x4x5", 47, 47),
    ("4x4x5", 61, 61),
]
QUICK_ROWS = ROWS[:3]


def _start(fmt: Format) -> Scheme:
    # Plain walks from the naive 4x4x4 stall near rank 54: start from Strassen⊗Strassen.
    return kron(strassen(), strassen()) if fmt.dims == (4, 4, 4) else Scheme.naive(fmt)


def _throughput(seconds: float = 1.0) -> int:
    """Flips per second of CPU time on 3x3x3, walking at rank 23 (reductions checked, none taken)."""
    fmt = Format.parse("3x3x3")
    out = flip_search(fmt, 23, "Z2", Scheme.naive(fmt), np.random.SeedSequence(0), WalkSettings())
    U, V, W = (np.asarray(X, dtype=np.int64) for X in (out.scheme.U, out.scheme.V, out.scheme.W))
    F = gf2.pack(U, V, W, 26)
    best, stats, state, r = F.copy(), np.zeros(5, np.int64), gf2.seed_state(1), out.scheme.rank
    t0 = time.process_time()
    while time.process_time() - t0 < seconds:
        r, _ = gf2.walk_kernel(F, r, best, r, 0, 200_000, 1 << 60, 0, state, stats)
    return int(stats[0] / (time.process_time() - t0))


@bench_group.command("flip")
@click.option("--quick", is_flag=True, help="Three small formats, one seed each.")
@click.option("--budget", type=float, default=60.0, show_default=True, help="Seconds per run.")
@click.option("--seeds", type=int, default=3, show_default=True, help="Runs per format (ignored with --quick).")
@click.option("--field", type=click.Choice(["zt", "gf2"]), default="zt", show_default=True,
              help="zt: walk over Z with ternary coefficients; gf2: walk mod 2, then lift.")
@click.option("--ring", type=click.Choice(["ZT", "Z"], case_sensitive=False), default="ZT", show_default=True,
              help="Ring of the verified scheme counted as found (Z allows Hensel lifts with larger integers).")
def bench_flip_command(quick: bool, budget: float, seeds: int, field: str, ring: str) -> None:
    """Time to the first verified ternary (or integer) scheme of each benchmark format.

    Each run walks the flip graph from the naive scheme (4x4x4: Strassen⊗Strassen), over Z with
    ternary coefficients (--field zt) or mod 2 with lifting at the target rank (--field gf2), and
    verifies the result exactly; a run out of budget reports the lowest rank it reached. Prints a
    table with the machine.

    \b
    Examples:
      strassen bench flip --quick
      strassen bench flip --budget 120 --seeds 5
    """
    if budget <= 0 or seeds < 1:
        raise click.BadParameter("--budget and --seeds must be positive")
    rows = QUICK_ROWS if quick else ROWS
    n_seeds = 1 if quick else seeds
    click.echo(f"machine: {describe_machine()}; budget {budget:g} s per run, {n_seeds} seed(s), "
               f"field {field}, ring {ring.upper()}")
    click.echo(f"GF(2) flips/s on one core (3x3x3 at rank 23): {_throughput():,}")
    click.echo(f"{'format':<7} {'target':>6} {'best':>5} {'found':>6} {'median s':>9} {'best rank':>10} {'lifts tried':>11}")
    for name, target, best_known in rows:
        fmt = Format.parse(name)
        times, reached, lifts = [], [], 0
        for seed in range(n_seeds):
            click.echo(f"  {name} seed {seed} ...", err=True)
            t0 = time.perf_counter()
            out = flip_search(fmt, target, ring.upper(), _start(fmt), np.random.SeedSequence(seed),
                              WalkSettings(field=field), time_limit=budget)
            dt = time.perf_counter() - t0
            lifts += out.stats["lift_attempts"]
            wanted = ("ZT",) if ring.upper() == "ZT" else ("ZT", "Z")
            if out.scheme is not None and verify_exact(out.scheme).valid and out.scheme.ring in wanted:
                times.append(dt)
                reached.append(out.scheme.rank)
            else:
                reached.append(out.stats.get("best_rank", out.rank_mod2))
        median = f"{statistics.median(times):.2f}" if len(times) * 2 > n_seeds else f">{budget:g}"
        click.echo(f"{name:<7} {target:>6} {best_known:>5} {len(times):>3}/{n_seeds:<2} {median:>9} "
                   f"{min(reached):>10} {lifts:>11}")
    sys.stdout.flush()
