"""Cyclic-symmetric flips for square formats (Moosbauer–Poole): flips on whole orbits.

In the trace convention a term of <n,n,n> is (a, b, c) with c the *transposed* C-factor
(``c = Wᵀ``), and (a, b, c) → (b, c, a) maps schemes to schemes (:func:`discover.symmetry.cyclic`).
A scheme invariant under it is a set of orbits {(a,b,c), (b,c,a), (c,a,b)} plus fixed terms
(x, x, x). The walk keeps the orbit *representatives* and the fixed terms; every move acts on
a representative and a rotation of another one, which is the same move applied to the three
rotated pairs at once, so the expanded scheme stays exact and invariant:

* **flip**: representative i and rotation g of representative j (i ≠ j) share a factor up to
  a sign σ in slot s; ``x_t[i] += λ x_t[j']``, ``x_u[j'] −= λσ x_u[i]`` (λ = ±1), kept when
  ternary; j's representative becomes the back-rotated j'.
* **reduction**: an orbit with a zero factor vanishes; two orbits whose representatives agree
  up to sign (after a rotation) in two slots merge (when the sum stays ternary).
* **plus**: ``(a − εa')⊗b⊗c + εa'⊗b⊗c`` splits an orbit in two (rank + 3) when the walk stalls.

Fixed terms are kept as they are (the naive scheme has n of them). This walk is numpy, one
move per Python step: meant for small square formats and for testing the symmetry; the rank
it reaches is 3·(orbits) + (fixed terms).
"""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np

from ..formats import Format
from ..scheme import Scheme
from ..tensor import integer_reconstruction, matmul_tensor


def _rot(t: np.ndarray, g: int) -> np.ndarray:
    """(a, b, c) rotated g times: g=1 gives (b, c, a)."""
    return np.roll(t, -g, axis=0)


def naive_orbits(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Orbit representatives (k, 3, n²) and fixed terms (f, n²) of the naive <n,n,n> scheme."""
    N = n * n
    reps, fixed, seen = [], [], set()
    for i in range(n):
        for j in range(n):
            for l in range(n):
                a, b, c = np.zeros(N, np.int64), np.zeros(N, np.int64), np.zeros(N, np.int64)
                a[i * n + j] = 1
                b[j * n + l] = 1
                c[l * n + i] = 1  # trace convention: c is Wᵀ, W[i, l] = 1
                if i == j == l:
                    fixed.append(a)
                    continue
                orbit = {(i, j, l), (j, l, i), (l, i, j)}
                if orbit & seen:
                    continue
                seen |= orbit
                reps.append(np.stack([a, b, c]))
    return np.array(reps), np.array(fixed).reshape(len(fixed), N)


def expand(reps: np.ndarray, fixed: np.ndarray, n: int) -> Scheme:
    """The full scheme (U, V, W) of orbit representatives and fixed terms."""
    terms = [_rot(t, g) for t in reps for g in range(3)] + [np.stack([x, x, x]) for x in fixed]
    T = np.array(terms).reshape(len(terms), 3, n, n)
    U, V = T[:, 0], T[:, 1]
    W = np.ascontiguousarray(T[:, 2].transpose(0, 2, 1))  # back from the trace convention
    return Scheme.from_arrays(U, V, W, Format(n, n, n))


def _sign(x: np.ndarray, y: np.ndarray) -> int:
    if np.array_equal(x, y):
        return 1
    if np.array_equal(x, -y):
        return -1
    return 0


def _ternary(x: np.ndarray) -> bool:
    return bool(np.abs(x).max(initial=0) <= 1)


def _reduce(reps: list[np.ndarray]) -> list[np.ndarray]:
    """Apply orbit reductions until none applies."""
    changed = True
    while changed:
        changed = False
        reps = [t for t in reps if all(t[s].any() for s in range(3))]
        for i in range(len(reps)):
            for j in range(i + 1, len(reps)):
                for g in range(3):
                    tj = _rot(reps[j], g)
                    e = [_sign(reps[i][s], tj[s]) for s in range(3)]
                    if sum(1 for x in e if x) < 2:
                        continue
                    w = next((s for s in range(3) if not e[s]), 2)
                    others = [s for s in range(3) if s != w]
                    sg = e[others[0]] * e[others[1]]
                    merged = reps[i][w] + sg * tj[w]
                    if not _ternary(merged):
                        continue
                    reps[i] = reps[i].copy()
                    reps[i][w] = merged
                    del reps[j]
                    changed = True
                    break
                if changed:
                    break
            if changed:
                break
    return reps


def cyclic_walk(n: int, target: int, rng: np.random.Generator, max_flips: int = 20000, plateau: int = 500,
                reps: Optional[np.ndarray] = None, fixed: Optional[np.ndarray] = None,
                should_stop: Optional[Callable[[], bool]] = None) -> tuple[np.ndarray, np.ndarray]:
    """Walk the cyclic-symmetric flip graph of <n,n,n> until 3·orbits + fixed ≤ ``target``.

    ``should_stop`` (polled every 64 moves) ends the walk early. Returns the lowest-rank
    (representatives, fixed terms) reached (the end point when it is as low).
    """
    if reps is None or fixed is None:
        reps, fixed = naive_orbits(n)
    cur = _reduce([t.copy() for t in reps])
    best = [t.copy() for t in cur]
    stall = 0
    for step in range(max_flips):
        if 3 * len(cur) + len(fixed) <= target:
            break
        if should_stop is not None and step % 64 == 0 and should_stop():
            break
        if len(cur) < len(best):
            best, stall = [t.copy() for t in cur], 0
        k = len(cur)
        if k < 2:
            break
        if stall > plateau:
            stall = 0
            if len(cur) > len(best):
                cur = [t.copy() for t in best]
                continue
            i, j = rng.choice(k, size=2, replace=False)
            s, eps = int(rng.integers(3)), int(rng.choice([-1, 1]))
            split = cur[i][s] - eps * cur[j][s]
            if _ternary(split) and split.any():
                extra = cur[i].copy()
                extra[s] = eps * cur[j][s]
                cur[i] = cur[i].copy()
                cur[i][s] = split
                cur.append(extra)
            continue
        i = int(rng.integers(k))
        options = [(j, g, s, e) for j in range(k) if j != i for g in range(3)
                   for s in range(3) if (e := _sign(cur[i][s], _rot(cur[j], g)[s]))]
        if not options:
            stall += 1
            continue
        j, g, s, sigma = options[int(rng.integers(len(options)))]
        tj = _rot(cur[j], g).copy()
        ti = cur[i].copy()
        t, u = (s + 1) % 3, (s + 2) % 3
        if rng.random() < 0.5:
            t, u = u, t
        lam = int(rng.choice([-1, 1]))
        new_t = ti[t] + lam * tj[t]
        new_u = tj[u] - lam * sigma * ti[u]
        if not (_ternary(new_t) and _ternary(new_u)):
            stall += 1
            continue
        ti[t] = new_t
        tj[u] = new_u
        cur[i] = ti
        cur[j] = _rot(tj, -g)
        before = len(cur)
        cur = _reduce(cur)
        stall = 0 if len(cur) < before else stall + 1
    if len(cur) <= len(best):
        best = cur  # the walk's end point when it is as low as the best
    return np.array(best), fixed


def is_cyclic_invariant(scheme: Scheme) -> bool:
    """Whether a square scheme equals its cyclic image (same terms up to order and factor signs)."""
    from ..canonical import canonical_key
    from ..symmetry import cyclic

    return canonical_key(cyclic(scheme)) == canonical_key(scheme)


def is_exact(scheme: Scheme) -> bool:
    U, V, W = scheme.int64_arrays()
    return bool((integer_reconstruction(U, V, W) == matmul_tensor(scheme.format)).all())
