"""Pool descent and the plateau moves: exactness of every move, pool deduplication, persistence, resume."""
from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from discover.cli import main
from discover.flip import zt
from discover.flip.moves import perturb, random_sandwich, sandwich_arrays, split_move
from discover.flip.policy import plus_transition, reduce_all, walk_kernel
from discover.flip.pool import PoolSettings, Pools, pool_descent
from discover.flip.rng import seed_state
from discover.formats import Format
from discover.jsonio import load_scheme, save_scheme
from discover.scheme import Scheme
from discover.search import driver
from discover.problem import Problem
from discover.rings import Ring
from discover.symmetry import sandwich
from discover.tensor import integer_reconstruction, matmul_tensor
from discover.verify import verify

FORMATS = ["2x2x2", "2x2x3", "2x3x3", "3x3x3", "2x3x4"]


def exact(F, r, fmt) -> bool:
    U, V, W = zt.unpack(F, r, fmt)
    return bool((integer_reconstruction(U, V, W) == matmul_tensor(fmt)).all())


def random_exact(fmt: Format, seed: int, flips: int = 3000):
    """A random exact ternary scheme: the naive scheme after a seeded walk (flips, reductions, plus)."""
    naive = Scheme.naive(fmt)
    U, V, W = naive.int64_arrays()
    F = zt.pack(U, V, W, naive.rank + 12)
    state = seed_state(seed)
    r = naive.rank
    best, stats = F.copy(), np.zeros(5, np.int64)
    r, _ = walk_kernel(F, r, best, r, 0, flips, 200, 3, state, stats, True)
    return F, r, state


@settings(max_examples=30, deadline=None, derandomize=True, database=None)
@given(fmt=st.sampled_from(FORMATS), seed=st.integers(0, 2**32 - 1), flips=st.integers(0, 5000))
def test_every_move_keeps_the_scheme_exact(fmt, seed, flips):
    fmt = Format.parse(fmt)
    F, r, state = random_exact(fmt, seed, flips)
    assert exact(F, r, fmt)  # flips and reductions (the walk itself)
    r = plus_transition(F, r, state, True)
    assert exact(F, r, fmt)
    r2 = split_move(F, r, state)  # unchanged only when the picked factors had a single entry
    assert r2 in (r, r + 1) and exact(F, r2, fmt)
    r2, _ = reduce_all(F, r2, True)
    assert exact(F, r2, fmt)
    if random_sandwich(F, r2, fmt, state):
        assert exact(F, r2, fmt)
        assert set(np.unique(np.concatenate([x.ravel() for x in zt.unpack(F, r2, fmt)]))) <= {-1, 0, 1}
    r3, how = perturb(F, r2, state, 0.5, 0.5, fmt)
    assert exact(F, r3, fmt) and how in ("", "splits", "sandwiches")


def test_sandwich_on_factors_matches_discover_symmetry():
    s = Scheme.naive("2x3x4")
    F, r, _ = random_exact(s.format, 7)
    U, V, W = zt.unpack(F, r, s.format)
    X = np.eye(2, dtype=np.int64); X[0, 1] = 1
    Y = np.eye(3, dtype=np.int64); Y[2, 0] = -1
    Z = np.eye(4, dtype=np.int64); Z[1, 3] = 1
    inv = [2 * np.eye(k, dtype=np.int64) - M for M, k in ((X, 2), (Y, 3), (Z, 4))]  # (I+N)^-1 = I-N when N^2 = 0
    ours = sandwich_arrays(U, V, W, X, Y, Z, *inv)
    theirs = sandwich(Scheme.from_arrays(U, V, W, s.format), X, Y, Z)
    for a, b in zip(ours, theirs.factors):
        assert (np.asarray(a, dtype=object) == np.asarray(b, dtype=object)).all()
    assert verify(theirs).valid


def test_pools_deduplicate_by_canonical_form():
    fmt = Format.parse("2x2x3")
    F, r, _ = random_exact(fmt, 3)
    pools = Pools(fmt)
    assert pools.add(F, r)
    # The same scheme with its terms reversed and one term's signs moved between factors.
    G = F[:, :r][:, ::-1].copy()
    G[0, 0], G[1, 0] = G[1, 0], G[0, 0]  # negate a
    G[4, 0], G[5, 0] = G[5, 0], G[4, 0]  # negate c
    assert exact(G, r, fmt)
    assert not pools.add(G, r)
    H, r2, _ = random_exact(fmt, 4)
    assert pools.add(H, r2) == (r2 != r or not _same(F, H, r, fmt))
    assert pools.sizes()[r] >= 1


def _same(F, H, r, fmt):
    p = Pools(fmt)
    p.add(F, r)
    return not p.add(H, r)


def test_a_non_exact_scheme_never_enters_a_pool(tmp_path):
    fmt = Format.parse("2x2x2")
    F, r, _ = random_exact(fmt, 1)
    F[0, 0] ^= np.uint64(1)  # flip one coefficient of a
    pools = Pools(fmt, tmp_path)
    assert not pools.add(F, r) and pools.rejected == 1 and pools.sizes() == {}
    assert list(tmp_path.rglob("*.json")) == []


def test_pools_persist_and_a_later_run_continues_them(tmp_path):
    fmt = Format.parse("2x3x3")
    s = PoolSettings(pool_dir=str(tmp_path), max_walks=40, pool_size=4, patience=8)
    first = pool_descent(fmt, 10, Scheme.naive(fmt), s, np.random.SeedSequence(0))  # rank 10 is impossible
    files = sorted(tmp_path.rglob("*.json"))
    assert first.scheme is None and files
    ranks = {int(f.parent.name[1:]) for f in files}
    assert min(ranks) == first.best_rank and max(ranks) == 18
    for f in files:  # every pool file is an exact scheme of the rank its folder names
        sch = load_scheme(f)
        assert verify(sch).valid and sch.rank == int(f.parent.name[1:])
    # A corrupted file is ignored on reading.
    bad = load_scheme(files[0])
    Ub = np.array(bad.U, dtype=np.int64); Ub[0, 0, 0] = 1 - Ub[0, 0, 0]
    save_scheme(Scheme.from_arrays(Ub, bad.V, bad.W, fmt), files[0].parent / "corrupt.json")
    again = Pools(fmt, tmp_path)
    again.sync()
    assert again.rejected == 1 and again.sizes() == {r: len(list((tmp_path / "2x3x3_ZT" / f"r{r}").glob("*.json"))) - (f"r{r}" == files[0].parent.name) for r in ranks}
    # The second run starts at the lowest pool on disk, not at the naive rank.
    levels = []
    second = pool_descent(fmt, 10, Scheme.naive(fmt), PoolSettings(pool_dir=str(tmp_path), max_walks=1),
                          np.random.SeedSequence(1), on_progress=lambda d: levels.append(d["level"]))
    assert levels and set(levels) == {first.best_rank} and second.best_rank <= first.best_rank


@pytest.mark.parametrize("kernel", ["runners", "walk"])
def test_pool_descent_is_reproducible_without_a_folder(kernel):
    fmt = Format.parse("2x3x3")
    s = PoolSettings(max_walks=30, pool_size=4, patience=8, kernel=kernel)
    a = pool_descent(fmt, 10, Scheme.naive(fmt), s, np.random.SeedSequence(5))
    b = pool_descent(fmt, 10, Scheme.naive(fmt), s, np.random.SeedSequence(5))
    assert a.stats["pools"] == b.stats["pools"] and a.best.same_coefficients(b.best)


def test_pool_method_finds_saves_and_keeps_its_pools(runner, tmp_path):
    out = tmp_path / "out"
    r = runner.invoke(main, ["search", "2x3x3", "--rank", "15", "--method", "pool", "-o", str(out), "-j", "1",
                             "--restarts", "1", "-O", "max_walks=2000", "-O", "pool_size=4", "--json"])
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["found_ranks"] == [15] and doc["method"] == "pool" and doc["pools"]["15"] >= 1
    assert verify(load_scheme(out / "2x3x3_r15_ZT.json")).valid
    assert (out / "pools" / "2x3x3_ZT" / "r16").is_dir()


def test_pool_method_rejects_z2_and_bad_options(runner):
    r = runner.invoke(main, ["search", "2x3x3", "--rank", "15", "--method", "pool", "--ring", "Z2"])
    assert r.exit_code == 2 and "field=gf2" in r.stderr and "Traceback" not in r.output
    r = runner.invoke(main, ["search", "2x3x3", "--rank", "15", "--method", "pool", "-O", "field=gf5"])
    assert r.exit_code == 2 and "choose zt, gf2 or gf3" in r.stderr
    r = runner.invoke(main, ["search", "2x3x3", "--rank", "15", "--method", "pool", "-O", "split_p=2"])
    assert r.exit_code == 2 and "probability" in r.stderr
    r = runner.invoke(main, ["search", "2x3x3", "--rank", "15", "--method", "pool", "-O", "kernel=fast"])
    assert r.exit_code == 2 and "choose runners or walk" in r.stderr
    r = runner.invoke(main, ["search", "2x3x3", "--rank", "15", "--method", "pool", "-O", "plus_min=10", "-O", "plus_max=5"])
    assert r.exit_code == 2 and "plus_max (5) must be at least plus_min (10)" in r.stderr


@pytest.mark.parametrize("kernel", ["runners", "walk"])
def test_gf2_pool_lifts_a_ternary_3x3x3_rank_23_and_its_seed_replays_it(kernel, tmp_path):
    # Pools mod 2 from the naive scheme down to 23, then the sign lift: a ternary Laderman-rank
    # scheme, exact over Z; the same seed and walk budget give the same scheme and pools.
    fmt = Format.parse("3x3x3")
    s = PoolSettings(field="gf2", max_walks=4000, kernel=kernel)
    a = pool_descent(fmt, 23, Scheme.naive(fmt), s, np.random.SeedSequence(0), ring=Ring.ZT)
    b = pool_descent(fmt, 23, Scheme.naive(fmt), s, np.random.SeedSequence(0), ring=Ring.ZT)
    assert a.scheme is not None and a.scheme.rank == 23 and a.scheme.ring is Ring.ZT and not a.scheme.mod2
    assert verify(a.scheme).valid and a.scheme.same_coefficients(b.scheme) and a.stats["pools"] == b.stats["pools"]
    assert a.stats["field"] == "gf2" and a.stats["lifted_sign"] == 1 and a.stats["lift_attempts"] >= 1


def test_gf2_pool_members_are_exact_mod_2_files_and_z2_returns_them(tmp_path):
    fmt = Format.parse("2x3x3")
    s = PoolSettings(field="gf2", pool_dir=str(tmp_path), max_walks=3000, pool_size=4, patience=8)
    out = pool_descent(fmt, 15, Scheme.naive(fmt), s, np.random.SeedSequence(2), ring=Ring.Z2)
    assert out.scheme is not None and out.scheme.mod2 and out.scheme.rank == 15
    files = sorted((tmp_path / "2x3x3_Z2").rglob("*.json"))
    assert files and not list(tmp_path.glob("2x3x3_ZT"))
    for f in files:
        sch = load_scheme(f)
        assert sch.mod2 and verify(sch).valid and sch.rank == int(f.parent.name[1:])
    # a ternary pool ignores the folder of the GF(2) pools, and the GF(2) pools reread theirs
    assert Pools(fmt, tmp_path).sync() == 0
    again = Pools(fmt, tmp_path, "gf2")
    assert again.sync() == len(files) and again.rejected == 0


def test_gf2_pool_never_answers_with_an_unlifted_scheme(monkeypatch):
    import discover.flip.gf2lifter as lifter_module

    monkeypatch.setattr(lifter_module, "lift", lambda *a, **k: (None, "failed_signs_not_exact"))
    fmt = Format.parse("2x2x3")
    out = pool_descent(fmt, 11, Scheme.naive(fmt), PoolSettings(field="gf2", max_walks=120),
                       np.random.SeedSequence(1), ring=Ring.ZT)
    assert out.scheme is None and out.best is None and out.best_rank == 11
    assert out.stats["lift_attempts"] == out.stats["lift_failures"] > 1


def test_pool_method_with_field_gf2_finds_a_verified_ternary_scheme(runner, tmp_path):
    out = tmp_path / "out"
    r = runner.invoke(main, ["search", "2x3x3", "--rank", "15", "--method", "pool", "-O", "field=gf2", "-o", str(out),
                             "-j", "1", "--restarts", "1", "-O", "max_walks=3000", "--seed", "1", "--json"])
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["found_ranks"] == [15] and doc["found"][0]["ring"] == "ZT"
    assert verify(load_scheme(out / "2x3x3_r15_ZT.json")).valid
    assert (out / "pools" / "2x3x3_Z2" / "r15").is_dir()


def test_gf3_pool_lifts_schemes_with_halves_and_keeps_no_files(runner, tmp_path):
    # Pools mod 3 from the naive 2x2x2 down to 7 and the 3-adic lift: an exact scheme over Q;
    # its pools stay in memory (a scheme exact only mod 3 has no ring to be saved under).
    fmt = Format.parse("2x2x2")
    s = PoolSettings(field="gf3", pool_dir=str(tmp_path / "pools"), max_walks=2000)
    out = pool_descent(fmt, 7, Scheme.naive(fmt), s, np.random.SeedSequence(0), ring=Ring.Q)
    assert out.scheme is not None and out.scheme.rank == 7 and verify(out.scheme).valid
    assert out.stats["field"] == "gf3" and out.stats["best_rank_mod3"] == 7 and out.best is None
    assert not (tmp_path / "pools").exists()
    r = runner.invoke(main, ["search", "2x2x2", "--rank", "7", "--method", "pool", "-O", "field=gf3"])
    assert r.exit_code == 2 and "--ring Q" in r.stderr
    r = runner.invoke(main, ["search", "2x2x2", "--rank", "7", "--ring", "Q", "--method", "pool", "-O", "field=gf3",
                             "-O", "kernel=walk"])
    assert r.exit_code == 2 and "kernel=runners" in r.stderr


def test_failed_pool_search_saves_its_best_scheme(tmp_path):
    p = Problem(Format.parse("3x3x3"), 20)
    res = driver.search(p, "pool", {"max_walks": 20, "walk_flips": 20000}, seed=0, restarts=1, workers=1, out_dir=tmp_path)
    assert res.found == [] and res.best_scheme is not None and res.best_rank == res.best_scheme.rank < 27
    assert [f.name for f in tmp_path.glob("*.json")] == [f"3x3x3_r{res.best_rank}_ZT.json"]


def test_bench_flip_compare_binary_prints_both_columns(runner, tmp_path):
    # A stand-in peer: reports a rank on stdout the way the default pattern reads it, then idles.
    fake = tmp_path / "peer.sh"
    fake.write_text("#!/bin/sh\necho \"Rank was improved from 27 to 25, scheme was saved\"\nexec sleep 30\n")
    fake.chmod(0o755)
    r = runner.invoke(main, ["bench", "flip", "--compare-binary", str(fake), "--quick", "--budget", "2",
                             "--workers", "1", "--peer-rate-seconds", "0"])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0].startswith("machine: ") and "peer: peer.sh" in lines[0]
    assert "ours GF(2)" in lines[1] and "peer ternary not measured" in lines[1]
    row = next(line for line in lines if line.startswith("3x3x3"))
    assert "rank 25 (>2 s)" in row
    assert "seed 0: ours" in r.stderr and "peer target not reached, best rank 25" in r.stderr
