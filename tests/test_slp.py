"""Straight-line programs: exact against their schemes, and fewer additions after elimination."""
from __future__ import annotations

import operator
from fractions import Fraction

import numpy as np
import pytest

from discover.errors import SchemeError
from discover.known import strassen, winograd
from discover.scheme import Scheme
from discover.slp import check_program, compile_scheme, eliminate_common, evaluate_scalars, program_tensor
from discover.symmetry import kron
from discover.tensor import matmul_tensor


def test_winograd_compiles_from_24_to_15_additions():
    scheme = winograd()
    plain = compile_scheme(scheme, eliminate=False)
    program = compile_scheme(scheme, eliminate=True)
    assert (scheme.additions, plain.additions, program.additions) == (24, 24, 15)
    assert program.plain_additions == 24 and program.rank == 7 and program.multiplications == 7
    assert str(program.scheme_format) == "2x2x2"


def test_plain_program_counts_the_scheme_additions():
    for scheme in (strassen(), Scheme.naive("2x3x4"), kron(strassen(), winograd())):
        assert compile_scheme(scheme, eliminate=False).additions == scheme.additions


def test_shared_pair_always_saves_additions():
    scheme = kron(winograd(), winograd())
    program = compile_scheme(scheme)
    assert program.additions < scheme.additions
    # Strassen's 2x2 forms share no signed pair twice on a side: nothing to save.
    assert compile_scheme(strassen()).additions == 18


def test_program_tensor_is_the_matmul_tensor():
    for scheme in (winograd(), strassen(), kron(strassen(), winograd())):
        got = program_tensor(compile_scheme(scheme))
        assert np.array_equal(got, matmul_tensor(scheme.format).astype(object))


def test_evaluate_exact_on_scalars_and_fractions():
    program = compile_scheme(winograd())
    A = [[Fraction(1, 3), 2], [-5, Fraction(7, 2)]]
    B = [[4, Fraction(-1, 5)], [6, 9]]
    expected = [[sum(A[i][j] * B[j][l] for j in range(2)) for l in range(2)] for i in range(2)]
    assert evaluate_scalars(program, A, B) == expected


def test_evaluate_on_numpy_blocks_and_rational_scheme():
    half = Scheme.from_arrays(
        np.array(Scheme.naive("1x1x2").U) * 2, Scheme.naive("1x1x2").V, np.array(Scheme.naive("1x1x2").W) * Fraction(1, 2)
    )
    program = compile_scheme(half)
    rng = np.random.default_rng(0)
    a = [rng.standard_normal((3, 4))]
    b = [rng.standard_normal((4, 5)), rng.standard_normal((4, 5))]
    c = program.evaluate(a, b, operator.matmul)
    assert np.allclose(c[0], a[0] @ b[0]) and np.allclose(c[1], a[0] @ b[1])
    assert program.scalar_multiplications > 0


def test_check_program_rejects_a_wrong_scheme():
    good = winograd()
    W = np.array(good.W)
    W[0, 0, 0] = 0
    bad = Scheme.from_arrays(good.U, good.V, W, "2x2x2")
    program = compile_scheme(bad)  # compiles its own (wrong) bilinear map faithfully
    with pytest.raises(SchemeError):
        check_program(program, good)


def test_mod2_scheme_is_refused():
    with pytest.raises(SchemeError, match="mod-2"):
        compile_scheme(strassen().as_mod2())


def test_eliminate_common_greedy_pairs():
    forms = [{"x": 1, "y": -1, "z": 1}, {"x": 2, "y": -2}, {"y": 1, "z": 1}]
    order = {"x": 0, "y": 1, "z": 2}
    steps, out = eliminate_common(forms, order, "s")
    assert steps[0].terms == (("x", 1), ("y", -1))
    assert out[0] == {"z": 1, "s1": 1} and out[1] == {"s1": 2}
