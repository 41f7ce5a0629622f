"""Linear cuts mod 2 (discover.linearcut) and the cut: source; every result checked by the tensor mod 2."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from discover.cli import main
from discover.errors import LoadError, SchemeError
from discover.flip.settings import FlipSettings
from discover.linearcut import cut, cut_choices, cut_with, hyperplane_maps
from discover.metamoves import project, resize
from discover.rings import Ring
from discover.scheme import Scheme
from discover.sources import load_source
from discover.tensor import matmul_tensor

ROOT = Path(__file__).resolve().parents[1]
R93 = ROOT / "algorithms" / "5x5x5_r93_ZT.json"


def _exact_mod2(s: Scheme) -> bool:
    """The tensor of U, V, W taken mod 2 equals <n,m,p> mod 2 (computed here, not by verify)."""
    U, V, W = (np.array(x, dtype=np.int64) % 2 for x in (s.U, s.V, s.W))
    n, m, p = s.format.dims
    T = np.einsum("kij,kab,kcd->ijabcd", U, V, W).reshape(n * m, m * p, n * p)
    return bool(((T - matmul_tensor(s.format)) % 2 == 0).all())


@pytest.mark.parametrize("size", [2, 3, 5])
def test_hyperplane_maps_pair_the_two_complements(size):
    rng = np.random.default_rng(size)
    done = 0
    while done < 20:
        a, b = rng.integers(0, 2, size), rng.integers(0, 2, size)
        if int(a @ b) % 2 == 0:
            if a.any() and b.any():
                with pytest.raises(SchemeError, match="odd"):
                    hyperplane_maps(a, b)
            continue
        E, F = hyperplane_maps(a, b)
        assert E.shape == F.shape == (size, size - 1)
        assert np.array_equal((F.T @ E) % 2, np.eye(size - 1, dtype=np.int64))
        assert not ((a @ E) % 2).any() and not ((b @ F) % 2).any()  # E spans a^⊥, F spans b^⊥
        done += 1


@pytest.mark.parametrize("source", ["strassen", "naive:3x3x3", "catalog:3x3x3", "catalog:3x4x5"])
def test_every_cut_along_every_axis_is_exact_mod_2(source):
    s = load_source(source)
    for axis in "nmp":
        for choice in cut_choices(s, axis)[:6]:
            smaller = cut_with(s, axis, choice)
            assert smaller.mod2 and _exact_mod2(smaller)
            assert smaller.rank <= s.rank - choice.killed  # merges only lower it further


def test_a_cut_kills_at_least_what_dropping_an_index_kills():
    for source in ("catalog:3x4x5", "catalog:4x5x5", "catalog:3x5x5"):
        s = load_source(source)
        for axis in "nmp":
            dropped = s.rank - project(s, axis).rank
            assert cut_choices(s, axis)[0].killed >= dropped


def test_the_r93_cut_to_4x4x5_is_rank_62_mod_2_where_projections_leave_70():
    s = load_source(str(R93))
    c = cut(s, "4x4x5")
    assert (str(c.format), c.rank, c.mod2) == ("4x4x5", 62, True) and _exact_mod2(c)
    assert resize(s, "4x4x5").rank == 70
    assert c.meta["provenance"]["operation"] == "cut"
    again = load_source(f"cut:4x4x5:{R93}")  # the source names the same scheme
    assert all(np.array_equal(x, y) for x, y in zip((c.U, c.V, c.W), (again.U, again.V, again.W)))


def test_cut_of_the_naive_scheme_is_the_smaller_naive_rank():
    c = cut(Scheme.naive("3x3x3"), "2x3x3")
    assert c.rank == 18 and _exact_mod2(c)
    assert cut(Scheme.naive("2x2x2"), "2x2x2").rank == 8  # nothing to cut: the scheme itself, mod 2


def test_cut_errors():
    with pytest.raises(SchemeError, match="only shrinks"):
        cut(Scheme.naive("2x2x2"), "3x2x2")
    with pytest.raises(SchemeError, match="size 1"):
        cut_choices(Scheme.naive("1x2x2"), "n")
    with pytest.raises(SchemeError, match="fractions"):
        cut(Scheme.from_arrays([[[1, 0]]], [[["1/2"], [0]]], [[[1]]], "1x2x1"), "1x1x1")
    for bad in ("cut:3x3x3:strassen", "cut:2x2x1", "cut:axb:strassen"):
        with pytest.raises(LoadError):
            load_source(bad)


def test_a_z2_start_walks_mod_2_and_field_zt_refuses_it():
    start = load_source("cut:2x3x3:catalog:3x3x3")
    assert FlipSettings().walk_field(Ring.ZT, start) == "gf2"
    assert FlipSettings().walk_field(Ring.ZT, Scheme.naive("2x3x3")) == "zt"
    res = CliRunner().invoke(main, ["search", "2x3x3", "--rank", "15", "--method", "flip", "-O", "field=zt",
                                    "--start", "cut:2x3x3:catalog:3x3x3", "--workers", "1", "--time-limit", "5"])
    assert res.exit_code == 2 and res.output.strip().splitlines()[-1].startswith("error: flip: field=zt")


def test_search_from_a_cut_lifts_to_an_exact_ternary_scheme(tmp_path):
    out = tmp_path / "found"
    res = CliRunner().invoke(main, ["search", "2x3x3", "--rank", "15", "--method", "flip", "--seed", "1",
                                    "--start", "cut:2x3x3:catalog:3x3x3", "--workers", "1", "--time-limit", "60",
                                    "-o", str(out), "--json"])
    assert res.exit_code == 0, res.output
    files = list(out.glob("*.json"))
    assert len(files) == 1
    found = load_source(str(files[0]))
    assert found.rank == 15 and not found.mod2 and found.ring is Ring.ZT
    provenance = json.loads(files[0].read_text())["provenance"]
    assert provenance["start_pinned"].startswith("cut:2x3x3:") and provenance["info"]["field"] == "gf2"
