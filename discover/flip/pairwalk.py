"""The cyclic walk mod 2 with Moosbauer–Poole's move rules: pairs picked by shared factor, lazy reductions.

The orbit walk of :mod:`.cyclic` picks a representative, then one of its partners, settles every
reduction at once, and returns to its best scheme when it has climbed ``plus_diff`` orbits above
it. On 5x5x5 it stalls at 100–107 mod 2 from the three-cube start (``cubes:5x5x5:10001+01010+00100``)
where the walk described by Moosbauer and Poole (arXiv:2502.04514, and their published run files)
reaches 93. This kernel follows that description instead:

* **pick**: a factor value that two or more factors share (uniformly over such values, not over
  representatives), then an ordered pair of its occurrences in two different orbits. The two
  terms (v, e₁, f₁) and (v, e₂, f₂) (each orbit read in the rotation that puts v first) become
  (v, e₁+e₂, f₁) and (v, e₂, f₂+f₁), on the whole orbits at once;
* **reduction**: only the one a flip makes, a zero factor (its orbit vanishes, rank − 3); a merge
  of two orbits is the flip that zeroes one of them, found by the walk rather than searched for;
* **plus transition** after ``period`` flips without a reduction, while the rank is below a cap
  (by default the start's rank): two terms (d₁, e₁, f₁), (d₂, e₂, f₂) of different orbits that
  differ in every slot become (d₁, e₁+e₂, f₁) + (d₁, e₂, f₁+f₂) + (d₁+d₂, e₂, f₂) (Arai et al.);
  there is no return to the best scheme: the walk wanders below the cap.

Factors are mod 2 bit masks in the positive rows of the packed ``(6, capacity)`` array of
:mod:`.cyclic` (the negative rows stay zero). The bucket index of :mod:`.orbitindex` finds the
occurrences; each bucket also keeps its size, and the buckets holding two or more factors are a
list with O(1) insertion and removal, so a pick costs a few random draws. Two different values
rarely share a bucket; a pick that draws two different values (or one orbit twice) is drawn again.
The fixed terms x⊗x⊗x are not in the array (the caller keeps them): nothing flips them.
"""
from __future__ import annotations

import numpy as np

from .jit import njit
from .orbitindex import link, new_index, unlink
from .rng import below

PICK_TRIES = 64  # draws of a pair before a pick counts as failed


@njit(cache=True, inline="always")
def _add(R, head, X, cnt, tp, tp_at, e, shift):
    """File entry e (slot e % 3 of representative e // 3) in its bucket; keep sizes and the list."""
    link(R, head, X, e, shift)  # mod 2 the negative rows are zero: the bucket of the factor's bits
    b = X[2, e]
    cnt[b] += 1
    if cnt[b] == 2:
        tp_at[b] = tp[0]
        tp[1 + tp[0]] = b
        tp[0] += 1


@njit(cache=True, inline="always")
def _drop(head, X, cnt, tp, tp_at, e):
    """Take entry e out of its bucket (nothing when it is in none); keep sizes and the list."""
    b = X[2, e]
    if b < 0:
        return
    unlink(head, X, e)
    cnt[b] -= 1
    if cnt[b] == 1:  # b leaves the list: the last listed bucket takes its place
        i = tp_at[b]
        last = tp[tp[0]]
        tp[1 + i] = last
        tp_at[last] = i
        tp[0] -= 1
        tp_at[b] = -1


@njit(cache=True, inline="always")
def _refile(R, head, X, cnt, tp, tp_at, e, shift):
    _drop(head, X, cnt, tp, tp_at, e)
    _add(R, head, X, cnt, tp, tp_at, e, shift)


@njit(cache=True, inline="always")
def _remove_orbit(R, k, q, head, X, cnt, tp, tp_at, shift):
    """Drop representative q (the last one moves into its place). Returns the new count."""
    last = k - 1
    for s in range(3):
        _drop(head, X, cnt, tp, tp_at, 3 * q + s)
    if q != last:
        for s in range(3):
            _drop(head, X, cnt, tp, tp_at, 3 * last + s)
        for row in range(6):
            R[row, q] = R[row, last]
        for s in range(3):
            _add(R, head, X, cnt, tp, tp_at, 3 * q + s, shift)
    for row in range(6):
        R[row, last] = 0
    return last


@njit(cache=True, inline="always")
def _nth(head, X, b, j):
    """The j-th entry of bucket b."""
    e = head[b]
    for _ in range(j):
        e = X[0, e]
    return e


_M1 = np.uint64(0x5555555555555555)
_M2 = np.uint64(0x3333333333333333)
_M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
_M8 = np.uint64(0x00FF00FF00FF00FF)
_M16 = np.uint64(0x0000FFFF0000FFFF)


@njit(cache=True, inline="always")
def _rev(x, nbits):
    """The factor x with its n² entries in reverse order: (i, j) → (n−1−i, n−1−j).

    The 64 bits reversed by swapping ever larger halves (six steps, no loop over the bits: the
    mirror walk reverses six factors per flip), then shifted down to the n² entries.
    """
    x = ((x >> np.uint64(1)) & _M1) | ((x & _M1) << np.uint64(1))
    x = ((x >> np.uint64(2)) & _M2) | ((x & _M2) << np.uint64(2))
    x = ((x >> np.uint64(4)) & _M4) | ((x & _M4) << np.uint64(4))
    x = ((x >> np.uint64(8)) & _M8) | ((x & _M8) << np.uint64(8))
    x = ((x >> np.uint64(16)) & _M16) | ((x & _M16) << np.uint64(16))
    x = (x >> np.uint64(32)) | (x << np.uint64(32))
    return x >> np.uint64(64 - nbits)


@njit(cache=True, inline="always")
def _mirror_slot(R, q, s, nbits, head, X, cnt, tp, tp_at, shift):
    """Slot s of representative q ^ 1 becomes the mirror image of slot s of q; refile it when it
    changed. A flip changes one slot of each of its two representatives, whose other slots are
    already the mirror images: it mirrors only that slot."""
    m = q ^ 1
    v = _rev(R[2 * s, q], nbits)
    if R[2 * s, m] != v:
        R[2 * s, m] = v
        _refile(R, head, X, cnt, tp, tp_at, 3 * m + s, shift)


@njit(cache=True, inline="always")
def _mirror(R, q, nbits, head, X, cnt, tp, tp_at, shift):
    """Representative q ^ 1 becomes the mirror image of q (every factor reversed); refile what changed."""
    for s in range(3):
        _mirror_slot(R, q, s, nbits, head, X, cnt, tp, tp_at, shift)


@njit(cache=True, inline="always")
def _self_mirrored(R, q):
    """Whether the orbit of q equals the orbit of its mirror q ^ 1 (then mod 2 the six terms cancel)."""
    m = q ^ 1
    for g in range(3):
        if (R[0, q] == R[2 * g, m] and R[2, q] == R[2 * ((1 + g) % 3), m]
                and R[4, q] == R[2 * ((2 + g) % 3), m]):
            return True
    return False


@njit(cache=True, inline="always")
def _remove_group(R, k, q, mirror, head, X, cnt, tp, tp_at, shift):
    """Drop representative q, and its mirror with ``mirror`` (the last pair moves into their place)."""
    if not mirror:
        return _remove_orbit(R, k, q, head, X, cnt, tp, tp_at, shift)
    lo = q & ~1
    k = _remove_orbit(R, k, lo + 1, head, X, cnt, tp, tp_at, shift)  # the last rep (odd) moves to lo + 1 ...
    return _remove_orbit(R, k, lo, head, X, cnt, tp, tp_at, shift)  # ... then the last (even) to lo


@njit(cache=True)
def _plus(R, k, state, head, X, cnt, tp, tp_at, shift, nbits):
    """The three-term plus transition on two random terms of different orbits (with ``nbits``, of
    different mirror pairs, and the mirror transition beside it). Returns the new count."""
    grow = 2 if nbits else 1
    if k < 2 * grow or k + grow > R.shape[1]:
        return k
    for _ in range(1000):
        p = below(state, k)
        q = below(state, k)
        if p == q or (nbits and (p >> 1) == (q >> 1)):
            continue
        sp = below(state, 3)
        sq = below(state, 3)
        dp, ep, fp = R[2 * sp, p], R[2 * ((sp + 1) % 3), p], R[2 * ((sp + 2) % 3), p]
        dq, eq, fq = R[2 * sq, q], R[2 * ((sq + 1) % 3), q], R[2 * ((sq + 2) % 3), q]
        if dp == dq or ep == eq or fp == fq:
            continue
        R[2 * ((sp + 1) % 3), p] = ep ^ eq
        R[2 * sq, q] = dp
        R[2 * ((sq + 2) % 3), q] = fp ^ fq
        R[0, k] = dp ^ dq
        R[2, k] = eq
        R[4, k] = fq
        _refile(R, head, X, cnt, tp, tp_at, 3 * p + (sp + 1) % 3, shift)
        _refile(R, head, X, cnt, tp, tp_at, 3 * q + sq, shift)
        _refile(R, head, X, cnt, tp, tp_at, 3 * q + (sq + 2) % 3, shift)
        for s in range(3):
            _add(R, head, X, cnt, tp, tp_at, 3 * k + s, shift)
        if nbits:
            _mirror(R, p, nbits, head, X, cnt, tp, tp_at, shift)
            _mirror(R, q, nbits, head, X, cnt, tp, tp_at, shift)
            _mirror(R, k, nbits, head, X, cnt, tp, tp_at, shift)
        return k + grow
    return k


@njit(cache=True)
def pairs_kernel(R, k, best, best_k, target_k, steps, plus_min, plus_max, cap_k, patience, carry, state, stats,
                 nbits=0):
    """Advance the walk by at most ``steps`` flip attempts; stop at ``target_k`` orbits or fewer.

    ``best`` receives the representatives of the fewest orbits seen (``best_k`` of them, kept on
    a strict improvement). After a period drawn in [``plus_min``, ``plus_max``] flips without a
    reduction the walk takes a plus transition while it holds fewer than ``cap_k`` orbits. With
    ``patience`` > 0 it stops once that many flips have passed since its last new low.
    ``carry`` = [flips since the last reduction or plus, period, failed picks in a row, the flip
    count of the last new low] persists between calls; ``stats`` accumulates [flips, expansions, restarts (always 0),
    reductions, failed picks]. With ``nbits`` = n² the representatives come in mirror pairs
    (2m + 1 holds the factors of 2m reversed, the symmetry (i, j) → (n−1−i, n−1−j) of every
    factor): each move is made on a pair and on its mirror, and a pair whose orbits coincide
    (mod 2 its six terms cancel) is dropped. Returns (k, best_k).
    """
    head, X, shift = new_index(R.shape[1])
    cnt = np.zeros(head.shape[0], dtype=np.int64)
    tp = np.zeros(head.shape[0] + 1, dtype=np.int64)  # tp[0]: length; tp[1:]: buckets of size ≥ 2
    tp_at = np.full(head.shape[0], -1, dtype=np.int64)
    return _pairs_loop(R, k, best, best_k, target_k, steps, plus_min, plus_max, cap_k, patience, carry, state,
                       stats, nbits, head, X, shift, cnt, tp, tp_at)


@njit(cache=True, _nrt=False)
def _pairs_loop(R, k, best, best_k, target_k, steps, plus_min, plus_max, cap_k, patience, carry, state, stats,
                nbits, head, X, shift, cnt, tp, tp_at):
    """The walk of :func:`pairs_kernel` on its index arrays, compiled without Numba's reference
    counting (``_nrt=False``, a private option of Numba's: it allocates nothing, and the helpers
    it calls are compiled the same way, so one that allocated would not compile). The counts it
    took on the arrays of every inlined helper, atomic increments and decrements, were about 60%
    of the time of a flip (``perf``; a return-address count under gdb showed about 40 of them per
    flip, and 10 more in the generator's ``below``)."""
    for e in range(3 * k):
        _add(R, head, X, cnt, tp, tp_at, e, shift)
    span = plus_max - plus_min + 1
    since, period, fails = carry[0], carry[1], carry[2]
    if period <= 0:
        period = plus_min + below(state, span)
    stuck = False
    for _ in range(steps):
        if k <= target_k or (patience > 0 and stats[0] - carry[3] >= patience):
            break
        picked = False
        ea = 0
        eb = 0
        if tp[0] > 0:
            for _t in range(PICK_TRIES):
                b = tp[1 + below(state, tp[0])]
                n = cnt[b]
                ia = below(state, n)
                ib = below(state, n - 1)
                if ib >= ia:
                    ib += 1
                ea = _nth(head, X, b, ia)
                eb = _nth(head, X, b, ib)
                p = ea // 3
                q = eb // 3
                if (p >> 1 != q >> 1 if nbits else p != q) and R[2 * (ea - 3 * p), p] == R[2 * (eb - 3 * q), q]:
                    picked = True
                    break
        if picked:
            fails = 0
            stats[0] += 1
            since += 1
            p = ea // 3
            sp = ea - 3 * p
            q = eb // 3
            sq = eb - 3 * q
            tp_e = (sp + 1) % 3  # p's e slot takes + e of q
            tq_f = (sq + 2) % 3  # q's f slot takes + f of p
            R[2 * tp_e, p] ^= R[2 * ((sq + 1) % 3), q]
            R[2 * tq_f, q] ^= R[2 * ((sp + 2) % 3), p]
            zero_p = R[2 * tp_e, p] == 0
            zero_q = R[2 * tq_f, q] == 0
            if not zero_p:
                _refile(R, head, X, cnt, tp, tp_at, 3 * p + tp_e, shift)
            if not zero_q:
                _refile(R, head, X, cnt, tp, tp_at, 3 * q + tq_f, shift)
            if nbits:  # the mirror flip, and the pairs it makes coincide with their mirror
                _mirror_slot(R, p, tp_e, nbits, head, X, cnt, tp, tp_at, shift)
                _mirror_slot(R, q, tq_f, nbits, head, X, cnt, tp, tp_at, shift)
                zero_p = zero_p or _self_mirrored(R, p)
                zero_q = zero_q or _self_mirrored(R, q)
            if zero_p or zero_q:
                for s in range(3):  # a zero factor leaves the index before its orbit does
                    if zero_p and s == tp_e and R[2 * s, p] == 0:
                        _drop(head, X, cnt, tp, tp_at, 3 * p + s)
                    if zero_q and s == tq_f and R[2 * s, q] == 0:
                        _drop(head, X, cnt, tp, tp_at, 3 * q + s)
                if nbits:
                    for s in range(3):
                        if R[2 * s, p ^ 1] == 0:
                            _drop(head, X, cnt, tp, tp_at, 3 * (p ^ 1) + s)
                        if R[2 * s, q ^ 1] == 0:
                            _drop(head, X, cnt, tp, tp_at, 3 * (q ^ 1) + s)
                mirror = nbits > 0
                if zero_p and zero_q:
                    hi, lo = (p, q) if p > q else (q, p)
                    k = _remove_group(R, k, hi, mirror, head, X, cnt, tp, tp_at, shift)
                    k = _remove_group(R, k, lo, mirror, head, X, cnt, tp, tp_at, shift)
                    stats[3] += 2
                else:
                    k = _remove_group(R, k, p if zero_p else q, mirror, head, X, cnt, tp, tp_at, shift)
                    stats[3] += 1
                since = 0
                if k < best_k:
                    best_k = k
                    carry[3] = stats[0]
                    for row in range(6):
                        for c in range(k):
                            best[row, c] = R[row, c]
                continue
        else:
            stats[4] += 1
            fails += 1
            if fails <= 16:
                continue
            fails = 0
            since = period  # no pair to flip: take a plus transition now
            stuck = True
        if since >= period:
            since = 0
            period = plus_min + below(state, span)
            k2 = _plus(R, k, state, head, X, cnt, tp, tp_at, shift, nbits) if k < cap_k else k
            stats[1] += k2 > k
            if stuck and k2 == k:
                break  # no flip and no plus transition: the walk cannot move (the caller sees no flips)
            k = k2
        stuck = False
    carry[0], carry[1], carry[2] = since, period, fails
    return k, best_k


def mirror_pairs(reps: np.ndarray, n: int) -> np.ndarray:
    """Orbit representatives (k, 3, n²) mod 2 reordered in mirror pairs: 2m + 1 is 2m reversed.

    The mirror of a term reverses the entries of each factor, (i, j) → (n−1−i, n−1−j): the same
    relabelling i → n−1−i of all three matrices, so it maps schemes to schemes and commutes with
    the cyclic rotation. Each orbit's mirror must be another orbit of ``reps``.

    Raises
    ------
    ValueError
        When an orbit is its own mirror, or its mirror is not among the orbits (the scheme is not
        invariant under the mirror).
    """
    reps = np.abs(np.asarray(reps, dtype=np.int64)) % 2

    def orbit_key(t: np.ndarray) -> tuple:
        return min(tuple(np.roll(t, -g, axis=0).ravel()) for g in range(3))

    keys = [orbit_key(t) for t in reps]
    where = {key: i for i, key in enumerate(keys)}
    out, used = [], set()
    for i, t in enumerate(reps):
        if i in used:
            continue
        m = t[:, ::-1]
        j = where.get(orbit_key(m))
        if j is None:
            raise ValueError(f"orbit {i + 1}'s mirror (entries reversed) is not an orbit of the scheme")
        if j == i:
            raise ValueError(f"orbit {i + 1} is its own mirror; the mirror walk pairs distinct orbits")
        used |= {i, j}
        out += [t, m]
    return np.array(out, dtype=np.int64).reshape(len(out), 3, n * n)
