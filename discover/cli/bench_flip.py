"""``strassen bench flip``: prints the table of :mod:`discover.flip.bench`."""
from __future__ import annotations

import sys

import click

from ..machine import describe_machine
from .bench_cmd import bench_group


@bench_group.command("flip")
@click.option("--quick", is_flag=True, help="Three small formats, one seed each.")
@click.option("--budget", type=click.FloatRange(min=0, min_open=True), default=60.0, show_default=True,
              help="Seconds per run.")
@click.option("--seeds", type=click.IntRange(min=1), default=3, show_default=True,
              help="Runs per format (ignored with --quick).")
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
    from ..flip.bench import QUICK_ROWS, ROWS, bench_format, throughput
    from ..rings import Ring

    rows = QUICK_ROWS if quick else ROWS
    n_seeds = 1 if quick else seeds
    click.echo(f"machine: {describe_machine()}; budget {budget:g} s per run, {n_seeds} seed(s), "
               f"field {field}, ring {ring.upper()}")
    click.echo(f"flips/s on one core (3x3x3 at rank 23): GF(2) {throughput('gf2'):,}, ternary {throughput('zt'):,}")
    click.echo(f"{'format':<7} {'target':>6} {'best':>5} {'found':>6} {'median s':>9} {'best rank':>10} {'lifts tried':>11}")
    for name, target in rows:
        row = bench_format(name, target, budget, n_seeds, field, Ring.parse(ring),
                           on_seed=lambda n, s: click.echo(f"  {n} seed {s} ...", err=True))
        best = row.best_known if row.best_known is not None else "-"
        click.echo(f"{name:<7} {target:>6} {best:>5} {len(row.times):>3}/{n_seeds:<2} {row.median(budget):>9} "
                   f"{min(row.reached):>10} {row.lifts:>11}")
    sys.stdout.flush()
