"""Linear cuts mod 2: a scheme of <n,m,p> restricted to a hyperplane, a start one smaller.

:func:`discover.metamoves.project` drops a row of A and of C (a *coordinate* cut): the products
whose A-factor lives only in that row, or whose C-factor does, die. A *linear* cut restricts
along any hyperplane instead. Along n, A = E·A' and C' = Fᵀ·C with E, F of shape n × (n−1) and
FᵀE = I; then C' = A'·B, and a product u⊗v⊗w becomes (Eᵀu)⊗v⊗(Fᵀw). It dies when Eᵀu = 0 or
Fᵀw = 0, that is when u = a·xᵀ or w = b·yᵀ, where a spans the complement of E's columns and b
that of F's. Any a, b with a·b odd give such E and F over GF(2), so the cut may kill every
product whose A-factor is rank one with column factor a *and* every product whose C-factor is
rank one with column factor b: a coordinate cut is the special case a = b = e_i. Along m the
roles are the rows of U and the columns of V; along p the rows of V and of W.

Over GF(2) far more pairs (a, b) qualify than over Z (a·b = ±1 with integral E, F), and the
GF(2) walk is where the flip search finds its records, so the cut is taken mod 2: the result is
a Z2 scheme, a start for GF(2) walks (which lift what they find to Z). Cutting the three 5x5x5
r93 catalog files to 4x4x5 this way leaves rank 62 mod 2 each, where dropping the indices that
kill the most products (``project:``) leaves 70, 64 and 76.

The choices of one cut are ranked by the products they kill; :func:`cut` keeps the schemes of
lowest rank after the mod-2 reductions (equal products cancel, products equal in two factors
merge), with a small beam over the choices and over the order of the cuts. Every choice is
deterministic, so a source ``cut:NxMxP:SOURCE`` names one scheme.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import SchemeError
from .formats import Format
from .scheme import Scheme

AXES = ("n", "m", "p")


@dataclass(frozen=True)
class CutChoice:
    """One hyperplane of a cut: the products it kills and the two vectors that define it."""

    killed: int
    a: tuple[int, ...]
    b: tuple[int, ...]


def _mod2_factors(scheme: Scheme) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """U, V, W reduced mod 2 as int64 arrays (integer schemes only)."""
    if scheme.denominator != 1:
        raise SchemeError("cut works mod 2 and needs an integer scheme; this one has fractions")
    return tuple(a % 2 for a in scheme.int64_arrays())  # type: ignore[return-value]


def _left_factors(scheme: Scheme, ax: int) -> tuple[np.ndarray, np.ndarray]:
    """The two factors a cut along ``ax`` multiplies on the left (mod 2), shaped (r, size, ·).

    Along n: U and W (their rows are the rows of A and C); along m: Uᵀ and V; along p: Vᵀ and Wᵀ.
    """
    U, V, W = _mod2_factors(scheme)
    if ax == 0:
        return U, W
    if ax == 1:
        return U.transpose(0, 2, 1), V
    return V.transpose(0, 2, 1), W.transpose(0, 2, 1)


def _column_factor(X: np.ndarray) -> np.ndarray:
    """Per product, the bits of its column factor c when X[k] = c·yᵀ (rank one mod 2), else 0."""
    r, size, _ = X.shape
    weights = (1 << np.arange(size, dtype=np.int64))
    cols = np.einsum("kij,i->kj", X, weights)  # each column of each factor as a bit mask
    top = cols.max(axis=1)
    rank_one = (top > 0) & np.all((cols == 0) | (cols == top[:, None]), axis=1)
    return np.where(rank_one, top, 0)


def _bits(mask: int, size: int) -> tuple[int, ...]:
    return tuple((mask >> i) & 1 for i in range(size))


def cut_choices(scheme: Scheme, axis: str) -> list[CutChoice]:
    """Every useful hyperplane of a cut along ``axis``, the most products killed first.

    A choice pairs a column factor a of the first side with one b of the other side (a·b odd),
    or takes one side alone with the lowest unit vector b (or a) that pairs with it.

    Raises
    ------
    SchemeError
        When the format has size 1 along ``axis``.
    """
    ax = _axis(axis)
    size = scheme.format.dims[ax]
    if size <= 1:
        raise SchemeError(f"cut: {scheme.format} has size 1 along {axis}; nothing to cut")
    first, second = _left_factors(scheme, ax)
    fa, fb = _column_factor(first), _column_factor(second)
    cand_a = np.unique(fa[fa > 0])
    cand_b = np.unique(fb[fb > 0])
    hit_a = fa[None, :] == cand_a[:, None]  # (|A|, r)
    hit_b = fb[None, :] == cand_b[:, None]
    choices: set[tuple[int, int, int]] = set()
    if len(cand_a) and len(cand_b):
        odd = np.array([[bin(int(x) & int(y)).count("1") % 2 == 1 for y in cand_b] for x in cand_a])
        union = (hit_a[:, None, :] | hit_b[None, :, :]).sum(axis=2)
        for i, j in zip(*np.nonzero(odd)):
            choices.add((int(union[i, j]), int(cand_a[i]), int(cand_b[j])))
    for i, x in enumerate(cand_a):  # a alone, b the lowest unit vector inside a
        low = int(x) & -int(x)
        choices.add((int((hit_a[i] | (fb == low)).sum()), int(x), low))
    for j, y in enumerate(cand_b):
        low = int(y) & -int(y)
        choices.add((int((hit_b[j] | (fa == low)).sum()), low, int(y)))
    if not choices:
        choices.add((0, 1, 1))  # nothing rank one: a coordinate cut of index 0
    ordered = sorted(choices, key=lambda c: (-c[0], c[1], c[2]))
    return [CutChoice(k, _bits(a, size), _bits(b, size)) for k, a, b in ordered]


def _inverse_mod2(M: np.ndarray) -> np.ndarray:
    """The inverse of a square 0/1 matrix over GF(2) (raises SchemeError when singular)."""
    n = M.shape[0]
    aug = np.concatenate([M % 2, np.eye(n, dtype=np.int64)], axis=1)
    for col in range(n):
        rows = np.nonzero(aug[col:, col])[0]
        if not len(rows):
            raise SchemeError("cut: the hyperplane pair is degenerate (a·b even)")
        pivot = col + rows[0]
        aug[[col, pivot]] = aug[[pivot, col]]
        others = np.nonzero(aug[:, col])[0]
        others = others[others != col]
        aug[others] ^= aug[col]
    return aug[:, n:]


def _complement_basis(v: np.ndarray) -> np.ndarray:
    """Columns spanning v^⊥ over GF(2) (v ≠ 0): e_j + v_j·e_i for j ≠ i, i the first 1 of v."""
    size = len(v)
    i = int(np.flatnonzero(v)[0])
    cols = []
    for j in range(size):
        if j != i:
            e = np.zeros(size, dtype=np.int64)
            e[j] = 1
            e[i] ^= int(v[j])
            cols.append(e)
    return np.stack(cols, axis=1)


def hyperplane_maps(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """E, F (size × (size−1), mod 2) with columns spanning a^⊥ and b^⊥ and FᵀE = I."""
    a, b = np.asarray(a, dtype=np.int64) % 2, np.asarray(b, dtype=np.int64) % 2
    if int(a @ b) % 2 != 1:
        raise SchemeError("cut: a·b must be odd for a cut mod 2")
    E = _complement_basis(a)
    G = _complement_basis(b)
    F = (G @ _inverse_mod2(G.T @ E).T) % 2  # Fᵀ E = (GᵀE)⁻¹ GᵀE = I
    return E, F


def _reduced_mod2(U: np.ndarray, V: np.ndarray, W: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dead products removed, then products equal in two factors merged (mod 2), until none are left."""
    terms = [(U[k], V[k], W[k]) for k in range(len(U))]
    changed = True
    while changed:
        changed = False
        terms = [t for t in terms if all(f.any() for f in t)]
        seen: dict[tuple, int] = {}
        for k, t in enumerate(terms):
            keys = [(s, t[(s + 1) % 3].tobytes(), t[(s + 2) % 3].tobytes()) for s in range(3)]
            hit = next((seen[key] for key in keys if key in seen), None)
            if hit is None:
                for key in keys:
                    seen[key] = k
                continue
            s = next(key[0] for key in keys if key in seen)
            merged = list(terms[hit])
            merged[s] = (merged[s] + t[s]) % 2
            terms[hit] = tuple(merged)
            terms.pop(k)
            changed = True
            break
    if not terms:
        return U[:0], V[:0], W[:0]
    return tuple(np.stack([t[i] for t in terms]) for i in range(3))  # type: ignore[return-value]


def cut_with(scheme: Scheme, axis: str, choice: CutChoice) -> Scheme:
    """The scheme one smaller along ``axis`` restricted to the hyperplane ``choice`` (mod 2)."""
    ax = _axis(axis)
    E, F = hyperplane_maps(np.array(choice.a), np.array(choice.b))
    U, V, W = _mod2_factors(scheme)
    if ax == 0:  # A = E A', C' = Fᵀ C
        U, W = np.einsum("ia,kij->kaj", E, U), np.einsum("ia,kij->kaj", F, W)
    elif ax == 1:  # A = A' Eᵀ, B = F B'
        U, V = np.einsum("ja,kij->kia", E, U), np.einsum("ja,kjl->kal", F, V)
    else:  # B = B' Eᵀ, C' = C F
        V, W = np.einsum("la,kjl->kja", E, V), np.einsum("la,kil->kia", F, W)
    U, V, W = _reduced_mod2(U % 2, V % 2, W % 2)
    dims = list(scheme.format.dims)
    dims[ax] -= 1
    return Scheme.from_arrays(U, V, W, Format(*dims), mod2=True)


def _axis(axis: str) -> int:
    if axis not in AXES:
        raise SchemeError(f"axis {axis!r} must be one of n, m, p")
    return AXES.index(axis)


def cut(scheme: Scheme, target: Any, beam: int = 8) -> Scheme:
    """Linear cuts mod 2, one index at a time, down to the format ``target``.

    Each step tries, on each scheme of its frontier, the ``beam`` best hyperplanes along every axis
    that is still larger than the target's, and keeps the 3·``beam`` lowest results as the next
    frontier (ties: the earlier axis, then the earlier choice), so the order of the cuts is searched
    too; the lowest at the end is returned, labelled Z2.

    Raises
    ------
    SchemeError
        When ``target`` is not inside the scheme's format.

    Examples
    --------
    >>> s = cut(Scheme.naive("3x3x3"), "2x3x3")
    >>> (str(s.format), s.rank, s.mod2)
    ('2x3x3', 18, True)
    """
    fmt = Format.parse(target)
    if any(a > b for a, b in zip(fmt.dims, scheme.format.dims)):
        raise SchemeError(f"cut only shrinks a format; {fmt} is not inside {scheme.format}")
    if scheme.denominator != 1:
        raise SchemeError("cut works mod 2 and needs an integer scheme; this one has fractions")
    frontier = [scheme.as_mod2() if not scheme.mod2 else scheme]
    for _ in range(sum(scheme.format.dims) - sum(fmt.dims)):
        tried = []
        for parent in frontier:
            # every axis still to cut: the order of the cuts matters as much as the hyperplanes
            for ax, axis in enumerate(AXES):
                if parent.format.dims[ax] > fmt.dims[ax]:
                    tried.extend(cut_with(parent, axis, choice) for choice in cut_choices(parent, axis)[:beam])
        tried.sort(key=lambda s: s.rank)  # stable: ties keep the order of the axes and the choices
        frontier = tried[:beam * len(AXES)]  # room for each order of the cuts
    best = frontier[0]
    name = scheme.name or f"{scheme.format} r{scheme.rank}"
    meta = {"name": f"cut({name}) {fmt} rank {best.rank} mod 2",
            "provenance": {"method": "meta", "operation": "cut", "from": str(scheme.format), "composed": True}}
    return Scheme.from_arrays(best.U, best.V, best.W, fmt, mod2=True, meta=meta)


__all__ = ["CutChoice", "cut", "cut_choices", "cut_with", "hyperplane_maps"]
