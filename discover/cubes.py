"""Cube starts for cyclic-symmetric walks: the naive <n,n,n> scheme with its diagonal regrouped.

A scheme invariant under the cyclic symmetry (a, b, c) → (b, c, a) of the trace form is a set of
orbits of three terms plus fixed terms x⊗x⊗x, so its rank is 3·(orbits) + (fixed terms), and a
walk on orbits keeps the number of fixed terms mod 3. The naive scheme has n of them (the
products a_ii·b_ii): a walk from it only reaches ranks ≡ n (mod 3), e.g. 95 and 92 on 5x5x5 but
not Moosbauer–Poole's 93.

``cubes:NxNxN:MASKS`` regroups the diagonal into fixed terms of sums: the masks (binary, one digit
per diagonal index, joined by ``+``) give the groups g, each diagonal index in exactly one, and
each group becomes the fixed term x_g⊗x_g⊗x_g with x_g = Σ_{i∈g} E_ii. Its cross products
E_ii⊗E_jj⊗E_ll (i, j, l ∈ g, not all equal) are not part of the tensor: they are subtracted as
terms of their own, which come in orbits. ``cubes:5x5x5:10001+01010+00100`` (the three cubes of
Moosbauer and Poole's 5x5x5 runs, arXiv:2502.04514) has 3 fixed terms, 44 orbits, rank 135, and
its walks reach the ranks ≡ 0 (mod 3).
"""
from __future__ import annotations

import itertools

import numpy as np

from .errors import LoadError
from .formats import Format
from .scheme import Scheme


def parse_groups(masks: str, n: int) -> list[list[int]]:
    """The diagonal groups of ``masks`` (``10001+01010+00100``) for <n,n,n>.

    Raises
    ------
    LoadError
        When a mask is not n binary digits, is empty, or the masks do not cover every diagonal
        index exactly once.
    """
    groups: list[list[int]] = []
    for mask in masks.split("+"):
        if len(mask) != n or set(mask) - {"0", "1"}:
            raise LoadError(f"cubes: mask {mask!r} is not {n} binary digits (e.g. {'1' * n})")
        group = [i for i, digit in enumerate(mask) if digit == "1"]
        if not group:
            raise LoadError(f"cubes: mask {mask!r} selects no diagonal entry")
        groups.append(group)
    covered = sorted(i for g in groups for i in g)
    if covered != list(range(n)):
        raise LoadError(f"cubes: the masks {masks} must hold each of the {n} diagonal entries exactly once")
    return groups


def cube_start(fmt: Format, masks: str) -> Scheme:
    """The scheme ``cubes:FMT:MASKS`` names (see the module docstring).

    Its factors are integers (the cross products carry −1 in W), it is exact over Z and invariant
    under the cyclic symmetry.

    Raises
    ------
    LoadError
        When the format is not square or the masks are malformed.
    """
    n, m, p = fmt.dims
    if not n == m == p:
        raise LoadError(f"cubes:{fmt}:{masks}: cube starts are for square formats, got {fmt}")
    groups = parse_groups(masks, n)
    naive = Scheme.naive(fmt).int64_arrays()  # products in (i, j, l) order: a_ii·b_ii is product i·(n² + n + 1)
    off_diagonal = [k for k in range(n ** 3) if k % (n * n + n + 1)]
    U, V, W = ([X[k] for k in off_diagonal] for X in naive)

    def unit(i: int, j: int) -> np.ndarray:
        e = np.zeros((n, n), dtype=np.int64)
        e[i, j] = 1
        return e

    for g in groups:
        x = sum(unit(i, i) for i in g)
        U.append(x)
        V.append(x)
        W.append(x)  # diagonal: Wᵀ = W
        for i, j, l in itertools.product(g, repeat=3):
            if not i == j == l:  # a cross product of the cube, taken back out
                U.append(unit(i, i))
                V.append(unit(j, j))
                W.append(-unit(l, l))
    return Scheme.from_arrays(np.array(U), np.array(V), np.array(W), fmt).with_meta(name=f"cubes:{fmt}:{masks}")
