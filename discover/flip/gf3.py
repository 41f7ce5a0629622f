"""The flip graph over GF(3) and the 3-adic (Hensel) lift to Q: schemes with halves.

Over GF(3) the value 2 is both −1 and 1/2, so a scheme found mod 3 may lift to a rational
scheme whose denominators are powers of 2 — what ``--ring Q`` asks for and what the ternary
walk cannot reach. This walk is plain numpy (one move per Python step), meant for small
formats; the walks for large formats are the compiled ones in :mod:`.gf2` and :mod:`.zt`.

Moves over GF(3) (all keep Σ a_k⊗b_k⊗c_k mod 3):

* **flip**: terms i, j with ``a_i = λ a_j`` (λ ∈ {1, 2}; likewise for the other slots):
  ``λ b_i⊗c_i + b_j⊗c_j = λ b_i⊗(c_i − μ c_j) + (b_j + λμ b_i)⊗c_j`` for μ ∈ {1, 2};
* **reduction**: a term with a zero factor is dropped; two terms proportional in two slots merge;
* **scale**: ``a⊗b⊗c = 2a⊗2b⊗c`` (4 ≡ 1): the lift may then meet 2·x = 1, i.e. x = 1/2;
* **plus**: ``a⊗b⊗c + a'⊗b'⊗c' = (a − a')⊗b⊗c + a'⊗b⊗c + a'⊗b'⊗c'`` when the walk stalls.

:func:`hensel_lift3` corrects a solution mod 3^k to one mod 3^(k+1) by solving the Jacobian
system mod 3 (free unknowns set to 0), then reconstructs each coefficient as a fraction with
denominator prime to 3 and checks the result exactly.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Optional

import numpy as np

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


def _keys(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: a key of the row up to a nonzero scalar, and its leading entry (0 for a zero row)."""
    nz = X != 0
    first = np.where(nz.any(axis=1), nz.argmax(axis=1), 0)
    lead = X[np.arange(X.shape[0]), first]
    normal = (X * lead[:, None]) % P  # lead·lead ≡ 1: the leading entry becomes 1
    powers = P ** np.arange(X.shape[1], dtype=np.int64)
    return normal @ powers, lead


def _reduce(F: list[np.ndarray]) -> list[np.ndarray]:
    """Apply every reduction (zero factors, pairs proportional in two slots) until none applies."""
    while True:
        A, B, C = F
        keep = A.any(axis=1) & B.any(axis=1) & C.any(axis=1)
        if not keep.all():
            F = [X[keep] for X in F]
            continue
        keys = [_keys(X) for X in F]
        merged = False
        for w in range(3):
            s, t = [x for x in range(3) if x != w]
            seen: dict[tuple[int, int], int] = {}
            for i in range(F[0].shape[0]):
                key = (int(keys[s][0][i]), int(keys[t][0][i]))
                j = seen.get(key)
                if j is None:
                    seen[key] = i
                    continue
                # term i = scale · (the shared factors of j) ⊗ x_w[i]: fold it into term j.
                scale = (keys[s][1][i] * keys[s][1][j] * keys[t][1][i] * keys[t][1][j]) % P
                F[w][j] = (F[w][j] + scale * F[w][i]) % P
                F = [np.delete(X, i, axis=0) for X in F]
                merged = True
                break
            if merged:
                break
        if not merged:
            return F


def _partners(F: list[np.ndarray]) -> list[tuple[int, int, int, int]]:
    """Every (i, j, slot, λ) with x_slot[i] = λ·x_slot[j], i ≠ j."""
    out = []
    for s in range(3):
        key, lead = _keys(F[s])
        groups: dict[int, list[int]] = {}
        for i, k in enumerate(key.tolist()):
            groups.setdefault(k, []).append(i)
        for members in groups.values():
            for i in members:
                for j in members:
                    if i != j:
                        out.append((i, j, s, int(lead[i] * lead[j] % P)))
    return out


def is_exact_mod3(F: list[np.ndarray], fmt: Format) -> bool:
    """Whether flat factor arrays satisfy Σ a⊗b⊗c ≡ T (mod 3)."""
    return bool(np.array_equal(tensor_mod3(*F), _flat_tensor(fmt) % P))


def walk_mod3(fmt: Format, target: int, rng: np.random.Generator, max_flips: int = 20000,
              scale_p: float = 0.2, plateau: int = 300, start: Optional[list[np.ndarray]] = None) -> Optional[list[np.ndarray]]:
    """Random flips (with scale moves and plus transitions) mod 3 until the rank is ≤ target.

    Returns the flat factor arrays of an exact mod-3 scheme, or None when the budget runs out.
    """
    F = _reduce([X.copy() for X in (start if start is not None else naive_mod3(fmt))])
    best = [X.copy() for X in F]
    stall = 0
    for _ in range(max_flips):
        r = F[0].shape[0]
        if r <= target:
            return F
        if r < best[0].shape[0]:
            best, stall = [X.copy() for X in F], 0
        if rng.random() < scale_p:
            k = int(rng.integers(r))
            s, t = rng.choice(3, size=2, replace=False)
            F[s][k] = (2 * F[s][k]) % P
            F[t][k] = (2 * F[t][k]) % P
        pairs = _partners(F)
        if not pairs or stall > plateau:
            stall = 0
            if r >= best[0].shape[0] + 2:  # two plus transitions did not help: back to the best
                F = [X.copy() for X in best]
                continue
            i, j = rng.choice(r, size=2, replace=False)
            s = int(rng.integers(3))
            new = [X[i].copy() for X in F]
            new[s] = F[s][j].copy()
            F[s][i] = (F[s][i] - F[s][j]) % P
            F = _reduce([np.vstack([X, y[None]]) for X, y in zip(F, new)])
            continue
        i, j, s, lam = pairs[int(rng.integers(len(pairs)))]
        mu = int(rng.integers(1, P))
        t, u = (s + 1) % 3, (s + 2) % 3
        if rng.random() < 0.5:
            t, u = u, t
        # x_s[i] = λ x_s[j]:  λ x_t[i]⊗x_u[i] + x_t[j]⊗x_u[j] = λ x_t[i]⊗(x_u[i] − μ x_u[j]) + (x_t[j] + λμ x_t[i])⊗x_u[j]
        F[u][i] = (F[u][i] - mu * F[u][j]) % P
        F[t][j] = (F[t][j] + lam * mu * F[t][i]) % P
        F = _reduce(F)
        stall += 1
    return F if F[0].shape[0] <= target else None


def _solve_mod3(M: np.ndarray, rhs: np.ndarray) -> Optional[np.ndarray]:
    """A solution of M·x ≡ rhs (mod 3) with free unknowns 0, or None when inconsistent."""
    M = M.copy() % P
    b = rhs.copy() % P
    rows, cols = M.shape
    pivots = []
    row = 0
    for col in range(cols):
        if row >= rows:
            break
        nz = np.nonzero(M[row:, col])[0]
        if nz.size == 0:
            continue
        piv = row + nz[0]
        if piv != row:
            M[[row, piv]] = M[[piv, row]]
            b[[row, piv]] = b[[piv, row]]
        inv = 1 if M[row, col] == 1 else 2  # 2·2 ≡ 1
        M[row] = (M[row] * inv) % P
        b[row] = (b[row] * inv) % P
        others = np.nonzero(M[:, col])[0]
        for o in others:
            if o != row:
                f = M[o, col]
                M[o] = (M[o] - f * M[row]) % P
                b[o] = (b[o] - f * b[row]) % P
        pivots.append(col)
        row += 1
    if b[row:].any():
        return None
    x = np.zeros(cols, dtype=np.int64)
    for k, col in enumerate(pivots):
        x[col] = b[k]
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
    J = _jacobian(A0, B0, C0)
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
        delta = _solve_mod3(J, np.array([(v // modulus) % P for v in R], dtype=np.int64))
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


def gf3_search(fmt: "Format | str", target: int, seed: int | np.random.SeedSequence, tries: int = 20,
               max_flips: int = 20000) -> Optional[Scheme]:
    """Walk mod 3 to rank ≤ ``target`` and lift; up to ``tries`` walks. An exact scheme over Q or None."""
    fmt = Format.parse(fmt)
    rng = np.random.default_rng(seed)
    for _ in range(tries):
        F = walk_mod3(fmt, target, rng, max_flips)
        if F is None or not is_exact_mod3(F, fmt):
            continue
        lifted = hensel_lift3(F, fmt)
        if lifted is not None:
            return lifted.with_meta(name=f"GF(3) flip graph {fmt} rank {lifted.rank}, 3-adic lift")
    return None
