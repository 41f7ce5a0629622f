"""ternary_form / `strassen ternarize`: integer schemes moved to {-1, 0, 1} coefficients, exactly."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from discover.catalog_steps import start_argument
from discover.cli import main
from discover.jsonio import load_scheme, save_scheme
from discover.known import KNOWN
from discover.scheme import Scheme
from discover.symmetry import sandwich
from discover.tensor import integer_reconstruction, matmul_tensor
from discover.ternary_form import coefficient_excess, shared_factors, ternary_form

CATALOG = Path(__file__).resolve().parents[1] / "algorithms"


def _exact(s: Scheme) -> bool:
    return bool((integer_reconstruction(s.U, s.V, s.W) == matmul_tensor(s.format)).all())


def _wide(base: Scheme) -> Scheme:
    """``base`` sandwiched by unimodular matrices with entries up to 3: exact, far from ternary."""
    mats = []
    for size in base.format.dims:
        M = np.eye(size, dtype=np.int64)
        M[0, 1:] = 2
        if size > 2:
            M[1, 2] = 3
        mats.append(M)  # upper triangular with ones on the diagonal: determinant 1
    return sandwich(base, *mats)


@pytest.mark.parametrize("base", [KNOWN["strassen"](), Scheme.naive("2x3x3")])
def test_ternary_form_reaches_ternary_at_the_same_rank(base):
    wide = _wide(base)
    assert _exact(wide) and coefficient_excess(wide.factors) > 0
    result = ternary_form(wide, seed=1)
    assert result.ternary and result.excess == 0 and result.start_excess == coefficient_excess(wide.factors)
    out = result.scheme
    assert out.rank <= base.rank and _exact(out)
    assert max(int(np.abs(f).max()) for f in out.factors) == 1 and result.max_coefficient == 1
    again = ternary_form(wide, seed=1)  # a seed replays the walk
    assert again.moves == result.moves and all(np.array_equal(a, b) for a, b in zip(again.scheme.factors, out.factors))


def test_ternary_form_stops_at_the_move_budget_with_the_least_excess():
    wide = _wide(Scheme.naive("2x3x3"))
    result = ternary_form(wide, moves=3, seed=0)
    assert result.moves == 3 and not result.ternary and result.excess <= result.start_excess
    assert _exact(result.scheme)


def test_shared_factors_finds_equal_factors_up_to_sign():
    U = np.array([[[1, 0]], [[-1, 0]], [[0, 1]]])
    V = np.array([[[1]], [[1]], [[1]]])
    W = np.array([[[1]], [[2]], [[3]]])
    pairs = shared_factors([U, V, W])
    assert (0, 0, 1, -1) in pairs and (1, 0, 1, 1) in pairs and (1, 1, 2, 1) in pairs and (1, 0, 2, 1) in pairs
    assert not any(p[0] == 2 for p in pairs) and not any(p[0] == 0 and 2 in p[1:3] for p in pairs)


def test_ternary_form_refuses_mod2_and_rational_schemes():
    with pytest.raises(ValueError):
        ternary_form(Scheme.from_arrays(*KNOWN["strassen"]().factors, "2x2x2", mod2=True))
    half = Scheme.from_arrays(*(np.array(f, dtype=object) for f in KNOWN["strassen"]().factors), "2x2x2")
    U = half.U.copy()
    U[0] = U[0] * 2
    W = np.array(half.W, dtype=object)
    from fractions import Fraction
    W[0] = W[0] * Fraction(1, 2)
    with pytest.raises(ValueError):
        ternary_form(Scheme.from_arrays(U, half.V, W, "2x2x2"))


def test_ternarize_command_writes_a_verified_ternary_scheme(tmp_path):
    src = tmp_path / "wide.json"
    save_scheme(_wide(Scheme.naive("2x3x3")), src)
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["ternarize", str(src), "-o", str(out), "--seed", "1", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["ternary"] and doc["excess"] == 0 and doc["excess_before"] > 0
    written = sorted(out.glob("*.json"))
    assert [p.name for p in written] == ["2x3x3_r18_ZT.json"] and doc["saved"] == str(written[0])
    scheme = load_scheme(written[0])
    assert _exact(scheme) and str(scheme.ring) == "ZT"
    raw = json.loads(written[0].read_text())
    assert raw["provenance"]["method"] == "ternarize" and raw["provenance"]["seed"] == 1
    assert raw["verification"]["valid"] is True
    # the chain of catalog steps follows a recorded `strassen ternarize FILE` back to FILE
    assert start_argument(("ternarize", str(src), "-o", "algorithms/", "--seed", "1")) == str(src)


def test_ternarize_command_exit_codes(tmp_path):
    src = tmp_path / "wide.json"
    save_scheme(_wide(Scheme.naive("2x3x3")), src)
    out = tmp_path / "out"
    short = CliRunner().invoke(main, ["ternarize", str(src), "--moves", "2", "-o", str(out)])
    assert short.exit_code == 1 and not out.exists()
    # a ternary source: exit 0 and nothing written (rewriting it would replace its provenance)
    ternary = tmp_path / "strassen.json"
    save_scheme(KNOWN["strassen"](), ternary)
    before = ternary.read_bytes()
    done = CliRunner().invoke(main, ["ternarize", str(ternary), "-o", str(tmp_path), "--json"])
    assert done.exit_code == 0 and json.loads(done.stdout)["saved"] is None
    assert ternary.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["strassen.json", "wide.json"]
    mod2 = tmp_path / "mod2.json"
    save_scheme(Scheme.from_arrays(*KNOWN["strassen"]().factors, "2x2x2", mod2=True), mod2)
    for bad in (str(mod2), str(tmp_path / "missing.json"), "naive:axb"):
        res = CliRunner().invoke(main, ["ternarize", bad])
        assert res.exit_code == 2 and res.output.strip().splitlines()[-1].startswith("error: "), res.output


def test_gf2_lifter_moves_a_hensel_lift_to_ternary():
    # The catalog's 3x5x5 r58 over Z (coefficients up to 9) mod 2: no ±1 signs on its support, so
    # the ZT lifter without `ternarize` rejects it; with it, the Hensel lift is walked to ternary.
    from discover.flip import gf2
    from discover.flip.gf2lifter import gf2_lifter
    from discover.rings import Ring

    s = load_scheme(CATALOG / "3x5x5_r58_Z.json")
    F = gf2.pack(*(np.array(f, dtype=np.int64) for f in s.factors))
    plain: dict = {}
    assert gf2_lifter(s.format, Ring.ZT, 1, True, np.random.default_rng(0), plain)(F, 58) is None
    assert plain["failed_no_signs"] == 1
    counters: dict = {}
    lifter = gf2_lifter(s.format, Ring.ZT, 1, True, np.random.default_rng(0), counters, 2000)
    out = lifter(F, 58)
    assert lifter.deep and out is not None and str(out.ring) == "ZT" and out.rank == 58 and _exact(out)
    assert counters["lifted_ternarized"] == 1 and counters["failed_ternarize"] == 0


def test_ternarize_option_is_checked():
    from discover.errors import SearchError
    from discover.flip.settings import FlipSettings

    with pytest.raises(SearchError, match="ternarize"):
        FlipSettings(field="zt", ternarize=100).check()
    with pytest.raises(SearchError, match="ternarize"):
        FlipSettings(field="gf2", ternarize=-1).check()
    FlipSettings(field="gf2", ternarize=100).check()


def test_pool_ternarize_option_is_checked():
    from discover.errors import SearchError
    from discover.flip.pool import PoolSettings

    with pytest.raises(SearchError, match="ternarize"):
        PoolSettings(field="zt", ternarize=100).check()
    with pytest.raises(SearchError, match="ternarize"):
        PoolSettings(field="gf2", ternarize=-5).check()
    PoolSettings(field="gf2", ternarize=100).check()


def test_search_with_ternarize_finds_a_ternary_scheme(tmp_path):
    # GF(2) pool over ZT with the ternary walk behind its lifts: the result is ternary and exact.
    res = CliRunner().invoke(main, ["search", "2x2x3", "--rank", "11", "--method", "pool", "-O", "field=gf2",
                                    "-O", "ternarize=500", "--seed", "0", "--workers", "1", "--time-limit", "60",
                                    "-o", str(tmp_path), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["found"] and doc["found"][0]["rank"] == 11
    (path,) = tmp_path.glob("2x2x3_r11_ZT*.json")
    scheme = load_scheme(path)
    assert str(scheme.ring) == "ZT" and _exact(scheme)
