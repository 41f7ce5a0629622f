"""The fast backend of :func:`discover.matmul` for float arrays: fused, multi-threaded additions
(numba) and BLAS leaf products.

One level of a scheme ``(U, V, W)`` on blocks ``A_ij``, ``B_jl``:

* for every product ``k`` one kernel pass forms ``S_k = sum U[k,i,j] A_ij`` (and ``T_k`` from B)
  into a reused work block, reading each block it needs once and writing ``S_k`` once; an
  operand that is a single block with coefficient 1 is passed as a view, without a copy;
* ``M_k = S_k @ T_k`` goes to BLAS (``numpy.matmul(..., out=)``), or recurses for more levels;
* one kernel pass writes every block of C once: ``C_il = sum_k W[k,i,l] M_k``.

Work buffers (two operand blocks and the ``rank`` products per level) are planned per level
and kept between calls (per thread; :func:`clear_workspace` frees them). Dimensions the
format does not divide are peeled as in the generated code. Only float32/float64 and
complex arrays run here; every other dtype goes through the generated numpy code, whose
exact integer policy this backend does not duplicate (README, "Dtype policy").
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from .scheme import Scheme

#: dtypes this backend computes (others use the generated numpy module).
DTYPES = ("float32", "float64", "complex64", "complex128")

_local = threading.local()
_PLANS: dict[Any, "FusedPlan"] = {}


@dataclass(frozen=True)
class Side:
    """Nonzero coefficients of one operand: block rows ``bi``, block columns ``bj``, values."""

    bi: np.ndarray
    bj: np.ndarray
    coef: np.ndarray  # float64; cast to the data dtype per call

    @property
    def is_view(self) -> bool:
        """A single block with coefficient 1: the product reads the block directly."""
        return len(self.coef) == 1 and self.coef[0] == 1


@dataclass(frozen=True)
class FusedPlan:
    """A scheme's one-level plan: operand sides per product and the C side in CSR form."""

    dims: tuple[int, int, int]
    rank: int
    left: tuple[Side, ...]
    right: tuple[Side, ...]
    ptr: np.ndarray
    ks: np.ndarray
    coef: np.ndarray

    @property
    def additions(self) -> int:
        """Additions per level as this backend performs them (no common subexpressions)."""
        terms = sum(len(s.coef) - 1 for s in self.left + self.right)
        return terms + int(np.maximum(np.diff(self.ptr) - 1, 0).sum())


def _side(block: np.ndarray) -> Side:
    bi, bj = np.nonzero(block)
    return Side(bi.astype(np.int64), bj.astype(np.int64), np.array([float(block[i, j]) for i, j in zip(bi, bj)]))


def fused_plan(scheme: Scheme) -> FusedPlan:
    """The plan of ``scheme`` (cached per scheme)."""
    key = (scheme.format.dims, tuple(tuple(a.ravel().tolist()) for a in scheme.factors))
    if key not in _PLANS:
        U, V, W = (np.asarray(f, dtype=object) for f in scheme.factors)
        n, m, p = scheme.format.dims
        ptr, ks, coef = [0], [], []
        for i in range(n):
            for l in range(p):
                for k in range(scheme.rank):
                    if W[k, i, l] != 0:
                        ks.append(k)
                        coef.append(float(W[k, i, l]))
                ptr.append(len(ks))
        _PLANS[key] = FusedPlan(
            (n, m, p), scheme.rank, tuple(_side(U[k]) for k in range(scheme.rank)),
            tuple(_side(V[k]) for k in range(scheme.rank)),
            np.array(ptr, np.int64), np.array(ks, np.int64), np.array(coef))
    return _PLANS[key]


def _kernels() -> Any:
    """The compiled kernels; numba's own thread pool unless the user chose a threading layer.

    OpenMP's worker threads spin after each kernel (GOMP's wait policy) and take the cores from
    the BLAS threads of the product that follows; numba's ``workqueue`` layer sleeps instead.
    """
    import numba

    if "NUMBA_THREADING_LAYER" not in os.environ and numba.config.THREADING_LAYER == "default":
        from numba.np.ufunc import parallel

        if not parallel._is_initialized:
            numba.config.THREADING_LAYER = "workqueue"
    from . import _fastkernels

    return _fastkernels


def available() -> bool:
    """Whether numba (the kernels' compiler) can be imported."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def clear_workspace() -> None:
    """Free the work buffers kept between calls (in this thread)."""
    _local.buffers = {}


def _work(depth: int, rank: int, h: int, w: int, q: int, dtype: np.dtype) -> tuple[np.ndarray, ...]:
    buffers = getattr(_local, "buffers", None)
    if buffers is None:
        buffers = _local.buffers = {}
    key = (depth, rank, h, w, q, dtype.str)
    if key not in buffers:
        # One buffer set per depth: a deeper level never overwrites the one above it.
        for old in [k for k in buffers if k[0] == depth]:
            del buffers[old]
        buffers[key] = (np.empty((h, w), dtype), np.empty((w, q), dtype), np.empty((rank, h, q), dtype))
    return buffers[key]


def _operand(X: np.ndarray, side: Side, rows: int, cols: int, work: np.ndarray, dtype: np.dtype) -> np.ndarray:
    if side.is_view:
        i, j = int(side.bi[0]), int(side.bj[0])
        return X[i * rows:(i + 1) * rows, j * cols:(j + 1) * cols]
    _kernels().combine(X, rows, cols, side.bi, side.bj, side.coef.astype(dtype), work)
    return work


def _one_level(A: np.ndarray, B: np.ndarray, C: np.ndarray, plan: FusedPlan, depth: int, cutoff: int) -> None:
    n, m, p = plan.dims
    h, w, q = A.shape[0] // n, A.shape[1] // m, B.shape[1] // p
    S, T, M = _work(depth, plan.rank, h, w, q, C.dtype)
    for k in range(plan.rank):
        left = _operand(A, plan.left[k], h, w, S, C.dtype)
        right = _operand(B, plan.right[k], w, q, T, C.dtype)
        _mul(left, right, M[k], plan, depth - 1, cutoff)
    _kernels().gather(M, C, h, q, p, plan.ptr, plan.ks, plan.coef.astype(C.dtype))


def _mul(A: np.ndarray, B: np.ndarray, C: np.ndarray, plan: FusedPlan, depth: int, cutoff: int) -> None:
    n, m, p = plan.dims
    N, K = A.shape
    P = B.shape[1]
    if depth <= 0 or N // n < cutoff or K // m < cutoff or P // p < cutoff:
        np.matmul(A, B, out=C)
        return
    N1, K1, P1 = N - N % n, K - K % m, P - P % p
    _one_level(A[:N1, :K1], B[:K1, :P1], C[:N1, :P1], plan, depth, cutoff)
    if K1 < K:
        C[:N1, :P1] += A[:N1, K1:] @ B[K1:, :P1]
    if P1 < P:
        np.matmul(A[:N1], B[:, P1:], out=C[:N1, P1:])
    if N1 < N:
        np.matmul(A[N1:], B, out=C[N1:])


def fused_matmul(A: np.ndarray, B: np.ndarray, scheme: Scheme, levels: int = 1, cutoff: int = 1,
                 out: "np.ndarray | None" = None) -> np.ndarray:
    """``A @ B`` (2-D float or complex arrays of one dtype) with ``levels`` levels of ``scheme``.

    Parameters
    ----------
    A, B : numpy.ndarray
        Shapes (N, K) and (K, P), of a dtype in :data:`DTYPES` (the result's dtype).
    scheme : Scheme
        An exact scheme (not checked here: :func:`discover.blockmm.resolve` does).
    levels, cutoff : int
        Recursion levels; a level runs only while every block dimension is at least ``cutoff``.
    out : numpy.ndarray, optional
        Preallocated C-contiguous result.

    Examples
    --------
    >>> import numpy as np, discover
    >>> from discover.fastmm import fused_matmul
    >>> A = np.arange(35.).reshape(5, 7); B = np.arange(21.).reshape(7, 3)
    >>> bool((fused_matmul(A, B, discover.load("strassen"), levels=2) == A @ B).all())
    True
    """
    A, B, out = fused_operands(A, B, out)
    _mul(A, B, out, fused_plan(scheme), int(levels), max(1, int(cutoff)))
    return out


def fused_operands(A: Any, B: Any, out: Optional[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``A`` and ``B`` as arrays of their result dtype (one of :data:`DTYPES`, else TypeError), and
    ``out`` (allocated when None): the common start of every fused product."""
    dtype = np.result_type(A, B)
    if dtype.name not in DTYPES:
        raise TypeError(f"the fused backend computes {', '.join(DTYPES)}, not {dtype}")
    A = np.asarray(A, dtype=dtype)
    B = np.asarray(B, dtype=dtype)
    if out is None:
        out = np.empty((A.shape[0], B.shape[1]), dtype)
    return A, B, out
