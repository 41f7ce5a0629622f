"""Flips drawn from pair lists: every flip keeps the scheme exact and the lists stay those of the scheme."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

from discover.flip import zt
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
    P, npairs, deg = pair_buffers(F.shape[1])
    build_pairs(F, r, P, npairs, deg)
    stack = np.empty(STACK, dtype=np.int64)
    Q, nq, dq = pair_buffers(F.shape[1])
    for step in range(300):
        r, ok, removed = pair_flip(F, r, state, stack, P, npairs, deg, step % 7 != 0, False)
        build_pairs(F, r, Q, nq, dq)
        assert pair_set(P, npairs) == pair_set(Q, nq)  # no pair lost, none stale, none twice
        assert int(npairs.sum()) == len(pair_set(P, npairs))
        assert (deg[:, :r] == dq[:, :r]).all()  # the pair counts per term too
        if step % 10 == 0 or removed:
            assert exact(F, r, fmt) and zt.is_ternary(*zt.unpack(F, r, fmt))


def test_pair_flips_reduce_the_naive_3x3x3_scheme():
    fmt = Format.parse("3x3x3")
    naive = Scheme.naive(fmt)
    F = zt.pack(*naive.int64_arrays(), naive.rank)
    P, npairs, deg = pair_buffers(F.shape[1])
    build_pairs(F, naive.rank, P, npairs, deg)
    assert npairs.tolist() == [27, 27, 27]  # each factor e_ij is shared by 3 terms: 9 groups of 3 pairs
    state, stack, r, removed = seed_state(4), np.empty(STACK, dtype=np.int64), naive.rank, 0
    for _ in range(100_000):
        r, ok, n = pair_flip(F, r, state, stack, P, npairs, deg, True, False)
        removed += n
    assert removed > 0 and r == naive.rank - removed and exact(F, r, fmt)
