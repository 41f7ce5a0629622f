"""Flips drawn from pair lists: every flip keeps the scheme exact and the lists stay those of the scheme."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

from discover.flip import gf2, policy, zt
from discover.flip.lift import is_exact_mod2
from discover.flip.pairs import build_pairs, pair_buffers, pair_flip
from discover.flip.policy import STACK
from discover.flip.rng import seed_state
from discover.formats import Format
from discover.scheme import Scheme

from .test_flip_pool import FORMATS, exact, random_exact


def pair_set(P, npairs) -> set:
    return {(s, min(int(a), int(b)), max(int(a), int(b))) for s in range(3) for a, b in P[s, :npairs[s]]}


@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(fmt=st.sampled_from(FORMATS), seed=st.integers(0, 2**32 - 1), flips=st.integers(0, 2000))
def test_pair_flips_keep_the_scheme_exact_and_the_lists_current(fmt, seed, flips):
    fmt = Format.parse(fmt)
    F, r, state = random_exact(fmt, seed, flips)
    lists = pair_buffers(F.shape[1])
    P, npairs, deg = lists[:3]
    build_pairs(F, r, lists)
    stack = np.empty(STACK, dtype=np.int64)
    fresh = pair_buffers(F.shape[1])
    Q, nq, dq = fresh[:3]
    for step in range(300):
        r, ok, removed = pair_flip(F, r, state, stack, lists, step % 7 != 0, False)
        build_pairs(F, r, fresh)
        assert pair_set(P, npairs) == pair_set(Q, nq)  # no pair lost, none stale, none twice
        assert int(npairs.sum()) == len(pair_set(P, npairs))
        assert (deg[:, :r] == dq[:, :r]).all()  # the pair counts per term too
        assert (lists[4][2, :3 * r] == fresh[4][2, :3 * r]).all()  # each factor in its bucket of the index
        if step % 10 == 0 or removed:
            assert exact(F, r, fmt) and zt.is_ternary(*zt.unpack(F, r, fmt))


def test_pair_flips_reduce_the_naive_3x3x3_scheme():
    fmt = Format.parse("3x3x3")
    naive = Scheme.naive(fmt)
    F = zt.pack(*naive.int64_arrays(), naive.rank)
    lists = pair_buffers(F.shape[1])
    build_pairs(F, naive.rank, lists)
    assert lists[1].tolist() == [27, 27, 27]  # each factor e_ij is shared by 3 terms: 9 groups of 3 pairs
    state, stack, r, removed = seed_state(4), np.empty(STACK, dtype=np.int64), naive.rank, 0
    for _ in range(100_000):
        r, ok, n = pair_flip(F, r, state, stack, lists, True, False)
        removed += n
    assert removed > 0 and r == naive.rank - removed and exact(F, r, fmt)


def exact_mod2(F6, r, fmt) -> bool:
    """Whether the first r terms of a GF(2) scheme in the ternary layout (positive rows) are exact mod 2."""
    return is_exact_mod2(*gf2.unpack(np.ascontiguousarray(F6[0::2]), r, fmt), fmt)


@settings(max_examples=20, deadline=None, derandomize=True, database=None)
@given(fmt=st.sampled_from(FORMATS), seed=st.integers(0, 2**32 - 1))
def test_pair_flips_mod_2_keep_the_scheme_exact_mod_2_and_the_lists_current(fmt, seed):
    fmt = Format.parse(fmt)
    naive = Scheme.naive(fmt)
    F = zt.pack(*naive.int64_arrays(), naive.rank + 12)  # naive factors are 0/1: the GF(2) layout
    r, state = naive.rank, seed_state(seed)
    lists = pair_buffers(F.shape[1])
    P, npairs, deg = lists[:3]
    build_pairs(F, r, lists)
    stack = np.empty(STACK, dtype=np.int64)
    fresh = pair_buffers(F.shape[1])
    Q, nq, dq = fresh[:3]
    removed_total = 0
    for step in range(400):
        if step % 50 == 49:
            r = policy.expand(F, r, state, True, False, True)  # a split or three-term plus, mod 2
            build_pairs(F, r, lists)
        had_pairs = int(npairs.sum()) > 0
        r, ok, removed = pair_flip(F, r, state, stack, lists, step % 7 != 0, False, True)
        assert ok == had_pairs  # mod 2 every drawn flip applies (none when no two terms share a factor)
        removed_total += removed
        build_pairs(F, r, fresh)
        assert pair_set(P, npairs) == pair_set(Q, nq)
        assert (lists[4][2, :3 * r] == fresh[4][2, :3 * r]).all()  # each factor in its bucket of the index
        assert (F[1::2, :r] == 0).all()  # the negative rows stay empty
        if step % 10 == 0 or removed:
            assert exact_mod2(F, r, fmt)
    assert exact_mod2(F, r, fmt)


def test_settle_mod_2_cancels_two_equal_terms_and_merges_two_that_share_two_factors():
    F = np.zeros((6, 4), dtype=np.uint64)
    F[0::2, 0] = F[0::2, 1] = (1, 2, 4)  # terms 0 and 1 equal: 2·t ≡ 0 mod 2
    F[0::2, 2] = (8, 16, 1)
    F[0::2, 3] = (8, 16, 2)  # shares a and b with term 2: merged into c = 1 ^ 2
    stack = np.empty(STACK, dtype=np.int64)
    stack[0], stack[1] = 1, 3
    r, removed = zt.settle(F, 4, stack, 2, False, True)
    assert (r, removed) == (1, 3)
    assert F[0::2, 0].tolist() == [8, 16, 3]
