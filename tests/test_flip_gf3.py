"""The GF(3) flip graph and the 3-adic lift: schemes with halves for --ring Q."""
from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from discover.cli import main
from discover.flip import zt
from discover.flip.gf3 import _Mod3System, hensel_lift3, is_exact_mod3, naive_mod3
from discover.flip.gf3runners import flat_residues, gf3_runner_search, residues_mod3
from discover.flip.policy import runners_kernel
from discover.flip.rng import seed_state
from discover.flip.settings import FlipSettings
from discover.scheme import Scheme
from discover.formats import Format
from discover.jsonio import load_scheme, save_scheme
from discover.tensor import integer_reconstruction, matmul_tensor
from discover.verify import verify, verify_exact

CATALOG = Path(__file__).resolve().parents[1] / "algorithms"


def _runner_search(fmt, target, start, seed, flips, moves="ternary"):
    settings = FlipSettings(field="gf3", max_flips=flips, gf3_moves=moves)
    return gf3_runner_search(Format.parse(fmt), target, start, settings, np.random.SeedSequence(seed))


def test_gf3_walk_and_lift_give_a_verified_scheme_with_a_half():
    scheme = _runner_search("2x2x2", 7, Scheme.naive("2x2x2"), 0, 2_000_000).scheme
    assert scheme is not None and scheme.rank == 7
    assert verify_exact(scheme).valid and verify(scheme).valid
    values = {Fraction(v) for X in scheme.factors for v in np.asarray(X).ravel()}
    assert any(v.denominator == 2 for v in values)
    again = _runner_search("2x2x2", 7, Scheme.naive("2x2x2"), 0, 2_000_000).scheme
    assert again.same_coefficients(scheme)  # a flip budget and a seed replay the walk and its lifts


@pytest.mark.parametrize("fmt", ["2x2x2", "2x2x3", "2x3x3", "3x3x3"])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("mode", [zt.MOD3, zt.MOD3_TERNARY_MOVES])
def test_every_move_mod_3_keeps_the_tensor_mod_3(fmt, seed, mode):
    # Flips, merges (2·t ≡ −t included), plus transitions and splits of the mod-3 runners.
    fmt = Format.parse(fmt)
    naive = Scheme.naive(fmt)
    U, V, W = naive.int64_arrays()
    K, capacity = 4, naive.rank + 6
    Fs = np.repeat(zt.pack(U, V, W, capacity)[None], K, axis=0)
    bests = Fs.copy()
    rs = np.full(K, naive.rank, dtype=np.int64)
    best_rs = rs.copy()
    zeros = lambda: np.zeros(K, dtype=np.int64)
    since, quiet, periods = zeros(), zeros(), np.full(K, 50, dtype=np.int64)
    stats = np.zeros(5, dtype=np.int64)
    state = seed_state(seed)
    for _ in range(20):  # target 0 is out of reach: every call walks all runners
        runners_kernel(Fs, rs, bests, best_rs, since, periods, quiet, 0, 500, 20, 200, 3, 0, 1 << 60, state, stats,
                       True, mode)
        for k in range(K):
            assert is_exact_mod3(flat_residues(Fs[k], int(rs[k]), fmt), fmt)
            assert is_exact_mod3(flat_residues(bests[k], int(best_rs[k]), fmt), fmt)
    assert stats[1] > 0 and stats[3] > 0  # expansions and reductions both happened


def test_an_integer_scheme_read_mod_3_lifts_back_to_an_exact_scheme():
    start = load_scheme(CATALOG / "2x4x5_r33_Z.json")  # it has a coefficient 2 ≡ −1 (mod 3)
    U, V, W = residues_mod3(start)
    assert set(np.unique(np.concatenate([U.ravel(), V.ravel(), W.ravel()]))) <= {-1, 0, 1}
    flat = [X.reshape(start.rank, -1) % 3 for X in (U, V, W)]
    assert is_exact_mod3(flat, start.format)
    lifted = hensel_lift3(flat, start.format)
    assert lifted is not None and lifted.rank == 33 and verify_exact(lifted).valid


def test_a_lift_from_a_wrong_start_is_refused():
    fmt = Format.parse("2x2x2")
    F = [X.copy() for X in naive_mod3(fmt)]
    F[0][0, 0] = 2  # no longer a solution mod 3
    assert hensel_lift3(F, fmt) is None


def test_search_ring_q_with_gf3_field(runner, tmp_path):
    r = runner.invoke(main, ["search", "2x2x2", "--rank", "7", "--ring", "Q", "--method", "flip", "-O", "field=gf3",
                             "-j", "1", "--restarts", "3", "-o", str(tmp_path), "--json", "--seed", "0"])
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["found_ranks"] == [7]
    saved = load_scheme(next(tmp_path.glob("2x2x2_r7_*.json")))
    assert verify(saved).valid and saved.meta["provenance"]["info"]["field"] == "gf3"
    bad = runner.invoke(main, ["search", "2x2x2", "--rank", "7", "--method", "flip", "-O", "field=gf3"])
    assert bad.exit_code == 2 and "--ring Q" in bad.stderr


def test_the_mod_3_solver_matches_a_direct_check():
    rng = np.random.default_rng(4)
    M = rng.integers(0, 3, size=(30, 20))
    x = rng.integers(0, 3, size=20)
    system = _Mod3System(M)
    y = system.solve(M @ x)
    assert y is not None and ((M @ y - M @ x) % 3 == 0).all()
    M2 = np.vstack([M[:5], M[:5]])  # rows 5..9 repeat rows 0..4: a right-hand side that breaks that is inconsistent
    rhs = (M2 @ x) % 3
    rhs[7] = (rhs[7] + 1) % 3
    assert _Mod3System(M2).solve(rhs) is None


def test_gf3_rejects_a_start_with_a_third(runner, tmp_path):
    s = Scheme.naive("2x2x2")
    U, W = np.array(s.U, dtype=object), np.array(s.W, dtype=object)
    U[0] = U[0] * 3  # term 0 = (3·u) ⊗ v ⊗ (w/3): still exact, with a third
    W[0] = W[0] * Fraction(1, 3)
    path = tmp_path / "third.json"
    save_scheme(Scheme.from_arrays(U, s.V, W, s.format), path)
    r = runner.invoke(main, ["search", "2x2x2", "--rank", "7", "--ring", "Q", "--method", "flip", "-O", "field=gf3",
                             "--start", str(path)])
    assert r.exit_code == 2 and "prime to 3" in r.stderr and "Traceback" not in r.output


def test_two_equal_terms_merge_mod_3_into_their_negation():
    # −t − t = −2t ≡ t (mod 3): the naive scheme with its first term t written as (−t) + (−t).
    fmt = Format.parse("2x2x2")
    U, V, W = Scheme.naive(fmt).int64_arrays()
    U2, V2, W2 = (np.concatenate([X[:1], X]) for X in (U, V, W))
    U2[0] = U2[1] = -U[0]
    F = zt.pack(U2, V2, W2, 12)
    assert is_exact_mod3(flat_residues(F, 9, fmt), fmt)
    stack = np.zeros(32, dtype=np.int64)
    stack[0] = 1
    r, removed = zt.settle(F, 9, stack, 1, True)
    assert (r, removed) == (8, 1)
    Ua, Va, Wa = zt.unpack(F, r, fmt)
    assert is_exact_mod3(flat_residues(F, r, fmt), fmt)
    assert (integer_reconstruction(Ua, Va, Wa) == matmul_tensor(fmt)).all()  # the merged term is t itself
    stack[0] = 1
    F2 = zt.pack(U2, V2, W2, 12)
    assert zt.settle(F2, 9, stack, 1, False) == (9, 0)  # over Z, 2·t is not ternary: no merge


def test_ternary_moves_mod_3_refuse_the_flips_whose_sums_leave_minus_one_zero_one():
    # Terms a⊗b0⊗c0 and a⊗b1⊗c1 share a; b0 + b1, b1 + b0 and c0 + c1 have a 2 (≡ −1 mod 3) and each
    # of the four flips needs one of them (b0 += λb1 with c1 −= λc0, or c0 += λc1 with b1 −= λb0).
    fmt = Format.parse("1x2x2")
    U = np.array([[[1, 0]], [[1, 0]]])
    V = np.array([[[1, 1], [0, 0]], [[1, 0], [0, 0]]])
    W = np.array([[[1, 1]], [[1, 0]]])
    before = integer_reconstruction(U, V, W) % 3
    for bits in range(4):
        F = zt.pack(U, V, W, 4)
        assert zt.apply_flip(F, 0, 0, 1, 1, bits, zt.MOD3_TERNARY_MOVES) == -1
        assert (F == zt.pack(U, V, W, 4)).all()
        assert zt.apply_flip(F, 0, 0, 1, 1, bits, zt.MOD3) >= 0  # mod 3 every sum is taken
        assert (integer_reconstruction(*zt.unpack(F, 2, fmt)) % 3 == before).all()
        assert not (F == zt.pack(U, V, W, 4)).all()

def test_ternary_moves_walk_down_where_moves_mod_3_stall():
    # From the naive 2x3x4 (24) with the same seed and flip budget: ternary moves reach 20 and
    # lift it to a verified scheme over Q; moves mod 3 stay at the naive rank mod 3 (dense factors
    # no two terms share).
    naive = Scheme.naive("2x3x4")
    found = _runner_search("2x3x4", 20, naive, 1, 4_000_000).scheme
    assert found is not None and found.rank == 20 and verify_exact(found).valid
    stalled = _runner_search("2x3x4", 20, naive, 1, 4_000_000, moves="mod3")
    assert stalled.scheme is None and stalled.rank_mod3 == 24


def test_gf3_moves_is_checked(runner):
    for method in ("flip", "pool"):
        r = runner.invoke(main, ["search", "2x2x2", "--rank", "7", "--ring", "Q", "--method", method,
                                 "-O", "field=gf3", "-O", "gf3_moves=dense"])
        assert r.exit_code == 2 and "gf3_moves='dense': choose mod3 or ternary" in r.stderr
        assert "Traceback" not in r.output


def test_a_gf3_search_reports_its_lowest_rank_mod_3_as_such(runner):
    # 4 M flips take the naive 2x4x4 (32) part of the way to 26: the search says how far, mod 3,
    # in the summary and in the JSON (best_rank_mod2 is the lowest rank mod best_rank_modulus).
    r = runner.invoke(main, ["search", "2x4x4", "--rank", "26", "--ring", "Q", "--method", "flip", "-O", "field=gf3",
                             "-O", "max_flips=4000000", "--restarts", "1", "--seed", "3", "-j", "1", "--json"])
    assert r.exit_code == 1, r.stderr
    doc = json.loads(r.stdout)
    assert doc["found"] == [] and doc["best_rank_modulus"] == 3 and 26 < doc["best_rank_mod2"] < 32
    assert f"best rank mod 3: {doc['best_rank_mod2']}, not lifted" in r.stderr
