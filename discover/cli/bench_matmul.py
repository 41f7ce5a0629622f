"""``strassen bench matmul``: generated numpy (and C) code against ``numpy.matmul``.

Times are the best of ``--repeats`` runs, measured pair by pair (plain, then the scheme)
on the same inputs in the same run, so the ratio of each row compares like with like.
"""
from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Optional

import click
import numpy as np

from ..machine import describe_machine
from ..errors import DiscoverError
from ..scheme import Scheme
from .bench_cmd import bench_group
from .common import echo_json, fail, info

FULL_SIZES = (1024, 2048, 4096, 8192, 16384)
QUICK_SIZES = (1024, 2048, 4096)
#: From this size on every figure is a single timed run (one product takes tens of seconds).
LARGE = 8192


def machine_description() -> str:
    """The machine line, with numpy's version and BLAS."""
    blas = ""
    try:
        cfg = np.show_config(mode="dicts")  # type: ignore[call-arg]
        blas = cfg.get("Build Dependencies", {}).get("blas", {}).get("name", "")
    except Exception:  # older numpy: no dict mode
        blas = ""
    return describe_machine(f"numpy {np.__version__}{' (' + blas + ')' if blas else ''}")


def bench_scheme(fmt: str) -> tuple[Optional[Scheme], str]:
    """The scheme benchmarked for ``fmt`` and where it came from (catalog or fallback)."""
    from ..catalog import best
    from ..known import winograd
    from ..symmetry import kron

    try:
        scheme = best(fmt)
        return scheme, f"catalog: {scheme.meta.get('name') or fmt} (rank {scheme.rank})"
    except DiscoverError:
        pass
    if fmt == "2x2x2":
        return winograd(), "fallback: discover.known.winograd() (rank 7)"
    if fmt == "4x4x4":
        return kron(winograd(), winograd()), "fallback: kron(winograd, winograd) (rank 49)"
    return None, f"no {fmt} scheme in the catalog; skipped"


def load_generated(scheme: Scheme, folder: Path, name: str) -> Any:
    """Generate the numpy module for ``scheme`` into ``folder`` and import it."""
    from ..codegen import generate

    path = folder / f"{name}.py"
    path.write_text(generate(scheme, "python", "strassen bench matmul"))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def available_memory() -> Optional[int]:
    """MemAvailable in bytes (Linux), else None."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def needed_memory(module: Any, n: int, levels: int) -> int:
    """Bytes for A, B, two results and the generated code's work buffers at ``levels``."""
    fn, fm, fp = module.FORMAT
    ca, cb, cc = module.WORKSPACE
    total = 4 * n * n * 8
    for d in range(1, levels + 1):
        h, w, q = n // fn**d, n // fm**d, n // fp**d
        total += (ca * h * w + cb * w * q + cc * h * q) * 8
    return total


def best_time(fn: Callable[[], Any], repeats: int, warmup: bool = True) -> float:
    """Best wall time of ``repeats`` calls (after one warm-up call unless ``warmup`` is False)."""
    if warmup:
        fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _c_rows(scheme: Scheme, folder: Path, sizes: tuple[int, ...], repeats: int) -> list[dict[str, Any]]:
    """Generated C (1 and 2 levels) against its own plain loop (levels=0): a sanity check."""
    import ctypes

    from ..codegen import generate
    from ..codegen.c import function_name

    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        info("no C compiler found: C sanity check skipped")
        return []
    src, lib = folder / "scheme.c", folder / "libscheme.so"
    src.write_text(generate(scheme, "c", "strassen bench matmul"))
    subprocess.run([gcc, "-O2", "-shared", "-fPIC", str(src), "-o", str(lib)], check=True, capture_output=True)
    fn = getattr(ctypes.CDLL(str(lib)), function_name(scheme))
    fn.restype = ctypes.c_int
    ptr = ctypes.POINTER(ctypes.c_double)
    rows = []
    rng = np.random.default_rng(0)
    for n in sizes:
        A, B = rng.standard_normal((n, n)), rng.standard_normal((n, n))
        C = np.empty((n, n))

        def run(levels: int) -> None:
            if fn(n, n, n, A.ctypes.data_as(ptr), n, B.ctypes.data_as(ptr), n, C.ctypes.data_as(ptr), n, levels, 32):
                raise DiscoverError("the generated C code could not allocate its work buffers")

        plain = best_time(lambda: run(0), repeats)
        for levels in (1, 2):
            t = best_time(lambda: run(levels), repeats)
            err = float(np.abs(C - A @ B).max() / (np.abs(A).max() * np.abs(B).max()))
            rows.append({"size": n, "levels": levels, "plain_s": plain, "scheme_s": t, "ratio": plain / t, "error": err})
            click.echo(f"  C {n:>6} {levels:>6} {plain:>10.3f} {t:>10.3f} {plain / t:>7.3f}x {err:>9.1e}")
    return rows


@bench_group.command("matmul")
@click.option("--quick", is_flag=True, help="Stop at 4096 (and C at 256).")
@click.option("--sizes", default=None, help="Comma-separated square sizes (default 1024..16384).")
@click.option("--formats", default="2x2x2,3x3x3,4x4x4", show_default=True, help="Formats to benchmark.")
@click.option("--levels", default="1,2", show_default=True, help="Recursion levels.")
@click.option("--repeats", default=3, show_default=True, type=click.IntRange(1),
              help="Timed runs per figure, best kept (sizes from 8192 on: one run).")
@click.option("--threads", default=1, show_default=True, type=click.IntRange(1),
              help="Threads for the additions in the generated numpy code (its THREADS setting).")
@click.option("--no-c", is_flag=True, help="Skip the C sanity check.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the random inputs.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON instead of a table.")
def bench_matmul_command(quick: bool, sizes: Optional[str], formats: str, levels: str, repeats: int, threads: int,
                         no_c: bool,
                         seed: int, as_json: bool) -> None:
    """Generated numpy code of the best 2x2x2, 3x3x3 and 4x4x4 schemes against numpy.matmul (float64).

    For every size and level it prints the plain time, the scheme's time, their ratio
    (above 1: the scheme is faster) and the normwise error against the plain product,
    then the crossover size and best ratio per scheme; then the generated C against a
    plain C loop. Other load on the machine makes the ratios noisy: compare rows of one run.

    \b
    Examples:
      strassen bench matmul --quick
      strassen bench matmul --formats 2x2x2 --sizes 2048,4096 --levels 1
    """
    try:
        size_list = tuple(int(s) for s in sizes.split(",")) if sizes else (QUICK_SIZES if quick else FULL_SIZES)
        level_list = tuple(int(s) for s in levels.split(","))
    except ValueError:
        fail("--sizes and --levels take comma-separated integers")
    if any(s < 1 for s in size_list) or any(lv < 1 for lv in level_list):
        fail("sizes and levels must be positive")
    from ..formats import Format

    fmts = [str(Format.parse(f)) for f in formats.split(",") if f.strip()]
    results: dict[str, Any] = {"machine": machine_description(), "schemes": [], "c": []}
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
            say(f"  {'size':>6} {'levels':>6} {'numpy s':>10} {'scheme s':>10} {'ratio':>8} {'error':>9}")
            rows = []
            for n in size_list:
                free_bytes = available_memory()
                if free_bytes is not None and needed_memory(module, n, max(level_list)) > 0.9 * free_bytes:
                    say(f"  {n:>6}: skipped, needs about {needed_memory(module, n, max(level_list)) / 2**30:.1f} GiB "
                        f"of {free_bytes / 2**30:.1f} GiB available")
                    continue
                A, B = rng.standard_normal((n, n)), rng.standard_normal((n, n))
                ref, C = np.empty((n, n)), np.empty((n, n))
                reps = repeats if n < LARGE else 1
                for k, lv in enumerate(level_list):
                    t_np = best_time(lambda A=A, B=B, ref=ref: np.matmul(A, B, out=ref), reps, warmup=k == 0)
                    t_s = best_time(lambda A=A, B=B, C=C, lv=lv: module.matmul(A, B, levels=lv, out=C), reps)
                    err = float(np.abs(C - ref).max() / (np.abs(A).max() * np.abs(B).max()))
                    row = {"size": n, "levels": lv, "numpy_s": t_np, "scheme_s": t_s, "ratio": t_np / t_s, "error": err}
                    rows.append(row)
                    say(f"  {n:>6} {lv:>6} {t_np:>10.3f} {t_s:>10.3f} {t_np / t_s:>7.3f}x {err:>9.1e}")
                module.clear_workspace()
                del A, B, ref, C
            for lv in level_list:
                mine = [r for r in rows if r["levels"] == lv]
                wins = [r["size"] for r in mine if r["ratio"] > 1.0]
                top = max(mine, key=lambda r: r["ratio"]) if mine else None
                if top:
                    cross = f"crossover {min(wins)}" if wins else "no crossover up to " + str(max(size_list))
                    say(f"  {lv} level{'s' if lv > 1 else ''}: {cross}; best ratio {top['ratio']:.3f}x at {top['size']}")
            results["schemes"].append({"format": fmt, "scheme": origin, "additions": module.ADDITIONS,
                                       "stability": stab.to_json(), "rows": rows})
        if not no_c:
            scheme, origin = bench_scheme("2x2x2")
            if scheme is not None:
                say(f"generated C ({origin}) against its plain C loop:")
                say(f"  {'':1} {'size':>6} {'levels':>6} {'loop s':>10} {'scheme s':>10} {'ratio':>8} {'error':>9}")
                results["c"] = _c_rows(scheme, folder, (128, 256) if quick else (256, 512), repeats)
    if as_json:
        echo_json(results)
