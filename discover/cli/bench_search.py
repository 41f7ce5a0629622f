"""``strassen bench search``: success rate and time to the first verified scheme per method."""
from __future__ import annotations

from typing import Optional

import click

from ..formats import Format
from .bench_cmd import bench_group
from .common import cluster_scheduler, echo_json, fail, info


def _parse_targets(text: str) -> list[tuple[str, int]]:
    targets = []
    for item in text.split(","):
        fmt, sep, rank = item.strip().partition(":")
        if not sep or not rank.strip().isdigit():
            fail(f"--targets item {item!r}: expected FORMAT:RANK, e.g. 2x2x2:7")
        targets.append((str(Format.parse(fmt)), int(rank)))
    return targets


@bench_group.command("search")
@click.option("--quick", is_flag=True, help="2x2x2 r7 and 2x2x3 r11 only, 20 s per cell.")
@click.option("--methods", default=None,
              help="Comma-separated methods, each optionally with options: sgd:quantizer=ste;batch=64 "
                   "(default: lm, adam, sgd and flip when registered).")
@click.option("--targets", default=None, help="Comma-separated FORMAT:RANK (default: the six targets below).")
@click.option("--budget", type=float, default=None, help="Seconds per (method, target) cell (default 300, quick 20).")
@click.option("--searches", type=int, default=None, help="Timed first-hit searches per cell (default 5, quick 3).")
@click.option("--seed", type=int, default=0, show_default=True, help="Bench seed (fixed: runs are repeatable).")
@click.option("--cluster", default=None, metavar="local:N",
              help="Run the timed searches on a Dask LocalCluster of N worker processes (distributed extra).")
@click.option("--scheduler", "scheduler_address", default=None, envvar="DASK_SCHEDULER_ADDRESS", metavar="tcp://HOST:PORT",
              help="Run the timed searches on the running Dask cluster of this scheduler.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of the table.")
def bench_search_command(quick: bool, methods: Optional[str], targets: Optional[str], budget: Optional[float],
                         searches: Optional[int], seed: int, cluster: Optional[str], scheduler_address: Optional[str],
                         as_json: bool) -> None:
    """Benchmark the search methods: restarts tried, success rate per restart, and the
    median and max wall time to the first verified scheme (one worker, imports excluded).

    Default targets: 2x2x2 r7, 2x2x3 r11, 2x3x3 r15, 2x2x4 r14, 2x3x4 r20, 3x3x3 r23.

    \b
    Examples:
      strassen bench search --quick
      strassen bench search --methods lm --targets 3x3x3:23 --budget 600
      strassen bench search --methods sgd,sgd:quantizer=ste --targets 2x2x2:7 --budget 60
      strassen bench search --quick --cluster local:2
    """
    from ..search.registry import method_names
    from ..search.bench import DEFAULT_METHODS, QUICK_TARGETS, TARGETS, format_table, machine_description, run_bench

    known = method_names()
    if methods:
        chosen = [m.strip() for m in methods.split(",") if m.strip()]
        unknown = [m for m in chosen if m.partition(":")[0] not in known]
        if unknown:
            fail(f"unknown method(s) {', '.join(unknown)}; choose from {', '.join(known)}")
    else:
        chosen = [m for m in DEFAULT_METHODS if m in known]
    chosen_targets = _parse_targets(targets) if targets else (QUICK_TARGETS if quick else TARGETS)
    budget = budget if budget is not None else (20.0 if quick else 300.0)
    if budget <= 0:
        fail(f"--budget must be positive, got {budget}")
    searches = searches if searches is not None else (3 if quick else 5)
    scheduler = cluster_scheduler(cluster, scheduler_address, None, as_json)
    machine = machine_description()
    info(f"machine: {machine}")
    info(f"{len(chosen)} method(s) x {len(chosen_targets)} target(s), {budget:g} s per cell, seed {seed}")

    def on_cell(cell) -> None:
        info(f"  {cell.method} {cell.target}: {cell.successes}/{cell.restarts} exact, "
             f"{len(cell.found_times)}/{cell.searches} timed searches found one", as_json)

    where = "one worker" if scheduler is None else f"timed searches on the Dask cluster {scheduler.describe()}"
    if scheduler is None:
        cells = run_bench(chosen, chosen_targets, budget, seed=seed, searches=searches, on_cell=on_cell)
    else:
        with scheduler:  # one cluster for every cell
            cells = run_bench(chosen, chosen_targets, budget, seed=seed, searches=searches, on_cell=on_cell,
                              scheduler=scheduler)
    if as_json:
        echo_json({"machine": machine, "budget": budget, "seed": seed, "where": where,
                   "cells": [c.to_json() for c in cells]})
        return
    click.echo(f"machine: {machine}")
    click.echo(f"budget {budget:g} s per cell (half rate, half timed searches), seed {seed}, {where}")
    click.echo("\n".join(format_table(cells)))
