"""``strassen tune``: measure plain against scheme products here and save the dispatch table."""
from __future__ import annotations

import os
from typing import Optional

import click

from .common import echo_json, fail, info
from ..tunetable import DEFAULT_MARGIN


def _ints(text: str, name: str) -> tuple[int, ...]:
    try:
        values = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        fail(f"{name} takes comma-separated integers, got {text!r}")
    if not values or any(v < 1 for v in values):
        fail(f"{name} must be positive integers, got {text!r}")
    return values


@click.command("tune")
@click.option("--schemes", default="strassen,winograd,catalog:3x3x3", show_default=True,
              help="Comma-separated scheme sources to try.")
@click.option("--sizes", default="512,1024,2048,4096", show_default=True, help="Square size classes.")
@click.option("--levels", default="1,2", show_default=True, help="Level counts to try.")
@click.option("--dtypes", default="float64,float32", show_default=True, help="float64 and/or float32.")
@click.option("--backend", type=click.Choice(["numpy", "torch"]), default="numpy", show_default=True,
              help="numpy arrays (fused kernels + BLAS) or torch tensors (SchemeMatmul).")
@click.option("--repeats", default=3, show_default=True, type=click.IntRange(1),
              help="Interleaved plain/scheme pairs per figure (fastest run of each side kept).")
@click.option("--margin", default=DEFAULT_MARGIN, show_default=True, type=click.FloatRange(min=1.0),
              help="Minimal measured speed-up for a scheme to be dispatched to.")
@click.option("--merge/--replace", default=True, show_default=True,
              help="Keep the other backend's entries of an existing table.")
@click.option("-o", "--out", "out", default=None, type=click.Path(dir_okay=False),
              help="Where to write the table (default: the user cache, see discover.tunetable.default_path).")
@click.option("--json", "as_json", is_flag=True, help="Also print the table on stdout.")
def tune_command(schemes: str, sizes: str, levels: str, dtypes: str, backend: str, repeats: int, margin: float,
                 merge: bool, out: Optional[str], as_json: bool) -> None:
    """Time the plain product against each scheme, level count and size class on this machine,
    and save the table that ``discover.matmul(A, B, scheme="auto")`` and
    ``SchemeLinear(..., dispatch=True)`` dispatch through (plain product below the crossover).

    Other load on the machine makes the figures noisy: tune on a quiet machine, and again after
    changing BLAS, thread counts or hardware.

    \b
    Examples:
      strassen tune
      strassen tune --sizes 1024,2048 --levels 1 --dtypes float64 -o tune.json
      strassen tune --backend torch --dtypes float32
    """
    from ..tune import tune
    from ..tunetable import choose, load_table, save_table

    dtype_list = tuple(d.strip() for d in dtypes.split(",") if d.strip())
    bad = [d for d in dtype_list if d not in ("float64", "float32")]
    if bad or not dtype_list:
        fail(f"--dtypes takes float64 and/or float32, got {dtypes!r}")
    table = tune(tuple(s.strip() for s in schemes.split(",") if s.strip()), _ints(sizes, "--sizes"),
                 _ints(levels, "--levels"), dtype_list, backend, repeats, margin=margin, say=info)
    if merge:
        try:
            old = load_table(out) if out is None or os.path.exists(out) else None
        except Exception:  # an unreadable old table is replaced
            old = None
        if old:
            table["entries"] = [e for e in old["entries"] if e.get("backend") != backend] + table["entries"]
    path = save_table(table, out)
    info(f"wrote {path}")
    for dtype in dtype_list:
        picks = [(n, choose(table, backend, dtype, (n, n, n))) for n in _ints(sizes, "--sizes")]
        info(f"{backend} {dtype}: " + ", ".join(f"{n}: {p[0] + ' x' + str(p[1]) if p else 'plain'}" for n, p in picks))
    if as_json:
        echo_json(table)
