"""The GF(2) flip graph: bit-packed terms and a compiled random walk.

A rank-r scheme over GF(2) is a ``(3, capacity)`` ``uint64`` array ``F``: ``F[0, k]``,
``F[1, k]``, ``F[2, k]`` are the packed factors ``a_k`` (of A, n·m bits), ``b_k`` (of B, m·p
bits) and ``c_k`` (of C, n·p bits, C not transposed), for ``k < r``. Columns past ``r`` are
scratch space for plus transitions.

Moves (all keep the tensor Σ a_k⊗b_k⊗c_k unchanged mod 2):

* **flip**: terms i, j share slot s (``F[s,i] == F[s,j]``); with the other slots t, u,
  ``x_t[i] += x_t[j]`` and ``x_u[j] += x_u[i]``.
* **reduction**: a term with a zero factor is dropped; two terms equal in two slots are merged
  by adding their third factors (both vanish when those are equal too).
* **plus** (Arai et al.): ``a⊗b⊗c + a'⊗b'⊗c' = (a+a')⊗b⊗c + a'⊗b⊗c + a'⊗b'⊗c'`` raises the
  rank by one so a walk can leave a dead end.

The walk is numba-compiled (one core does several million flips per second; a pure-Python
loop manages about 50,000). Its random numbers come from a xorshift64* state seeded by the
caller, so a seed and a flip budget reproduce a walk exactly.
"""
from __future__ import annotations

import numpy as np
from .jit import njit

from ..formats import Format
from .rng import below, next_u64



# ---------------------------------------------------------------------------- packing
def pack(U: np.ndarray, V: np.ndarray, W: np.ndarray, capacity: int | None = None) -> np.ndarray:
    """Pack integer factor arrays (reduced mod 2) into a ``(3, capacity)`` uint64 array.

    Parameters
    ----------
    U, V, W : numpy.ndarray
        Shapes (r, n, m), (r, m, p), (r, n, p); any integer values (taken mod 2).
    capacity : int, optional
        Number of columns (≥ r); defaults to r.
    """
    r = U.shape[0]
    capacity = r if capacity is None else max(capacity, r)
    F = np.zeros((3, capacity), dtype=np.uint64)
    for s, X in enumerate((U, V, W)):
        bits = (np.asarray(X, dtype=object).reshape(r, -1) % 2).astype(np.uint64)
        if bits.shape[1] > 64:
            raise ValueError(f"a factor with {bits.shape[1]} entries does not fit in 64 bits")
        weights = np.uint64(1) << np.arange(bits.shape[1], dtype=np.uint64)
        F[s, :r] = (bits * weights).sum(axis=1, dtype=np.uint64) if r else 0
    return F


def unpack(F: np.ndarray, r: int, fmt: Format) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The 0/1 int64 arrays U (r,n,m), V (r,m,p), W (r,n,p) of the first r packed terms."""
    out = []
    for s, shape in enumerate(fmt.shapes):
        size = shape[0] * shape[1]
        bits = (F[s, :r, None] >> np.arange(size, dtype=np.uint64)) & np.uint64(1)
        out.append(bits.astype(np.int64).reshape((r,) + shape))
    return out[0], out[1], out[2]


def tensor_mod2(F: np.ndarray, r: int, fmt: Format) -> np.ndarray:
    """The matmul-tensor layout (nm, mp, np) of Σ a_k⊗b_k⊗c_k mod 2."""
    U, V, W = unpack(F, r, fmt)
    if r == 0:
        return np.zeros((U.shape[1] * U.shape[2], V.shape[1] * V.shape[2], W.shape[1] * W.shape[2]), np.int64)
    return np.einsum("ka,kb,kc->abc", U.reshape(r, -1), V.reshape(r, -1), W.reshape(r, -1)) % 2


# ---------------------------------------------------------------------------- kernels
@njit(cache=True)
def _remove(F, r, k, stack, nstack):
    """Drop term k (the last term moves into its place); keep the pending stack consistent."""
    last = r - 1
    for s in range(3):
        F[s, k] = F[s, last]
    for q in range(nstack):
        if stack[q] == k:
            stack[q] = -1
        elif stack[q] == last:
            stack[q] = k
    return last


@njit(cache=True)
def settle(F, r, stack, nstack):
    """Apply every reduction that the pending (changed) terms allow. Returns (r, removed)."""
    removed = 0
    while nstack > 0:
        nstack -= 1
        i = stack[nstack]
        if i < 0:
            continue
        if F[0, i] == 0 or F[1, i] == 0 or F[2, i] == 0:
            r = _remove(F, r, i, stack, nstack)
            removed += 1
            continue
        for k in range(r):
            if k == i:
                continue
            e0 = F[0, k] == F[0, i]
            e1 = F[1, k] == F[1, i]
            e2 = F[2, k] == F[2, i]
            if e0 + e1 + e2 >= 2:
                w = 2
                if not e0:
                    w = 0
                elif not e1:
                    w = 1
                F[w, k] ^= F[w, i]
                last = r - 1
                r = _remove(F, r, i, stack, nstack)
                removed += 1
                if k == last:
                    k = i
                if nstack < stack.shape[0]:
                    stack[nstack] = k
                    nstack += 1
                break
    return r, removed


@njit(cache=True)
def flip_move(F, r, state, stack, reduce=True):
    """One random flip followed by its reductions. Returns (r, ok, removed).

    A random term i is compared with every other term in one pass; the partner (j, shared
    slot) is drawn uniformly among all matches by reservoir sampling, so a pick fails only when
    i shares no factor with any term.
    """
    i = below(state, r)
    a, b, c = F[0, i], F[1, i], F[2, i]
    j = -1
    s = -1
    seen = 0
    for q in range(r):
        if q == i:
            continue
        m0 = F[0, q] == a
        m1 = F[1, q] == b
        m2 = F[2, q] == c
        if m0 or m1 or m2:
            for slot, hit in ((0, m0), (1, m1), (2, m2)):
                if hit:
                    seen += 1
                    if seen == 1 or below(state, seen) == 0:
                        j = q
                        s = slot
    if j < 0:
        return r, False, 0
    t = (s + 1) % 3
    u = (s + 2) % 3
    if next_u64(state) & np.uint64(1 << 40):
        t, u = u, t
    F[t, i] ^= F[t, j]
    F[u, j] ^= F[u, i]
    if not reduce:
        return r, True, 0  # reductions deferred by the caller
    stack[0] = i
    stack[1] = j
    r, removed = settle(F, r, stack, 2)
    return r, True, removed


@njit(cache=True)
def plus_move(F, r, state):
    """A plus transition (rank + 1). Returns the new rank (unchanged when none applies)."""
    if r < 2 or r >= F.shape[1]:
        return r
    for _ in range(16):
        i = below(state, r)
        j = below(state, r)
        s = below(state, 3)
        if i == j or F[s, i] == F[s, j]:
            continue
        t = (s + 1) % 3
        u = (s + 2) % 3
        F[s, r] = F[s, j]
        F[t, r] = F[t, i]
        F[u, r] = F[u, i]
        F[s, i] ^= F[s, j]
        return r + 1
    return r



@njit(cache=True)
def mix_move(F, r, state):
    """The three-term plus transition (Kauers–Moosbauer) mod 2: rank + 1, both terms changed.

    ``a1⊗b1⊗c1 + a2⊗b2⊗c2 = a1⊗(b1+b2)⊗c1 + (a2+a1)⊗b2⊗c2 + a1⊗b2⊗(c2+c1)`` with the slots
    in a random order. Returns the new rank (unchanged when none applies).
    """
    if r < 2 or r >= F.shape[1]:
        return r
    for _ in range(16):
        i = below(state, r)
        j = below(state, r)
        if i == j or F[0, i] == F[0, j] or F[1, i] == F[1, j] or F[2, i] == F[2, j]:
            continue
        sa = below(state, 3)
        sb = (sa + 1 + below(state, 2)) % 3
        sc = 3 - sa - sb
        F[sa, r] = F[sa, i]
        F[sb, r] = F[sb, j]
        F[sc, r] = F[sc, j] ^ F[sc, i]
        F[sb, i] ^= F[sb, j]
        F[sa, j] ^= F[sa, i]
        return r + 1
    return r
