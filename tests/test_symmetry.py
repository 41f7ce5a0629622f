"""Symmetries and compositions: every result verified exactly, ring recomputed."""
from __future__ import annotations

from fractions import Fraction

import pytest

from discover import Scheme, SchemeError, verify
from discover.known import strassen, winograd
from discover.symmetry import compose_many, cyclic, direct_sum, kron, sandwich, to_format, transpose


def _valid(s: Scheme) -> bool:
    return verify(s).valid


@pytest.mark.parametrize("base", [strassen(), winograd(), Scheme.naive("2x3x4")], ids=["strassen", "winograd", "naive234"])
def test_transpose_and_cyclic(base):
    t = transpose(base)
    n, m, p = base.format.dims
    assert t.format.dims == (p, m, n) and _valid(t) and t.ring == base.ring
    c = cyclic(base)
    assert c.format.dims == (m, p, n) and _valid(c)
    assert cyclic(cyclic(cyclic(base))).same_coefficients(base)
    assert transpose(transpose(base)).same_coefficients(base)


@pytest.mark.parametrize("target", ["2x3x4", "2x4x3", "3x2x4", "3x4x2", "4x2x3", "4x3x2"])
def test_every_orientation_is_reachable(target):
    s = to_format(Scheme.naive("2x3x4"), target)
    assert str(s.format) == target and _valid(s)


def test_to_format_rejects_other_formats():
    with pytest.raises(SchemeError, match="not a reorientation"):
        to_format(strassen(), "2x2x3")


def test_sandwich_unimodular_keeps_integers_and_other_matrices_bring_fractions():
    unimodular = sandwich(strassen(), [[1, 1], [0, 1]], [[2, 1], [1, 1]], [[1, 0], [3, 1]])
    assert _valid(unimodular) and unimodular.ring in ("ZT", "Z")
    scaled = sandwich(strassen(), [[2, 0], [0, 1]], [[1, 0], [0, 1]], [[1, 0], [0, 1]])
    assert _valid(scaled) and scaled.ring == "Q"
    assert any(isinstance(v, Fraction) for v in scaled.U.ravel())


def test_sandwich_rejects_singular_and_misshapen_matrices():
    with pytest.raises(SchemeError, match="singular"):
        sandwich(strassen(), [[1, 1], [1, 1]], [[1, 0], [0, 1]], [[1, 0], [0, 1]])
    with pytest.raises(SchemeError, match="X has shape"):
        sandwich(strassen(), [[1]], [[1, 0], [0, 1]], [[1, 0], [0, 1]])


def test_kron_products():
    s49 = kron(strassen(), strassen())
    assert s49.format.dims == (4, 4, 4) and s49.rank == 49 and _valid(s49) and s49.ring == "ZT"
    mixed = kron(Scheme.naive("1x2x3"), strassen())
    assert mixed.format.dims == (2, 4, 6) and mixed.rank == 42 and _valid(mixed)
    assert s49.meta["provenance"]["composed"] is True


@pytest.mark.parametrize(
    "axis, second, expected",
    [("p", "2x2x1", (2, 2, 3)), ("m", "2x1x2", (2, 3, 2)), ("n", "1x2x2", (3, 2, 2))],
)
def test_direct_sums(axis, second, expected):
    s = direct_sum(strassen(), Scheme.naive(second), axis)
    assert s.format.dims == expected and s.rank == 7 + Scheme.naive(second).rank and _valid(s)
    flipped = direct_sum(Scheme.naive(second), strassen(), axis)
    assert flipped.format.dims == expected and _valid(flipped)


def test_direct_sum_rejects_mismatched_dimensions():
    with pytest.raises(SchemeError, match="equal other dimensions"):
        direct_sum(strassen(), Scheme.naive("3x2x2"), "p")
    with pytest.raises(SchemeError, match="axis"):
        direct_sum(strassen(), strassen(), "q")


def test_compose_many_builds_2x2x6():
    s = compose_many([strassen(), strassen(), strassen()], "p")
    assert s.format.dims == (2, 2, 6) and s.rank == 21 and _valid(s)
