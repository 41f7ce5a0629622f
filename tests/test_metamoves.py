"""Meta moves across formats: extend, project, product, resize; each result checked by the exact tensor."""
from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from click.testing import CliRunner

from discover.cli import main
from discover.errors import LoadError, SchemeError
from discover.known import KNOWN
from discover.metamoves import extend, product, project, resize
from discover.scheme import Scheme
from discover.sources import load_source
from discover.symmetry import sandwich
from discover.tensor import integer_reconstruction, matmul_tensor


def _exact(s: Scheme) -> bool:
    return s.rank == s.U.shape[0] and bool((integer_reconstruction(s.U, s.V, s.W) == matmul_tensor(s.format)).all())


def _random_exact(seed: int) -> Scheme:
    """Strassen, or a naive scheme, moved by a random unimodular sandwich (still exact, denser)."""
    rng = np.random.default_rng(seed)
    base = KNOWN["strassen"]() if seed % 2 else Scheme.naive(("2x2x3", "2x3x2", "3x2x2")[seed % 3])
    mats = []
    for size in base.format.dims:
        M = np.eye(size, dtype=np.int64)
        i, j = rng.choice(size, 2, replace=False)
        M[i, j] = rng.choice([-1, 1])  # an elementary matrix: determinant 1
        mats.append(M)
    return sandwich(base, *mats)


@pytest.mark.parametrize("seed", range(6))
def test_every_meta_move_keeps_exactness(seed):
    s = _random_exact(seed)
    assert _exact(s)
    for axis in "nmp":
        bigger = extend(s, axis)
        dims = list(s.format.dims)
        dims[" nmp".index(axis) - 1] += 1
        assert bigger.format.dims == tuple(dims) and _exact(bigger)
        assert bigger.rank == s.rank + int(np.prod(s.format.dims)) // s.format.dims["nmp".index(axis)]
        for index in range(s.format.dims["nmp".index(axis)]):
            smaller = project(s, axis, index)
            assert _exact(smaller) and smaller.rank <= s.rank
    squared = product(s, KNOWN["strassen"]())
    assert _exact(squared) and squared.rank == 7 * s.rank


def test_project_drops_the_index_that_kills_most_products():
    # naive 2x3x3: dropping any row of A kills the 9 products that read it.
    s = project(Scheme.naive("2x3x3"), "n")
    assert str(s.format) == "1x3x3" and s.rank == 9 and _exact(s)
    with pytest.raises(SchemeError):
        project(s, "n")
    with pytest.raises(SchemeError):
        project(Scheme.naive("2x2x2"), "m", 5)


def test_resize_reaches_any_format_exactly():
    start = KNOWN["strassen"]()
    for dims in itertools.product((1, 2, 3), repeat=3):
        s = resize(start, "x".join(map(str, dims)))
        assert s.format.dims == dims and _exact(s)


def test_meta_move_sources():
    s = load_source("extend:2x2x3:strassen")
    assert str(s.format) == "2x2x3" and s.rank == 11 and _exact(s)
    assert load_source("product:strassen,strassen").rank == 49
    p = load_source("project:2x2x1:naive:2x2x2")
    assert p.rank == 4 and _exact(p)
    turned = load_source("orient:4x3x2:naive:2x3x4")
    assert str(turned.format) == "4x3x2" and turned.rank == 24 and _exact(turned)
    # extend along p after a reorientation is another start than extend along m
    along_p = load_source("extend:2x3x3:orient:2x3x2:extend:2x2x3:strassen")
    assert str(along_p.format) == "2x3x3" and along_p.rank == 17 and _exact(along_p)
    for bad in ("extend:2x2x3", "extend:2x2x1:strassen", "project:3x3x3:strassen", "product:strassen",
                "resize:axb:strassen", "orient:2x2x3:strassen"):
        with pytest.raises(LoadError):
            load_source(bad)


def test_project_source_names_the_dropped_indices():
    # Strassen: dropping row 0 of A leaves the products that do not read it; @0 and @1 differ in
    # which ones, and each equals metamoves.project at that index.
    s = KNOWN["strassen"]()
    for index in (0, 1):
        named = load_source(f"project:1x2x2@{index}:strassen")
        direct = project(s, "n", index)
        assert named.rank == direct.rank and _exact(named)
        assert all(np.array_equal(a, b) for a, b in zip((named.U, named.V, named.W), (direct.U, direct.V, direct.W)))
    two = load_source("resize:1x2x1@1,0:strassen")
    assert two.format.dims == (1, 2, 1) and _exact(two)
    assert np.array_equal(two.U, resize(s, "1x2x1", (1, 0)).U)
    for bad in ("project:1x2x2@2:strassen", "project:1x2x2@0,0:strassen", "extend:2x2x3@0:strassen",
                "project:1x2x2@a:strassen", "project:1x2x2@:strassen"):
        with pytest.raises(LoadError, match="@|index"):
            load_source(bad)


def test_search_starts_from_a_neighbours_scheme(tmp_path):
    out = tmp_path / "found"
    res = CliRunner().invoke(main, ["search", "2x2x3", "--rank", "11", "--start", "extend:2x2x3:strassen",
                                    "--workers", "1", "--time-limit", "30", "-o", str(out), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["found"] and len(list(out.glob("*.json"))) == 1
    bad = CliRunner().invoke(main, ["search", "2x2x3", "--rank", "11", "--start", "project:2x2x3:strassen"])
    assert bad.exit_code == 2 and bad.output.strip().splitlines()[-1].startswith("error: ")
