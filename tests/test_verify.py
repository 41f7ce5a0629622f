"""Both verification engines: agreement, diagnosis, mod 2, large schemes."""
from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest

from discover import Scheme, verify, verify_exact, verify_sympy
from discover.known import strassen, winograd
from discover.symmetry import kron


def _corrupt(scheme: Scheme, which: int, index: tuple[int, int, int], delta) -> Scheme:
    arrays = [np.array(a) for a in scheme.factors]
    arrays[which][index] = arrays[which][index] + delta
    return Scheme.from_arrays(*arrays, scheme.format)


@pytest.mark.parametrize("scheme", [strassen(), winograd(), Scheme.naive("2x3x2")], ids=["strassen", "winograd", "naive"])
def test_engines_agree_on_every_single_coefficient_change(scheme):
    assert verify_exact(scheme).valid and verify_sympy(scheme).valid
    for which, arr in enumerate(scheme.factors):
        for index in itertools.product(*map(range, arr.shape)):
            bad = _corrupt(scheme, which, index, 1)
            exact, symbolic = verify_exact(bad), verify_sympy(bad)
            assert not exact.valid and not symbolic.valid
            assert set(exact.errors) == set(symbolic.errors)


def test_diagnosis_names_wrong_entries_and_monomials():
    # m3 = a11 * (b12 - b22) feeds c12 and c22; make it a11 * (b12 - b22 + b21)
    bad = _corrupt(strassen(), 1, (2, 1, 0), 1)
    report = verify(bad)
    assert not report.valid
    assert report.wrong_entries == ["c12", "c22"]
    assert report.diagnosis() == ["c12: extra +a11*b21", "c22: extra +a11*b21"]


def test_diagnosis_reports_missing_monomials():
    s = Scheme.naive("2x2x2")
    W = np.array(s.W)
    W[0, 0, 0] = 0  # drop a11*b11 from c11
    report = verify(Scheme.from_arrays(s.U, s.V, W))
    assert report.diagnosis() == ["c11: missing +a11*b11"]


def test_rational_schemes_verify_exactly():
    s = strassen()
    U, W = np.array(s.U), np.array(s.W)
    U[0] = U[0] * 2
    W[0] = W[0] * Fraction(1, 2)
    q = Scheme.from_arrays(U, s.V, W)
    assert q.ring == "Q"
    assert verify(q).valid
    W[0] = W[0] * 3
    assert not verify(Scheme.from_arrays(U, s.V, W)).valid


def test_mod2_schemes():
    s = strassen().as_mod2()
    report = verify(s)
    # Strassen's -1 become 1 mod 2: valid mod 2, not as a 0/1 scheme over Z
    assert report.valid and report.checked_over == "Z2" and report.valid_over_integers is False
    assert report.summary().startswith("valid mod 2 only")
    naive = verify(Scheme.naive("2x2x2").as_mod2())
    assert naive.valid and naive.valid_over_integers is True
    # a scheme that holds mod 2 but not over Z: double one product's W weight
    W = np.array(strassen().W)
    W[0, 0, 0] = 3
    broken = Scheme.from_arrays(strassen().U, strassen().V, W, "2x2x2")
    assert not verify(broken).valid
    mod2 = Scheme.from_arrays(strassen().U, strassen().V, W, "2x2x2", mod2=True)
    assert verify(mod2).valid


def test_kronecker_square_of_strassen_verifies():
    s49 = kron(strassen(), strassen())
    report = verify(s49)
    assert report.valid and report.rank == 49 and report.method == "exact+sympy"


def test_large_naive_scheme_verifies_with_both_engines():
    assert verify(Scheme.naive("5x5x5")).valid


def test_huge_denominators_do_not_overflow():
    # d³ far beyond int64: the exact engine must switch to Python integers
    s = strassen()
    U, W = np.array(s.U), np.array(s.W)
    U[0] = U[0] * Fraction(1, 3**40)
    W[0] = W[0] * 3**40
    assert verify(Scheme.from_arrays(U, s.V, W)).valid
    U[0] = U[0] * 2
    report = verify(Scheme.from_arrays(U, s.V, W))
    assert not report.valid and report.wrong_entries == ["c11", "c22"]
