"""Lifting GF(2) schemes to characteristic 0: sign lift (mod 4) and Hensel lifting."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from discover.flip import gf2
from discover.flip.lift import hensel_lift, is_exact, lift, sign_lift, sign_system
from discover.flip.liftfailures import LIFT_FAILURES
from discover.flip.linalg2 import GF2System, is_consistent
from discover.flip.settings import FlipSettings
from discover.flip.walk import flip_search
from discover.problem import Problem
from discover.formats import Format
from discover.known import strassen
from discover.scheme import Scheme
from discover.tensor import matmul_tensor
from discover.verify import verify_exact


def _mod2(scheme: Scheme):
    return tuple(np.asarray(X, dtype=np.int64) % 2 for X in scheme.int_arrays()[:3])


def _ring_matches(scheme: Scheme) -> bool:
    values = [v for X in scheme.factors for v in X.ravel()]
    if any(isinstance(v, Fraction) and v.denominator != 1 for v in values):
        return scheme.ring == "Q"
    return scheme.ring == ("ZT" if max(abs(int(v)) for v in values) <= 1 else "Z")


def test_gf2_system_solves_and_detects_inconsistency():
    rng = np.random.default_rng(0)
    M = rng.integers(0, 2, size=(30, 20))
    x = rng.integers(0, 2, size=20)
    system = GF2System(M)
    y = system.solve(M @ x % 2, rng.integers(0, 2, size=len(system.free)))
    assert y is not None and np.array_equal(M @ y % 2, M @ x % 2)
    b = M @ x % 2
    b_bad = b.copy()
    # A right side outside the column space (exists since rank ≤ 20 < 30).
    for i in range(30):
        b_bad = b.copy()
        b_bad[i] ^= 1
        if system.solve(b_bad) is None:
            break
    assert system.solve(b_bad) is None
    assert is_consistent(M, b) and not is_consistent(M, b_bad)
    assert is_consistent(np.zeros((3, 4), dtype=np.int64), np.zeros(3, dtype=np.int64))
    assert not is_consistent(np.zeros((3, 4), dtype=np.int64), np.array([0, 1, 0]))


@pytest.mark.parametrize("seed", range(20))
def test_gf2_system_factors_only_spanning_rows_and_solves_every_equation(seed):
    # Random systems with many dependent rows: every solution must satisfy all the equations, the
    # free unknowns must pick among them, and a right side off the column space must be refused.
    from discover.flip.linalg2 import pack_rows

    rng = np.random.default_rng(seed)
    cols = int(rng.integers(1, 130))
    basis = (rng.random((int(rng.integers(1, 40)), cols)) < rng.uniform(0.05, 0.5)).astype(np.int64)
    M = rng.integers(0, 2, size=(int(rng.integers(1, 150)), len(basis))) @ basis % 2  # rank ≤ len(basis)
    system = GF2System(M)
    packed = GF2System.from_packed(pack_rows(M.astype(np.uint8)), cols)
    assert system.rank == packed.rank == len(system.pivots) == cols - len(system.free) <= len(basis)
    assert np.array_equal(system.pivots, packed.pivots) and np.array_equal(system.free, packed.free)
    for _ in range(5):
        b = M @ rng.integers(0, 2, size=cols) % 2
        free = rng.integers(0, 2, size=len(system.free))
        y = system.solve(b, free)
        assert y is not None and np.array_equal(M @ y % 2, b) and np.array_equal(y[system.free], free)
        assert np.array_equal(packed.solve(b, free), y)
        off = (b + rng.integers(0, 2, size=len(b))) % 2
        assert (system.solve(off) is None) == (not is_consistent(M, off))


def test_the_packed_jacobian_is_the_derivative_of_the_scheme_mod_2():
    from discover.flip.lift import _jacobian_mod2
    from discover.flip.linalg2 import unpack_rows

    rng = np.random.default_rng(3)
    r, na, nb, nc = 7, 4, 6, 6
    A, B, C = (rng.integers(0, 2, size=(r, n)) for n in (na, nb, nc))
    J = unpack_rows(_jacobian_mod2(A, B, C), r * (na + nb + nc))
    ea, eb, ec = np.eye(na, dtype=np.int64), np.eye(nb, dtype=np.int64), np.eye(nc, dtype=np.int64)
    reference = np.concatenate([
        np.einsum("xa,kb,kc->abckx", ea, B, C).reshape(na * nb * nc, r * na),
        np.einsum("ka,yb,kc->abcky", A, eb, C).reshape(na * nb * nc, r * nb),
        np.einsum("ka,kb,zc->abckz", A, B, ec).reshape(na * nb * nc, r * nc),
    ], axis=1) % 2
    assert np.array_equal(J, reference)


def test_sign_lift_of_strassen_mod_2():
    U, V, W = _mod2(strassen())
    arrays, reason = sign_lift(U, V, W, Format.parse("2x2x2"), np.random.default_rng(0))
    assert reason == "ok"
    scheme = Scheme.from_arrays(*arrays, "2x2x2")
    assert scheme.ring == "ZT" and verify_exact(scheme).valid
    assert np.array_equal(np.asarray(scheme.U, dtype=np.int64) % 2, U)  # same support


def test_sign_system_is_consistent_for_a_real_scheme():
    M, rhs, _ = sign_system(*_mod2(strassen()), Format.parse("2x2x2"))
    assert GF2System(M).solve(rhs) is not None


def test_sign_system_rows_are_the_monomials_sign_bits_of_each_tensor_entry():
    # Reference: one equation per tensor entry, the XOR of the three sign bits of every monomial
    # a·b·c of every term that meets it, right side (T − count)/2 mod 2.
    fmt = Format.parse("2x2x3")
    rng = np.random.default_rng(5)
    U, V, W = (rng.integers(0, 2, size=(9,) + shape) for shape in fmt.shapes)
    M, rhs, (var_a, var_b, var_c) = sign_system(U, V, W, fmt)
    A, B, C = U.reshape(9, -1), V.reshape(9, -1), W.reshape(9, -1)
    T = matmul_tensor(fmt)
    rows, right = [], []
    for a in range(A.shape[1]):
        for b in range(B.shape[1]):
            for c in range(C.shape[1]):
                row = np.zeros(M.shape[1], dtype=np.int64)
                count = 0
                for k in range(9):
                    if A[k, a] and B[k, b] and C[k, c]:
                        count += 1
                        for var in (var_a[k, a], var_b[k, b], var_c[k, c]):
                            row[var] ^= 1
                if count or T[a, b, c]:
                    rows.append(row)
                    right.append(((T[a, b, c] - count) // 2) % 2)
    assert np.array_equal(M, np.array(rows)) and np.array_equal(rhs, np.array(right))


def _walk_r23(seed: int):
    fmt = Format.parse("3x3x3")
    out = flip_search(Problem(fmt, 23, "Z2", start=Scheme.naive(fmt)), FlipSettings(runners=0), np.random.SeedSequence(seed))
    return _mod2(out.scheme)


@pytest.mark.parametrize("seed", [2, 4])
def test_lift_of_walk_found_3x3x3_rank_23(seed):
    fmt = Format.parse("3x3x3")
    U, V, W = _walk_r23(seed)
    scheme, how = lift(U, V, W, fmt, np.random.default_rng(seed))
    assert scheme is not None, how
    assert scheme.rank == 23 and not scheme.mod2
    assert verify_exact(scheme).valid
    assert _ring_matches(scheme)


def test_hensel_lift_is_exact_and_labelled_from_its_values():
    fmt = Format.parse("2x2x2")
    result = hensel_lift(*_mod2(strassen()), fmt, bits=16)
    assert result is not None
    scheme = Scheme.from_arrays(*result, fmt)
    assert verify_exact(scheme).valid and _ring_matches(scheme)
    assert is_exact(*result, fmt)


def test_hensel_lift_on_random_branches_finds_exact_schemes():
    # Random free unknowns pick another branch at the first correction (mod 4). They used to be
    # drawn at a step 0 too, which moved the start off its solutions mod 2, so no draw ever lifted.
    fmt = Format.parse("2x2x2")
    rng = np.random.default_rng(1)
    lifts = [hensel_lift(*_mod2(strassen()), fmt, bits=16, rng=rng) for _ in range(8)]
    found = [Scheme.from_arrays(*x, fmt) for x in lifts if x is not None]
    assert len(found) >= 2
    assert all(verify_exact(s).valid for s in found)
    # Several branches share one factorisation; the pivot branch comes first, as without an rng.
    pivot = hensel_lift(*_mod2(strassen()), fmt, bits=16)
    first = hensel_lift(*_mod2(strassen()), fmt, bits=16, rng=np.random.default_rng(5), branches=3)
    assert pivot is not None and first is not None
    assert all(np.array_equal(a, b) for a, b in zip(pivot, first))


def test_hensel_lifts_many_walk_schemes():
    fmt = Format.parse("3x3x3")
    lifted = 0
    for seed in range(4):
        U, V, W = _walk_r23(seed)
        result = hensel_lift(U, V, W, fmt)
        if result is not None:
            scheme = Scheme.from_arrays(*result, fmt)
            assert verify_exact(scheme).valid and _ring_matches(scheme)
            lifted += 1
    assert lifted >= 2


def test_lift_answers_a_failure_with_its_counter_name():
    # Seed 0's walk ends on a support with no ±1 signs (proven mod 4); Hensel then lifts it.
    U, V, W = _walk_r23(0)
    fmt = Format.parse("3x3x3")
    scheme, reason = lift(U, V, W, fmt, np.random.default_rng(0), hensel=False)
    assert scheme is None and reason == "failed_no_signs" and reason in LIFT_FAILURES
    scheme, how = lift(U, V, W, fmt, np.random.default_rng(0))
    assert how == "hensel" and verify_exact(scheme).valid


def test_lift_refuses_a_scheme_not_valid_mod_2():
    U, V, W = _mod2(strassen())
    U = U.copy()
    U[0, 0, 0] ^= 1
    scheme, reason = lift(U, V, W, Format.parse("2x2x2"), np.random.default_rng(0))
    assert scheme is None and reason == "not valid mod 2"


def test_unpacked_walk_scheme_is_binary():
    U, V, W = _walk_r23(2)
    assert set(np.unique(np.concatenate([U.ravel(), V.ravel(), W.ravel()]))) <= {0, 1}
    assert gf2.pack(U, V, W).shape == (3, 23)
