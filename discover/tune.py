"""``strassen tune``: when a scheme beats the plain product on this machine, and which one.

:func:`tune` times the plain product against each candidate scheme (catalog scheme, level
count) for each size class and dtype, pair by pair (plain, then scheme, on the same inputs,
the fastest run of each side), and returns a small table; :func:`save_table` writes it atomically
(by default to :func:`default_path`, in the user cache folder). :func:`choose` reads a table:
for a product whose smallest dimension is ``s`` it takes the largest tuned size class ``<= s``
and the fastest configuration measured there, if it beat the plain product by at least the
table's ``margin`` there and at every larger class (a crossover); otherwise (and below the
smallest class) the plain product runs.
``discover.matmul(A, B, scheme="auto")`` and ``SchemeMatmul(..., dispatch=True)`` use it.
"""
from __future__ import annotations

import os
import time
from typing import Any, Callable

import numpy as np

from .errors import TuneError
from .tunetable import DEFAULT_MARGIN, VERSION, choose, default_path, load_table, save_table  # noqa: F401

#: Candidate schemes (sources) tuned by default: the 2x2x2 ones with fewest additions, the best 3x3x3.
DEFAULT_SCHEMES = ("strassen", "winograd", "catalog:3x3x3")
DEFAULT_SIZES = (512, 1024, 2048, 4096)
DEFAULT_LEVELS = (1, 2)
def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _runner(backend: str, dtype: str, source: str, levels: int) -> tuple[Callable, Callable, Callable]:
    """(make inputs, plain product, scheme product) for one backend and dtype."""
    from .blockmm import matmul as scheme_matmul

    if backend == "numpy":
        def make(n: int, rng: np.random.Generator) -> tuple[Any, Any]:
            return rng.standard_normal((n, n)).astype(dtype), rng.standard_normal((n, n)).astype(dtype)

        return make, lambda A, B: np.matmul(A, B), lambda A, B: scheme_matmul(A, B, source, levels)
    if backend == "torch":
        import torch

        def make_t(n: int, rng: np.random.Generator) -> tuple[Any, Any]:
            A, B = rng.standard_normal((n, n)), rng.standard_normal((n, n))
            return torch.from_numpy(A).to(getattr(torch, dtype)), torch.from_numpy(B).to(getattr(torch, dtype))

        def scheme_t(A: Any, B: Any) -> Any:
            with torch.no_grad():
                return scheme_matmul(A, B, source, levels)

        return make_t, lambda A, B: torch.matmul(A, B), scheme_t
    raise TuneError(f"unknown backend {backend!r}; choose numpy or torch")


def tune(schemes: tuple[str, ...] = DEFAULT_SCHEMES, sizes: tuple[int, ...] = DEFAULT_SIZES,
         levels: tuple[int, ...] = DEFAULT_LEVELS, dtypes: tuple[str, ...] = ("float64", "float32"),
         backend: str = "numpy", repeats: int = 3, seed: int = 0, margin: float = DEFAULT_MARGIN,
         say: Callable[[str], None] = lambda line: None) -> dict[str, Any]:
    """Measure plain against scheme on this machine and return the dispatch table.

    Parameters
    ----------
    schemes : tuple of str
        Scheme sources (``strassen``, ``catalog:3x3x3``, a file...), each checked exactly.
    sizes : tuple of int
        Square size classes.
    levels, dtypes
        Level counts and dtypes to try.
    backend : {"numpy", "torch"}
        numpy arrays (the fused backend for floats) or torch tensors (``SchemeMatmul``).
    repeats : int
        Timed pairs per figure; runs are interleaved plain / scheme, and the fastest run of each
        side is kept (the plain runs of every configuration of one size pooled).
    margin : float
        Minimal speed-up for a configuration to be dispatched to.
    say : callable
        Receives one progress line per figure.

    Returns
    -------
    dict
        ``{"version", "machine", "load", "margin", "entries": [{backend, dtype, scheme, levels,
        size, plain_s, scheme_s, speedup}, ...]}``.

    Examples
    --------
    >>> from discover.tune import tune, choose
    >>> table = tune(("strassen",), sizes=(8,), levels=(1,), dtypes=("float64",), repeats=1)
    >>> sorted(table["entries"][0])
    ['backend', 'dtype', 'levels', 'plain_s', 'scheme', 'scheme_s', 'size', 'speedup']
    """
    from .blockmm import resolve
    from .machine import describe_machine

    if repeats < 1 or any(s < 1 for s in sizes) or any(lv < 1 for lv in levels):
        raise TuneError("sizes, levels and repeats must be positive")
    for source in schemes:
        resolve(source)  # refuse an inexact or unreadable scheme before timing anything
    rng = np.random.default_rng(seed)
    entries = []
    for dtype in dtypes:
        for n in sizes:
            # Interference on a shared machine only ever slows a run down, so the fastest of several runs
            # is the robust figure; the plain product is timed beside every configuration of this size and
            # all those plain runs are pooled (identical plain products measured up to 1.9x apart here).
            plain_runs: list[float] = []
            here = []
            for source in schemes:
                for lv in levels:
                    make, plain, fast = _runner(backend, dtype, source, lv)
                    A, B = make(n, rng)
                    fast(A, B)  # warm-up: compiles kernels, plans workspace
                    ts = []
                    for _ in range(repeats):
                        plain_runs.append(_timed(lambda: plain(A, B)))
                        ts.append(_timed(lambda: fast(A, B)))
                    here.append({"backend": backend, "dtype": dtype, "scheme": source, "levels": lv, "size": n,
                                 "scheme_s": float(min(ts))})
            for entry in here:
                entry["plain_s"] = float(min(plain_runs))
                entry["speedup"] = entry["plain_s"] / entry["scheme_s"] if entry["scheme_s"] > 0 else 0.0
                entries.append(entry)
                say(f"{backend} {dtype} {n:>6} {entry['scheme']} levels {entry['levels']}: plain {entry['plain_s']:.4f} s, "
                    f"scheme {entry['scheme_s']:.4f} s, speed-up {entry['speedup']:.3f}")
    return {"version": VERSION, "machine": describe_machine(), "load": list(os.getloadavg()),
            "margin": margin, "entries": entries}


