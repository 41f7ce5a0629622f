"""A bucket index of the factors of packed terms, so that a flip finds its partners without a scan.

The cyclic walk (:mod:`.cyclic`) holds k orbit representatives, each with three factors packed
as (positive bits, negative bits) in a ``(6, capacity)`` array. A flip needs the factors equal to
one factor up to sign, in any slot of any representative; a reduction needs two of them. Scanning
every representative costs 9k comparisons per flip, the whole cost of the walk at 5x5x5 and 6x6x6.

Here every factor (entry ``e = 3·q + s``: slot s of representative q) sits in a bucket chosen by
its *support* (positive | negative bits), which is the same for x and −x. Buckets are doubly
linked lists over the entries (``X[0]`` next, ``X[1]`` previous, ``X[2]`` the entry's bucket or
−1), so moving a factor after a write is O(1). Two different factors may share a bucket (same
support, or a hash collision): readers compare the factors themselves.
"""
from __future__ import annotations

import numpy as np

from .jit import njit
from .zt import _remove

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True)
def new_index(capacity):
    """Empty index arrays for ``capacity`` representatives: (head, X, shift), about two buckets per entry."""
    entries = 3 * capacity
    bits = 4
    while (1 << bits) < 2 * entries:
        bits += 1
    return np.full(1 << bits, -1, dtype=np.int64), np.full((3, entries), -1, dtype=np.int64), 64 - bits


@njit(cache=True, inline="always")
def bucket(p, m, shift):
    """The bucket of the factor (p, m): a multiplicative hash of its support p | m."""
    return np.int64(((p | m) * _GOLDEN) >> np.uint64(shift))


@njit(cache=True, inline="always")
def link(R, head, X, e, shift):
    """Put entry e (slot e % 3 of representative e // 3) at the front of its factor's bucket."""
    q = e // 3
    s = e - 3 * q
    b = bucket(R[2 * s, q], R[2 * s + 1, q], shift)
    first = head[b]
    X[0, e] = first
    X[1, e] = -1
    if first >= 0:
        X[1, first] = e
    head[b] = e
    X[2, e] = b


@njit(cache=True, inline="always")
def unlink(head, X, e):
    """Take entry e out of its bucket (nothing when it is in none)."""
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


@njit(cache=True, inline="always")
def relink(R, head, X, q, shift):
    """Re-file the three factors of representative q after writes to it."""
    for s in range(3):
        unlink(head, X, 3 * q + s)
        link(R, head, X, 3 * q + s, shift)


@njit(cache=True)
def index_all(R, k, head, X, shift):
    """Index the factors of the first k representatives (from scratch)."""
    head[:] = -1
    X[2, :] = -1
    for e in range(3 * k):
        link(R, head, X, e, shift)


@njit(cache=True)
def remove_indexed(R, k, i, stack, nstack, head, X, shift):
    """Drop representative i as :func:`.zt._remove` does (the last one moves into its place, the
    pending stack follows) and keep the index consistent. Returns the new count."""
    last = k - 1
    for s in range(3):
        unlink(head, X, 3 * i + s)
        unlink(head, X, 3 * last + s)
    _remove(R, k, i, stack, nstack)
    if i != last:
        for s in range(3):
            link(R, head, X, 3 * i + s, shift)
    return last
