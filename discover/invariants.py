"""Invariants that do not change under the symmetries, to count inequivalent schemes.

The field compares schemes by the multiset of matrix ranks of their factors: the sandwich
action keeps rank(U_k), rank(V_k), rank(W_k); transposes and cyclic shifts permute the three
factors of every term together. The invariant is the sorted list of per-term rank triples,
minimised over the six simultaneous permutations of the factors.
"""
from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np

from .scheme import Scheme


def exact_rank(matrix: np.ndarray, modulus: int | None = None) -> int:
    """Rank of a small exact matrix over Q (or GF(p) when ``modulus`` is given)."""
    rows = [[Fraction(v) if modulus is None else int(v) % modulus for v in row] for row in matrix]
    rank, ncols = 0, matrix.shape[1] if matrix.ndim == 2 else 0
    for col in range(ncols):
        pivot = next((r for r in range(rank, len(rows)) if rows[r][col] != 0), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        piv = rows[rank][col]
        for r in range(len(rows)):
            if r != rank and rows[r][col] != 0:
                if modulus is None:
                    f = rows[r][col] / piv
                    rows[r] = [a - f * b for a, b in zip(rows[r], rows[rank])]
                else:
                    f = rows[r][col] * pow(int(piv), -1, modulus)
                    rows[r] = [(a - f * b) % modulus for a, b in zip(rows[r], rows[rank])]
        rank += 1
    return rank


def rank_triples(scheme: Scheme) -> list[tuple[int, int, int]]:
    """(rank U_k, rank V_k, rank W_k) for every term."""
    mod = 2 if scheme.mod2 else None
    return [tuple(exact_rank(f[k], mod) for f in scheme.factors) for k in range(scheme.rank)]  # type: ignore[misc]


def symmetry_invariant(scheme: Scheme) -> tuple[tuple[int, int, int], ...]:
    """A hashable invariant: equal for schemes related by the symmetries (the converse need not hold)."""
    triples = rank_triples(scheme)
    return min(tuple(sorted(tuple(t[i] for i in perm) for t in triples)) for perm in itertools.permutations(range(3)))  # type: ignore[misc]


def count_inequivalent(schemes: list[Scheme]) -> int:
    """Number of distinct invariants among schemes (a lower bound on the inequivalent classes)."""
    return len({(s.format.canonical(), s.rank, s.mod2, symmetry_invariant(s)) for s in schemes})
