"""The walk policy, written once for every field.

One compiled loop drives the moves of a field (:mod:`.gf2`: bit-packed terms mod 2, rows
a, b, c; :mod:`.zt`: signed ternary terms over Z, rows a+, a−, b+, b−, c+, c−), chosen by
the ``ternary`` flag: flips until the rank is at most the target, every reduction taken,
plus transitions out of plateaus and restarts from the best scheme with adaptive path lengths.
"""
from __future__ import annotations

import numpy as np
from .jit import njit

from . import gf2, zt
from .pairs import build_pairs, pair_buffers, pair_flip
from .rng import below, next_u64

STACK = 32  # terms awaiting a reduction check after one move; cascades are short


@njit(cache=True)
def _flip(F, r, state, stack, ternary, reduce=True):
    if ternary:
        return zt.flip_move(F, r, state, stack, reduce)
    return gf2.flip_move(F, r, state, stack, reduce)


@njit(cache=True)
def _plus(F, r, state, ternary, mod3=False, mod2=False):
    if ternary:
        return zt.plus_move(F, r, state, mod3, mod2)
    return gf2.plus_move(F, r, state)


@njit(cache=True)
def plus_transition(F, r, state, ternary):
    """One plus transition (rank + 1) of the field's kind; returns the new rank."""
    return _plus(F, r, state, ternary, False)


@njit(cache=True)
def reduce_all(F, r, ternary, mod3=False, mod2=False):
    """Apply every reduction the scheme allows (each term checked, cascades followed).

    Returns (r, removed). A start scheme may hold terms that cancel or merge; the walk takes
    those reductions before its first flip. ``mod2``: a GF(2) scheme in the ternary layout.
    """
    return reduce_all_into(F, r, np.empty(max(STACK, r + 1), dtype=np.int64), ternary, mod3, mod2)


@njit(cache=True)
def reduce_all_into(F, r, stack, ternary, mod3=False, mod2=False):
    """:func:`reduce_all` with its work stack (at least ``max(STACK, r + 1)`` long) from the caller."""
    removed = 0
    k = 0
    while k < r:
        stack[0] = k
        if ternary:
            r, n = zt.settle(F, r, stack, 1, mod3, mod2)
        else:
            r, n = gf2.settle(F, r, stack, 1)
        removed += n
        if n == 0:
            k += 1
        else:
            k = 0  # terms moved: check them all again
    return r, removed


@njit(cache=True)
def walk_kernel(F, r, best, best_r, target, max_flips, plateau, max_plus, state, stats, ternary, carry=None):
    """Random walk until rank ≤ target or ``max_flips`` flips.

    ``best`` receives the lowest-rank scheme seen (rank ``best_r`` on entry and return).
    After ``plateau`` flips without a new best, a plus transition is taken while the rank is
    below ``best_r + max_plus``; otherwise the walk restarts from ``best`` and the plateau
    length doubles (up to 16×, reset on progress): adaptive path lengths.
    ``stats`` accumulates [flips, plus transitions, restarts, reductions, failed picks].
    ``carry`` (int64 [stall, limit, fails], zeros at the start of a walk) keeps the plateau
    counters from one call to the next, so that a walk cut into calls of any size makes the
    same moves (the search sizes its calls by the clock). Returns (r, best_r).
    """
    stack = np.empty(STACK, dtype=np.int64)
    rows = F.shape[0]
    flips = 0
    stall = 0
    limit = plateau
    fails = 0
    if carry is not None and carry[1] > 0:
        stall, limit, fails = carry[0], carry[1], carry[2]
    attempts = 0
    while flips < max_flips and r > target:
        attempts += 1
        if attempts > 64 * max_flips + 4096:
            break  # a dead end that neither plus transitions nor restarts can leave
        r, ok, removed = _flip(F, r, state, stack, ternary)
        if ok:
            flips += 1
            stall += 1
            fails = 0
            stats[3] += removed
        else:
            fails += 1
            stats[4] += 1
            if fails > 64 * r + 64:  # no flip applies: a dead end
                stall = limit
                fails = 0
        if r < best_r:
            best_r = r
            for s in range(rows):
                for k in range(r):
                    best[s, k] = F[s, k]
            stall = 0
            limit = plateau
        elif stall >= limit:
            stall = 0
            if r < best_r + max_plus and r + 1 < F.shape[1]:
                r2 = _plus(F, r, state, ternary, False)
                if r2 > r:
                    stats[1] += 1
                r = r2
            else:
                r = best_r
                for s in range(rows):
                    for k in range(r):
                        F[s, k] = best[s, k]
                stats[2] += 1
                if limit < 16 * plateau:
                    limit *= 2
    stats[0] += flips
    if carry is not None:
        carry[0], carry[1], carry[2] = stall, limit, fails
    return r, best_r


@njit(cache=True)
def expand(F, r, state, ternary, mod3, mod2=False):
    """Raise the rank by one: the three-term plus transition or a split, each with probability 1/2.

    Falls back to the other move when the first finds no pick. Returns the new rank.
    ``mod2``: a GF(2) scheme in the ternary layout (the runner walk's).
    """
    if r + 1 >= F.shape[1]:
        return r
    first = (next_u64(state) >> np.uint64(33)) & np.uint64(1)
    for attempt in range(2):
        if (first + attempt) & 1:
            r2 = zt.mix_move(F, r, state, mod3, mod2) if ternary else gf2.mix_move(F, r, state)
        else:
            r2 = _plus(F, r, state, ternary, mod3, mod2)
        if r2 > r:
            return r2
    return r


@njit(cache=True)
def runners_kernel(Fs, rs, bests, best_rs, since, periods, quiet, target, steps, plus_min, plus_max, plus_diff,
                   quiet_flips, flip_cap, state, stats, ternary, mod3=False):
    """Advance every runner by ``steps`` walk steps (one compiled call for all of them).

    Runner k walks ``Fs[k]`` (rank ``rs[k]``); ``bests[k]`` holds its lowest-rank scheme (rank
    ``best_rs[k]``). Each step tries one flip; its reductions are taken at once. A runner that has
    gone ``periods[k]`` flips without a reduction takes a plus transition or a split
    (:func:`expand`) while its rank is below ``best_rs[k] + plus_diff``, and draws a new period
    uniformly in [plus_min, plus_max] (the plateau rule). A runner where no flip applies for
    many tries expands at once. After an expansion the runner flips ``quiet_flips`` times with
    reductions deferred (``quiet[k]`` counts them down), then takes every reduction at once: the
    walk moves away before a reduction can simply undo the expansion. ``stats`` accumulates [flips, expansions, restarts, reductions,
    failed picks]; the call ends early when ``stats[0]`` reaches ``flip_cap`` (a flip budget).
    Returns the index of a runner at rank ≤ target, or −1.

    Both fields draw flips from pair lists (:mod:`.pairs`). ``ternary`` False: ``Fs`` and
    ``bests`` are GF(2)-packed (:mod:`.gf2`); each runner walks a copy in the ternary layout
    with its factors in the positive rows and every sum taken mod 2, which is 1.5–1.8× faster
    than a scan of every term for a partner.
    """
    stack = np.empty(STACK, dtype=np.int64)
    cap = Fs.shape[2]
    # Every runner draws its flips from pair lists (rebuilt per runner per call: O(r²), cheap).
    # GF(2) runners walk a copy of their scheme in the ternary layout (the factors in the positive
    # rows, sums taken mod 2), so both fields share the pair-list kernel; the callers keep the
    # GF(2) packing.
    lists = pair_buffers(cap)
    F = np.zeros((6, cap), dtype=np.uint64)
    reduce_stack = np.empty(max(STACK, cap + 1), dtype=np.int64)
    return _runners_loop(Fs, rs, bests, best_rs, since, periods, quiet, target, steps, plus_min, plus_max, plus_diff,
                         quiet_flips, flip_cap, state, stats, ternary, mod3, stack, lists, F, reduce_stack)


@njit(cache=True, _nrt=False)
def _runners_loop(Fs, rs, bests, best_rs, since, periods, quiet, target, steps, plus_min, plus_max, plus_diff,
                  quiet_flips, flip_cap, state, stats, ternary, mod3, stack, lists, F, reduce_stack):
    """The walk of :func:`runners_kernel` on its work arrays, compiled without Numba's reference
    counting (``_nrt=False``: it allocates nothing, nor may its callees), as
    :func:`.pairwalk._pairs_loop` is. Here it gained about 10% (4x4x5 GF(2) 2.22 → 2.44 M flips/s);
    finding a flip's new pairs through the factor index instead of a scan of every term
    (:func:`.pairs._after_flip`) then gained 1.1–1.6×, more on larger formats."""
    K = Fs.shape[0]
    cap = Fs.shape[2]
    span = plus_max - plus_min + 1
    mod2 = not ternary
    stride = 2 if mod2 else 1  # row s of the caller's packing is row stride·s here
    for k in range(K):
        if mod2:
            for s in range(3):
                for q in range(cap):
                    F[2 * s, q] = Fs[k, s, q]
                    F[2 * s + 1, q] = 0
        else:
            F = Fs[k]
        r = rs[k]
        best_r = best_rs[k]
        fails = 0
        build_pairs(F, r, lists)
        for _ in range(steps):
            if stats[0] >= flip_cap:
                break
            r, ok, removed = pair_flip(F, r, state, stack, lists, quiet[k] == 0, mod3, mod2)
            if not ok:
                stats[4] += 1
                fails += 1
                if fails > 16 * r + 64:  # no flip applies from here
                    fails = 0
                    r2 = expand(F, r, state, True, mod3, mod2)
                    stats[1] += r2 > r
                    r = r2
                    since[k] = 0
                    build_pairs(F, r, lists)
                continue
            fails = 0
            stats[0] += 1
            if quiet[k] > 0:
                quiet[k] -= 1
                if quiet[k] == 0:
                    r, removed = reduce_all_into(F, r, reduce_stack, True, mod3, mod2)
                    if removed:
                        build_pairs(F, r, lists)
            if removed:
                stats[3] += removed
                since[k] = 0
            else:
                since[k] += 1
            if r < best_r:
                best_r = r
                for s in range(Fs.shape[1]):
                    for q in range(r):
                        bests[k, s, q] = F[stride * s, q]
                if r <= target:
                    break
            if since[k] >= periods[k] and r < best_r + plus_diff:
                r2 = expand(F, r, state, True, mod3, mod2)
                stats[1] += r2 > r
                r = r2
                since[k] = 0
                periods[k] = plus_min + below(state, span)
                quiet[k] = quiet_flips
                build_pairs(F, r, lists)
        if mod2:
            for s in range(3):
                for q in range(cap):
                    Fs[k, s, q] = F[2 * s, q]
        rs[k] = r
        best_rs[k] = best_r
        if best_r <= target:
            return k
    return -1
