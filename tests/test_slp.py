"""Straight-line programs: exact against their schemes, and fewer additions after elimination."""
from __future__ import annotations

import operator
from fractions import Fraction

import numpy as np
import pytest

from discover.errors import SchemeError
from discover.known import strassen, winograd
from discover.scheme import Scheme
from discover.slp import (check_program, compile_scheme, eliminate_common, evaluate_scalars, program_tensor,
                          transposed_elimination)
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


def _reference_elimination(forms, order, prefix):
    """The greedy elimination written plainly: rescan every pair of every form for each temporary."""
    from collections import Counter

    from discover.slp import Step, _ordered

    def pairs(form):
        items = sorted(form.items(), key=lambda kv: order[kv[0]])
        return [(x, y, Fraction(cy) / cx) for i, (x, cx) in enumerate(items) for y, cy in items[i + 1:]]

    steps = []
    while True:
        counts = Counter(key for form in forms for key in set(pairs(form)))
        if not counts:
            break
        key, count = min(counts.items(), key=lambda kv: (-kv[1], order[kv[0][0]], order[kv[0][1]], kv[0][2]))
        if count < 2:
            break
        x, y, rho = key
        name = f"{prefix}{len(steps) + 1}"
        order[name] = len(order)
        rho = int(rho) if rho.denominator == 1 else rho
        steps.append(Step(name, _ordered({x: 1, y: rho}, order)))
        for form in forms:
            if x in form and y in form and Fraction(form[y]) / form[x] == key[2]:
                form[name] = form.pop(x)
                del form[y]
    return steps, forms


@pytest.mark.parametrize("seed", range(12))
def test_eliminate_common_matches_the_plain_greedy(seed):
    # the heap with lazy deletion and the pair updates of the rewritten forms only must pick the
    # very temporaries the plain rescan picks, ties included (integer, rational and dense forms)
    rng = np.random.default_rng(seed)
    names = [f"v{k}" for k in range(int(rng.integers(4, 12)))]
    values = [-3, -2, -1, 1, 2, 3, Fraction(1, 2), Fraction(-3, 2)] if seed % 3 == 2 else [-12, -2, -1, 1, 1, 2, 5]
    forms = []
    for _ in range(int(rng.integers(5, 40))):
        chosen = rng.random(len(names)) < rng.uniform(0.2, 0.9)
        forms.append({v: values[int(rng.integers(len(values)))] for v, keep in zip(names, chosen) if keep})
    order = {v: k for k, v in enumerate(names)}
    expected = _reference_elimination([dict(f) for f in forms], dict(order), "s")
    got = eliminate_common([dict(f) for f in forms], dict(order), "s")
    assert got[0] == expected[0]
    assert got[1] == expected[1]


def _phase_additions(steps) -> int:
    return sum(s.additions for s in steps)


def test_more_tries_never_cost_more_and_are_reproducible():
    # the first try is the plain greedy; the cheapest try of each phase is kept
    from discover.jsonio import load_scheme
    from discover.catalog import catalog_dir

    scheme = load_scheme(catalog_dir() / "3x4x4_r38_ZT-additions.json")
    greedy = compile_scheme(scheme, tries=1)
    best = compile_scheme(scheme, tries=8)
    # measured: one direct and one transposed greedy pass per phase give 138; with eight of each
    # (the greedy's tie order and seven seeded ones) the A side costs 2 fewer
    assert (greedy.additions, best.additions) == (138, 136)
    for phase in ("a_steps", "b_steps", "c_steps"):
        assert _phase_additions(getattr(best, phase)) <= _phase_additions(getattr(greedy, phase))
    assert compile_scheme(scheme, tries=8).lines() == best.lines()  # seeded ties: the same program
    check_program(best, scheme)


def test_random_tie_breaks_keep_every_program_exact():
    scheme = kron(strassen(), winograd())
    for tries in (1, 2, 5):
        program = compile_scheme(scheme, tries=tries)  # check=True: exact against the scheme
        assert np.array_equal(program_tensor(program), matmul_tensor(scheme.format).astype(object))
    assert compile_scheme(winograd(), tries=8).additions == 15


def test_tries_must_be_positive():
    with pytest.raises(ValueError, match="tries must be at least 1"):
        compile_scheme(strassen(), tries=0)


def test_seeded_tie_break_changes_the_order_of_equally_frequent_pairs():
    import random

    # a+b and c+d both occur twice: the plain greedy takes the earlier variables first
    forms = [{"a": 1, "b": 1, "c": 1, "d": 1}, {"a": 1, "b": 1, "c": 1, "d": 1}]
    plain, _ = eliminate_common([dict(f) for f in forms], {v: k for k, v in enumerate("abcd")}, "s")
    assert plain[0].terms == (("a", 1), ("b", 1))
    firsts = set()
    for seed in range(1, 12):
        steps, _ = eliminate_common([dict(f) for f in forms], {v: k for k, v in enumerate("abcd")}, "s",
                                    random.Random(seed))
        firsts.add(steps[0].terms)
        again, _ = eliminate_common([dict(f) for f in forms], {v: k for k, v in enumerate("abcd")}, "s",
                                    random.Random(seed))
        assert again == steps
    assert len(firsts) > 1


def _expanded(steps, forms) -> list[dict]:
    """The forms of a phase's program written over its inputs again (steps substituted)."""
    known: dict = {}

    def expand(terms) -> dict:
        total: dict = {}
        for v, c in terms:
            for x, cx in known.get(v, {v: 1}).items():
                total[x] = total.get(x, 0) + c * cx
        return {x: c for x, c in total.items() if c}

    for step in steps:
        known[step.target] = expand(step.terms)
    return [expand(f.items()) for f in forms]


@pytest.mark.parametrize("seed", range(12))
def test_transposed_elimination_computes_the_same_forms_at_the_tellegen_count(seed):
    import random

    # random phases (integer, rational, dense): the transposed program computes every form
    # exactly, and costs at most the dual program's additions − rows + columns (Tellegen;
    # equal unless two of its sums share a term by chance and merge)
    rng = np.random.default_rng(seed)
    names = [f"v{k}" for k in range(int(rng.integers(3, 10)))]
    values = [-1, 1, 1, 2, Fraction(1, 2), Fraction(-3, 2)] if seed % 3 == 2 else [-1, 1, 1, -2, 3]
    forms = []
    while len(forms) < int(rng.integers(4, 30)):
        form = {v: values[int(rng.integers(len(values)))] for v in names if rng.random() < 0.6}
        if form:
            forms.append(form)
    tie = random.Random(seed) if seed % 2 else None
    steps, rewritten, order = transposed_elimination([dict(f) for f in forms], names, "s", tie)
    assert _expanded(steps, rewritten) == forms
    assert all(order[v] < order[s.target] for s in steps for v, _ in s.terms)  # earlier variables only
    used = [x for x in names if any(x in f for f in forms)]
    dual = [{f"#{i}": f[x] for i, f in enumerate(forms) if x in f} for x in used]
    dual_steps, dual_forms = eliminate_common(dual, {f"#{i}": i for i in range(len(forms))}, "#t",
                                              random.Random(seed) if seed % 2 else None)
    dual_cost = sum(s.additions for s in dual_steps) + sum(len(f) - 1 for f in dual_forms)
    cost = sum(s.additions for s in steps) + sum(len(f) - 1 for f in rewritten)
    assert cost <= dual_cost - len(forms) + len(used)


def test_a_sum_of_all_inputs_transposes_to_copies():
    # [1 1 1] costs 2; its transpose (three copies) costs nothing, and back again costs 2
    steps, rewritten, _ = transposed_elimination([{"a": 1, "b": 1, "c": 1}], ["a", "b", "c"], "s")
    assert steps == [] and rewritten == [{"a": 1, "b": 1, "c": 1}]


def test_the_transposed_pass_reaches_the_published_4x4x4_count():
    # the catalog's ternary 4x4x4 r49: 44 additions on the A side directly, 42 through the
    # transpose; 163 → 159 in all, the fewest published at rank 49 (Perminov 2025)
    from discover.catalog import catalog_dir
    from discover.jsonio import load_scheme

    scheme = load_scheme(catalog_dir() / "4x4x4_r49_ZT-additions.json")
    program = compile_scheme(scheme)
    assert sum(s.additions for s in program.a_steps) == 42
    assert program.additions == 159
    check_program(program, scheme)
