"""The matrix-multiplication tensor and exact reconstruction of a scheme's tensor.

Layout (no transpose): T[i·M + j, j·P + l, i·P + l] = 1 for format <N, M, P>, so that a
scheme is exact when Σ_k vec(U_k) ⊗ vec(V_k) ⊗ vec(W_k) = T.

The dense helpers (:func:`matmul_tensor`, :func:`integer_reconstruction`) serve small
formats; :func:`sparse_residual` expands only the nonzero coefficients, so a large format
with a small rank needs no (N·M)×(M·P)×(N·P) array. Verification uses it.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .coefficients import as_int64
from .errors import LimitError
from .formats import Format
from .limits import MAX_DENSE_ENTRIES, MAX_VERIFY_TERMS
from .scheme import Scheme

#: Largest absolute value the int64 fast path may produce: keeps a margin below 2**63.
INT64_SAFE = 2**62


def matmul_tensor(fmt: Any) -> np.ndarray:
    """The 0/1 tensor of ``<n, m, p>`` as an int64 array of shape (n·m, m·p, n·p)."""
    fmt = Format.parse(fmt)
    n, m, p = fmt.dims
    _check_dense(n * m * m * p * n * p, fmt)
    T = np.zeros((n * m, m * p, n * p), dtype=np.int64)
    i, j, l = np.meshgrid(np.arange(n), np.arange(m), np.arange(p), indexing="ij")
    T[(i * m + j).ravel(), (j * p + l).ravel(), (i * p + l).ravel()] = 1
    return T


def _bound(U: np.ndarray, V: np.ndarray, W: np.ndarray) -> int:
    """Proven bound on |Σ_k U V W| entries: Σ_k max|U_k|·max|V_k|·max|W_k|."""
    def row_max(a: np.ndarray) -> list[int]:
        flat = a.reshape(a.shape[0], int(np.prod(a.shape[1:])))
        fast = as_int64(flat)
        if fast is not None:  # vectorised; .tolist() gives Python ints for the exact sum below
            return np.abs(fast).max(axis=1, initial=0).tolist()
        return [max((abs(int(v)) for v in row), default=0) for row in flat]

    return sum(x * y * z for x, y, z in zip(row_max(U), row_max(V), row_max(W)))


def integer_reconstruction(U: np.ndarray, V: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Σ_k vec(U_k) ⊗ vec(V_k) ⊗ vec(W_k) for integer arrays, exactly.

    Uses int64 when the proven bound on every entry stays below 2**62, else Python integers.
    """
    r = U.shape[0]
    shape = (int(np.prod(U.shape[1:])), int(np.prod(V.shape[1:])), int(np.prod(W.shape[1:])))
    _check_dense(max(shape[0] * shape[1] * shape[2], r * shape[0] * shape[1]), f"{U.shape[1]}x{U.shape[2]}x{V.shape[2]}")
    if r == 0:
        return np.zeros(shape, dtype=np.int64)
    Uf, Vf, Wf = (a.reshape(r, int(np.prod(a.shape[1:]))) for a in (U, V, W))
    if _bound(Uf, Vf, Wf) < INT64_SAFE:
        Uf, Vf, Wf = (np.asarray(a, dtype=np.int64) for a in (Uf, Vf, Wf))
    else:
        Uf, Vf, Wf = (np.asarray(a, dtype=object) for a in (Uf, Vf, Wf))
    khatri_rao = (Uf[:, :, None] * Vf[:, None, :]).reshape(r, Uf.shape[1] * Vf.shape[1])
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


def _check_dense(entries: int, fmt: Any) -> None:
    if entries > MAX_DENSE_ENTRIES:
        raise LimitError(
            f"a dense tensor for format {fmt} needs {entries:,} entries, above the limit of {MAX_DENSE_ENTRIES:,} "
            "(use discover.tensor.sparse_residual)"
        )


# ---------------------------------------------------------------------------- sparse
#: Rank-one entries expanded at once; bounds the temporary arrays to a few tens of MB.
_CHUNK = 1 << 20


def _nonzeros(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Nonzeros of an (r, X) array grouped by row: positions, values, count and start per row."""
    k, pos = np.nonzero(arr != 0)
    values = arr[k, pos]
    counts = np.bincount(k, minlength=arr.shape[0]).astype(np.int64)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    return pos.astype(np.int64), values, counts, starts, k


def _ragged(counts: np.ndarray) -> np.ndarray:
    """``concatenate([arange(c) for c in counts])`` without a Python loop."""
    total = int(counts.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)


def _reduce(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct keys and the sum of the values of each."""
    if keys.size == 0:
        return keys, values
    order = np.argsort(keys, kind="stable")
    keys, values = keys[order], values[order]
    first = np.empty(keys.size, dtype=bool)
    first[0] = True
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    return keys[starts], np.add.reduceat(values, starts)


def expansion_size(U: np.ndarray, V: np.ndarray, W: np.ndarray) -> int:
    """Σ_k nnz(U_k)·nnz(V_k)·nnz(W_k): the rank-one entries a sparse expansion writes."""
    r = U.shape[0]
    counts = []
    for a in (U, V, W):
        flat = a.reshape(r, int(np.prod(a.shape[1:])))
        fast = as_int64(flat)
        counts.append(((fast if fast is not None else flat) != 0).sum(axis=1).astype(object))
    return int(sum(counts[0] * counts[1] * counts[2])) if r else 0


def sparse_residual(scheme: Scheme) -> tuple[np.ndarray, np.ndarray, int]:
    """The nonzero entries of ``numerator − d³·T`` without a dense tensor.

    Returns
    -------
    keys : numpy.ndarray of int64
        Sorted flat positions ``ia·(MP·NP) + ib·NP + ic`` in the layout of :func:`matmul_tensor`.
    values : numpy.ndarray
        The residual there (int64, or Python ints when a proven bound says int64 could
        overflow); zeros are dropped.
    scale : int
        d³, the denominator of the scheme's tensor (1 for integer schemes).

    Raises
    ------
    LimitError
        When Σ_k nnz(U_k)·nnz(V_k)·nnz(W_k) exceeds :data:`~discover.limits.MAX_VERIFY_TERMS`.
    """
    fast = scheme.int64_factors
    U, V, W, d = (*fast, 1) if fast is not None else scheme.int_arrays()
    n, m, p = scheme.format.dims
    r = scheme.rank
    scale = d**3
    Uf, Vf, Wf = (a.reshape(r, int(np.prod(a.shape[1:]))) for a in (U, V, W))
    Uf, Vf, Wf = (x if (x := as_int64(a)) is not None else np.asarray(a, dtype=object) for a in (Uf, Vf, Wf))
    size = expansion_size(Uf, Vf, Wf)
    if size > MAX_VERIFY_TERMS:
        raise LimitError(
            f"verifying {scheme.format} rank {r} expands {size:,} rank-one entries, above the limit of {MAX_VERIFY_TERMS:,}"
        )
    exact_int64 = r == 0 or (_bound(Uf, Vf, Wf) < INT64_SAFE and scale < INT64_SAFE)
    dtype = np.int64 if exact_int64 else object
    Uf, Vf, Wf = (a.astype(dtype) for a in (Uf, Vf, Wf))
    nb, nc = m * p, n * p
    pu, vu, cu, su, _ = _nonzeros(Uf)
    pv, vv, cv, sv, _ = _nonzeros(Vf)
    pw, vw, cw, sw, _ = _nonzeros(Wf)
    per_term = cu * cv * cw
    parts: list[tuple[np.ndarray, np.ndarray]] = []
    pending = 0
    acc = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=dtype))

    def flush() -> None:
        nonlocal acc, pending
        keys = np.concatenate([acc[0], *(k for k, _ in parts)])
        vals = np.concatenate([acc[1], *(v for _, v in parts)])
        acc = _reduce(keys, vals)
        parts.clear()
        pending = 0

    k0 = 0
    while k0 < r:
        # Terms k0..k1-1 hold at most _CHUNK entries (or one term, however large).
        total = np.cumsum(per_term[k0:])
        k1 = k0 + max(1, int(np.searchsorted(total, _CHUNK, side="right")))
        terms = np.arange(k0, k1)
        # Every nonzero of U in these terms, repeated once per nonzero of V of its term ...
        eu = np.repeat(su[terms], cu[terms]) + _ragged(cu[terms])
        ku = np.repeat(terms, cu[terms])
        reps = cv[ku]
        eu2 = np.repeat(eu, reps)
        ev = np.repeat(sv[ku], reps) + _ragged(reps)
        k2 = np.repeat(ku, reps)
        # ... and each pair once per nonzero of W.
        reps = cw[k2]
        eu3, ev3 = np.repeat(eu2, reps), np.repeat(ev, reps)
        ew = np.repeat(sw[k2], reps) + _ragged(reps)
        keys = pu[eu3] * (nb * nc) + pv[ev3] * nc + pw[ew]
        parts.append(_reduce(keys, vu[eu3] * vv[ev3] * vw[ew]))
        pending += keys.size
        if pending > 4 * _CHUNK:
            flush()
        k0 = k1
    i, j, l = np.meshgrid(np.arange(n), np.arange(m), np.arange(p), indexing="ij")
    t_keys = ((i * m + j) * (nb * nc) + (j * p + l) * nc + (i * p + l)).ravel().astype(np.int64)
    t_vals = np.full(t_keys.size, -scale, dtype=dtype) if dtype is np.int64 else np.array([-scale] * t_keys.size, dtype=object)
    parts.append((t_keys, t_vals))
    flush()
    keys, values = acc
    nonzero = values != 0
    return keys[nonzero], values[nonzero], scale
