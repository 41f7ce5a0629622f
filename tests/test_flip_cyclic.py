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


def test_cyclic_method_reports_verified_invariant_schemes(tmp_path):
    from discover.jsonio import load_scheme
    from discover.problem import Problem
    from discover.search import search
    from discover.verify import verify_exact

    # Short walks: whether or not they reach rank 24, what comes back (found, or the best
    # scheme saved under its real rank) is exact, proven and cyclic-invariant.
    result = search(Problem("3x3x3", 24, "ZT"), "cyclic", {"max_flips": 300, "plateau": 50}, seed=0, restarts=2,
                    workers=1, out_dir=tmp_path)
    schemes = result.found or [result.best_scheme]
    assert schemes[0] is not None and schemes[0].rank % 3 == 0  # 3·orbits + 3 fixed terms
    saved = [load_scheme(p) for p in tmp_path.glob("*.json")]
    assert len(saved) == 1
    for s in schemes + saved:
        assert verify_exact(s).valid and is_cyclic_invariant(s)
    assert canonical_key(saved[0]) != canonical_key(Scheme.naive("3x3x3"))  # the walk moved


def test_cyclic_method_rejects_what_it_cannot_walk():
    from discover.errors import SearchError
    from discover.problem import Problem
    from discover.search import search

    for problem, opts in ((Problem("2x2x3", 11, "ZT"), None), (Problem("3x3x3", 23, "Z2"), None),
                          (Problem("3x3x3", 23, "ZT"), {"plateau": 0})):
        with pytest.raises(SearchError):
            search(problem, "cyclic", opts, restarts=1, workers=1)
