"""``strassen nn-demo`` (StrassenNets on the 8x8 digits or a character LM) and ``strassen bench nn`` (SchemeLinear speed)."""
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
@click.option("--task", type=click.Choice(["image", "lm"]), default="image", show_default=True,
              help="image: a CNN on the 8x8 digits; lm: a character-level LSTM language model.")
@click.option("--text", "text_file", default=None, metavar="FILE",
              help="Corpus of the lm task (UTF-8 text; its first 200,000 characters, the last tenth "
                   "held out); default: the Python documentation topics that ship with the interpreter "
                   "(pydoc_data).")
@click.option("--seed", type=int, default=0, show_default=True, help="First training seed.")
@click.option("--seeds", "n_seeds", type=click.IntRange(min=1), default=1, show_default=True,
              help="Number of seeds (seed, seed+1, ...): scores are reported as mean ± sd.")
@click.option("--budgets", default=None,
              help="SPN budgets r as multiples of each layer's output channels (image, default 0.5,1,2) "
                   "or of the LSTM's 4·hidden gate rows (lm, default 1).")
@click.option("--patch", type=click.IntRange(min=1), default=1, show_default=True,
              help="Output patch side p of the SPN convolutions (image task; r products per p×p patch).")
@click.option("--quick", is_flag=True, help="A few epochs of small models (a smoke test; scores are not meaningful).")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True,
              help="Torch CPU threads (1 is fastest for these tiny models).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Seeds trained at once in separate processes (same results as one at a time).")
@click.option("-q", "--quiet", is_flag=True, help="No progress on stderr.")
def nn_demo_command(task: str, text_file: str | None, seed: int, n_seeds: int, budgets: str | None, patch: int,
                    quick: bool, threads: int, jobs: int, quiet: bool) -> None:
    """Train a small full-precision model, then StrassenNets versions of it.

    Each StrassenNets model replaces the matrix products by sum-product networks with ternary
    weights (budget r multiplications per output patch or time step), trained full precision →
    ternary → ternary frozen with distillation from the baseline.

    \b
    --task image: a CNN on scikit-learn's 8x8 digits (needs the demo extra); prints test
      accuracy and the multiplications and additions of the conv and linear layers per image.
    --task lm: a character-level LSTM language model (embedding, LSTM, linear) on --text or
      on the Python documentation shipped with the interpreter (no download); prints bits per
      character and the multiplications and additions of the LSTM per character.

    \b
    Examples:
      strassen nn-demo
      strassen nn-demo --seeds 3 --budgets 0.5,1
      strassen nn-demo --task lm --seeds 3 --jobs 3
      strassen nn-demo --task lm --text book.txt --budgets 1
      strassen nn-demo --quick
    """
    if task == "image" and text_file is not None:
        fail("--text applies to --task lm only")
    if task == "lm" and patch != 1:
        fail("--patch applies to --task image only")
    factors = _parse_budgets(budgets if budgets is not None else ("0.5,1,2" if task == "image" else "1"))
    seeds = tuple(range(seed, seed + n_seeds))

    import torch

    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    start = time.perf_counter()

    def progress(message: str) -> None:
        info(f"[{time.perf_counter() - start:6.1f}s] {message}", quiet)

    try:
        if task == "image":
            from ..nn.demo import Schedule, format_table, run_demo

            rows = run_demo(factors, seeds, patch, Schedule.quick() if quick else Schedule(), progress=progress, jobs=jobs)
            table = format_table(rows)
        else:
            from ..nn.charlm import default_corpus, read_corpus
            from ..nn.lm_demo import LM_QUICK, LM_SCHEDULE, LMSettings, format_lm_table, run_lm_demo

            corpus = read_corpus(text_file) if text_file is not None else default_corpus()
            rows, note = run_lm_demo(
                corpus, factors, seeds, LM_QUICK if quick else LM_SCHEDULE,
                LMSettings.quick() if quick else LMSettings(), progress=progress, jobs=jobs,
            )
            table = format_lm_table(rows, note)
    finally:
        torch.set_num_threads(previous_threads)
    click.echo(table)
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
