"""The walk policy, written once for every field.

One compiled loop drives the moves of a field (:mod:`.gf2`: bit-packed terms mod 2, rows
a, b, c; :mod:`.zt`: signed ternary terms over Z, rows a+, a−, b+, b−, c+, c−), chosen by
the ``ternary`` flag: flips until the rank is at most the target, every reduction taken,
plus transitions out of plateaus and restarts from the best scheme with adaptive path lengths.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from . import gf2, zt

STACK = 32  # terms awaiting a reduction check after one move; cascades are short


@njit(cache=True)
def _flip(F, r, state, stack, ternary):
    if ternary:
        return zt.flip_move(F, r, state, stack)
    return gf2.flip_move(F, r, state, stack)


@njit(cache=True)
def _plus(F, r, state, ternary):
    if ternary:
        return zt.plus_move(F, r, state)
    return gf2.plus_move(F, r, state)


@njit(cache=True)
def plus_transition(F, r, state, ternary):
    """One plus transition (rank + 1) of the field's kind; returns the new rank."""
    return _plus(F, r, state, ternary)


@njit(cache=True)
def reduce_all(F, r, ternary):
    """Apply every reduction the scheme allows (each term checked, cascades followed).

    Returns (r, removed). A start scheme may hold terms that cancel or merge; the walk takes
    those reductions before its first flip.
    """
    stack = np.empty(max(STACK, r + 1), dtype=np.int64)
    removed = 0
    k = 0
    while k < r:
        stack[0] = k
        if ternary:
            r, n = zt.settle(F, r, stack, 1)
        else:
            r, n = gf2.settle(F, r, stack, 1)
        removed += n
        if n == 0:
            k += 1
        else:
            k = 0  # terms moved: check them all again
    return r, removed


@njit(cache=True)
def walk_kernel(F, r, best, best_r, target, max_flips, plateau, max_plus, state, stats, ternary):
    """Random walk until rank ≤ target or ``max_flips`` flips.

    ``best`` receives the lowest-rank scheme seen (rank ``best_r`` on entry and return).
    After ``plateau`` flips without a new best, a plus transition is taken while the rank is
    below ``best_r + max_plus``; otherwise the walk restarts from ``best`` and the plateau
    length doubles (up to 16×, reset on progress): adaptive path lengths.
    ``stats`` accumulates [flips, plus transitions, restarts, reductions, failed picks].
    Returns (r, best_r).
    """
    stack = np.empty(STACK, dtype=np.int64)
    rows = F.shape[0]
    flips = 0
    stall = 0
    limit = plateau
    fails = 0
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
                r2 = _plus(F, r, state, ternary)
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
    return r, best_r
