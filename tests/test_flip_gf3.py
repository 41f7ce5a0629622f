"""The GF(3) flip graph and the 3-adic lift: schemes with halves for --ring Q."""
from __future__ import annotations

import json
from fractions import Fraction

import numpy as np

from discover.cli import main
from discover.flip.gf3 import _reduce, gf3_search, hensel_lift3, is_exact_mod3, naive_mod3, walk_mod3
from discover.formats import Format
from discover.jsonio import load_scheme
from discover.verify import verify, verify_exact


def test_gf3_walk_and_lift_give_a_verified_scheme_with_a_half():
    scheme = gf3_search("2x2x2", 7, 0, tries=5, max_flips=3000)
    assert scheme is not None and scheme.rank == 7
    assert verify_exact(scheme).valid and verify(scheme).valid
    values = {Fraction(v) for X in scheme.factors for v in np.asarray(X).ravel()}
    assert Fraction(1, 2) in values or Fraction(-1, 2) in values


def test_gf3_moves_keep_the_tensor_mod_3():
    # Flips, scale moves, plus transitions and reductions: every walk ends on an exact mod-3 scheme.
    for fmt, target in ((Format.parse("2x2x2"), 7),):
        for seed in range(4):
            G = walk_mod3(fmt, target, np.random.default_rng(seed), max_flips=3000, scale_p=0.5, plateau=20)
            assert G is not None and G[0].shape[0] <= target and is_exact_mod3(G, fmt)
    F = naive_mod3(Format.parse("2x2x3"))
    assert is_exact_mod3(_reduce([X.copy() for X in F]), Format.parse("2x2x3"))


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
