"""Cube starts (``cubes:NxNxN:MASKS``) and the pairs walk mod 2 (Moosbauer–Poole's move rules)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from discover.canonical import canonical_key
from discover.errors import LoadError
from discover.flip.cyclic import cyclic_walk, expand_mod2, is_cyclic_invariant, is_exact, scheme_orbits
from discover.flip.lift import is_exact_mod2
from discover.sources import load_source
from discover.symmetry import cyclic


@pytest.mark.parametrize("spec, rank, fixed", [
    ("cubes:2x2x2:11", 1 + 6 + 6, 1),
    ("cubes:3x3x3:101+010", 24 + 2 + 6, 2),
    ("cubes:4x4x4:1111", 60 + 1 + 60, 1),
    ("cubes:5x5x5:10001+01010+00100", 120 + 3 + 12, 3),
    ("cubes:5x5x5:10000+01000+00100+00010+00001", 125, 5),  # one cube per entry: the naive scheme
])
def test_cube_starts_are_exact_invariant_and_hold_one_fixed_term_per_cube(spec, rank, fixed):
    s = load_source(spec)  # checked exactly on the way in
    assert s.rank == rank and is_exact(s) and is_cyclic_invariant(s)
    reps, fx = scheme_orbits(s)
    assert len(fx) == fixed and 3 * len(reps) + len(fx) == rank
    if fixed == 5:
        assert canonical_key(s) == canonical_key(load_source("naive:5x5x5"))


@pytest.mark.parametrize("spec, message", [
    ("cubes:5x5x5:1000+01010+00101", "is not 5 binary digits"),
    ("cubes:5x5x5:10001+01010+00110", "exactly once"),
    ("cubes:5x5x5:10001+01010", "exactly once"),
    ("cubes:5x5x5:10001+01010+00000+00100", "selects no diagonal entry"),
    ("cubes:5x5x5:1000a+01010+00101", "is not 5 binary digits"),
    ("cubes:4x5x5:1111", "square formats"),
    ("cubes:5x5x5", "cubes:NxNxN:MASKS"),
    ("cubes:5y5:11111", "cubes:5y5:11111"),
])
def test_bad_cube_specs_say_what_is_wrong(spec, message):
    with pytest.raises(LoadError, match=message):
        load_source(spec)


def _pairs(spec: str, target: int, seed: int, **kw):
    n = int(spec.split(":")[1].split("x")[0])
    reps, fixed = scheme_orbits(load_source(spec), mod2=True)
    return cyclic_walk(n, target, seed, reps=reps, fixed=fixed, mod2=True, pairs=True, **kw)


@pytest.mark.parametrize("spec, target", [("cubes:3x3x3:101+010", 23), ("cubes:4x4x4:1111", 49)])
def test_pairs_walks_reach_the_best_ranks_mod_2_exactly_and_invariantly(spec, target):
    # 3x3x3 r23 (two cubes: 2 + 3·7) and 4x4x4 r49 (one cube: 1 + 3·16), as Moosbauer–Poole's runs.
    n = int(spec.split(":")[1][0])
    reps, fixed, stats = _pairs(spec, target, 1, plus_min=3000, plus_max=3000, max_flips=5_000_000)
    assert len(fixed) == 0 and set(np.unique(reps)) <= {0, 1}  # the cubes come back as orbits of (x, x, x)
    s = expand_mod2(reps, n)
    U, V, W = s.int64_arrays()
    assert s.rank == target and is_exact_mod2(U, V, W, s.format)
    assert canonical_key(cyclic(s)) == canonical_key(s)
    assert stats["reductions"] >= 1 and stats["flips"] < 5_000_000


def test_a_pairs_walk_replays_from_its_seed_and_keeps_its_cubes():
    a = _pairs("cubes:5x5x5:10001+01010+00100", 60, 7, plus_min=2000, plus_max=4000, max_flips=600_000)
    b = _pairs("cubes:5x5x5:10001+01010+00100", 60, 7, plus_min=2000, plus_max=4000, max_flips=600_000)
    assert np.array_equal(a[0], b[0]) and a[2] == b[2]
    assert a[2]["expansions"] > 0 and a[2]["reductions"] > a[2]["expansions"]  # it went down, and plus moves ran
    s = expand_mod2(a[0], 5)
    U, V, W = s.int64_arrays()
    assert is_exact_mod2(U, V, W, s.format) and s.rank < 135 and s.rank % 3 == 0  # 3 cubes + orbits
    cubes = {tuple(t[0]) for t in a[0] if (t[0] == t[1]).all() and (t[1] == t[2]).all()}
    start = {tuple(x) for x in scheme_orbits(load_source("cubes:5x5x5:10001+01010+00100"), mod2=True)[1]}
    assert cubes == start


def test_patience_ends_a_pairs_walk_that_finds_no_new_low():
    _, _, stats = _pairs("cubes:5x5x5:10001+01010+00100", 60, 3, plus_min=2000, plus_max=2000, patience=50_000,
                         max_flips=50_000_000)
    assert stats["flips"] < 50_000_000  # ended by patience, not by the budget
    with pytest.raises(ValueError, match="patience"):
        cyclic_walk(3, 23, 0, patience=10, mod2=True)
    with pytest.raises(ValueError, match="mod 2"):
        cyclic_walk(3, 23, 0, pairs=True)


def test_the_pair_index_stays_consistent_through_flips_plus_moves_and_removals():
    from discover.flip.cyclic import pack_orbits
    from discover.flip.orbitindex import new_index
    from discover.flip.pairwalk import _add, _plus, _refile, _remove_orbit
    from discover.flip.rng import seed_state

    reps, _ = scheme_orbits(load_source("cubes:4x4x4:1111"), mod2=True)
    k = len(reps)
    R = pack_orbits(reps, k + 20)

    def fresh(R, k):
        head, X, shift = new_index(R.shape[1])
        cnt = np.zeros(head.shape[0], dtype=np.int64)
        tp = np.zeros(head.shape[0] + 1, dtype=np.int64)
        tp_at = np.full(head.shape[0], -1, dtype=np.int64)
        for e in range(3 * k):
            _add(R, head, X, cnt, tp, tp_at, e, shift)
        return head, X, cnt, tp, tp_at, shift

    head, X, cnt, tp, tp_at, shift = fresh(R, k)
    state = seed_state(5)
    rng = np.random.default_rng(5)
    for step in range(300):
        if step % 3 == 0:
            k = _plus(R, k, state, head, X, cnt, tp, tp_at, shift, 0)
        elif step % 3 == 1:
            q, s = int(rng.integers(k)), int(rng.integers(3))
            R[2 * s, q] ^= R[2 * ((s + 1) % 3), int(rng.integers(k))] | np.uint64(1)
            if R[2 * s, q] == 0:
                R[2 * s, q] = np.uint64(3)
            _refile(R, head, X, cnt, tp, tp_at, 3 * q + s, shift)
        elif k > 4:
            k = _remove_orbit(R, k, int(rng.integers(k)), head, X, cnt, tp, tp_at, shift)
        _, _, cnt2, tp2, _, _ = fresh(R, k)
        assert np.array_equal(cnt, cnt2)
        assert sorted(tp[1:1 + tp[0]]) == sorted(tp2[1:1 + tp2[0]])
        assert sorted(np.flatnonzero(cnt >= 2)) == sorted(tp[1:1 + tp[0]])


def test_cyclic_pairs_search_lifts_a_verified_scheme_from_a_cube_start(runner, tmp_path):
    from discover.cli import main
    from discover.jsonio import load_scheme
    from discover.verify import verify_exact

    r = runner.invoke(main, ["search", "3x3x3", "--rank", "23", "--method", "cyclic", "-O", "field=gf2",
                             "-O", "walk=pairs", "-O", "plus_min=1000", "-O", "plus_max=1000",
                             "-O", "patience=200000", "--start", "cubes:3x3x3:101+010", "--seed", "0", "-j", "1",
                             "--restarts", "4", "-o", str(tmp_path), "--json"])
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["found_ranks"] == [23] and doc["found"][0]["ring"] == "ZT"
    s = load_scheme(tmp_path / "3x3x3_r23_ZT.json")
    assert verify_exact(s).valid and s.rank == 23  # the sign lift need not keep the symmetry over Z


@pytest.mark.parametrize("options, message", [
    (["-O", "walk=pairs"], "walks mod 2"),
    (["-O", "walk=tree", "-O", "field=gf2"], "choose orbit or pairs"),
    (["-O", "patience=10", "-O", "field=gf2"], "options of -O walk=pairs"),
    (["-O", "walk=pairs", "-O", "field=gf2", "-O", "patience=-1"], "patience must be at least 0"),
])
def test_cyclic_pairs_options_are_checked(runner, options, message):
    from discover.cli import main

    r = runner.invoke(main, ["search", "3x3x3", "--rank", "23", "--method", "cyclic", *options])
    assert r.exit_code == 2 and message in r.stderr, r.stderr


def test_a_bad_cube_start_is_one_line_and_exit_2(runner):
    from discover.cli import main

    r = runner.invoke(main, ["search", "5x5x5", "--rank", "93", "--method", "cyclic", "-O", "field=gf2",
                             "--start", "cubes:5x5x5:11111+00001"])
    assert r.exit_code == 2 and "exactly once" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def _mirror_invariant_mod2(s) -> bool:
    U, V, W = (X % 2 for X in s.int64_arrays())
    terms = sorted(np.concatenate([u.ravel(), v.ravel(), w.ravel()]).tobytes() for u, v, w in zip(U, V, W))
    flip = lambda X: X[:, ::-1, ::-1]  # noqa: E731 ((i, j) → (n−1−i, n−1−j) in every factor)
    mirrored = sorted(np.concatenate([u.ravel(), v.ravel(), w.ravel()]).tobytes()
                      for u, v, w in zip(flip(U), flip(V), flip(W)))
    return terms == mirrored


@pytest.mark.parametrize("spec, target", [("cubes:4x4x4:1111", 49), ("cubes:4x4x4:1001+0110", 50)])
def test_mirror_pairs_walks_keep_both_symmetries_and_reach_the_target(spec, target):
    reps, _, stats = _pairs(spec, target, 1, plus_min=2000, plus_max=2000, mirror=True, max_flips=5_000_000)
    s = expand_mod2(reps, 4)
    U, V, W = s.int64_arrays()
    assert s.rank == target and is_exact_mod2(U, V, W, s.format)
    assert canonical_key(cyclic(s)) == canonical_key(s) and _mirror_invariant_mod2(s)


def test_mirror_pairs_refuse_orbits_without_a_distinct_mirror():
    from discover.flip.pairwalk import mirror_pairs

    reps, _ = scheme_orbits(load_source("cubes:4x4x4:1111"), mod2=True)
    paired = mirror_pairs(reps, 4)
    assert len(paired) == len(reps) and all((paired[2 * m + 1] == paired[2 * m][:, ::-1]).all()
                                            for m in range(len(paired) // 2))
    with pytest.raises(ValueError, match="is not an orbit"):
        mirror_pairs(reps[1:], 4)
    rev = np.zeros((1, 3, 9), dtype=np.int64)
    rev[0, :, 4] = 1  # E_11 in every slot of 3x3: the centre is its own mirror
    rev[0, 0, 0] = rev[0, 0, 8] = 1
    with pytest.raises(ValueError, match="its own mirror"):
        mirror_pairs(rev, 3)


def test_mirror_options_are_checked(runner):
    from discover.cli import main

    base = ["search", "4x4x4", "--rank", "49", "--method", "cyclic", "-O", "field=gf2"]
    r = runner.invoke(main, [*base, "-O", "mirror=1"])
    assert r.exit_code == 2 and "options of -O walk=pairs" in r.stderr
    r = runner.invoke(main, [*base, "-O", "walk=pairs", "-O", "mirror=2"])
    assert r.exit_code == 2 and "choose 0 or 1" in r.stderr
    # cube {0,1} mirrors to {2,3}, which this start splits: its cross products have no mirror
    r = runner.invoke(main, [*base, "-O", "walk=pairs", "-O", "mirror=1", "--start", "cubes:4x4x4:1100+0010+0001"])
    assert r.exit_code == 2 and "mirror=1" in r.stderr and "is not an orbit" in r.stderr
    # two cubes: the ranks ≡ 2 (mod 3); Moosbauer–Poole's 6-way 4x4x4 case reaches 50
    r = runner.invoke(main, ["search", "4x4x4", "--rank", "50", "--method", "cyclic", "-O", "field=gf2",
                             "-O", "walk=pairs", "-O", "mirror=1", "--start", "cubes:4x4x4:1001+0110", "--seed", "0",
                             "--restarts", "6", "-O", "plus_min=2000", "-O", "plus_max=2000", "-O", "max_flips=3000000",
                             "-j", "1", "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["found_ranks"] == [50], r.stderr


def test_a_pairs_walk_that_can_neither_flip_nor_expand_ends():
    # two orbits with six different factors (no pair to flip) at the plus cap (no plus transition)
    reps = np.zeros((2, 3, 4), dtype=np.int64)
    reps[0, 0, 0] = reps[0, 1, 1] = reps[0, 2, 2] = 1
    reps[1, 0, 3] = 1
    reps[1, 1, [0, 1]] = 1
    reps[1, 2, [1, 2]] = 1
    out, _, stats = cyclic_walk(2, 0, 1, reps=reps, fixed=np.zeros((0, 4), dtype=np.int64), mod2=True, pairs=True,
                                plus_min=10, plus_max=10, plus_cap=1)
    assert stats["flips"] == 0 and stats["expansions"] == 0 and stats["failed_picks"] > 0
    assert np.array_equal(out, reps)


@pytest.mark.parametrize("nbits", [4, 16, 25, 36, 49, 64])
def test_reversing_a_factor_reverses_its_entries(nbits):
    from discover.flip.pairwalk import _rev

    rng = np.random.default_rng(nbits)
    for _ in range(50):
        bits = rng.integers(0, 2, nbits)
        x = sum(int(b) << i for i, b in enumerate(bits))
        want = sum(int(b) << i for i, b in enumerate(bits[::-1]))
        assert int(_rev(np.uint64(x), nbits)) == want
