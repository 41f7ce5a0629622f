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
    for walk in range(3):  # several short walks, each continuing the last
        reps, fixed, _ = cyclic_walk(n, 0, seed * 10 + walk, max_flips=2000, plus_min=50, plus_max=200,
                                     reps=reps, fixed=fixed)
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

    # Two walks with a flip budget reach rank 24 (3 fixed terms + 7 orbits); what comes back is
    # exact, proven and cyclic-invariant, and the saved file is the same scheme.
    result = search(Problem("3x3x3", 24, "ZT"), "cyclic", {"max_flips": 200_000}, seed=0, restarts=2,
                    workers=1, out_dir=tmp_path)
    schemes = result.found
    assert schemes and schemes[0].rank == 24
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
                          (Problem("3x3x3", 23, "ZT"), {"plus_min": 0}),
                          (Problem("3x3x3", 23, "ZT"), {"plus_min": 10, "plus_max": 5}),
                          (Problem("9x9x9", 600, "ZT"), None)):
        with pytest.raises(SearchError):
            search(problem, "cyclic", opts, restarts=1, workers=1)


def test_cyclic_walk_reaches_rank_24_on_3x3x3_and_a_seed_replays_it():
    # 3 fixed terms + 7 orbits: the compiled orbit walk takes 27 -> 24 within a flip budget,
    # and the same seed and budget give the same representatives.
    first = cyclic_walk(3, 24, 5, max_flips=200_000)
    again = cyclic_walk(3, 24, 5, max_flips=200_000)
    assert len(first[0]) == 7 and np.array_equal(first[0], again[0])
    s = expand(first[0], first[1], 3)
    assert s.rank == 24 and is_exact(s) and is_cyclic_invariant(s)


def test_orbit_reductions_merge_and_cancel():
    from discover.flip.cyclic import _settle_all, pack_orbits, unpack_orbits

    reps, _ = naive_orbits(2)  # 2 orbits: (e11, e12, e21) and (e12, e22, e21)... of <2,2,2>
    t = reps[0]
    # an orbit equal to the negative of another cancels with it; one sharing two slots merges
    neg = np.stack([-t[1], -t[2], -t[0]])  # -(rotation of t): the same orbit, negated
    R = pack_orbits(np.stack([t, neg]), 4)
    k, removed = _settle_all(R, 2, False)
    assert (k, removed) == (0, 2)
    same = np.stack([t[1], t[2], t[0]])  # the same orbit again: over Z it stays (2·orbit is not ternary) ...
    R = pack_orbits(np.stack([t, same]), 4)
    assert _settle_all(R, 2, False) == (2, 0)
    R = pack_orbits(np.stack([t, same]), 4)
    assert _settle_all(R, 2, True) == (0, 2)  # ... mod 2 the two copies cancel
    other = np.stack([t[1], t[2], reps[1][0]])  # rotation of t in two slots, a third factor of its own
    R = pack_orbits(np.stack([t, other]), 4)
    k, removed = _settle_all(R, 2, False)
    merged = unpack_orbits(R, k, 2)
    assert (k, removed) == (1, 1)
    want = np.stack([t[0] + reps[1][0], t[1], t[2]])  # a⊗b⊗c + d⊗b⊗c, up to the orbit's rotation
    assert any(np.array_equal(merged[0], np.roll(want, -g, axis=0)) for g in range(3))


def test_gf2_orbit_walk_stays_exact_mod_2_and_invariant():
    from discover.flip.cyclic import expand_mod2
    from discover.flip.lift import is_exact_mod2

    for n, target in ((3, 24), (4, 58)):
        reps, fixed, stats = cyclic_walk(n, target, 3, max_flips=400_000, mod2=True)
        assert set(np.unique(reps)) <= {0, 1} and len(fixed) == 0  # mod 2 the fixed terms are orbits
        s = expand_mod2(reps, n)
        U, V, W = s.int64_arrays()
        assert s.rank <= target and is_exact_mod2(U, V, W, s.format)
        # invariant: the cyclic image has the same terms (mod 2 every factor is its own negative)
        assert canonical_key(cyclic(s)) == canonical_key(s)


def test_gf2_orbit_walk_moves_the_fixed_terms_mod_2():
    # Mod 2 a fixed term is the orbit of (x, x, x), one term: 2x2x2 reaches Strassen's rank 7
    # (2 orbits + 1 fixed term), which the walk over Z, with its two fixed terms kept, cannot.
    from discover.flip.cyclic import expand_mod2
    from discover.flip.lift import is_exact_mod2

    reps, fixed, _ = cyclic_walk(2, 7, 0, max_flips=200_000, mod2=True)
    s = expand_mod2(reps, 2)
    U, V, W = s.int64_arrays()
    assert s.rank == 7 and is_exact_mod2(U, V, W, s.format) and canonical_key(cyclic(s)) == canonical_key(s)
    over_z = cyclic_walk(2, 7, 0, max_flips=200_000)
    assert expand(over_z[0], over_z[1], 2).rank == 8


def test_cyclic_method_over_gf2_lifts_a_verified_scheme_and_rejects_bad_fields(runner, tmp_path):
    import json

    from discover.cli import main
    from discover.jsonio import load_scheme
    from discover.verify import verify_exact

    # Laderman's rank from the naive orbits: the walk mod 2 reaches 23, the sign lift makes it ternary.
    r = runner.invoke(main, ["search", "3x3x3", "--rank", "23", "--method", "cyclic", "-O", "field=gf2", "--seed", "1",
                             "-j", "1", "--restarts", "1", "-O", "max_flips=3000000", "-o", str(tmp_path), "--json"])
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["found_ranks"] == [23] and doc["found"][0]["ring"] == "ZT"
    s = load_scheme(tmp_path / "3x3x3_r23_ZT.json")
    assert verify_exact(s).valid and not s.mod2
    r = runner.invoke(main, ["search", "3x3x3", "--rank", "24", "--method", "cyclic", "-O", "field=gf3"])
    assert r.exit_code == 2 and "choose zt or gf2" in r.stderr
    r = runner.invoke(main, ["search", "3x3x3", "--rank", "24", "--method", "cyclic", "--ring", "Z2"])
    assert r.exit_code == 2 and "field=gf2" in r.stderr
    r = runner.invoke(main, ["search", "3x3x3", "--rank", "24", "--method", "cyclic", "-O", "field=gf2",
                             "-O", "fixed_moves=3"])
    assert r.exit_code == 2 and "choose 0, 1 or 2" in r.stderr
