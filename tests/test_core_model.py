"""Format, Scheme, tensor and ring facts."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from discover import Format, FormatError, Scheme, SchemeError, matmul_tensor, reconstruct
from discover.known import strassen, winograd

SMALL_FORMATS = [f"{n}x{m}x{p}" for n in range(1, 6) for m in range(1, 6) for p in range(1, 6)]


def test_format_parse_and_facts():
    fmt = Format.parse("2x3x4")
    assert fmt.dims == (2, 3, 4)
    assert str(fmt) == "2x3x4"
    assert fmt.naive_rank == 24
    assert fmt.flattening_bound == 12
    assert Format.parse([2, 3, 4]) == fmt
    assert Format.parse("4x2x3").canonical() == fmt


@pytest.mark.parametrize("bad", ["2x2", "axbxc", "2x0x2", "", "2x2x2x2", [2, 2], [2, "2", 2], [True, 2, 2]])
def test_format_rejects_malformed(bad):
    with pytest.raises(FormatError):
        Format.parse(bad)


def test_matmul_tensor_entries_match_definition():
    n, m, p = 2, 3, 4
    T = matmul_tensor("2x3x4")
    assert T.shape == (6, 12, 8)
    assert T.sum() == n * m * p
    for i in range(n):
        for j in range(m):
            for l in range(p):
                assert T[i * m + j, j * p + l, i * p + l] == 1


@pytest.mark.parametrize("fmt", SMALL_FORMATS)
def test_naive_scheme_reconstructs_the_tensor(fmt):
    scheme = Scheme.naive(fmt)
    num, den = reconstruct(scheme)
    assert den == 1
    assert np.array_equal(np.asarray(num, dtype=np.int64), matmul_tensor(fmt))
    assert scheme.rank == Format.parse(fmt).naive_rank
    assert scheme.ring == "ZT"


def test_additions_counted_as_in_the_literature():
    assert strassen().additions == 18
    assert winograd().additions == 24
    # naive: (m - 1) additions per entry of C, no additions inside products
    assert Scheme.naive("2x3x4").additions == 2 * 4 * 2


def test_ring_and_coefficient_facts():
    s = strassen()
    assert s.ring == "ZT" and s.max_abs_coefficient == 1 and s.denominator == 1
    U = np.array(s.U)
    U[0, 0, 0] = 2
    z = Scheme.from_arrays(U, s.V, s.W)
    assert z.ring == "Z" and z.max_abs_coefficient == 2
    U[0, 0, 0] = Fraction(1, 2)
    q = Scheme.from_arrays(U, s.V, s.W)
    assert q.ring == "Q" and q.denominator == 2
    assert s.as_mod2().ring == "Z2"


def test_from_arrays_accepts_exact_strings_and_integral_floats():
    s = Scheme.from_arrays([[["1/2", 1.0]]], [[[2], ["-3"]]], [[[1]]])
    assert s.format == Format(1, 2, 1)
    assert s.U[0, 0, 0] == Fraction(1, 2) and isinstance(s.U[0, 0, 1], int)


@pytest.mark.parametrize(
    "U, V, W, fmt, message",
    [
        (np.zeros((7, 2, 3)), np.zeros((7, 2, 2)), np.zeros((7, 2, 2)), "2x2x2", "U has shape (7, 2, 3) but format 2x2x2"),
        (np.zeros((7, 2, 2)), np.zeros((6, 2, 2)), np.zeros((7, 2, 2)), "2x2x2", "V has shape (6, 2, 2)"),
        (np.zeros((7, 2, 2)), np.zeros((7, 2, 2)), np.zeros((7, 2)), "2x2x2", "W has shape (7, 2)"),
        ([[[0.5]]], [[[1]]], [[[1]]], "1x1x1", "not an exact integer"),
        ([[["x"]]], [[[1]]], [[[1]]], "1x1x1", "'x' is not an integer"),
        ([[[float("nan")]]], [[[1]]], [[[1]]], "1x1x1", "not a finite number"),
    ],
)
def test_from_arrays_rejects_bad_shapes_and_values(U, V, W, fmt, message):
    with pytest.raises(SchemeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Scheme.from_arrays(U, V, W, fmt)


def test_scheme_is_immutable_and_does_not_alias_inputs():
    U = np.array(strassen().U)
    s = Scheme.from_arrays(U, strassen().V, strassen().W)
    U[0, 0, 0] = 5
    assert s.U[0, 0, 0] == 1
    with pytest.raises(ValueError):
        s.U[0, 0, 0] = 3


@pytest.mark.parametrize("text", ["a11/0", "1/0*a11", "a11 a12", "a1", "b11"])
def test_linear_forms_reject_bad_text_with_a_scheme_error(text):
    from discover.formulas import parse_linear_form

    with pytest.raises(SchemeError):
        parse_linear_form(text, "a", Format(2, 2, 2), 2, 2)


def test_linear_form_terms_are_shared_with_the_exp_importer():
    from discover.formulas import linear_form_terms
    from discover.interchange.kauers import parse_form

    assert linear_form_terms("-a11+2*a12") == [("a", 0, 0, -1), ("a", 0, 1, 2)]
    assert parse_form("-a11+2*a12") == ("a", [(0, 0, -1), (0, 1, 2)])
