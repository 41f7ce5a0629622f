"""Schemes mod 3 and their 3-adic (Hensel) lift to Q: schemes with halves.

Over GF(3) the value 2 is both −1 and 1/2, so a scheme found mod 3 may lift to a rational
scheme whose denominators are powers of 2 — what ``--ring Q`` asks for and what the ternary
walk cannot reach. The walk mod 3 is the compiled one of :mod:`.gf3runners`.

:func:`hensel_lift3` corrects a solution mod 3^k to one mod 3^(k+1) by solving the Jacobian
system mod 3 (free unknowns set to 0; the Jacobian at the start point is eliminated once, in
compiled code, and serves every step), then reconstructs each coefficient as a fraction with
denominator prime to 3 and checks the result exactly.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Optional

import numpy as np
from .jit import njit

from ..formats import Format
from ..scheme import Scheme
from ..tensor import matmul_tensor
from ..verify import verify_exact
from .lift import rational_reconstruction

P = 3


def _flat_tensor(fmt: Format) -> np.ndarray:
    return matmul_tensor(fmt).astype(np.int64)


def naive_mod3(fmt: Format) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The naive scheme as flat (r, n·m), (r, m·p), (r, n·p) arrays."""
    s = Scheme.naive(fmt)
    U, V, W = s.int64_arrays()
    return U.reshape(s.rank, -1) % P, V.reshape(s.rank, -1) % P, W.reshape(s.rank, -1) % P


def tensor_mod3(A: np.ndarray, B: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Σ a_k⊗b_k⊗c_k mod 3."""
    return np.einsum("ka,kb,kc->abc", A, B, C) % P


def is_exact_mod3(F: list[np.ndarray], fmt: Format) -> bool:
    """Whether flat factor arrays satisfy Σ a⊗b⊗c ≡ T (mod 3)."""
    return bool(np.array_equal(tensor_mod3(*F), _flat_tensor(fmt) % P))


@njit(cache=True)
def _eliminate_mod3(A, ncols):
    """Gauss–Jordan elimination mod 3 of A = [M | I] over M's ``ncols`` columns, in place.

    Afterwards A[:, ncols:] is the row transform E (E·M is in reduced echelon form); returns the
    pivot columns. Rows with a zero entry in the pivot column are skipped (M is sparse).
    """
    rows, total = A.shape
    pivots = np.empty(min(rows, ncols), dtype=np.int64)
    row = 0
    for col in range(ncols):
        if row >= rows:
            break
        piv = -1
        for q in range(row, rows):
            if A[q, col] != 0:
                piv = q
                break
        if piv < 0:
            continue
        if piv != row:
            for c in range(total):
                A[row, c], A[piv, c] = A[piv, c], A[row, c]
        if A[row, col] == 2:  # 2·2 ≡ 1
            for c in range(total):
                A[row, c] = (2 * A[row, c]) % 3
        for q in range(rows):
            f = A[q, col]
            if q != row and f != 0:
                g = 3 - f
                for c in range(col, total):
                    if A[row, c] != 0:
                        A[q, c] = (A[q, c] + g * A[row, c]) % 3
        pivots[row] = col
        row += 1
    return pivots[:row]


class _Mod3System:
    """M·x ≡ b (mod 3) for one M and many right-hand sides: the elimination is done once."""

    def __init__(self, M: np.ndarray) -> None:
        rows, cols = M.shape
        A = np.zeros((rows, cols + rows), dtype=np.int8)
        A[:, :cols] = M % P
        A[np.arange(rows), cols + np.arange(rows)] = 1
        self.pivots = _eliminate_mod3(A, cols)
        self.E = A[:, cols:].astype(np.int64)
        self.cols = cols

    def solve(self, rhs: np.ndarray) -> Optional[np.ndarray]:
        """A solution with the free unknowns 0, or None when the system is inconsistent."""
        b = (self.E @ (rhs % P)) % P
        rank = len(self.pivots)
        if b[rank:].any():
            return None
        x = np.zeros(self.cols, dtype=np.int64)
        x[self.pivots] = b[:rank]
        return x


def _jacobian(A: np.ndarray, B: np.ndarray, C: np.ndarray) -> np.ndarray:
    """∂(Σ a⊗b⊗c)/∂(a, b, c) mod 3; rows in tensor order, columns a-, b-, then c-unknowns."""
    r, na = A.shape
    nb, nc = B.shape[1], C.shape[1]
    J = np.zeros((na, nb, nc, r * (na + nb + nc)), dtype=np.int64)
    for k in range(r):
        for x in range(na):
            J[x, :, :, k * na + x] = np.outer(B[k], C[k])
        for y in range(nb):
            J[:, y, :, r * na + k * nb + y] = np.outer(A[k], C[k])
        for z in range(nc):
            J[:, :, z, r * (na + nb) + k * nc + z] = np.outer(A[k], B[k])
    return J.reshape(na * nb * nc, -1) % P


def _rational(x: int, modulus: int) -> Optional[Fraction]:
    """Rational reconstruction for the 3-adic lift (denominators prime to 3)."""
    return rational_reconstruction(x, modulus, P)


def hensel_lift3(F: list[np.ndarray], fmt: Format, steps: int = 16) -> Optional[Scheme]:
    """Lift an exact mod-3 scheme 3-adically and reconstruct rationals; an exact scheme or None."""
    A0, B0, C0 = (np.asarray(X, dtype=np.int64) % P for X in F)
    r = A0.shape[0]
    na, nb = A0.shape[1], B0.shape[1]
    system = _Mod3System(_jacobian(A0, B0, C0))
    T = _flat_tensor(fmt).ravel().astype(object)
    X = np.concatenate([A0.ravel(), B0.ravel(), C0.ravel()]).astype(object)
    modulus = P
    for _ in range(steps):
        A = X[: r * na].reshape(r, na)
        B = X[r * na: r * (na + nb)].reshape(r, nb)
        C = X[r * (na + nb):].reshape(r, -1)
        value = np.einsum("ka,kb,kc->abc", A, B, C).ravel()
        R = T - value
        if any(v % modulus for v in R):
            return None  # not a solution mod 3^k (cannot happen for an exact mod-3 start)
        delta = system.solve(np.array([(v // modulus) % P for v in R], dtype=np.int64))
        if delta is None:
            return None  # the Jacobian system is inconsistent: no lift through this point
        X = X + modulus * delta.astype(object)
        modulus *= P
    values = [_rational(int(v), modulus) for v in X]
    if any(v is None for v in values):
        return None
    arr = np.array(values, dtype=object)
    n, m, p = fmt.dims
    U = arr[: r * na].reshape(r, n, m)
    V = arr[r * na: r * (na + nb)].reshape(r, m, p)
    W = arr[r * (na + nb):].reshape(r, n, p)
    scheme = Scheme.from_arrays(U, V, W, fmt)
    return scheme if verify_exact(scheme).valid else None
