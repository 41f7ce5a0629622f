"""Moves that leave a plateau of the ternary flip graph: split and sandwich.

Both keep Σ a_k⊗b_k⊗c_k equal to the matmul tensor (tests check it exactly on random schemes).

* **split** (the inverse of a reduction): one factor of a term is cut in two,
  ``x⊗y⊗z = x₁⊗y⊗z + x₂⊗y⊗z`` with ``x = x₁ + x₂`` a split of x's nonzero entries into two
  nonempty parts; the rank grows by one and new flips become possible.
* **sandwich**: the symmetry A → XAY⁻¹, B → YBZ⁻¹, C → XCZ⁻¹ of matrix multiplication with one
  of X, Y, Z an elementary matrix I ± e_ab (determinant 1, integer inverse I ∓ e_ab) and the
  others the identity; on the factors U'_k = X⁻ᵀU_kYᵀ, V'_k = Y⁻ᵀV_kZᵀ, W'_k = XW_kZ⁻¹ (as
  :func:`discover.symmetry.sandwich`). It changes which factors coincide, so flips that were
  impossible appear. Kept only when every coefficient stays in {-1, 0, 1}.

:func:`perturb` applies at most one of them at the start of a walk, with the probabilities
``split_p`` and ``sandwich_p`` (a single uniform draw: split when u < split_p, sandwich when
split_p ≤ u < split_p + sandwich_p).
"""
from __future__ import annotations

import numpy as np
from .jit import njit

from ..formats import Format
from . import zt
from .rng import below, next_u64


@njit(cache=True)
def _popcount(x):
    n = 0
    while x:
        x &= x - np.uint64(1)
        n += 1
    return n


@njit(cache=True)
def split_move(F, r, state):
    """Split one factor of a random term into two nonempty parts (rank + 1); returns the new rank.

    The rank is unchanged when no column is free or the picked factor has a single entry
    (32 picks are tried).
    """
    if r < 1 or r >= F.shape[1]:
        return r
    for _ in range(32):
        i = below(state, r)
        s = below(state, 3)
        pos, neg = F[2 * s, i], F[2 * s + 1, i]
        support = pos | neg
        if _popcount(support) < 2:
            continue
        mask = np.uint64(0)
        while True:
            mask = next_u64(state) & support
            if mask != 0 and mask != support:
                break
        for row in range(6):
            F[row, r] = F[row, i]
        F[2 * s, i] = pos & mask
        F[2 * s + 1, i] = neg & mask
        F[2 * s, r] = pos & ~mask
        F[2 * s + 1, r] = neg & ~mask
        return r + 1
    return r


def _elementary(size: int, a: int, b: int, eps: int) -> tuple[np.ndarray, np.ndarray]:
    """I + eps·e_ab and its inverse I − eps·e_ab (a ≠ b)."""
    M = np.eye(size, dtype=np.int64)
    M[a, b] = eps
    Mi = np.eye(size, dtype=np.int64)
    Mi[a, b] = -eps
    return M, Mi


def sandwich_arrays(U: np.ndarray, V: np.ndarray, W: np.ndarray, X: np.ndarray, Y: np.ndarray, Z: np.ndarray,
                    Xi: np.ndarray, Yi: np.ndarray, Zi: np.ndarray):
    """The factors after A → XAY⁻¹, B → YBZ⁻¹, C → XCZ⁻¹ (integer matrices with integer inverses)."""
    U2 = np.einsum("ji,kjl,ml->kim", Xi, U, Y)  # X⁻ᵀ U_k Yᵀ
    V2 = np.einsum("ji,kjl,ml->kim", Yi, V, Z)  # Y⁻ᵀ V_k Zᵀ
    W2 = np.einsum("ij,kjl,lm->kim", X, W, Zi)  # X W_k Z⁻¹
    return U2, V2, W2


def random_sandwich(F: np.ndarray, r: int, fmt: Format, state: np.ndarray) -> bool:
    """Apply a random elementary sandwich in place when the result stays ternary; True if applied."""
    n, m, p = fmt.dims
    U, V, W = zt.unpack(F, r, fmt)
    for _ in range(8):
        which = int(below(state, 3))
        size = (n, m, p)[which]
        if size < 2:
            continue
        a = int(below(state, size))
        b = int(below(state, size - 1))
        b += b >= a
        eps = 1 if int(next_u64(state)) & (1 << 40) else -1
        mats = [(np.eye(k, dtype=np.int64), np.eye(k, dtype=np.int64)) for k in (n, m, p)]
        mats[which] = _elementary(size, a, b, eps)
        (X, Xi), (Y, Yi), (Z, Zi) = mats
        U2, V2, W2 = sandwich_arrays(U, V, W, X, Y, Z, Xi, Yi, Zi)
        if max(np.abs(U2).max(), np.abs(V2).max(), np.abs(W2).max()) <= 1:
            F[:, :r] = zt.pack(U2, V2, W2)
            return True
    return False


def perturb(F: np.ndarray, r: int, state: np.ndarray, split_p: float, sandwich_p: float, fmt: Format) -> tuple[int, str]:
    """At most one split or sandwich (see the module docstring); returns (rank, "splits"/"sandwiches"/"")."""
    if split_p <= 0 and sandwich_p <= 0:
        return r, ""
    u = float(next_u64(state) >> np.uint64(11)) / float(1 << 53)
    if u < split_p:
        r2 = split_move(F, r, state)
        return r2, "splits" if r2 > r else ""
    if u < split_p + sandwich_p:
        return r, "sandwiches" if random_sandwich(F, r, fmt, state) else ""
    return r, ""
