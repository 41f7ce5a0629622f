"""Numba kernels of :mod:`discover.fastmm` (imported lazily: numba is heavy).

Both kernels run over rows in parallel (``prange``) and read each input block and write
each result block exactly once, so a level costs one pass over memory per side instead
of one pass per addition.
"""
from __future__ import annotations

import numba as nb
from numba import prange

from .jitcache import configure

configure()  # before the kernels are decorated: numba's cache per version of the sources


@nb.njit(parallel=True, cache=True, nogil=True)
def combine(X, rows, cols, bi, bj, coef, out):  # pragma: no cover - compiled
    """``out = sum_t coef[t] * X[block bi[t], bj[t]]`` with blocks of ``rows x cols``."""
    nt = coef.shape[0]
    for r in prange(rows):
        r0 = bi[0] * rows + r
        c0 = bj[0] * cols
        a = coef[0]
        for c in range(cols):
            out[r, c] = a * X[r0, c0 + c]
        for t in range(1, nt):
            rt = bi[t] * rows + r
            ct = bj[t] * cols
            a = coef[t]
            for c in range(cols):
                out[r, c] += a * X[rt, ct + c]


@nb.njit(parallel=True, cache=True, nogil=True)
def gather(M, C, rows, cols, nblocks_p, ptr, ks, coef):  # pragma: no cover - compiled
    """C block ``b = i * nblocks_p + l`` = ``sum_t coef[t] * M[ks[t]]`` over ``ptr[b]:ptr[b+1]``."""
    nb_ = ptr.shape[0] - 1
    for idx in prange(nb_ * rows):
        b = idx // rows
        r = idx - b * rows
        i = b // nblocks_p
        cr = i * rows + r
        cc = (b - i * nblocks_p) * cols
        start = ptr[b]
        stop = ptr[b + 1]
        if start == stop:
            for c in range(cols):
                C[cr, cc + c] = 0
            continue
        k = ks[start]
        a = coef[start]
        for c in range(cols):
            C[cr, cc + c] = a * M[k, r, c]
        for t in range(start + 1, stop):
            k = ks[t]
            a = coef[t]
            for c in range(cols):
                C[cr, cc + c] += a * M[k, r, c]
