"""The matmul benchmark's engine (``strassen bench matmul`` prints it): generated numpy (and C) code against ``numpy.matmul``.

Times are the best of ``--repeats`` runs, measured pair by pair (plain, then the scheme)
on the same inputs in the same run, so the ratio of each row compares like with like.
"""
from __future__ import annotations

import importlib.util
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from ..errors import DiscoverError
from ..machine import describe_machine
from ..scheme import Scheme

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


def c_rows(scheme: Scheme, folder: Path, sizes: tuple[int, ...], repeats: int, say: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Generated C (1 and 2 levels) against its own plain loop (levels=0): a sanity check."""
    import ctypes

    from . import generate
    from .c import function_name

    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        say("no C compiler found: C sanity check skipped")
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
            say(f"  C {n:>6} {levels:>6} {plain:>10.3f} {t:>10.3f} {plain / t:>7.3f}x {err:>9.1e}")
    return rows


def c_blas_rows(scheme: Scheme, folder: Path, sizes: tuple[int, ...], levels: tuple[int, ...], pairs: int,
                say: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Generated C with BLAS leaf products (built by :func:`~.cbuild.build_shared`) against
    ``numpy.matmul`` on the same BLAS: float64, square, plain and scheme interleaved pair by pair,
    the median of the pairs (the figure the issue's acceptance asks for)."""
    import ctypes
    import statistics

    from .c import function_name
    from .cbuild import build_shared, compiler, find_blas

    if compiler() is None or find_blas() is None:
        say("no C compiler or no BLAS found: C with BLAS leaves skipped")
        return []
    fn = getattr(ctypes.CDLL(str(build_shared(scheme, folder / "libscheme_blas.so"))), function_name(scheme))
    fn.restype = ctypes.c_int
    ptr = ctypes.POINTER(ctypes.c_double)
    rows = []
    rng = np.random.default_rng(0)
    for n in sizes:
        A, B = rng.standard_normal((n, n)), rng.standard_normal((n, n))
        plain_out, scheme_out = np.empty((n, n)), np.empty((n, n))
        for lv in levels:
            plain, mine = [], []
            for _ in range(pairs):
                start = time.perf_counter()
                np.matmul(A, B, out=plain_out)
                plain.append(time.perf_counter() - start)
                start = time.perf_counter()
                if fn(n, n, n, A.ctypes.data_as(ptr), n, B.ctypes.data_as(ptr), n, scheme_out.ctypes.data_as(ptr), n, lv, 1):
                    raise DiscoverError("the generated C code could not allocate its work buffers")
                mine.append(time.perf_counter() - start)
            p, m = statistics.median(plain), statistics.median(mine)
            err = float(np.abs(scheme_out - plain_out).max() / (np.abs(A).max() * np.abs(B).max()))
            pair_text = ", ".join(f"{a / b:.2f}" for a, b in zip(plain, mine))
            rows.append({"size": n, "levels": lv, "plain_s": p, "scheme_s": m, "ratio": p / m, "error": err,
                         "pairs": [a / b for a, b in zip(plain, mine)]})
            say(f"  C+BLAS {n:>6} {lv:>6} {p:>10.3f} {m:>10.3f} {p / m:>7.3f}x {err:>9.1e}  pairs {pair_text}")
    return rows


def measure_scheme(module: Any, size_list: tuple[int, ...], level_list: tuple[int, ...], repeats: int,
                   rng: np.random.Generator, say: Callable[[str], None], dtype: str = "float64",
                   run: Optional[Callable[..., Any]] = None) -> list[dict[str, Any]]:
    """Time a scheme against ``numpy.matmul`` for every size and level in ``dtype``.

    ``run(A, B, levels, out)`` computes the scheme's product (default: the generated module's
    ``matmul``; ``strassen bench matmul --backend fused`` passes :func:`discover.fastmm.fused_matmul`).
    The error is normwise against the plain product, relative to ``max|A| max|B|``.
    """
    if run is None:
        def run(A: Any, B: Any, lv: int, out: Any) -> Any:
            return module.matmul(A, B, levels=lv, out=out)
    item = np.dtype(dtype).itemsize
    rows = []
    for n in size_list:
        free_bytes = available_memory()
        need = needed_memory(module, n, max(level_list)) * item // 8
        if free_bytes is not None and need > 0.9 * free_bytes:
            say(f"  {n:>6}: skipped, needs about {need / 2**30:.1f} GiB of {free_bytes / 2**30:.1f} GiB available")
            continue
        A, B = rng.standard_normal((n, n)).astype(dtype), rng.standard_normal((n, n)).astype(dtype)
        ref, C = np.empty((n, n), dtype), np.empty((n, n), dtype)
        reps = repeats if n < LARGE else 1
        for k, lv in enumerate(level_list):
            t_np = best_time(lambda A=A, B=B, ref=ref: np.matmul(A, B, out=ref), reps, warmup=k == 0)
            t_s = best_time(lambda A=A, B=B, C=C, lv=lv: run(A, B, lv, C), reps)
            err = float(np.abs(C.astype(np.float64) - ref).max() / (np.abs(A).max() * np.abs(B).max()))
            row = {"size": n, "levels": lv, "dtype": dtype, "numpy_s": t_np, "scheme_s": t_s, "ratio": t_np / t_s,
                   "error": err}
            rows.append(row)
            say(f"  {n:>6} {lv:>6} {dtype:>8} {t_np:>10.3f} {t_s:>10.3f} {t_np / t_s:>7.3f}x {err:>9.1e}")
        module.clear_workspace()
        del A, B, ref, C
    return rows
