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
    first = cyclic_walk(3, 24, 3, max_flips=200_000)
    again = cyclic_walk(3, 24, 3, max_flips=200_000)
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
    r = runner.invoke(main, ["search", "3x3x3", "--rank", "23", "--method", "cyclic", "-O", "field=gf2", "--seed", "0",
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


def _naive_with_a_cancelling_orbit_pair() -> Scheme:
    """The naive 3x3x3 scheme plus an orbit and its negative: exact, invariant, rank 33."""
    reps, fixed = naive_orbits(3)
    extra = np.zeros((1, 3, 9), dtype=np.int64)
    extra[0, 0, [0, 4]], extra[0, 1, [1, 8]], extra[0, 2, [2, 3]] = 1, 1, 1
    twin = extra.copy()
    twin[0, 2] *= -1
    return expand(np.concatenate([reps, extra, twin]), fixed, 3)


def test_scheme_orbits_inverts_expand_over_z_and_mod_2():
    from discover.flip.cyclic import expand_mod2, scheme_orbits
    from discover.known import strassen
    from discover.symmetry import kron

    reps, fixed = scheme_orbits(Scheme.naive("3x3x3"))
    assert (len(reps), len(fixed)) == (8, 3)
    assert canonical_key(expand(reps, fixed, 3)) == canonical_key(Scheme.naive("3x3x3"))
    # Strassen's scheme is invariant over Z: two orbits and one fixed term, and so is its square.
    reps, fixed = scheme_orbits(strassen())
    assert (len(reps), len(fixed)) == (2, 1)
    assert canonical_key(expand(reps, fixed, 2)) == canonical_key(strassen())
    s49 = kron(strassen(), strassen())
    reps, fixed = scheme_orbits(s49)
    assert (len(reps), len(fixed)) == (16, 1) and canonical_key(expand(reps, fixed, 4)) == canonical_key(s49)
    # Mod 2 the fixed terms come back as orbits of (x, x, x) and expand to the same scheme mod 2.
    reps, fixed = scheme_orbits(s49, mod2=True)
    back = expand_mod2(np.concatenate([reps, np.stack([fixed] * 3, axis=1)]), 4)
    assert back.rank == 49 and canonical_key(back.as_mod2()) == canonical_key(s49.as_mod2())
    assert scheme_orbits(_naive_with_a_cancelling_orbit_pair())[0].shape == (10, 3, 9)


def test_scheme_orbits_names_what_is_not_invariant():
    from discover.flip.cyclic import scheme_orbits

    with pytest.raises(ValueError, match="not invariant"):
        scheme_orbits(_not_invariant())
    with pytest.raises(ValueError, match="square"):
        scheme_orbits(Scheme.naive("2x2x3"))


def _not_invariant() -> Scheme:
    """Winograd's variant of Strassen: exact, but no rotation of its first term is a term."""
    from discover.known import winograd

    return winograd()


def test_cyclic_method_walks_from_a_start_scheme(runner, tmp_path):
    import json

    from discover.cli import main
    from discover.jsonio import load_scheme, save_scheme
    from discover.verify import verify_exact

    start = tmp_path / "start.json"
    save_scheme(_naive_with_a_cancelling_orbit_pair(), start)
    # Over Z: the opposite orbits cancel at once, then the walk goes on to 24, exact and invariant.
    r = runner.invoke(main, ["search", "3x3x3", "--rank", "24", "--method", "cyclic", "--start", str(start),
                             "--seed", "5", "-j", "1", "--restarts", "1", "-O", "max_flips=400000",
                             "-o", str(tmp_path / "z"), "--json"])
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["found_ranks"] == [24]
    s = load_scheme(tmp_path / "z" / "3x3x3_r24_ZT.json")
    assert verify_exact(s).valid and is_cyclic_invariant(s)
    # Mod 2 from the same start: Laderman's rank, lifted to a ternary scheme.
    r = runner.invoke(main, ["search", "3x3x3", "--rank", "23", "--method", "cyclic", "-O", "field=gf2",
                             "--start", str(start), "--seed", "0", "-j", "1", "--restarts", "1",
                             "-O", "max_flips=3000000", "-o", str(tmp_path / "g"), "--json"])
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["found_ranks"] == [23]
    assert verify_exact(load_scheme(tmp_path / "g" / "3x3x3_r23_ZT.json")).valid
    # A start that is not invariant: one line, exit 2.
    bad = tmp_path / "bad.json"
    save_scheme(_not_invariant(), bad)
    for field in ("zt", "gf2"):
        r = runner.invoke(main, ["search", "2x2x2", "--rank", "7", "--method", "cyclic", "--start", str(bad),
                                 "-O", f"field={field}"])
        assert r.exit_code == 2 and "not invariant under the cyclic symmetry" in r.stderr


def test_cyclic_walk_starts_from_an_invariant_scheme_padded_with_naive_products(runner, tmp_path):
    # Strassen is invariant mod 2 and the naive products that pad it to 3x3x3 form whole orbits,
    # so resize:3x3x3:strassen (rank 7 + 19 = 26) is a cyclic start; the walk reaches Laderman's 23.
    import json

    from discover.cli import main
    from discover.jsonio import load_scheme
    from discover.verify import verify_exact

    r = runner.invoke(main, ["search", "3x3x3", "--rank", "23", "--method", "cyclic", "-O", "field=gf2",
                             "--start", "resize:3x3x3:strassen", "--seed", "0", "-j", "1", "--restarts", "1",
                             "-O", "max_flips=3000000", "-o", str(tmp_path), "--json"])
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["found_ranks"] == [23]
    assert verify_exact(load_scheme(tmp_path / "3x3x3_r23_ZT.json")).valid


def test_cyclic_lift_lows_keeps_the_lowest_lifted_scheme_when_the_target_is_not_reached(runner, tmp_path):
    # Rank 22 is out of reach; with lift_lows the walk lifts each new low on its way down (from
    # the naive 27) and the search saves the lowest lift, proven, as its best exact scheme.
    import json

    from discover.cli import main
    from discover.jsonio import load_scheme
    from discover.verify import verify_exact

    args = ["search", "3x3x3", "--rank", "22", "--method", "cyclic", "-O", "field=gf2", "--seed", "0", "-j", "1",
            "--restarts", "1", "-O", "max_flips=3000000", "--json"]
    r = runner.invoke(main, args + ["-O", "lift_lows=1", "-o", str(tmp_path)])
    assert r.exit_code == 1, r.stderr
    doc = json.loads(r.stdout)
    assert doc["found_ranks"] == [] and doc["best_scheme_rank"] == 23 and doc["best_rank_mod2"] == 23
    assert doc["lift_attempts"] >= 2  # at least one lift above 23 on the way down, then 23
    assert doc["lift_failures"] == sum(doc["lift_failure_kinds"].values())
    s = load_scheme(tmp_path / "3x3x3_r23_ZT.json")
    assert s.rank == 23 and verify_exact(s).valid
    # Without it nothing above the target is lifted, so nothing is saved.
    r = runner.invoke(main, args + ["-o", str(tmp_path / "plain")])
    assert r.exit_code == 1 and json.loads(r.stdout)["lift_attempts"] == 0
    assert not list((tmp_path / "plain").glob("*.json"))


def test_a_cyclic_walk_makes_a_recorded_lift_again_whatever_the_lift_budget(runner, tmp_path, monkeypatch):
    # The walk replays from the seed and a lift depends on the scheme alone; which schemes get
    # lifted follows the budget (the clock, without max_flips). The lift point a found scheme
    # records makes that lift again even when the rerun's budget allows none.
    import json

    from discover.cli import main
    from discover.flip import liftrunners
    from discover.jsonio import load_scheme

    args = ["search", "3x3x3", "--rank", "22", "--method", "cyclic", "-O", "field=gf2", "--seed", "0", "-j", "1",
            "--restarts", "1", "-O", "max_flips=3000000", "-O", "lift_lows=1", "--json"]
    r = runner.invoke(main, args + ["-o", str(tmp_path / "first")])
    assert r.exit_code == 1, r.stderr
    first = load_scheme(tmp_path / "first" / "3x3x3_r23_ZT.json")
    point = first.meta["provenance"]["info"]["lift_point"]
    assert set(point) == {"flips"} and point["flips"] > 0
    monkeypatch.setattr(liftrunners, "LIFT_SHARE", 0.0)  # only the very first lift fits the budget
    r = runner.invoke(main, args + ["-o", str(tmp_path / "starved")])
    assert json.loads(r.stdout)["best_scheme_rank"] != 23
    r = runner.invoke(main, args + ["-O", f"replay_lift={point['flips']}", "-o", str(tmp_path / "again")])
    assert r.exit_code == 1 and json.loads(r.stdout)["best_scheme_rank"] == 23
    again = load_scheme(tmp_path / "again" / "3x3x3_r23_ZT.json")
    assert again.same_coefficients(first) and again.meta["provenance"]["info"]["lift_point"] == point


def test_cyclic_lift_lows_is_checked(runner):
    from discover.cli import main

    r = runner.invoke(main, ["search", "3x3x3", "--rank", "23", "--method", "cyclic", "-O", "lift_lows=1"])
    assert r.exit_code == 2 and "lift_lows lifts walks mod 2" in r.stderr
    r = runner.invoke(main, ["search", "3x3x3", "--rank", "23", "--method", "cyclic", "-O", "field=gf2",
                             "-O", "lift_lows=2"])
    assert r.exit_code == 2 and "choose 0 or 1" in r.stderr
    r = runner.invoke(main, ["search", "3x3x3", "--rank", "23", "--method", "cyclic", "-O", "replay_lift=5"])
    assert r.exit_code == 2 and "replay_lift replays a lift of the walk mod 2" in r.stderr
