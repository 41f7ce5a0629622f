"""``strassen nn-demo`` (StrassenNets on the 8x8 digits) and ``strassen bench nn`` (SchemeLinear speed)."""
from __future__ import annotations

import time

import click

from .bench_cmd import bench_group
from .common import fail, info


def _parse_budgets(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        fail(f"--budgets must be comma-separated numbers, got {text!r}")
    if not values or any(v <= 0 for v in values):
        fail(f"--budgets must be positive numbers, got {text!r}")
    return values


@click.command("nn-demo")
@click.option("--seed", type=int, default=0, show_default=True, help="First training seed.")
@click.option("--seeds", "n_seeds", type=click.IntRange(min=1), default=1, show_default=True,
              help="Number of seeds (seed, seed+1, ...): accuracy is reported as mean ± sd.")
@click.option("--budgets", default="0.5,1,2", show_default=True,
              help="SPN budgets r as multiples of each layer's output channels.")
@click.option("--patch", type=click.IntRange(min=1), default=1, show_default=True,
              help="Output patch side p of the SPN convolutions (r products per p×p patch).")
@click.option("--quick", is_flag=True, help="A few epochs only (a smoke test; accuracies are not meaningful).")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True,
              help="Torch CPU threads (1 is fastest for these tiny models).")
@click.option("-q", "--quiet", is_flag=True, help="No progress on stderr.")
def nn_demo_command(seed: int, n_seeds: int, budgets: str, patch: int, quick: bool, threads: int, quiet: bool) -> None:
    """Train a small CNN on scikit-learn's 8x8 digits, then StrassenNets versions of it.

    Each StrassenNets model replaces every conv and linear layer by a sum-product network with
    ternary weights (budget r multiplications per output patch), trained full precision →
    ternary → ternary frozen with distillation from the baseline. Prints test accuracy and the
    multiplications and additions per image. Needs the ``demo`` extra (scikit-learn).

    \b
    Examples:
      strassen nn-demo
      strassen nn-demo --seeds 3 --budgets 0.5,1
      strassen nn-demo --quick
    """
    import torch

    from ..nn.demo import Schedule, format_table, run_demo

    factors = _parse_budgets(budgets)
    seeds = tuple(range(seed, seed + n_seeds))
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    start = time.perf_counter()
    try:
        rows = run_demo(
            factors, seeds, patch, Schedule.quick() if quick else Schedule(),
            progress=lambda message: info(f"[{time.perf_counter() - start:6.1f}s] {message}", quiet),
        )
    finally:
        torch.set_num_threads(previous_threads)
    click.echo(format_table(rows))
    info(f"done in {time.perf_counter() - start:.1f}s", quiet)


def _bench_scheme(spec: str):
    """A scheme from ``strassen``/``winograd``, a JSON file, or a format looked up in the catalog."""
    from pathlib import Path

    from ..jsonio import load_scheme
    from ..known import KNOWN
    from ..nn.scheme_layers import resolve_scheme

    if spec.lower() in KNOWN:
        return KNOWN[spec.lower()]()
    if spec.endswith(".json") or Path(spec).is_file():
        return load_scheme(spec)
    return resolve_scheme(spec)


@bench_group.command("nn")
@click.option("--scheme", "scheme_spec", default="strassen", show_default=True,
              help="strassen, winograd, a scheme JSON file, or a format (best catalog scheme).")
@click.option("--size", "sizes", type=click.IntRange(min=1), multiple=True,
              help="Rows = inputs = outputs of the layer (repeatable; default 1024).")
@click.option("--levels", "levels_list", type=click.IntRange(min=0), multiple=True,
              help="Recursion levels (repeatable; default 1 and 2).")
@click.option("--repeats", type=click.IntRange(min=1), default=5, show_default=True,
              help="Timed runs per figure (the median is shown).")
@click.option("--threads", type=click.IntRange(min=1), default=None, help="Torch CPU threads (default: torch's).")
@click.option("--quick", is_flag=True, help="Size 256, one level, 2 repeats.")
def bench_nn_command(scheme_spec: str, sizes: tuple[int, ...], levels_list: tuple[int, ...], repeats: int,
                     threads: int | None, quick: bool) -> None:
    """SchemeLinear (float32, forward, no grad) against plain torch.matmul on this CPU.

    Each row times ``x @ W.T`` for an N×N input and an N×N weight both ways, interleaved on
    the same inputs; speed-up = torch time / scheme time (above 1: the scheme is faster), as in
    every benchmark of the tool.

    \b
    Examples:
      strassen bench nn
      strassen bench nn --size 1024 --size 2048 --levels 2 --scheme winograd
    """
    import statistics

    import torch

    from ..machine import describe_machine
    from ..nn.scheme_layers import SchemeLinear

    scheme = _bench_scheme(scheme_spec)
    sizes = sizes or ((256,) if quick else (1024,))
    levels_list = levels_list or ((1,) if quick else (1, 2))
    repeats = 2 if quick else repeats
    if threads is not None:
        torch.set_num_threads(threads)
    machine = describe_machine(f"torch {torch.__version__}", f"{torch.get_num_threads()} threads")
    click.echo(f"# {machine}; scheme {scheme.format} rank {scheme.rank} "
               f"({scheme.meta.get('name', scheme_spec)}), float32, median of {repeats}")
    head = ("N", "levels", "torch ms", "scheme ms", "speed-up", "max rel err")
    click.echo("  ".join(f"{h:>11}" for h in head))
    generator = torch.Generator().manual_seed(0)
    for n in sizes:
        x = torch.randn(n, n, generator=generator)
        for levels in levels_list:
            layer = SchemeLinear(n, n, scheme, levels=levels, bias=False)
            weight_t = layer.weight.detach().t()
            plain, fast = [], []
            with torch.no_grad():
                expected = torch.matmul(x, weight_t)
                got = layer(x)
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    torch.matmul(x, weight_t)
                    t1 = time.perf_counter()
                    layer(x)
                    t2 = time.perf_counter()
                    plain.append(t1 - t0)
                    fast.append(t2 - t1)
            err = ((got - expected).abs().max() / expected.abs().max()).item()
            tp, tf = statistics.median(plain) * 1e3, statistics.median(fast) * 1e3
            row = (str(n), str(levels), f"{tp:.2f}", f"{tf:.2f}", f"{tp / tf:.2f}x", f"{err:.1e}")
            click.echo("  ".join(f"{c:>11}" for c in row))
