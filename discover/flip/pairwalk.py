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
from .orbitindex import bucket, new_index
from .rng import below

PICK_TRIES = 64  # draws of a pair before a pick counts as failed


@njit(cache=True)
def _add(R, head, X, cnt, tp, tp_at, e, shift):
    """File entry e (slot e % 3 of representative e // 3) in its bucket; keep sizes and the list."""
    q = e // 3
    s = e - 3 * q
    b = bucket(R[2 * s, q], np.uint64(0), shift)
    first = head[b]
    X[0, e] = first
    X[1, e] = -1
    if first >= 0:
        X[1, first] = e
    head[b] = e
    X[2, e] = b
    cnt[b] += 1
    if cnt[b] == 2:
        tp_at[b] = tp[0]
        tp[1 + tp[0]] = b
        tp[0] += 1


@njit(cache=True)
def _drop(head, X, cnt, tp, tp_at, e):
    """Take entry e out of its bucket (nothing when it is in none); keep sizes and the list."""
    b = X[2, e]
    if b < 0:
        return
    nxt = X[0, e]
    prv = X[1, e]
    if prv >= 0:
        X[0, prv] = nxt
    else:
        head[b] = nxt
    if nxt >= 0:
        X[1, nxt] = prv
    X[2, e] = -1
    cnt[b] -= 1
    if cnt[b] == 1:  # b leaves the list: the last listed bucket takes its place
        i = tp_at[b]
        last = tp[tp[0]]
        tp[1 + i] = last
        tp_at[last] = i
        tp[0] -= 1
        tp_at[b] = -1


@njit(cache=True)
def _refile(R, head, X, cnt, tp, tp_at, e, shift):
    _drop(head, X, cnt, tp, tp_at, e)
    _add(R, head, X, cnt, tp, tp_at, e, shift)


@njit(cache=True)
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


@njit(cache=True)
def _nth(head, X, b, j):
    """The j-th entry of bucket b."""
    e = head[b]
    for _ in range(j):
        e = X[0, e]
    return e


@njit(cache=True)
def _plus(R, k, state, head, X, cnt, tp, tp_at, shift):
    """The three-term plus transition on two random terms of different orbits. Returns the new count."""
    if k < 2 or k >= R.shape[1]:
        return k
    for _ in range(1000):
        p = below(state, k)
        q = below(state, k)
        if p == q:
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
        return k + 1
    return k


@njit(cache=True)
def pairs_kernel(R, k, best, best_k, target_k, steps, plus_min, plus_max, cap_k, patience, carry, state, stats):
    """Advance the walk by at most ``steps`` flip attempts; stop at ``target_k`` orbits or fewer.

    ``best`` receives the representatives of the fewest orbits seen (``best_k`` of them, kept on
    a strict improvement). After a period drawn in [``plus_min``, ``plus_max``] flips without a
    reduction the walk takes a plus transition while it holds fewer than ``cap_k`` orbits. With
    ``patience`` > 0 it stops once that many flips have passed since its last new low.
    ``carry`` = [flips since the last reduction or plus, period, failed picks in a row, the flip
    count of the last new low] persists between calls; ``stats`` accumulates [flips, expansions, restarts (always 0),
    reductions, failed picks]. Returns (k, best_k).
    """
    head, X, shift = new_index(R.shape[1])
    cnt = np.zeros(head.shape[0], dtype=np.int64)
    tp = np.zeros(head.shape[0] + 1, dtype=np.int64)  # tp[0]: length; tp[1:]: buckets of size ≥ 2
    tp_at = np.full(head.shape[0], -1, dtype=np.int64)
    for e in range(3 * k):
        _add(R, head, X, cnt, tp, tp_at, e, shift)
    span = plus_max - plus_min + 1
    since, period, fails = carry[0], carry[1], carry[2]
    if period <= 0:
        period = plus_min + below(state, span)
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
                if p != q and R[2 * (ea - 3 * p), p] == R[2 * (eb - 3 * q), q]:
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
            if zero_p or zero_q:
                for s in range(3):  # the zero factor leaves the index before its orbit does
                    if zero_p and s == tp_e:
                        _drop(head, X, cnt, tp, tp_at, 3 * p + s)
                    if zero_q and s == tq_f:
                        _drop(head, X, cnt, tp, tp_at, 3 * q + s)
                if zero_p and zero_q:
                    hi, lo = (p, q) if p > q else (q, p)
                    k = _remove_orbit(R, k, hi, head, X, cnt, tp, tp_at, shift)
                    k = _remove_orbit(R, k, lo, head, X, cnt, tp, tp_at, shift)
                    stats[3] += 2
                else:
                    k = _remove_orbit(R, k, p if zero_p else q, head, X, cnt, tp, tp_at, shift)
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
        if since >= period:
            since = 0
            period = plus_min + below(state, span)
            if k < cap_k:
                k2 = _plus(R, k, state, head, X, cnt, tp, tp_at, shift)
                stats[1] += k2 > k
                k = k2
    carry[0], carry[1], carry[2] = since, period, fails
    return k, best_k
