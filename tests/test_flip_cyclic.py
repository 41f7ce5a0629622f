"""Cyclic-symmetric flips: orbit moves keep the scheme exact and invariant under (a,b,c) -> (b,c,a)."""
from __future__ import annotations

import numpy as np
import pytest

from discover.canonical import canonical_key
from discover.flip.cyclic import cyclic_walk, expand, is_cyclic_invariant, is_exact, naive_orbits
from discover.scheme import Scheme
from discover.symmetry import cyclic


@pytest.mark.parametrize("n", [2, 3])
def test_naive_orbits_expand_to_the_naive_scheme(n):
    reps, fixed = naive_orbits(n)
    s = expand(reps, fixed, n)
    assert s.rank == n ** 3 and len(fixed) == n
    assert canonical_key(s) == canonical_key(Scheme.naive(f"{n}x{n}x{n}"))
    assert is_cyclic_invariant(s)


@pytest.mark.parametrize("n, seed", [(2, 0), (3, 0), (3, 1)])
def test_orbit_flips_keep_exactness_and_the_symmetry(n, seed):
    reps, fixed = naive_orbits(n)
    rng = np.random.default_rng(seed)
    for _ in range(3):  # several short walks, each continuing the last
        reps, fixed = cyclic_walk(n, 0, rng, max_flips=60, plateau=20, reps=reps, fixed=fixed)
        s = expand(reps, fixed, n)
        assert is_exact(s) and is_cyclic_invariant(s)
        assert canonical_key(cyclic(s)) == canonical_key(s)
    if n == 3:  # the walk moved: not the naive scheme any more
        assert canonical_key(s) != canonical_key(Scheme.naive("3x3x3"))
