"""A canonical form of a scheme that forgets term order and the scale of each factor.

Two schemes are counted as the same result by ``--all`` and by the benchmark when their keys
agree: each rank-one term U_k ⊗ V_k ⊗ W_k is rescaled so that the first nonzero coefficient
of U_k and of V_k is 1 (the inverse scales move into W_k, which leaves the term unchanged),
and the terms are then sorted. Symmetries of the format (sandwiching by invertible matrices,
transposes) are not removed: those schemes count as different.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Hashable

import numpy as np

from .scheme import Scheme

Term = tuple[tuple[Fraction, ...], tuple[Fraction, ...], tuple[Fraction, ...]]


def _normalise(vec: list[Fraction]) -> tuple[list[Fraction], Fraction]:
    """Divide by the first nonzero entry; return the scaled vector and that entry."""
    lead = next((v for v in vec if v != 0), Fraction(1))
    return [v / lead for v in vec], lead


def _unit_lead_terms(scheme: Scheme) -> "tuple[Term, ...] | None":
    """The terms in integer arithmetic when every U_k and V_k leads with ±1 (ternary schemes).

    Then dividing by the lead is multiplying by it, so the normalised terms are integers: the
    same values (equal and equally hashed) as the Fraction path gives, about 20 times faster.
    None when a lead is another integer or the scheme is not integral (the Fraction path).
    """
    ints = scheme.int64_factors
    if ints is None or scheme.mod2:
        return None
    r = scheme.rank
    u, v, w = (a.reshape(r, -1) for a in ints)
    if r == 0:
        return ()
    leads = []
    for part in (u, v):
        nonzero = part != 0
        first = np.where(nonzero.any(axis=1), nonzero.argmax(axis=1), 0)
        lead = np.where(nonzero.any(axis=1), part[np.arange(r), first], 1)
        if np.any(np.abs(lead) != 1):
            return None
        leads.append(lead[:, None])
    lu, lv = leads
    u, v, w = u * lu, v * lv, w * lu * lv
    return tuple(sorted(zip(map(tuple, u.tolist()), map(tuple, v.tolist()), map(tuple, w.tolist()))))


def canonical_terms(scheme: Scheme) -> tuple[Term, ...]:
    """The normalised, sorted rank-one terms of ``scheme``."""
    fast = _unit_lead_terms(scheme)
    if fast is not None:
        return fast
    r = scheme.rank
    flat = [np.asarray(a, dtype=object).reshape(r, -1) for a in scheme.factors]
    terms = []
    for k in range(r):
        u, su = _normalise([Fraction(v) for v in flat[0][k]])
        v, sv = _normalise([Fraction(x) for x in flat[1][k]])
        w = [Fraction(x) * su * sv for x in flat[2][k]]
        if scheme.mod2:
            u, v, w = ([Fraction(int(x) % 2) for x in part] for part in (u, v, w))
        terms.append((tuple(u), tuple(v), tuple(w)))
    return tuple(sorted(terms))


def canonical_key(scheme: Scheme) -> Hashable:
    """A hashable key equal for schemes that differ only by term order and factor scaling."""
    return (scheme.format.dims, scheme.mod2, canonical_terms(scheme))
