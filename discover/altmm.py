"""Run an alternative-basis scheme (:mod:`discover.altbasis`) on float arrays with the fused kernels.

``C = ωᵀ_rec( core_rec( φ_rec(A), ψ_rec(B) ) )`` for the top ``N1×K1`` / ``K1×P1`` part whose
dimensions ``n^L``, ``m^L``, ``p^L`` divide (``L`` levels):

* ``φ_rec`` is ``L`` passes over A, one per block level; pass ``t`` applies ``φ`` to the
  ``n×m`` grid of blocks inside every block of level ``t − 1``. Each output block is one
  call of the fused ``combine`` kernel of :mod:`discover.fastmm` (the same "sum of blocks"
  pass as an operand sum), reading its input blocks once; passes alternate between the
  result and one work buffer, so the input is never written;
* the core runs ``L`` recursive levels through :mod:`discover.fastmm` (operand sums,
  BLAS leaves, one gathering pass into C̃ per level), with the core's fewer additions;
* ``ωᵀ_rec`` turns C̃ into C the same way, its last pass writing straight into C.

The rows and columns the format does not divide at level ``L`` are peeled once at the
top (plain BLAS products), so the basis changes never meet a ragged edge. The number of
levels is the largest ``L ≤ levels`` whose blocks are at least ``cutoff`` in every
dimension. Float and complex dtypes only, like the fused backend.
"""
from __future__ import annotations

import threading
from typing import Any

import numpy as np

from .altbasis import AltBasisScheme
from .fastmm import _kernels, _mul, fused_operands, fused_plan

_local = threading.local()


def clear_workspace() -> None:
    """Free the transformed operands and work buffers kept between calls (in this thread)."""
    _local.buffers = {}


def _buffer(role: str, shape: tuple[int, int], dtype: np.dtype) -> np.ndarray:
    buffers = getattr(_local, "buffers", None)
    if buffers is None:
        buffers = _local.buffers = {}
    key = (role, shape, dtype.str)
    if key not in buffers:
        for old in [k for k in buffers if k[0] == role]:
            del buffers[old]
        buffers[key] = np.empty(shape, dtype)
    return buffers[key]


def _rows(T: np.ndarray, grid_cols: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per output block ``e`` of a grid: the nonzeros of row ``e`` of ``T`` as (block rows, block cols, coefs)."""
    out = []
    for e in range(T.shape[0]):
        idx = [j for j in range(T.shape[1]) if T[e, j] != 0]
        out.append((np.array([j // grid_cols for j in idx], np.int64), np.array([j % grid_cols for j in idx], np.int64),
                    np.array([float(T[e, j]) for j in idx])))
    return out


def basis_change(X: np.ndarray, T: np.ndarray, grid: tuple[int, int], levels: int, target: np.ndarray,
                 work: "np.ndarray | None" = None) -> np.ndarray:
    """``target = T_rec(X)``: the block map ``T`` applied at every one of ``levels`` block levels.

    Parameters
    ----------
    X : numpy.ndarray
        2-D, dimensions divisible by ``grid[0]**levels`` and ``grid[1]**levels``; not written.
    T : numpy.ndarray
        Exact (d×d) map on the row-major grid of blocks, ``d = grid[0]·grid[1]``.
    grid : (int, int)
        Blocks per block row and column at every level (``(n, m)`` for A).
    levels : int
        Block levels (≥ 1).
    target, work : numpy.ndarray
        Result and, for ``levels ≥ 2``, a work buffer of X's shape and dtype.
    """
    gr, gc = grid
    kernels = _kernels()
    rows = [(bi, bj, coef.astype(target.dtype)) for bi, bj, coef in _rows(T, gc)]
    # Destinations backwards from the target, alternating with the work buffer.
    dsts = [target if (levels - t) % 2 == 0 else work for t in range(1, levels + 1)]
    src = X
    for t in range(1, levels + 1):
        dst = dsts[t - 1]
        assert dst is not None and dst is not X
        rb, cb = X.shape[0] // gr**t, X.shape[1] // gc**t
        for si in range(gr ** (t - 1)):  # the blocks of level t - 1
            for sj in range(gc ** (t - 1)):
                r0, c0 = si * gr * rb, sj * gc * cb
                sub = src[r0:r0 + gr * rb, c0:c0 + gc * cb]
                for e, (bi, bj, coef) in enumerate(rows):
                    i, j = divmod(e, gc)
                    block = dst[r0 + i * rb:r0 + (i + 1) * rb, c0 + j * cb:c0 + (j + 1) * cb]
                    kernels.combine(sub, rb, cb, bi, bj, coef, block)
        src = dst
    return target


def alt_levels(shape: tuple[int, int, int], dims: tuple[int, int, int], levels: int, cutoff: int) -> int:
    """Levels an alternative-basis product of ``shape`` (N, K, P) runs: the largest ``L ≤ levels``
    whose blocks are at least ``cutoff`` in every dimension."""
    for L in range(int(levels), 0, -1):
        if all(size // d**L >= max(1, cutoff) for size, d in zip(shape, dims)):
            return L
    return 0


def alt_matmul(A: np.ndarray, B: np.ndarray, alt: AltBasisScheme, levels: int = 1, cutoff: int = 1,
               out: "np.ndarray | None" = None) -> np.ndarray:
    """``A @ B`` with ``levels`` levels of an alternative-basis scheme (float/complex arrays).

    Parameters
    ----------
    A, B : numpy.ndarray
        Shapes (N, K) and (K, P), of a dtype in :data:`discover.fastmm.DTYPES`.
    alt : AltBasisScheme
        Checked exactly when it was built (:func:`discover.altbasis.find_alt_basis`).
    levels, cutoff : int
        Recursion levels, all decided at the top (see :func:`alt_levels`).
    out : numpy.ndarray, optional
        Preallocated C-contiguous result.

    Examples
    --------
    >>> import numpy as np, discover
    >>> from discover.altbasis import find_alt_basis
    >>> alt = find_alt_basis(discover.load("winograd"))
    >>> A = np.arange(35.).reshape(5, 7); B = np.arange(21.).reshape(7, 3)
    >>> bool((alt_matmul(A, B, alt, levels=2) == A @ B).all())
    True
    """
    A, B, out = fused_operands(A, B, out)
    dtype = A.dtype  # the result dtype: fused_operands converted A and B to it
    N, K = A.shape
    P = B.shape[1]
    n, m, p = alt.core.format.dims
    L = alt_levels((N, K, P), (n, m, p), levels, cutoff)
    if L == 0:
        np.matmul(A, B, out=out)
        return out
    N1, K1, P1 = N - N % n**L, K - K % m**L, P - P % p**L
    At = basis_change(A[:N1, :K1], alt.phi, (n, m), L, _buffer("a", (N1, K1), dtype),
                      _buffer("a work", (N1, K1), dtype) if L > 1 else None)
    Bt = basis_change(B[:K1, :P1], alt.psi, (m, p), L, _buffer("b", (K1, P1), dtype),
                      _buffer("b work", (K1, P1), dtype) if L > 1 else None)
    Ct = _buffer("c", (N1, P1), dtype)
    _mul(At, Bt, Ct, fused_plan(alt.core), L, 1)
    basis_change(Ct, alt.omega.T, (n, p), L, out[:N1, :P1], _buffer("c work", (N1, P1), dtype) if L > 1 else None)
    if K1 < K:
        out[:N1, :P1] += A[:N1, K1:] @ B[K1:, :P1]
    if P1 < P:
        np.matmul(A[:N1], B[:, P1:], out=out[:N1, P1:])
    if N1 < N:
        np.matmul(A[N1:], B, out=out[N1:])
    return out


def alt_module(alt: AltBasisScheme) -> Any:
    """A ``matmul(A, B, levels, cutoff)`` namespace for :func:`discover.matmul`."""
    import types

    return types.SimpleNamespace(matmul=lambda a, b, levels, cutoff: alt_matmul(a, b, alt, levels, cutoff))
