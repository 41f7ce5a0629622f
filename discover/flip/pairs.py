"""Flip candidates kept as pair lists: a ternary flip without scanning the scheme to find a partner.

A flip needs two terms whose factors in one slot are equal up to sign. The plain kernel
(:func:`discover.flip.zt.flip_move`) draws a term and scans every other term for a partner, then
scans twice more for reductions. Here each slot s keeps the list of its pairs ``(i, j)`` with
``x_s[i] = ±x_s[j]`` (``P[s, :npairs[s]]``), so a flip is drawn uniformly among all pairs at once.
A flip changes one factor of each of its two terms; only the pairs of those two factors are
updated. Their new partners are found through a bucket index of the factors by support
(:mod:`.orbitindex`, the cyclic walk's), not a scan of every term; they are appended in term
order, as a scan would, so a seed's walk is the one it was before the index. Reductions and
expansions are rare, so after one of them the lists are simply rebuilt.

The moves are those of :mod:`discover.flip.zt` (the same ternary flip, the same ``settle``), so
every scheme stays exact over Z; with ``mod3`` they are taken mod 3, and with ``mod2`` mod 2 (a
GF(2) scheme in the positive rows: the GF(2) runners walk this way).
"""
from __future__ import annotations

import numpy as np
from .jit import njit

from .orbitindex import bucket, index_all, link, new_index, unlink
from .rng import below, next_u64
from .zt import _sign, apply_flip, settle

PICKS = 16  # random pairs tried before a step counts as a failed pick (none stays ternary)


@njit(cache=True)
def pair_buffers(capacity):
    """Empty pair lists and factor index for schemes of up to ``capacity`` terms (compiled, so
    that :func:`~discover.flip.policy.runners_kernel` makes its own with it).

    Returns ``(P, npairs, deg, head, X, shift, found)``: the pair lists ``P[s, :npairs[s]]``;
    ``deg[s, i]`` counts the pairs of term i in slot s, so that dropping them stops early; the
    bucket index ``(head, X, shift)`` of :mod:`.orbitindex` over the entries ``3·i + s``; and
    ``found``, room for the new partners of one flip.
    """
    most = max(1, capacity * (capacity - 1) // 2)
    head, X, shift = new_index(max(1, capacity))
    return (np.zeros((3, most, 2), dtype=np.int32), np.zeros(3, dtype=np.int64),
            np.zeros((3, max(1, capacity)), dtype=np.int64), head, X, shift, np.zeros(2 * max(1, capacity), dtype=np.int64))


@njit(cache=True)
def build_pairs(F, r, lists):
    """Fill the pair lists and the index of the first ``r`` terms of ``F`` from scratch (O(r²))."""
    P, npairs, deg, head, X, shift, found = lists
    for s in range(3):
        n = 0
        for i in range(r):
            deg[s, i] = 0
        for i in range(r):
            pi, ni = F[2 * s, i], F[2 * s + 1, i]
            for j in range(i + 1, r):
                pj, nj = F[2 * s, j], F[2 * s + 1, j]
                if (pi == pj and ni == nj) or (pi == nj and ni == pj):
                    P[s, n, 0] = i
                    P[s, n, 1] = j
                    deg[s, i] += 1
                    deg[s, j] += 1
                    n += 1
        npairs[s] = n
    index_all(F, r, head, X, shift)


@njit(cache=True, inline="always")
def _drop(P, npairs, deg, s, i):
    """Remove every pair of slot s that contains term i (the scan stops after the last one)."""
    n = npairs[s]
    left = deg[s, i]
    q = 0
    while q < n and left > 0:
        a, b = P[s, q, 0], P[s, q, 1]
        if a == i or b == i:
            deg[s, a + b - i] -= 1
            left -= 1
            n -= 1
            P[s, q, 0] = P[s, n, 0]
            P[s, q, 1] = P[s, n, 1]
        else:
            q += 1
    deg[s, i] = 0
    npairs[s] = n


@njit(cache=True, inline="always")
def pair_flip(F, r, state, stack, lists, reduce, mod3, mod2=False):
    """One random flip drawn from the pair lists, then its reductions. Returns (r, ok, removed).

    The pair lists (``lists``, from :func:`pair_buffers`) stay those of ``F`` on return (rebuilt
    when a reduction changed the terms). With ``reduce`` False the reductions are left for the
    caller (the lists stay exact); with ``mod3`` the coefficients are residues mod 3, with
    ``mod2`` bit sets mod 2 in the positive rows (see :func:`discover.flip.zt._sum`).
    """
    P, npairs = lists[0], lists[1]
    total = npairs[0] + npairs[1] + npairs[2]
    if total == 0:
        return r, False, 0
    for _ in range(PICKS):
        x = below(state, total)
        s = 0
        while x >= npairs[s]:
            x -= npairs[s]
            s += 1
        bits = next_u64(state) >> np.uint64(40)
        i = P[s, x, 0]
        j = P[s, x, 1]
        if bits & np.uint64(4):
            i, j = j, i
        t = apply_flip(F, s, i, j, _sign(F, s, i, j), bits, mod3, 0, mod2)
        if t >= 0:
            return _after_flip(F, r, stack, lists, s, t, 3 - s - t, i, j, reduce, mod3, mod2)
    return r, False, 0


@njit(cache=True, inline="always")
def _partners(F, head, X, shift, sl, a, side, found, n):
    """Append to ``found[n:]`` the terms q ≠ a with ``x_sl[q] = ±x_sl[a]``, as ``2·q + side``; returns the new n."""
    kp, kn = F[2 * sl, a], F[2 * sl + 1, a]
    ks = kp | kn  # equal up to sign needs equal supports: the bucket, and one compare
    e = head[bucket(kp, kn, shift)]
    while e >= 0:
        q = e // 3
        if e - 3 * q == sl and q != a:
            qp, qn = F[2 * sl, q], F[2 * sl + 1, q]
            if (qp | qn) == ks and (qp == kp or qp == kn):
                found[n] = 2 * q + side
                n += 1
        e = X[0, e]
    return n


@njit(cache=True, inline="always")
def _after_flip(F, r, stack, lists, s, t, u, i, j, reduce, mod3, mod2):
    """Update the pairs of x_t[i] and x_u[j] (the factors a flip changed) and take reductions.

    A reduction made possible by the flip involves a changed factor equal (up to sign) to
    another term's, plus one more shared slot; the partners found for the new pairs show it.
    """
    P, npairs, deg, head, X, shift, found = lists
    _drop(P, npairs, deg, t, i)
    _drop(P, npairs, deg, u, j)
    for e in (3 * i + t, 3 * j + u):
        unlink(head, X, e)
        link(F, head, X, e, shift)
    maybe = (F[2 * t, i] | F[2 * t + 1, i]) == 0 or (F[2 * u, j] | F[2 * u + 1, j]) == 0  # a zero factor: dropped
    n = _partners(F, head, X, shift, t, i, 0, found, 0)
    n = _partners(F, head, X, shift, u, j, 1, found, n)
    # The new pairs go in as a scan of the terms would append them (term order; x_t[i]'s before
    # x_u[j]'s for one term), so the lists, and with them a seed's walk, are those of the scan.
    for m in range(1, n):
        key = found[m]
        w = m - 1
        while w >= 0 and found[w] > key:
            found[w + 1] = found[w]
            w -= 1
        found[w + 1] = key
    for m in range(n):
        q = found[m] >> 1
        side = found[m] & 1
        a, sl, other = (i, t, u) if side == 0 else (j, u, t)
        c = npairs[sl]
        P[sl, c, 0] = a
        P[sl, c, 1] = q
        npairs[sl] = c + 1
        deg[sl, a] += 1
        deg[sl, q] += 1
        if _sign(F, s, q, a) != 0 or _sign(F, other, q, a) != 0:
            maybe = True  # two shared slots: a reduction may follow
    if not (reduce and maybe):
        return r, True, 0
    stack[0] = i
    stack[1] = j
    r, removed = settle(F, r, stack, 2, mod3, mod2)
    if removed:
        build_pairs(F, r, lists)
    return r, True, removed
