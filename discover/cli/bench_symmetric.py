"""``strassen bench symmetric``: prints the table of :mod:`discover.flip.bench_symmetric`."""
from __future__ import annotations

import sys

import click

from ..machine import describe_machine
from .bench_cmd import bench_group


@bench_group.command("symmetric")
@click.option("--quick", is_flag=True, help="One small row (4x4x4, one cube), one walk.")
@click.option("--flips", type=click.IntRange(min=1), default=20_000_000, show_default=True,
              help="Orbit flips per walk.")
@click.option("--walks", type=click.IntRange(min=1), default=3, show_default=True,
              help="Walks per row, seeds first-seed .. first-seed+walks-1 (ignored with --quick).")
@click.option("--first-seed", type=click.IntRange(min=0), default=1, show_default=True, help="The first walk's seed.")
def bench_symmetric_command(quick: bool, flips: int, walks: int, first_seed: int) -> None:
    """Speed of the cyclic-symmetric pairs walk from Moosbauer–Poole's cube starts.

    Each walk is `strassen search NxNxN -m cyclic -O field=gf2 -O walk=pairs` from the row's
    cube start (5x5x5: three cubes, plus every 16,667 flips; 6x6x6: three cubes with the mirror
    symmetry, plus every 83,333 flips) for a fixed number of orbit flips, timed in CPU seconds
    of the walk alone (the kernel is compiled first). Term flips are orbit flips × 3 (× 6 with
    the mirror), the unit of Moosbauer–Poole's program. A seed replays its walk, so the lowest
    ranks (mod 2) are the same on every machine. Prints a table with the machine.

    \b
    Examples:
      strassen bench symmetric --quick
      strassen bench symmetric --flips 20000000 --walks 3
    """
    from ..flip.bench_symmetric import CASES, QUICK_CASES, bench_case

    cases = QUICK_CASES if quick else CASES
    n_walks = 1 if quick else walks
    seeds = range(first_seed, first_seed + n_walks)
    click.echo(f"machine: {describe_machine()}; {flips:,} orbit flips per walk, seeds {seeds[0]}..{seeds[-1]}")
    click.echo(f"{'start':<34} {'mirror':>6} {'plus':>6} {'walks':>5} {'M orbit flips/s':>15} "
               f"{'M term flips/s':>14}  lowest rank mod 2")
    for case in cases:
        row = bench_case(case, flips, seeds, on_walk=lambda c, s: click.echo(f"  {c.start} seed {s} ...", err=True))
        rate = row.orbit_rate
        click.echo(f"{case.start:<34} {'yes' if case.mirror else 'no':>6} {case.plus:>6} {len(row.flips):>5} "
                   f"{rate / 1e6:>15.2f} {rate * case.term_flips / 1e6:>14.2f}  {' '.join(map(str, row.lowest))}")
        sys.stdout.flush()
