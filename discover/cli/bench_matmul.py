"""``strassen bench matmul``: prints the table of :mod:`discover.codegen.bench`."""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any, Optional

import click
import numpy as np

from .bench_cmd import bench_group
from .common import echo_json, fail


@bench_group.command("matmul")
@click.option("--quick", is_flag=True, help="Stop at 4096 (and C at 256).")
@click.option("--sizes", default=None, help="Comma-separated square sizes (default 1024..16384).")
@click.option("--formats", default="2x2x2,3x3x3,4x4x4", show_default=True, help="Formats to benchmark.")
@click.option("--levels", default="1,2", show_default=True, help="Recursion levels.")
@click.option("--repeats", default=3, show_default=True, type=click.IntRange(1),
              help="Timed runs per figure, best kept (sizes from 8192 on: one run).")
@click.option("--threads", default=1, show_default=True, type=click.IntRange(1),
              help="Threads for the additions in the generated numpy code (its THREADS setting).")
@click.option("--dtypes", default="float64,float32", show_default=True, help="float64 and/or float32.")
@click.option("--backend", type=click.Choice(["fused", "generated"]), default="fused", show_default=True,
              help="fused: discover.matmul's numba kernels + BLAS leaves; generated: the exported numpy code.")
@click.option("--alt-basis", "alt_basis", is_flag=True,
              help="Also time each scheme in its alternative basis (Karstadt–Schwartz, fused backend) and report "
                   "its additions per level beside the standard basis's.")
@click.option("--no-c", is_flag=True, help="Skip the C sanity check.")
@click.option("--c-blas", "c_blas", default=None, metavar="SIZES",
              help="Also time the generated C with BLAS leaves against numpy.matmul at these sizes "
                   "(float64, interleaved pairs, median; the scheme of each --formats entry, or --c-schemes).")
@click.option("--c-schemes", default=None, help="Scheme sources for --c-blas (e.g. winograd,strassen).")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the random inputs.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON instead of a table.")
def bench_matmul_command(quick: bool, sizes: Optional[str], formats: str, levels: str, repeats: int, threads: int,
                         dtypes: str, backend: str, alt_basis: bool, no_c: bool, c_blas: Optional[str],
                         c_schemes: Optional[str],
                         seed: int, as_json: bool) -> None:
    """The best 2x2x2, 3x3x3 and 4x4x4 schemes against numpy.matmul (float64 and float32).

    For every size and level it prints the plain time, the scheme's time, the speed-up (plain time / scheme time)
    (above 1: the scheme is faster) and the normwise error against the plain product,
    then the crossover size and best speed-up per scheme; then the generated C against a
    plain C loop. Other load on the machine makes the ratios noisy: compare rows of one run.

    \b
    Examples:
      strassen bench matmul --quick
      strassen bench matmul --formats 2x2x2 --sizes 2048,4096 --levels 1
      strassen bench matmul --formats 2x2x2 --sizes 4096 --c-blas 4096,8192 --c-schemes winograd,strassen
      strassen bench matmul --formats 2x2x2 --sizes 4096 --alt-basis --no-c
    """
    from ..codegen.bench import FULL_SIZES, QUICK_SIZES

    try:
        size_list = tuple(int(s) for s in sizes.split(",")) if sizes else (QUICK_SIZES if quick else FULL_SIZES)
        level_list = tuple(int(s) for s in levels.split(","))
        c_blas_sizes = tuple(int(s) for s in c_blas.split(",")) if c_blas else ()
    except ValueError:
        fail("--sizes, --levels and --c-blas take comma-separated integers")
    if any(s < 1 for s in c_blas_sizes):
        fail("--c-blas sizes must be positive")
    if any(s < 1 for s in size_list) or any(lv < 1 for lv in level_list):
        fail("sizes and levels must be positive")
    from ..codegen.bench import bench_scheme, c_rows, load_generated, machine_description, measure_scheme
    from ..formats import Format

    fmts = [str(Format.parse(f)) for f in formats.split(",") if f.strip()]
    dtype_list = [d.strip() for d in dtypes.split(",") if d.strip()]
    if not dtype_list or any(d not in ("float64", "float32") for d in dtype_list):
        fail(f"--dtypes takes float64 and/or float32, got {dtypes!r}")
    if backend == "fused" or alt_basis:
        from ..fastmm import available

        if not available():
            fail("--backend fused and --alt-basis need numba; use --backend generated")
    results: dict[str, Any] = {"machine": machine_description(), "schemes": [], "c": [], "c_blas": []}
    out = sys.stderr if as_json else sys.stdout

    def say(line: str) -> None:
        click.echo(line, file=out)

    say(f"machine: {results['machine']}")
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory(prefix="strassen-bench-") as tmp:
        folder = Path(tmp)
        for fmt in fmts:
            scheme, origin = bench_scheme(fmt)
            say(f"{fmt}: {origin}")
            if scheme is None:
                continue
            module = load_generated(scheme, folder, f"gen_{fmt.replace('x', '_')}")
            module.THREADS = threads
            from ..stability import measure_stability

            stab = measure_stability(scheme)
            say(f"  additions per level {module.ADDITIONS} (plain {scheme.additions}); {stab.summary()}")
            say(f"  backend: {backend}")
            say(f"  {'size':>6} {'levels':>6} {'dtype':>8} {'numpy s':>10} {'scheme s':>10} {'speed-up':>8} {'error':>9}")
            run = None
            if backend == "fused":
                from ..fastmm import fused_matmul

                def run(A: Any, B: Any, lv: int, out: Any, scheme: Any = scheme) -> Any:
                    return fused_matmul(A, B, scheme, lv, out=out)
            rows = [row for dtype in dtype_list
                    for row in measure_scheme(module, size_list, level_list, repeats, rng, say, dtype, run)]
            _summary(rows, dtype_list, level_list, size_list, say, "")
            entry = {"format": fmt, "scheme": origin, "backend": backend, "additions": module.ADDITIONS,
                     "stability": stab.to_json(), "rows": rows}
            if alt_basis:
                entry["alt_basis"] = _alt_rows(scheme, module, size_list, level_list, repeats, rng, say, dtype_list)
            results["schemes"].append(entry)
        if not no_c:
            scheme, origin = bench_scheme("2x2x2")
            if scheme is not None:
                say(f"generated C ({origin}) against its plain C loop:")
                say(f"  {'':1} {'size':>6} {'levels':>6} {'loop s':>10} {'scheme s':>10} {'speed-up':>8} {'error':>9}")
                results["c"] = c_rows(scheme, folder, (128, 256) if quick else (256, 512), repeats, say)
        if c_blas_sizes:
            from ..codegen.bench import c_blas_rows
            from ..sources import load_source

            for source in (c_schemes.split(",") if c_schemes else fmts):
                scheme = load_source(source.strip()) if c_schemes else bench_scheme(source)[0]
                if scheme is None:
                    continue
                say(f"generated C with BLAS leaves ({source.strip()}, rank {scheme.rank}) against numpy.matmul, float64, "
                    f"median of {repeats} interleaved pairs:")
                say(f"  {'':6} {'size':>6} {'levels':>6} {'numpy s':>10} {'scheme s':>10} {'speed-up':>8} {'error':>9}")
                rows = c_blas_rows(scheme, folder, c_blas_sizes, level_list, repeats, say)
                results["c_blas"].append({"scheme": source.strip(), "rows": rows})
    if as_json:
        echo_json(results)


def _summary(rows: list, dtype_list: list, level_list: tuple, size_list: tuple, say: Any, label: str) -> None:
    """Per dtype and level: the crossover (smallest size from which on every size is faster) and the best speed-up."""
    for dtype in dtype_list:
        for lv in level_list:
            mine = [r for r in rows if r["levels"] == lv and r["dtype"] == dtype]
            wins = [r["size"] for r in mine if r["ratio"] > 1.0]
            top = max(mine, key=lambda r: r["ratio"]) if mine else None
            if top:
                later = [s for s in wins if all(r["ratio"] > 1.0 for r in mine if r["size"] >= s)]
                cross = f"crossover {min(later)}" if later else "no crossover up to " + str(max(size_list))
                say(f"  {label}{dtype} {lv} level{'s' if lv > 1 else ''}: {cross}; best speed-up "
                    f"{top['ratio']:.3f}x at {top['size']}")


def _alt_rows(scheme: Any, module: Any, size_list: tuple, level_list: tuple, repeats: int, rng: Any, say: Any,
              dtype_list: list) -> dict:
    """The same table for the scheme in its alternative basis (numpy timed again beside it, row by row)."""
    from ..altbasis import find_alt_basis
    from ..altmm import alt_matmul
    from ..codegen.bench import measure_scheme

    alt = find_alt_basis(scheme)
    core, changes = alt.core_additions(), alt.basis_additions()
    say(f"  alternative basis: additions per level {core['total']} (standard basis: {scheme.additions} "
        f"written plainly, {module.ADDITIONS} with shared subexpressions); basis changes {changes['total']} "
        "per level, once at the top")
    say(f"  {'size':>6} {'levels':>6} {'dtype':>8} {'numpy s':>10} {'alt s':>10} {'speed-up':>8} {'error':>9}")

    def run(A: Any, B: Any, lv: int, out: Any) -> Any:
        return alt_matmul(A, B, alt, lv, out=out)

    rows = [row for dtype in dtype_list
            for row in measure_scheme(module, size_list, level_list, repeats, rng, say, dtype, run)]
    _summary(rows, dtype_list, level_list, size_list, say, "alt ")
    return {"additions": core["total"], "basis_changes": changes["total"], "rows": rows}
