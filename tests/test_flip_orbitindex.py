"""The factor index of the cyclic walk stays the index of the representatives it holds."""
from __future__ import annotations

import numpy as np

from discover.flip.orbitindex import bucket, index_all, new_index, relink, remove_indexed


def _buckets(R, k, head, X, shift) -> dict:
    """Every bucket's entries, walked from its head (checking the back links on the way)."""
    seen = {}
    for b in range(len(head)):
        e, prev = head[b], -1
        while e >= 0:
            assert X[1, e] == prev and X[2, e] == b
            seen[int(e)] = b
            prev, e = e, X[0, e]
    return seen


def _consistent(R, k, head, X, shift) -> bool:
    seen = _buckets(R, k, head, X, shift)
    want = {3 * q + s: int(bucket(R[2 * s, q], R[2 * s + 1, q], shift)) for q in range(k) for s in range(3)}
    return seen == want


def test_the_index_follows_writes_and_removals():
    rng = np.random.default_rng(0)
    cap = 40
    R = np.zeros((6, cap), dtype=np.uint64)
    k = 30
    R[:, :k] = rng.integers(0, 4, size=(6, k)).astype(np.uint64)  # small supports: many shared buckets
    R[1::2] &= ~R[0::2]  # a factor's positive and negative bits are disjoint
    head, X, shift = new_index(cap)
    index_all(R, k, head, X, shift)
    assert _consistent(R, k, head, X, shift)
    stack = np.full(8, -1, dtype=np.int64)
    for step in range(200):
        q = int(rng.integers(k))
        if step % 7 == 0 and k > 2:
            stack[:2] = [q, k - 1]
            k = remove_indexed(R, k, q, stack, 2, head, X, shift)
            assert stack[0] == -1 and (stack[1] == q or q == k)  # the moved last one is pending under its new place
        else:
            R[2 * (step % 3), q] = np.uint64(rng.integers(0, 8))
            R[2 * (step % 3) + 1, q] &= ~R[2 * (step % 3), q]
            relink(R, head, X, q, shift)
        assert _consistent(R, k, head, X, shift)
    assert k < 30
