"""Cyclic-symmetric flips for square formats (Moosbauer–Poole): flips on whole orbits, compiled.

In the trace convention a term of <n,n,n> is (a, b, c) with c the *transposed* C-factor
(``c = Wᵀ``), and (a, b, c) → (b, c, a) maps schemes to schemes (:func:`discover.symmetry.cyclic`).
A scheme invariant under it is a set of orbits {(a,b,c), (b,c,a), (c,a,b)} plus fixed terms
(x, x, x). The walk keeps the orbit *representatives* and the fixed terms; every move acts on
a representative and a rotation of another one, which is the same move applied to the three
rotated pairs at once, so the expanded scheme stays exact and invariant:

* **flip**: representative i and rotation g of representative j (i ≠ j) share a factor up to
  a sign σ in slot s; ``x_t[i] += λ x_t[j']``, ``x_u[j'] −= λσ x_u[i]`` (λ = ±1), kept when
  ternary; j's representative takes the back-rotated change.
* **reduction**: an orbit with a zero factor vanishes; two orbits whose representatives agree
  up to sign (after a rotation) in two slots merge (when the sum stays ternary); two opposite
  orbits cancel. Each takes 3 (or 6) terms off the rank.
* **expansion** (rank + 3), when a walk has gone a random number of flips in
  [``plus_min``, ``plus_max``] without a reduction and its rank is below its best + 3·``plus_diff``:
  a split of one factor of an orbit (``x = (x − εy) + εy``, y a factor of another orbit) or the
  three-term plus transition of Kauers–Moosbauer on an orbit pair, each with probability 1/2.

Representatives are packed like ternary terms (:mod:`.zt`: a ``(6, capacity)`` uint64 array, rows
a+, a−, b+, b−, c+, c−, with c in the trace convention). A flip finds its partners, and a reduction
its candidates, through a bucket index of the factors (:mod:`.orbitindex`) instead of a scan of
every representative (2.3× faster on 5x5x5, 3.4× on 6x6x6). Fixed terms are kept as they are (the
naive scheme has n of them), so the ranks a walk reaches are 3·(orbits) + n. One compiled call
advances a walk by many flips (about a million a second on 5x5x5 and 6x6x6); the plateau counters carry
over from call to call, so a seed and a flip budget replay a walk however the clock cuts it.
"""
from __future__ import annotations

import time
from typing import Callable, Optional

import numpy as np
from .jit import njit

from ..formats import Format
from ..scheme import Scheme
from ..tensor import integer_reconstruction, matmul_tensor
from . import checkpoint as walk_checkpoint
from . import zt
from .liftrunners import LiftBudget
from .orbitindex import bucket, index_all, new_index, relink, remove_indexed
from .pairwalk import mirror_pairs, pairs_kernel
from .rng import below, next_u64, seed_state

STACK = 32  # orbits awaiting a reduction check after one move
CALL_FLIPS = 200_000  # flips per compiled call: the caller polls its clock and Ctrl-C between calls


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


def _sign_normal(t: np.ndarray) -> tuple:
    """A key equal for (a, b, c) and its sign rescalings (σa, τb, στc): the same rank-one tensor."""
    a, b, c = t
    sa = 1 if a[np.flatnonzero(a)[0]] > 0 else -1
    sb = 1 if b[np.flatnonzero(b)[0]] > 0 else -1
    return (tuple(a * sa), tuple(b * sb), tuple(c * sa * sb))


def scheme_orbits(scheme: Scheme, mod2: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Orbit representatives (k, 3, n²) and fixed terms (f, n²) of a cyclic-invariant <n,n,n> scheme.

    The inverse of :func:`expand`: every term's rotations (b, c, a) and (c, a, b) must be terms of
    the scheme too (up to factor signs over Z; as 0/1 factors with ``mod2``, where terms that appear
    twice cancel first). A term equal to its rotation is a fixed term x⊗x⊗x.

    Raises
    ------
    ValueError
        When the format is not square, a coefficient is not an integer, or the scheme is not
        invariant under the cyclic symmetry (the message names a term whose rotation is missing).
    """
    n, m, p = scheme.format.dims
    if not n == m == p:
        raise ValueError(f"a cyclic-symmetric scheme is square, got {scheme.format}")
    try:
        U, V, W = scheme.int64_arrays()
    except Exception as exc:  # rational coefficients
        raise ValueError(f"the cyclic walk starts from integer schemes: {exc}") from None
    N = n * n
    terms = np.stack([U.reshape(-1, N), V.reshape(-1, N), W.transpose(0, 2, 1).reshape(-1, N)], axis=1)
    if mod2:
        terms = np.abs(terms) % 2
        count: dict = {}
        for t in terms:
            if t.any(axis=1).all():
                key = tuple(map(tuple, t))
                count[key] = count.get(key, 0) + 1
        keys = [k for k, c in count.items() if c % 2]  # equal terms cancel in pairs mod 2
        norm = {k: np.array(k, dtype=np.int64) for k in keys}
        key_of = lambda t: tuple(map(tuple, t))  # noqa: E731 (0/1 factors: no signs to normalise)
    else:
        terms = terms[terms.any(axis=2).all(axis=1)]
        keys = [_sign_normal(t) for t in terms]
        if len(set(keys)) != len(keys):
            raise ValueError("the scheme repeats a term; the cyclic walk starts from schemes without repeats")
        norm = dict(zip(keys, terms))
        key_of = _sign_normal
    left = set(keys)
    reps, fixed = [], []
    for where, key in enumerate(keys):
        if key not in left:
            continue
        t = norm[key]
        k1, k2 = key_of(_rot(t, 1)), key_of(_rot(t, 2))
        if k1 == key:  # (a, b, c) ~ (b, c, a): a term ±x⊗x⊗x, kept as x with the sign folded in
            a, b, c = t
            sign = 1 if np.array_equal(b, a) else -1
            sign *= 1 if np.array_equal(c, a) else -1
            fixed.append(sign * a if not mod2 else a)
            left.discard(key)
            continue
        if k1 not in left or k2 not in left:
            raise ValueError(f"not invariant under the cyclic symmetry (a, b, c) → (b, c, a): term {where + 1}'s "
                             f"rotation is not a term of the scheme")
        left -= {key, k1, k2}
        reps.append(t)
    reps_arr = np.array(reps, dtype=np.int64).reshape(len(reps), 3, N)
    return reps_arr, np.array(fixed, dtype=np.int64).reshape(len(fixed), N)


def expand(reps: np.ndarray, fixed: np.ndarray, n: int) -> Scheme:
    """The full scheme (U, V, W) of orbit representatives and fixed terms."""
    terms = [_rot(t, g) for t in reps for g in range(3)] + [np.stack([x, x, x]) for x in fixed]
    T = np.array(terms).reshape(len(terms), 3, n, n)
    U, V = T[:, 0], T[:, 1]
    W = np.ascontiguousarray(T[:, 2].transpose(0, 2, 1))  # back from the trace convention
    return Scheme.from_arrays(U, V, W, Format(n, n, n))


def pack_orbits(reps: np.ndarray, capacity: int) -> np.ndarray:
    """Representatives (k, 3, n²) as a ``(6, capacity)`` packed array (see :mod:`.zt`)."""
    k = len(reps)
    R = np.zeros((6, max(capacity, k)), dtype=np.uint64)
    if k:
        R[:, :k] = zt.pack(reps[:, 0], reps[:, 1], reps[:, 2])
    return R


def unpack_orbits(R: np.ndarray, k: int, n: int) -> np.ndarray:
    """The first k packed representatives as an int64 array (k, 3, n²)."""
    N = n * n
    shifts = np.arange(N, dtype=np.uint64)
    out = []
    for s in range(3):
        pos = (R[2 * s, :k, None] >> shifts) & np.uint64(1)
        neg = (R[2 * s + 1, :k, None] >> shifts) & np.uint64(1)
        out.append(pos.astype(np.int64) - neg.astype(np.int64))
    return np.stack(out, axis=1).reshape(k, 3, N)


# ---------------------------------------------------------------------------- kernels
@njit(cache=True, inline="always")
def _rsign(R, s, i, j, g):
    """+1/−1 if slot s of representative i is ± slot s of rotation g of representative j, else 0."""
    sj = (s + g) % 3
    return zt.factor_sign(R[2 * s, i], R[2 * s + 1, i], R[2 * sj, j], R[2 * sj + 1, j])


@njit(cache=True, inline="always")
def _reduce_pair(R, k, i, q, g, stack, nstack, mod2, head, X, shift):
    """The reduction of representative i with rotation g of representative q, if they allow one.

    Returns (k, nstack, removed orbits) (removed 0: none applies).
    """
    e0 = _rsign(R, 0, q, i, g)
    e1 = _rsign(R, 1, q, i, g)
    e2 = _rsign(R, 2, q, i, g)
    m = (e0 != 0) + (e1 != 0) + (e2 != 0)
    if m < 2:
        return k, nstack, 0
    if m == 3 and (e0 * e1 * e2 < 0 or mod2):  # orbit i = −orbit q (or = q mod 2): both vanish
        last = k - 1
        k = remove_indexed(R, k, i, stack, nstack, head, X, shift)
        qq = i if q == last else q
        k = remove_indexed(R, k, qq, stack, nstack, head, X, shift)
        return k, nstack, 2
    if m == 3:
        return k, nstack, 0  # equal orbits: their sum 2·orbit is not ternary
    w, sg = zt.merge_slot(e0, e1, e2)
    wi = (w + g) % 3
    p, n_, ok = zt._sum(R[2 * w, q], R[2 * w + 1, q], R[2 * wi, i], R[2 * wi + 1, i], sg, False, mod2)
    if not ok:
        return k, nstack, 0
    R[2 * w, q] = p
    R[2 * w + 1, q] = n_
    relink(R, head, X, q, shift)
    last = k - 1
    k = remove_indexed(R, k, i, stack, nstack, head, X, shift)
    if q == last:
        q = i
    if nstack < stack.shape[0]:
        stack[nstack] = q
        nstack += 1
    return k, nstack, 1


@njit(cache=True, inline="always")
def orbit_settle(R, k, stack, nstack, mod2, head, X, shift):
    """Apply every orbit reduction the pending (changed) representatives allow. Returns (k, removed orbits).

    ``head``, ``X``, ``shift``: the factor index of the k representatives (:mod:`.orbitindex`),
    kept up to date. A reduction needs two slots of i equal (up to sign) to two slots of a
    rotation of q, one of them slot 0 or slot 1 of i: the candidates are the entries in those
    two factors' buckets.
    """
    removed = 0
    while nstack > 0:
        nstack -= 1
        i = stack[nstack]
        if i < 0:
            continue
        if (R[0, i] | R[1, i]) == 0 or (R[2, i] | R[3, i]) == 0 or (R[4, i] | R[5, i]) == 0:
            k = remove_indexed(R, k, i, stack, nstack, head, X, shift)
            removed += 1
            continue
        done = False
        for si in range(2):
            e = head[bucket(R[2 * si, i], R[2 * si + 1, i], shift)]
            while e >= 0:
                nxt = X[0, e]
                q = e // 3
                sq = e - 3 * q
                if q != i and zt.factor_sign(R[2 * sq, q], R[2 * sq + 1, q], R[2 * si, i], R[2 * si + 1, i]) != 0:
                    # q's slot sq is i's slot si: i is compared with rotation g of q
                    g = (si - sq) % 3
                    k, nstack, n = _reduce_pair(R, k, i, q, g, stack, nstack, mod2, head, X, shift)
                    if n:
                        removed += n
                        done = True
                        break
                e = nxt
            if done:
                break
    return k, removed


@njit(cache=True)
def _settle_all(R, k, mod2):
    """Every reduction the representatives allow (each checked, cascades followed). Returns (k, removed)."""
    head, X, shift = new_index(R.shape[1])
    index_all(R, k, head, X, shift)
    stack = np.empty(max(STACK, k + 1), dtype=np.int64)
    removed = 0
    q = 0
    while q < k:
        stack[0] = q
        k, n = orbit_settle(R, k, stack, 1, mod2, head, X, shift)
        removed += n
        q = 0 if n else q + 1
    return k, removed


@njit(cache=True, inline="always")
def _symmetric(R, q):
    """Whether representative q is (x, x, x) (its orbit is three copies of one term)."""
    return R[0, q] == R[2, q] and R[2, q] == R[4, q] and R[1, q] == R[3, q] and R[3, q] == R[5, q]


@njit(cache=True, inline="always")
def orbit_flip(R, k, state, stack, reduce, mod2, fixed_moves, head, X, shift):
    """One random orbit flip and its reductions. Returns (k, ok, removed orbits).

    The partners of representative i are the entries in its three factors' buckets (``head``,
    ``X``, ``shift``: the factor index, :mod:`.orbitindex`, kept up to date). With
    ``fixed_moves`` False, representatives (x, x, x) take no part (mod 2 such a flip breaks a
    one-term orbit into three terms: rank + 2); they still merge and cancel.
    """
    if k < 2:
        return k, False, 0
    i = below(state, k)
    if not fixed_moves and _symmetric(R, i):
        return k, False, 0
    j = -1
    g = 0
    s = 0
    sigma = 0
    seen = 0
    for slot in range(3):
        pi, ni = R[2 * slot, i], R[2 * slot + 1, i]
        e = head[bucket(pi, ni, shift)]
        while e >= 0:
            q = e // 3
            sq = e - 3 * q
            if q != i and (fixed_moves or not _symmetric(R, q)):
                sg = zt.factor_sign(pi, ni, R[2 * sq, q], R[2 * sq + 1, q])
                if sg != 0:
                    seen += 1
                    if seen == 1 or below(state, seen) == 0:  # a uniform pick among the partners
                        j, g, s, sigma = q, (sq - slot) % 3, slot, sg
            e = X[0, e]
    if j < 0:
        return k, False, 0
    bits = next_u64(state) >> np.uint64(40)
    if zt.apply_flip(R, s, i, j, sigma, bits, False, g, mod2) >= 0:
        relink(R, head, X, i, shift)
        relink(R, head, X, j, shift)
        if not reduce:
            return k, True, 0
        stack[0] = i
        stack[1] = j
        k, removed = orbit_settle(R, k, stack, 2, mod2, head, X, shift)
        return k, True, removed
    return k, False, 0


@njit(cache=True)
def orbit_split(R, k, state, mod2):
    """Split one factor of an orbit along a factor of another (rank + 3). Returns the new orbit count."""
    if k < 1 or k >= R.shape[1]:
        return k
    for _ in range(32):
        i = below(state, k)
        j = below(state, k)
        g = below(state, 3)
        s = below(state, 3)
        sj = (s + g) % 3
        if (R[2 * sj, j] | R[2 * sj + 1, j]) == 0 or _rsign(R, s, i, j, g) != 0:
            continue
        eps = 1 if next_u64(state) & np.uint64(1 << 40) else -1
        p, q, ok = zt._sum(R[2 * s, i], R[2 * s + 1, i], R[2 * sj, j], R[2 * sj + 1, j], -eps, False, mod2)
        if mod2:
            eps = 1  # mod 2 the split factor is y itself
        if not ok:
            continue
        zt.write_split(R, i, s, j, sj, k, eps, p, q)
        return k + 1
    return k


@njit(cache=True)
def orbit_mix(R, k, state, mod2):
    """The three-term plus transition on representative i and rotation g of j (rank + 3).

    With roles (a, b, c) a random order of the slots, t1 = t_i and t2 = rot^g t_j:
    ``t1 + t2 = a1⊗(b1+b2)⊗c1 + (a2−a1)⊗b2⊗c2 + a1⊗b2⊗(c2−c1)``. Returns the new orbit count.
    """
    if k < 2 or k >= R.shape[1]:
        return k
    for _ in range(32):
        i = below(state, k)
        j = below(state, k)
        if i == j:
            continue
        g = below(state, 3)
        if _rsign(R, 0, i, j, g) != 0 or _rsign(R, 1, i, j, g) != 0 or _rsign(R, 2, i, j, g) != 0:
            continue
        sa = below(state, 3)
        sb = (sa + 1 + below(state, 2)) % 3
        sc = 3 - sa - sb
        ja, jb, jc = (sa + g) % 3, (sb + g) % 3, (sc + g) % 3
        bp, bn, ok1 = zt._sum(R[2 * sb, i], R[2 * sb + 1, i], R[2 * jb, j], R[2 * jb + 1, j], 1, False, mod2)
        ap, an, ok2 = zt._sum(R[2 * ja, j], R[2 * ja + 1, j], R[2 * sa, i], R[2 * sa + 1, i], -1, False, mod2)
        cp, cn, ok3 = zt._sum(R[2 * jc, j], R[2 * jc + 1, j], R[2 * sc, i], R[2 * sc + 1, i], -1, False, mod2)
        if not (ok1 and ok2 and ok3):
            continue
        zt.write_mix(R, i, j, k, sa, sb, sc, ja, jb, ap, an, bp, bn, cp, cn)  # new orbit in i's frame
        return k + 1
    return k


@njit(cache=True)
def _expand_orbits(R, k, state, mod2):
    first = (next_u64(state) >> np.uint64(33)) & np.uint64(1)
    for attempt in range(2):
        k2 = orbit_mix(R, k, state, mod2) if (first + attempt) & 1 else orbit_split(R, k, state, mod2)
        if k2 > k:
            return k2
    return k


@njit(cache=True)
def orbits_rank(R, k, mod2):
    """The rank of k representatives: 3 per orbit; mod 2 a representative (x, x, x) is one term
    (its three copies sum to one, 3 ≡ 1)."""
    if not mod2:
        return 3 * k
    rank = 0
    for q in range(k):
        rank += 1 if (R[0, q] == R[2, q] and R[2, q] == R[4, q]) else 3
    return rank


@njit(cache=True)
def cyclic_kernel(R, k, best, best_k, target, steps, plus_min, plus_max, plus_diff, quiet_flips, carry, state, stats,
                  mod2, fixed_moves=0):
    """Advance a cyclic walk by at most ``steps`` flip attempts; stop at rank ≤ ``target``.

    The rank is :func:`orbits_rank` (mod 2 a representative (x, x, x) counts once, so flips that
    make or break one change the rank by 2). ``best`` receives the representatives of the lowest
    rank seen (``best_k`` of them). After ``carry[1]`` flips without a reduction (a period drawn
    in [plus_min, plus_max]) the walk expands (one more orbit) while its rank is below the best
    + 3·``plus_diff``, else it returns to the best. ``carry`` = [flips since the last reduction,
    period, failed picks in a row, quiet flips left] persists between calls; ``stats``
    accumulates [flips, expansions, restarts, reductions, failed picks]. Returns (k, best_k).
    """
    stack = np.empty(STACK, dtype=np.int64)
    span = plus_max - plus_min + 1
    since, period, fails, quiet = carry[0], carry[1], carry[2], carry[3]
    if period <= 0:
        period = plus_min + below(state, span)
    rank = orbits_rank(R, k, mod2)
    best_rank = orbits_rank(best, best_k, mod2)
    head, X, shift = new_index(R.shape[1])  # the factor index; rebuilt after the rare bulk changes
    index_all(R, k, head, X, shift)
    for _ in range(steps):
        if rank <= target:
            break
        allow = fixed_moves == 2 or (fixed_moves == 1 and rank <= best_rank)
        k, ok, removed = orbit_flip(R, k, state, stack, quiet == 0, mod2, allow, head, X, shift)
        if not ok:
            stats[4] += 1
            fails += 1
            if fails > 16 * k + 64:  # no flip applies from here
                fails = 0
                k2 = _expand_orbits(R, k, state, mod2)
                stats[1] += k2 > k
                k = k2
                index_all(R, k, head, X, shift)
                rank = orbits_rank(R, k, mod2)
                since = 0
            continue
        fails = 0
        stats[0] += 1
        if quiet > 0:
            quiet -= 1
            if quiet == 0:
                k, removed = _settle_all(R, k, mod2)
                index_all(R, k, head, X, shift)
        before = rank
        rank = orbits_rank(R, k, mod2)
        if removed or rank < before:
            stats[3] += removed
            since = 0
        else:
            since += 1
        if rank < best_rank:
            best_rank = rank
            best_k = k
            for s in range(6):
                for q in range(k):
                    best[s, q] = R[s, q]
        if since >= period:
            since = 0
            period = plus_min + below(state, span)
            if rank < best_rank + 3 * plus_diff:
                k2 = _expand_orbits(R, k, state, mod2)
                stats[1] += k2 > k
                k = k2
                index_all(R, k, head, X, shift)
                rank = orbits_rank(R, k, mod2)
                quiet = quiet_flips
            else:  # too far above the best: back to it
                k = best_k
                for s in range(6):
                    for q in range(k):
                        R[s, q] = best[s, q]
                index_all(R, k, head, X, shift)
                rank = best_rank
                stats[2] += 1
    carry[0], carry[1], carry[2], carry[3] = since, period, fails, quiet
    return k, best_k


# ---------------------------------------------------------------------------- walk
def cyclic_walk(n: int, target: int, seed: int | np.random.SeedSequence, max_flips: int = 0,
                plus_min: int = 5000, plus_max: int = 100000, plus_diff: int = 2, quiet_flips: int = 0,
                reps: Optional[np.ndarray] = None, fixed: Optional[np.ndarray] = None,
                should_stop: Optional[Callable[[], bool]] = None,
                on_progress: Optional[Callable[[dict], None]] = None, mod2: bool = False, fixed_moves: int = 0,
                accept: Optional[Callable[[np.ndarray], Optional[bool]]] = None,
                ceiling: Optional[Callable[[], int]] = None, deep_lifts: bool = False,
                replay_lift: Optional[int] = None, pairs: bool = False, plus_cap: int = 0,
                patience: int = 0, mirror: bool = False, resume_from: Optional[dict] = None,
                on_checkpoint: Optional[Callable[[dict, bool], None]] = None,
                ) -> tuple[np.ndarray, np.ndarray, dict]:
    """Walk the cyclic-symmetric flip graph of <n,n,n> until 3·orbits + fixed ≤ ``target``.

    Parameters
    ----------
    n : int
        The format is <n,n,n> (n² ≤ 64).
    target : int
        The rank to reach.
    seed : int or numpy.random.SeedSequence
        Seeds the walk's generator: with ``max_flips`` the walk is replayed exactly.
    max_flips : int
        Flips at most (0: until ``should_stop``).
    plus_min, plus_max, plus_diff : int
        The plateau rule (see :func:`cyclic_kernel`).
    reps, fixed : numpy.ndarray, optional
        Start representatives (k, 3, n²) and fixed terms (f, n²); the naive scheme's by default.
    should_stop : callable, optional
        Polled between compiled calls (each at most 200,000 flips) for the clock and Ctrl-C.
    on_progress : callable, optional
        Called after every compiled call with {"best_rank" (or "best_rank_mod2"), "rank", "flips", "flips_per_s"}.
    mod2 : bool
        Walk over GF(2) (factors reduced mod 2, sums are XORs, equal orbits cancel).
    accept : callable, optional
        With ``mod2``: called with the representatives (k, 3, n²) of every scheme the walk holds at
        the target rank or below (after each compiled call; its calls take at most a quarter of the
        time, or with ``max_flips`` of the flips, :class:`~discover.flip.liftrunners.LiftBudget`,
        ``deep_lifts`` when they may go on to Hensel lifting); the walk ends when it returns True
        (e.g. a lift succeeded) and walks on otherwise (False counts as a failed lift; None as a
        lift kept by the caller that does not end the walk).
    ceiling : callable, optional
        With ``accept``: the highest rank worth passing to ``accept`` now (at least ``target``,
        e.g. one below the best lift so far). Every new lowest rank then ends a compiled call and
        is passed on when it is at most the ceiling, so a walk that stops above the target has
        tried its lows on the way down (the calls end at other points, so the walk differs
        from the walk without it).
    replay_lift : int, optional
        With ``accept``: the flip count after which to call ``accept`` whatever the lift budget
        says (a ``lift_point`` this walk recorded: which of its schemes get lifted follows the
        clock, but the walk itself replays from the seed, so this lifts the recorded scheme again).
    pairs : bool
        With ``mod2``: walk with Moosbauer–Poole's move rules (:mod:`.pairwalk`: pairs picked by a
        shared factor, only the reductions a flip makes, plus transitions below ``plus_cap`` and no
        return to the best) instead of the orbit walk's. The fixed terms stay as they are.
    plus_cap : int
        With ``pairs``: the rank below which plus transitions are taken (0: the start's rank).
    patience : int
        With ``pairs``: flips without a new lowest rank after which the walk ends (0: never).
        Every new low gives the walk this many more flips (Moosbauer–Poole's "reset" termination).
    mirror : bool
        With ``pairs``: keep the scheme invariant under the mirror (i, j) → (n−1−i, n−1−j) of every
        factor as well (Moosbauer–Poole's 6-way symmetry): the orbits come in mirror pairs
        (:func:`.pairwalk.mirror_pairs`) and every move is made on a pair and its mirror.
    resume_from : dict, optional
        A checkpoint this walk handed out (same start and settings): the orbits, the best, the
        generator state, the counters, the plateau carry and the lift budget go on from it, so a
        walk with ``max_flips`` cut at a call boundary and resumed makes the very flips and lifts
        of the walk never cut (:mod:`.checkpoint`).
    on_checkpoint : callable, optional
        Called ``(checkpoint, final)``: with ``final`` False every
        :data:`~.checkpoint.CHECKPOINT_EVERY` seconds while the walk runs, and once with ``final``
        True when the walk stops short of an accepted scheme (a time limit, a stop, the flip
        budget, ``patience``).

    Returns
    -------
    (representatives, fixed terms, stats)
        The lowest-rank representatives reached (the end point when it is as low), the fixed
        terms (none mod 2: they are orbits of (x, x, x) there, see :func:`expand_mod2`), and the
        walk's counters; with ``accept``, ``lift_point`` ({"flips": N}) says where the accepted
        lift was made and ``best_lift_point`` where the last one kept by the caller was.
    """
    if n * n > 64:
        raise ValueError(f"cyclic walks hold a factor in 64 bits: {n}x{n}x{n} has {n * n} entries")
    if reps is None or fixed is None:
        reps, fixed = naive_orbits(n)
    reps = np.asarray(reps, dtype=np.int64).reshape(-1, 3, n * n)
    fixed = np.asarray(fixed, dtype=np.int64).reshape(-1, n * n)
    if pairs and not mod2:
        raise ValueError("the pairs walk runs mod 2")
    if mirror and not pairs:
        raise ValueError("the mirror symmetry is kept by the pairs walk")
    if patience and not pairs:
        raise ValueError("patience ends a pairs walk (the orbit walk keeps its own plateau rule)")
    if pairs:
        # The fixed terms stay outside the walk (nothing flips them); the accept callback and the
        # result get them as orbits of (x, x, x), as the orbit walk mod 2 holds them.
        reps = np.abs(reps) % 2
        if mirror:
            reps = mirror_pairs(reps, n)
        fixed = np.abs(fixed) % 2
        fixed_orbits = np.stack([fixed] * 3, axis=1) if len(fixed) else np.zeros((0, 3, n * n), dtype=np.int64)
    elif mod2:
        # Mod 2 a fixed term x⊗x⊗x is the orbit of (x, x, x) (three copies, 3 ≡ 1): it takes part
        # in the moves like any orbit, and an orbit that becomes (x, x, x) counts once.
        reps = np.concatenate([np.abs(reps) % 2, np.stack([fixed % 2] * 3, axis=1)]) if len(fixed) else np.abs(reps) % 2
        fixed = np.zeros((0, n * n), dtype=np.int64)
    f = len(fixed)
    k0 = len(reps)
    cap_k = (max(plus_cap, 3 * k0 + f) - f + 2) // 3 if pairs else 0  # orbits below which plus transitions go
    R = pack_orbits(reps, max(k0, cap_k) + plus_diff + 8)
    k = k0 if pairs else _settle_all(R, k0, mod2)[0]  # reductions the start allows (pairs: the flips find them)
    best = R.copy()
    best_k = k
    state = seed_state(seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(int(seed)))
    stats = np.zeros(5, dtype=np.int64)
    carry = np.zeros(4, dtype=np.int64)
    lifts = {"lift_attempts": 0, "lift_failures": 0}
    accepted = None
    goal = target - f  # the orbits' share of the target rank
    stop = goal  # the kernel's stop; one below the target once a lift has failed there
    t0 = time.perf_counter()
    budget = LiftBudget(Format(n, n, n), bool(max_flips), t0, deep_lifts)

    def rank_of(F, count):
        return (3 * count if pairs else int(orbits_rank(F, count, mod2))) + f

    def with_fixed(reps_now: np.ndarray) -> np.ndarray:
        return np.concatenate([reps_now, fixed_orbits]) if pairs else reps_now

    def moves() -> int:
        """What has moved so far: flips, and failed picks (the orbit walk expands after a run of
        them) or expansions (the pairs walk, whose failed picks can repeat without end)."""
        return int(stats[0] + (stats[1] if pairs else stats[4]))

    lows = accept is not None and ceiling is not None
    lowest = rank_of(best, best_k)
    top = lambda: max(target, ceiling()) if lows else target  # noqa: E731 (the highest rank to lift)
    kind = f"cyclic-{'pairs' if pairs else 'orbit'}{'-gf2' if mod2 else ''}{'-mirror' if mirror else ''}"
    if resume_from is not None:
        values = walk_checkpoint.restore(resume_from, kind, None, state, stats,
                                         (("orbits", R), ("best", best), ("carry", carry)))
        k, best_k, stop, lowest = (int(values[name]) for name in ("k", "best_k", "stop", "lowest"))
        lifts.update(values["lifts"])
        budget.seconds, budget.charged_flips = float(values["lift_seconds"]), float(values["charged_flips"])
        budget.t0 = t0 - float(values["walk_seconds"])  # the lifts' share counts the walk's whole time
    resumed_at = int(stats[0])
    clock = walk_checkpoint.CheckpointClock()

    def snapshot() -> dict:
        values = {"k": int(k), "best_k": int(best_k), "stop": int(stop), "lowest": int(lowest),
                  "lifts": dict(lifts), "lift_seconds": budget.seconds, "charged_flips": budget.charged_flips,
                  "walk_seconds": time.perf_counter() - budget.t0}
        return walk_checkpoint.take(kind, None, state, stats, {"orbits": R, "best": best, "carry": carry}, values)

    while accepted is None and (accept is not None or rank_of(best, best_k) > target):
        if should_stop is not None and should_stop():
            break
        left = CALL_FLIPS if not max_flips else min(CALL_FLIPS, max_flips - int(stats[0]))
        if left <= 0:
            break
        before = moves()
        # With a ceiling every new lowest rank ends the call (to be lifted); else only the target.
        call_stop = max(stop, lowest - 1 - f) if lows else stop
        if rank_of(R, k) - f > call_stop and pairs:
            k, best_k = pairs_kernel(R, k, best, best_k, call_stop // 3, left, plus_min, plus_max, cap_k,
                                     patience, carry, state, stats, n * n if mirror else 0)
        elif rank_of(R, k) - f > call_stop:
            k, best_k = cyclic_kernel(R, k, best, best_k, call_stop, left, plus_min, plus_max, plus_diff,
                                       quiet_flips, carry, state, stats, mod2, fixed_moves)
        if on_progress is not None:
            elapsed = time.perf_counter() - t0
            on_progress({"best_rank" if not mod2 else "best_rank_mod2": rank_of(best, best_k), "rank": rank_of(R, k),
                         "flips": int(stats[0]),
                         "flips_per_s": (int(stats[0]) - resumed_at) / elapsed if elapsed > 0 else None})
        now_rank = rank_of(R, k)
        new_low = now_rank < lowest
        lowest = min(lowest, now_rank)
        due = now_rank <= target or (new_low and now_rank <= top())
        replayed = replay_lift is not None and int(stats[0]) == replay_lift
        if accept is not None and (replayed or (due and budget.allows(int(stats[0])))):
            t = time.perf_counter()
            lifts["lift_attempts"] += 1
            if replayed:
                lifts["replayed_lift"] = True
            verdict = accept(with_fixed(unpack_orbits(R, k, n)))
            if verdict:
                accepted = R[:, :k].copy()
                best_k = k
                lifts["lift_point"] = {"flips": int(stats[0])}
            elif verdict is None:  # lifted, but above the target (kept by the caller)
                lifts["best_lift_point"] = {"flips": int(stats[0])}
            else:
                lifts["lift_failures"] += 1
            budget.charge(now_rank, time.perf_counter() - t)
        if accept is not None and now_rank <= target:
            # Walk on along this plateau (or below) and lift again, whether or not the budget let
            # this one be lifted: the walk must not depend on the clock (replay_lift).
            stop = goal - 1
        if on_checkpoint is not None and accepted is None and clock.due():
            on_checkpoint(snapshot(), False)
        if moves() == before:
            break  # nothing moved: a one-orbit scheme, or (pairs) no flip and no plus transition left
        if patience and int(stats[0] - carry[3]) >= patience:
            break  # no new low for `patience` flips
    reached = accepted is not None or (accept is None and rank_of(best, best_k) <= target)
    if on_checkpoint is not None and not reached:
        on_checkpoint(snapshot(), True)
    out = {"flips": int(stats[0]), "expansions": int(stats[1]), "restarts": int(stats[2]),
           "reductions": int(stats[3]), "failed_picks": int(stats[4])}
    if resume_from is not None:
        out["resumed_at_flips"] = resumed_at
    if accept is not None:
        if replay_lift is not None:
            lifts.setdefault("replayed_lift", False)  # False: the walk never stood at the recorded point
        out.update(lifts, lift_seconds=round(budget.seconds, 3), accepted=accepted is not None)
    if accepted is not None:
        best = accepted
    elif rank_of(R, k) <= rank_of(best, best_k):
        best, best_k = R, k  # the walk's end point when it is as low as the best
    if pairs:
        return with_fixed(unpack_orbits(best, best_k, n)), np.zeros((0, n * n), dtype=np.int64), out
    return unpack_orbits(best, best_k, n), fixed, out


def expand_mod2(reps: np.ndarray, n: int) -> Scheme:
    """The full scheme mod 2 (0/1 entries) of representatives where (x, x, x) stands for one term."""
    reps = np.abs(np.asarray(reps, dtype=np.int64)) % 2
    sym = np.array([np.array_equal(t[0], t[1]) and np.array_equal(t[1], t[2]) for t in reps], dtype=bool)
    fixed = reps[sym, 0] if sym.any() else np.zeros((0, n * n), dtype=np.int64)
    return expand(reps[~sym], fixed, n)


def is_cyclic_invariant(scheme: Scheme) -> bool:
    """Whether a square scheme equals its cyclic image (same terms up to order and factor signs)."""
    from ..canonical import canonical_key
    from ..symmetry import cyclic

    return canonical_key(cyclic(scheme)) == canonical_key(scheme)


def is_exact(scheme: Scheme) -> bool:
    U, V, W = scheme.int64_arrays()
    return bool((integer_reconstruction(U, V, W) == matmul_tensor(scheme.format)).all())
