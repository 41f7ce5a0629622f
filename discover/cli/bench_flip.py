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
@click.option("--strategy", type=click.Choice(["flip", "pool"]), default="flip", show_default=True,
              help="flip: one walk per run; pool: pool descent (ternary; see strassen search -m pool).")
@click.option("--compare-binary", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A locally built peer flip-graph binary: run it and ours side by side (same budget and threads).")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="With --compare-binary: our worker processes and the peer's threads.")
@click.option("--peer-args", default=None,
              help="With --compare-binary: the peer's arguments, fields {n} {m} {p} {target} {threads} {seed} {out} "
                   "(default fits dronperminov/ternary_flip_graph's flip_graph).")
@click.option("--first-seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="With --compare-binary: the first seed (runs use first-seed .. first-seed+seeds-1).")
@click.option("--rows", default=None, metavar="FMT[,FMT...]",
              help="With --compare-binary: only these rows of the table (e.g. 3x4x4,3x4x5).")
@click.option("--peer-rate-seconds", type=click.FloatRange(min=0), default=20.0, show_default=True,
              help="With --compare-binary: seconds spent measuring the peer's walk steps/s on one thread (0: skip).")
def bench_flip_command(quick: bool, budget: float, seeds: int, field: str, ring: str, strategy: str,
                       compare_binary: str | None, workers: int, peer_args: str | None, first_seed: int,
                       rows: str | None, peer_rate_seconds: float) -> None:
    """Time to the first verified ternary (or integer) scheme of each benchmark format.

    Each run walks the flip graph from the naive scheme (4x4x4: Strassen⊗Strassen), over Z with
    ternary coefficients (--field zt) or mod 2 with lifting at the target rank (--field gf2), and
    verifies the result exactly; a run out of budget reports the lowest rank it reached. Prints a
    table with the machine.

    With --compare-binary PATH the table is a side-by-side comparison instead: for 3x3x3 r23,
    2x4x4 r26, 3x4x4 r38, 3x4x5 r47, 2x5x5 r40 and 4x4x5 r61, ours (`strassen search` with
    --strategy as method, --workers processes) and the peer (--workers threads), both from the
    naive scheme with ternary coefficients, back to back per seed; each cell is the median time
    to the target, or the median best rank when most runs missed it. The load average before
    each row is printed with it.

    \b
    Examples:
      strassen bench flip --quick
      strassen bench flip --budget 120 --seeds 5
      strassen bench flip --strategy pool --budget 60 --seeds 1
      strassen bench flip --compare-binary /work/peers/tfg/flip_graph --budget 90 --seeds 3 --workers 2
      strassen bench flip --compare-binary /work/peers/tfg/flip_graph --budget 90 --seeds 1 --rows 3x4x4
    """
    from ..flip.bench import QUICK_ROWS, ROWS, bench_format, throughput
    from ..rings import Ring

    if compare_binary is not None:
        _compare(compare_binary, budget, 1 if quick else seeds, workers, strategy, peer_args, peer_rate_seconds, quick,
                 first_seed, rows)
        return

    rows = QUICK_ROWS if quick else ROWS
    n_seeds = 1 if quick else seeds
    click.echo(f"machine: {describe_machine()}; budget {budget:g} s per run, {n_seeds} seed(s), "
               f"field {field if strategy == 'flip' else 'zt'}, ring {ring.upper()}, strategy {strategy}")
    click.echo(f"flips per CPU second on one thread (3x3x3 at rank 23): GF(2) {throughput('gf2'):,}, ternary {throughput('zt'):,}")
    click.echo(f"{'format':<7} {'target':>6} {'best':>5} {'found':>6} {'median s':>9} {'best rank':>10} {'lifts tried':>11}")
    for name, target in rows:
        row = bench_format(name, target, budget, n_seeds, field, Ring.parse(ring),
                           on_seed=lambda n, s: click.echo(f"  {n} seed {s} ...", err=True), strategy=strategy)
        best = row.best_known if row.best_known is not None else "-"
        click.echo(f"{name:<7} {target:>6} {best:>5} {len(row.times):>3}/{n_seeds:<2} {row.median(budget):>9} "
                   f"{min(row.reached):>10} {row.lifts:>11}")
    sys.stdout.flush()


def _compare(binary: str, budget: float, seeds: int, workers: int, strategy: str, peer_args: str | None,
             rate_seconds: float, quick: bool, first_seed: int = 0, rows: str | None = None) -> None:
    """Print the side-by-side table (ours | peer) and the flips/s per core of both."""
    import os

    from ..flip.bench import throughput
    from ..flip.compare import COMPARE_ROWS, PEER_ARGS, compare_row, peer_rate, summarise

    args = peer_args or PEER_ARGS
    table = COMPARE_ROWS[:1] if quick else COMPARE_ROWS
    if rows is not None:
        wanted = [r.strip() for r in rows.split(",") if r.strip()]
        known = dict(COMPARE_ROWS)
        unknown = [w for w in wanted if w not in known]
        if unknown or not wanted:
            raise click.BadParameter(f"{', '.join(unknown) or rows!r}: choose among {', '.join(known)}", param_hint="--rows")
        table = [(w, known[w]) for w in wanted]
    click.echo(f"machine: {describe_machine()}; budget {budget:g} s per run, seeds {first_seed}..{first_seed + seeds - 1} (median), "
               f"ours: search -m {strategy} --workers {workers}; peer: {os.path.basename(binary)} {args} "
               f"(threads {workers}); from naive, ternary")
    ours_rate = f"GF(2) {throughput('gf2'):,}, ternary {throughput('zt'):,}"
    peer = peer_rate(binary, rate_seconds) if rate_seconds > 0 else None
    peer_text = f"{peer:,.0f} walk steps/s (upper bound on flips/s)" if peer else "not measured"
    click.echo(f"flips per CPU second on one thread, 3x3x3: ours {ours_rate}; peer ternary {peer_text}; "
               f"load {os.getloadavg()[0]:.1f}")
    click.echo(f"{'format':<7} {'target':>6}  {'ours':<22} {'peer':<22} {'load':>5}")
    for name, target in table:
        row = compare_row(binary, name, target, budget, workers, strategy, seeds, args,
                          on_run=lambda n, s, who: click.echo(f"  {n} seed {s} {who} ...", err=True), first_seed=first_seed)
        click.echo(f"{name:<7} {target:>6}  {summarise(row.ours, budget):<22} {summarise(row.peer, budget):<22} "
                   f"{max(row.load):>5.1f}")
        for seed, (a, b) in enumerate(zip(row.ours, row.peer), start=first_seed):
            click.echo(f"    seed {seed}: ours {_run(a)}; peer {_run(b)}", err=True)
    sys.stdout.flush()


def _run(r) -> str:
    t = f"target at {r.seconds:.1f} s" if r.seconds is not None else "target not reached"
    return f"{t}, best rank {r.best_rank}, wall {r.wall:.1f} s"
