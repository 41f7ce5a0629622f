"""Exact integer evaluation of programs with rational coefficients.

A scheme with fractions (AlphaTensor's 1/2 and 1/8) cannot run on integer matrices as it
is: the fractions would turn the blocks into floats. :func:`integral_program` rescales its
straight-line program so that every coefficient is an integer and the outputs are ``D``
times the product; generated code and the DNN layers divide the result of each level by
``D`` exactly (the division leaves no remainder).

Every variable ``v`` of the program gets a positive rational scale ``σ_v`` such that
``σ_v·v`` is a combination with coprime integer coefficients of the scaled variables it is
built from (a temporary ``2·a11 + 2·a22`` is kept as ``a11 + a22``); the outputs share one
integer scale ``D``, the least that makes their coefficients integers. The transformation
keeps the program's additions and shared subexpressions; it is checked against the original
on random integers.

:func:`side_norms` and :func:`intermediate_bound` bound the magnitude of every value the
integer evaluation produces, so that callers can check before running that nothing
overflows int64 (callers then fall back to Python integers or refuse).
"""
from __future__ import annotations

import math
import random
from dataclasses import replace
from fractions import Fraction
from typing import Any, Iterable, Optional

from .errors import SchemeError
from .slp import Program, Step, evaluate_scalars

#: Largest value an int64 holds.
INT64_MAX = (1 << 63) - 1


def _ratios(step: Step, scale: dict[str, Fraction]) -> list[tuple[str, Fraction]]:
    return [(var, Fraction(c) / scale[var]) for var, c in step.terms]


def _scale_step(step: Step, scale: dict[str, Fraction], final: Optional[int] = None) -> tuple[Step, Fraction]:
    """The step rewritten over scaled variables, and the scale of its target.

    The scale is the one that leaves coprime integer coefficients (it may be a fraction:
    ``2·a11 + 2·a22`` gets scale 1/2), or ``final`` for an output.
    """
    ratios = _ratios(step, scale)
    lcm = math.lcm(*(r.denominator for _, r in ratios))
    sigma = Fraction(lcm, math.gcd(*(int(r * lcm) for _, r in ratios))) if final is None else Fraction(final)
    terms = tuple((var, r * sigma) for var, r in ratios)
    if any(c.denominator != 1 for _, c in terms):
        raise SchemeError("internal: an output scale leaves a fraction")
    return Step(step.target, tuple((var, int(c)) for var, c in terms)), sigma


def integral_program(program: Program) -> tuple[Program, int]:
    """An integer program computing ``D`` times the outputs of ``program``, and ``D``.

    Parameters
    ----------
    program : Program
        Any compiled program (integer programs come back unchanged with ``D = 1``).

    Returns
    -------
    (Program, int)
        The rescaled program (same variables, steps and products) and the common
        denominator ``D ≥ 1`` of its outputs.

    Raises
    ------
    SchemeError
        If the rescaled program does not compute ``D`` times the original (a bug).
    """
    if all(Fraction(c).denominator == 1 for s in program.steps for _, c in s.terms):
        return program, 1
    scale: dict[str, Fraction] = {v: Fraction(1) for v in program.a_inputs + program.b_inputs}
    a_steps, b_steps = [], []
    for steps, out in ((program.a_steps, a_steps), (program.b_steps, b_steps)):
        for step in steps:
            new, scale[step.target] = _scale_step(step, scale)
            out.append(new)
    for prod in program.products:
        scale[prod.name] = scale[prod.left] * scale[prod.right]
    outputs = set(program.outputs)
    needed = 1
    for step in program.c_steps:  # first pass: the denominator each output needs
        if step.target in outputs:
            needed = math.lcm(needed, *(r.denominator for _, r in _ratios(step, scale)))
        else:
            scale[step.target] = _scale_step(step, scale)[1]
    denominator = needed
    c_steps = []
    for step in program.c_steps:
        new, scale[step.target] = _scale_step(step, scale, denominator if step.target in outputs else None)
        c_steps.append(new)
    scaled = replace(program, a_steps=tuple(a_steps), b_steps=tuple(b_steps), c_steps=tuple(c_steps))
    _spot_check(program, scaled, denominator)
    return scaled, denominator


def _spot_check(program: Program, scaled: Program, denominator: int, trials: int = 2) -> None:
    """Compare both programs on random integer matrices (a wrong map passes with tiny probability)."""
    n, m, p = program.scheme_format.dims
    rng = random.Random(20)
    for _ in range(trials):
        A = [[rng.randint(-10**6, 10**6) for _ in range(m)] for _ in range(n)]
        B = [[rng.randint(-10**6, 10**6) for _ in range(p)] for _ in range(m)]
        want = evaluate_scalars(program, A, B)
        got = evaluate_scalars(scaled, A, B)
        if any(g != w * denominator for gr, wr in zip(got, want) for g, w in zip(gr, wr)):
            raise SchemeError("internal: the rescaled integer program disagrees with the original")


def _norms(steps: Iterable[Step], norm: dict[str, Any]) -> Any:
    """Largest Σ|c|·norm(var) over the targets (propagated through the steps), at least 1."""
    best = 1
    for step in steps:
        norm[step.target] = sum(abs(c) * norm[var] for var, c in step.terms)
        best = max(best, norm[step.target])
    return best


def side_norms(program: Program) -> tuple[int, int, int]:
    """``(LA, LB, GC)``: growth factors of the A side, the B side and the C side.

    Every value of the A side is at most ``LA·max|A|`` in magnitude, every value of the B
    side at most ``LB·max|B|``, every value of the C side at most ``GC`` times the largest
    product (for an integer program: integers; for a rational one: rationals).
    """
    norm: dict[str, Any] = {v: 1 for v in program.a_inputs + program.b_inputs}
    la = _norms(program.a_steps, norm)
    lb = _norms(program.b_steps, norm)
    norm.update({prod.name: 1 for prod in program.products})
    gc = _norms(program.c_steps, norm)
    return la, lb, gc


def intermediate_bound(norms: tuple[int, int, int], m: int, alpha: int, beta: int, inner: int, levels: int) -> int:
    """A bound on every value of a ``levels``-deep integer evaluation of an (N, K) @ (K, P) product.

    Parameters
    ----------
    norms : (LA, LB, GC)
        From :func:`side_norms` of the integer program.
    m : int
        The format's inner dimension.
    alpha, beta : int
        ``max|A|`` and ``max|B|``.
    inner : int
        K, the inner dimension of the product.
    levels : int
        Recursion levels (the bound also holds when a cutoff stops earlier).

    Returns
    -------
    int
        No intermediate value, product or output exceeds it in magnitude.
    """
    la, lb, gc = norms
    best = inner * alpha * beta
    for _ in range(max(levels, 0)):
        k = inner // m
        if k < 1:
            break
        best = max(best, la * alpha, lb * beta, gc * k * la * alpha * lb * beta)
        alpha, beta, inner = la * alpha, lb * beta, k
        best = max(best, inner * alpha * beta)
    return best
