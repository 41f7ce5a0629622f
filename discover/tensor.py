"""The matrix-multiplication tensor and exact reconstruction of a scheme's tensor.

Layout (no transpose): T[i·M + j, j·P + l, i·P + l] = 1 for format <N, M, P>, so that a
scheme is exact when Σ_k vec(U_k) ⊗ vec(V_k) ⊗ vec(W_k) = T.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .formats import Format
from .scheme import Scheme

#: Largest absolute value the int64 fast path may produce: keeps a margin below 2**63.
INT64_SAFE = 2**62


def matmul_tensor(fmt: Any) -> np.ndarray:
    """The 0/1 tensor of ``<n, m, p>`` as an int64 array of shape (n·m, m·p, n·p)."""
    fmt = Format.parse(fmt)
    n, m, p = fmt.dims
    T = np.zeros((n * m, m * p, n * p), dtype=np.int64)
    i, j, l = np.meshgrid(np.arange(n), np.arange(m), np.arange(p), indexing="ij")
    T[(i * m + j).ravel(), (j * p + l).ravel(), (i * p + l).ravel()] = 1
    return T


def _bound(U: np.ndarray, V: np.ndarray, W: np.ndarray) -> int:
    """Proven bound on |Σ_k U V W| entries: Σ_k max|U_k|·max|V_k|·max|W_k|."""
    def row_max(a: np.ndarray) -> list[int]:
        flat = a.reshape(a.shape[0], -1)
        return [max((abs(int(v)) for v in row), default=0) for row in flat]

    return sum(x * y * z for x, y, z in zip(row_max(U), row_max(V), row_max(W)))


def integer_reconstruction(U: np.ndarray, V: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Σ_k vec(U_k) ⊗ vec(V_k) ⊗ vec(W_k) for integer arrays, exactly.

    Uses int64 when the proven bound on every entry stays below 2**62, else Python integers.
    """
    r = U.shape[0]
    shape = (int(np.prod(U.shape[1:])), int(np.prod(V.shape[1:])), int(np.prod(W.shape[1:])))
    if r == 0:
        return np.zeros(shape, dtype=np.int64)
    Uf, Vf, Wf = (a.reshape(r, -1) for a in (U, V, W))
    if _bound(Uf, Vf, Wf) < INT64_SAFE:
        Uf, Vf, Wf = (np.asarray(a, dtype=np.int64) for a in (Uf, Vf, Wf))
    else:
        Uf, Vf, Wf = (np.asarray(a, dtype=object) for a in (Uf, Vf, Wf))
    khatri_rao = (Uf[:, :, None] * Vf[:, None, :]).reshape(r, -1)
    return (khatri_rao.T @ Wf).reshape(shape)


def reconstruct(scheme: Scheme) -> tuple[np.ndarray, int]:
    """The scheme's tensor as (integer numerator array, denominator d³).

    The exact tensor equals ``numerator / denominator``; for integer schemes the
    denominator is 1.
    """
    U, V, W, d = scheme.int_arrays()
    return integer_reconstruction(U, V, W), d**3


def scaled_tensor(fmt: Any, scale: int) -> np.ndarray:
    """``scale · T`` exactly: int64 while it fits, Python integers beyond."""
    T = matmul_tensor(fmt)
    return T * scale if abs(scale) < INT64_SAFE else T.astype(object) * scale


def residual(scheme: Scheme) -> np.ndarray:
    """Scaled residual ``numerator − d³·T`` (zero exactly when the scheme is exact over Q).

    For mod-2 schemes the residual is reduced mod 2.
    """
    num, den = reconstruct(scheme)
    res = num - scaled_tensor(scheme.format, den)
    if scheme.mod2:
        res = res % 2
    return res
