"""Lifting a scheme that is valid mod 2 to characteristic 0.

Two ways, tried in this order by :func:`lift`:

* :func:`sign_lift`: keep the GF(2) support and choose a sign per nonzero coefficient. Writing
  ``-1 = 1 + 2·1`` and ``+1 = 1 + 2·0``, a product of three signs is ``1 + 2(x+y+z) mod 4``, so the
  Brent equations mod 4 are a linear system over GF(2) in the sign bits. An inconsistent system
  *proves* that no ±1 lift on this support exists; a consistent one gives candidates that are
  then checked exactly over Z.
* :func:`hensel_lift`: every coefficient is an unknown. A solution mod 2^k is corrected to one
  mod 2^(k+1) by solving ``J·Δ = (T − F(X))/2^k`` over GF(2), where the Jacobian ``J`` mod 2
  depends only on the GF(2) scheme (factored once). After ``bits`` steps each coefficient is
  rationally reconstructed (odd denominators) and the result checked exactly.

The ring of a lifted scheme is read from its coefficients (ZT, Z or Q), never assumed.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Optional

import numpy as np

from ..formats import Format
from ..scheme import Scheme
from ..errors import SchemeError
from ..tensor import integer_reconstruction, matmul_tensor
from ..verify import verify_exact
from .jit import njit
from .linalg2 import GF2System, is_consistent


def _flat(U, V, W):
    r = U.shape[0]
    return U.reshape(r, -1), V.reshape(r, -1), W.reshape(r, -1)


def is_exact(U: np.ndarray, V: np.ndarray, W: np.ndarray, fmt: Format) -> bool:
    """Exact check over Q (object arrays of ints/Fractions allowed)."""
    try:
        scheme = Scheme.from_arrays(U, V, W, fmt)
    except SchemeError:
        return False
    return verify_exact(scheme).valid


def is_exact_mod2(U: np.ndarray, V: np.ndarray, W: np.ndarray, fmt: Format) -> bool:
    """Check Σ u⊗v⊗w ≡ T (mod 2) for integer arrays (int64 or Python ints)."""
    # Plain integer arithmetic: building a Scheme for verify_exact cost ~30 ms per lift attempt.
    A, B, C = (np.asarray(X) % 2 for X in (U, V, W))
    return bool(((integer_reconstruction(A, B, C) - matmul_tensor(fmt)) % 2 == 0).all())


# ---------------------------------------------------------------------------- sign lift
def sign_system(U: np.ndarray, V: np.ndarray, W: np.ndarray, fmt: Format):
    """The mod-4 sign system of a GF(2) scheme: (matrix, right side, unknown positions)."""
    A, B, C = (np.asarray(X, dtype=np.int64) % 2 for X in _flat(U, V, W))
    r, na = A.shape
    nb, nc = B.shape[1], C.shape[1]
    ia, ib, ic = np.nonzero(A), np.nonzero(B), np.nonzero(C)
    var_a = -np.ones((r, na), np.int64)
    var_b = -np.ones((r, nb), np.int64)
    var_c = -np.ones((r, nc), np.int64)
    var_a[ia] = np.arange(len(ia[0]))
    var_b[ib] = len(ia[0]) + np.arange(len(ib[0]))
    var_c[ic] = len(ia[0]) + len(ib[0]) + np.arange(len(ic[0]))
    nvars = len(ia[0]) + len(ib[0]) + len(ic[0])
    T = matmul_tensor(fmt).reshape(-1)
    # Every (term, a, b, c) of the support is one monomial: it adds 1 to its equation's count
    # and its three sign bits to that equation's row (all terms at once, no loop over r).
    k, a, b, c = np.nonzero(A[:, :, None, None] & B[:, None, :, None] & C[:, None, None, :])
    eq = (a * nb + b) * nc + c
    count = np.bincount(eq, minlength=T.size)
    # A sign bit belongs to one term, and a term meets an equation in one monomial, so no cell is
    # set twice: plain assignment into a 0/1 byte matrix (an int64 count over every cell cost
    # 0.1–0.5 s on 4x4x5–5x5x5, the bulk of a failing lift).
    M = np.zeros((T.size, nvars), dtype=np.uint8)
    for var, index in ((var_a, a), (var_b, b), (var_c, c)):
        M[eq, var[k, index]] = 1
    rhs = ((T - count) // 2) % 2
    used = (count > 0) | (T > 0)
    return M[used], rhs[used], (var_a, var_b, var_c)


def sign_lift(
    U: np.ndarray, V: np.ndarray, W: np.ndarray, fmt: Format, rng: np.random.Generator, tries: int = 16
) -> tuple[Optional[tuple[np.ndarray, np.ndarray, np.ndarray]], str]:
    """Try to lift a GF(2) scheme to {-1,0,1} on the same support.

    Returns ``(arrays, reason)``: the int64 arrays U, V, W of an exact ternary scheme, or None with
    ``reason`` the :data:`~discover.flip.liftfailures.LIFT_FAILURES` counter: "failed_no_signs" (no
    sign lift exists on this support: proven mod 4) or "failed_signs_not_exact" (the mod-4 solutions
    tried were not exact over Z).
    """
    M, rhs, (var_a, var_b, var_c) = sign_system(U, V, W, fmt)
    # Most sign systems a walk meets have no solution; deciding that needs one elimination of
    # [M | rhs], ~2x cheaper than the factorisation a solve needs (4x4x5: 11 -> 5 ms a lift).
    if not is_consistent(M, rhs):
        return None, "failed_no_signs"
    system = GF2System(M)
    T = matmul_tensor(fmt)
    for attempt in range(max(1, tries)):
        free = None if attempt == 0 else rng.integers(0, 2, size=len(system.free))
        x = system.solve(rhs, free)
        if x is None:
            return None, "failed_no_signs"
        out = []
        for var, X in zip((var_a, var_b, var_c), (U, V, W)):
            signs = np.where(var >= 0, 1 - 2 * x[np.maximum(var, 0)], 0)
            out.append(signs.reshape(X.shape).astype(np.int64))
        # Integer arithmetic decides (the caller proves what it keeps); sympy here cost ~40 ms a try.
        if (integer_reconstruction(*out) == T).all():
            return (out[0], out[1], out[2]), "ok"
    return None, "failed_signs_not_exact"


# ---------------------------------------------------------------------------- Hensel lift
def rational_reconstruction(x: int, modulus: int, prime: int = 2) -> Optional[Fraction]:
    """a/b ≡ x (mod modulus) with |a|, b ≤ sqrt(modulus/2) and b prime to ``prime``, else None.

    ``modulus`` is a power of ``prime`` (2-adic lifts here, 3-adic in :mod:`.gf3`).
    """
    bound = int((modulus // 2) ** 0.5)
    r0, r1, s0, s1 = modulus, x % modulus, 0, 1
    while r1 > bound:
        q = r0 // r1
        r0, r1, s0, s1 = r1, r0 - q * r1, s1, s0 - q * s1
    if s1 == 0 or abs(s1) > bound:
        return None
    value = Fraction(r1, s1)
    return value if value.denominator % prime else None


def _rational(x: int, modulus: int) -> Optional[Fraction]:
    """Rational reconstruction for the 2-adic lift (odd denominators)."""
    return rational_reconstruction(x, modulus, 2)


def _jacobian_mod2(A: np.ndarray, B: np.ndarray, C: np.ndarray) -> np.ndarray:
    """∂(Σ_k a_k⊗b_k⊗c_k)/∂(a, b, c) mod 2, rows in tensor order, columns a-, b-, then c-unknowns,
    bit-packed as :func:`~discover.flip.linalg2.pack_rows` packs them (6x6x6 r159: 100 MB; the dense
    0/1 matrix was 800 MB and took 8 s to build)."""
    A, B, C = (np.ascontiguousarray(X, dtype=np.uint8) & 1 for X in (A, B, C))
    return _jacobian_packed(A, B, C)


@njit(cache=True)
def _jacobian_packed(A, B, C):
    r, na = A.shape
    nb, nc = B.shape[1], C.shape[1]
    cols = r * (na + nb + nc)
    P = np.zeros((na * nb * nc, max(1, (cols + 63) // 64)), dtype=np.uint64)
    for k in range(r):
        for a in range(na):
            for b in range(nb):
                for c in range(nc):
                    # entry (a, b, c) of term k: ∂/∂a_k[a] = b_k[b]·c_k[c], and likewise for b and c
                    row = (a * nb + b) * nc + c
                    if B[k, b] & C[k, c]:
                        col = k * na + a
                        P[row, col >> 6] ^= np.uint64(1) << np.uint64(col & 63)
                    if A[k, a] & C[k, c]:
                        col = r * na + k * nb + b
                        P[row, col >> 6] ^= np.uint64(1) << np.uint64(col & 63)
                    if A[k, a] & B[k, b]:
                        col = r * (na + nb) + k * nc + c
                        P[row, col >> 6] ^= np.uint64(1) << np.uint64(col & 63)
    return P


def hensel_lift(
    U: np.ndarray,
    V: np.ndarray,
    W: np.ndarray,
    fmt: Format,
    bits: int = 20,
    start: Optional[tuple[np.ndarray, np.ndarray, np.ndarray]] = None,
    rng: Optional[np.random.Generator] = None,
    branches: int = 1,
) -> Optional[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Hensel-lift a GF(2) scheme to 2-adic precision ``bits`` and reconstruct rationals.

    Parameters
    ----------
    start
        Optional integer arrays congruent to (U, V, W) mod 2 to lift from (e.g. signs that
        already solve the system mod 4); defaults to the 0/1 scheme.
    rng
        When given, the free unknowns of the first correction (mod 4) are chosen at random: another
        branch of the lift. Later corrections keep them 0 (the correction stays on the pivots):
        random digits at every step make a random 2-adic point, which is almost never a small
        rational, so the reconstruction would fail.
    branches
        Branches to try, one after another, with one factorisation of the Jacobian (which is
        most of the cost): the first with the free unknowns 0 unless ``rng`` is given, the others
        drawn from ``rng`` (a branch can die at a later step where another goes through).

    Returns
    -------
    The object arrays U, V, W of an exact scheme over Q (odd denominators), or None.
    """
    A, B, C = (np.asarray(X, dtype=np.int64) % 2 for X in _flat(U, V, W))
    if bits > 28:
        raise ValueError("bits must be ≤ 28 (int64 arithmetic)")
    system = GF2System.from_packed(_jacobian_mod2(A, B, C), A.shape[0] * (A.shape[1] + B.shape[1] + C.shape[1]))
    X0 = [np.asarray(S, dtype=np.int64).reshape(A.shape[0], -1) for S in (start if start is not None else (A, B, C))]
    if branches <= 1:
        draws = [rng]
    else:  # the pivot branch first, then the random ones
        draws = [None] + ([rng] * (branches - 1) if rng is not None else [])
    T = matmul_tensor(fmt).reshape(A.shape[1], X0[1].shape[1], X0[2].shape[1]).astype(np.int64)
    for draw in draws:
        result = _hensel_branch(system, X0, T, fmt, bits, draw)
        if result is not None:
            return result
    return None


def _hensel_branch(system: GF2System, X0: list[np.ndarray], T: np.ndarray, fmt: Format, bits: int,
                   rng: Optional[np.random.Generator]) -> Optional[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """One branch of :func:`hensel_lift` (free unknowns of the first correction from ``rng``, else 0);
    ``T`` is the format's tensor as an (n·m, m·p, n·p) array."""
    r, na = X0[0].shape
    nb, nc = X0[1].shape[1], X0[2].shape[1]
    X = [x.copy() for x in X0]
    sizes = np.cumsum([0, r * na, r * nb, r * nc])
    # The start is a solution mod 2; step k corrects digit k (a step k = 0 would only move the start
    # off its solutions when its free unknowns are drawn at random).
    for k in range(1, bits):
        mod = 1 << (k + 1)
        Xa, Xb, Xc = (x % mod for x in X)
        AB = (Xa[:, :, None] * Xb[:, None, :]) % mod
        F = np.einsum("kab,kc->abc", AB, Xc) % mod
        R = (T - F) % mod
        if (R % (1 << k)).any():
            return None  # start was not a solution mod 2^k
        rhs = (R >> k).reshape(-1) & 1
        free = None if rng is None or k > 1 else rng.integers(0, 2, size=len(system.free))
        delta = system.solve(rhs, free)
        if delta is None:
            return None
        for s in range(3):
            X[s] = X[s] + (delta[sizes[s] : sizes[s + 1]].reshape(r, -1) << k)
    modulus = 1 << bits
    out = []
    for x, shape in zip(X, fmt.shapes):
        values = {}
        flat = np.empty(x.size, dtype=object)
        for idx, v in enumerate((x % modulus).ravel().tolist()):
            if v not in values:
                values[v] = _rational(v, modulus)
            q = values[v]
            if q is None:
                return None
            flat[idx] = int(q) if q.denominator == 1 else q
        out.append(flat.reshape((r,) + shape))
    return (out[0], out[1], out[2]) if is_exact(*out, fmt) else None


# ---------------------------------------------------------------------------- front door
HENSEL_BRANCHES = 2  # branches lift() tries: the pivot branch, then one random branch


def lift(
    U: np.ndarray,
    V: np.ndarray,
    W: np.ndarray,
    fmt: Format,
    rng: np.random.Generator,
    hensel: bool = True,
    sign_tries: int = 16,
    bits: int = 20,
) -> tuple[Optional[Scheme], str]:
    """Lift a GF(2) scheme to an exact scheme over Q; its ring label comes from its values.

    Returns ``(scheme, how)`` with ``how`` in {"sign", "hensel"}, or ``(None, reason)`` with
    ``reason`` "not valid mod 2" or, for a valid scheme that did not lift, the
    :data:`~discover.flip.liftfailures.LIFT_FAILURES` counter of the last lift tried.
    """
    if not is_exact_mod2(U, V, W, fmt):
        return None, "not valid mod 2"
    arrays, reason = sign_lift(U, V, W, fmt, rng, tries=sign_tries)
    if arrays is not None:
        return Scheme.from_arrays(*arrays, fmt), "sign"
    if not hensel:
        return None, reason
    # One factorisation of the Jacobian: the pivot branch, then random branches of the first step.
    result = hensel_lift(U, V, W, fmt, bits=bits, rng=rng, branches=HENSEL_BRANCHES)
    if result is None:
        return None, "failed_hensel"
    return Scheme.from_arrays(*result, fmt), "hensel"
