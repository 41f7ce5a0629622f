"""Meta moves across formats: a scheme of one format made into a scheme of a neighbouring one.

A flip-graph search of <n,m,p> may start from a neighbour's scheme instead of the naive one:

* :func:`extend`: <n,m,p> → <n+1,m,p> (or m+1, p+1) by adding the naive slice of the new row
  or column (a direct sum with the naive <1,m,p>, <n,1,p> or <n,m,1> scheme): rank + m·p,
  n·p or n·m.
* :func:`project`: <n,m,p> → <n−1,m,p> (or m−1, p−1) by dropping one row or column of A, B or C:
  the entries of the dropped index vanish from every factor and the products left with a zero
  factor die. The index dropped is the one that kills the most products. (:mod:`discover.linearcut`
  cuts along any hyperplane instead, mod 2, and kills more.)
* :func:`product`: the Kronecker product <n1n2, m1m2, p1p2> (:func:`discover.symmetry.kron`).
* :func:`resize`: extend and project, one index at a time, to any format.

Each result is exact when its input is (tests check every move with the exact tensor). The
scheme sources ``extend:NxMxP:SOURCE``, ``project:NxMxP:SOURCE``, ``resize:NxMxP:SOURCE`` and
``product:SOURCE1,SOURCE2`` (:mod:`discover.sources`) reach them from the command line, and
``orient:NxMxP:SOURCE`` reorients a source (:func:`discover.symmetry.to_format`).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .errors import SchemeError
from .formats import Format
from .scheme import Scheme
from .symmetry import direct_sum, kron

AXES = ("n", "m", "p")


def _axis(axis: str) -> int:
    if axis not in AXES:
        raise SchemeError(f"axis {axis!r} must be one of n, m, p")
    return AXES.index(axis)


def _named(scheme: Scheme, fmt: Format, op: str, parent: Scheme) -> Scheme:
    name = parent.name or f"{parent.format} r{parent.rank}"
    meta = {"name": f"{op}({name}) {fmt} rank {scheme.rank}",
            "provenance": {"method": "meta", "operation": op, "from": str(parent.format), "composed": True}}
    return Scheme.from_arrays(scheme.U, scheme.V, scheme.W, fmt, mod2=scheme.mod2, meta=meta)


def extend(scheme: Scheme, axis: str) -> Scheme:
    """The scheme of the format one larger along ``axis``: the naive slice added (direct sum).

    Examples
    --------
    >>> from discover.known import KNOWN
    >>> s = extend(KNOWN["strassen"](), "p")
    >>> (str(s.format), s.rank)
    ('2x2x3', 11)
    """
    ax = _axis(axis)
    dims = list(scheme.format.dims)
    dims[ax] = 1
    out = direct_sum(scheme, Scheme.naive(Format(*dims)), axis)
    return _named(out, out.format, f"extend_{axis}", scheme)


def _drop(scheme: Scheme, ax: int, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """U, V, W with index ``index`` of dimension ``ax`` removed (zero-factor terms kept)."""
    U, V, W = scheme.U, scheme.V, scheme.W
    if ax == 0:  # a row of A and of C
        return np.delete(U, index, axis=1), V, np.delete(W, index, axis=1)
    if ax == 1:  # a column of A and a row of B
        return np.delete(U, index, axis=2), np.delete(V, index, axis=1), W
    return U, np.delete(V, index, axis=2), np.delete(W, index, axis=2)  # a column of B and of C


def _alive(U: np.ndarray, V: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Which terms still have three nonzero factors."""
    return np.array([bool(np.any(U[k] != 0) and np.any(V[k] != 0) and np.any(W[k] != 0)) for k in range(U.shape[0])],
                    dtype=bool)


def project(scheme: Scheme, axis: str, index: int | None = None) -> Scheme:
    """The scheme of the format one smaller along ``axis``: one index dropped, dead products removed.

    Setting row ``i`` of A to zero (``axis="n"``) leaves a scheme that computes the other rows
    of C from the rest of A; likewise for a column of A/row of B (``"m"``) and a column of B
    (``"p"``). ``index=None`` drops the index that kills the most products (the lowest such).

    Raises
    ------
    SchemeError
        When the dimension is already 1 or ``index`` is out of range.

    Examples
    --------
    >>> from discover.known import KNOWN
    >>> s = project(Scheme.naive("2x3x3"), "n")
    >>> (str(s.format), s.rank)
    ('1x3x3', 9)
    """
    ax = _axis(axis)
    size = scheme.format.dims[ax]
    if size <= 1:
        raise SchemeError(f"project: {scheme.format} has size 1 along {axis}; nothing to drop")
    if index is None:
        index = max(range(size), key=lambda i: (int((~_alive(*_drop(scheme, ax, i))).sum()), -i))
    if not 0 <= index < size:
        raise SchemeError(f"project: index {index} is outside 0..{size - 1} along {axis}")
    U, V, W = _drop(scheme, ax, index)
    keep = _alive(U, V, W)
    dims = list(scheme.format.dims)
    dims[ax] -= 1
    fmt = Format(*dims)
    out = Scheme.from_arrays(U[keep], V[keep], W[keep], fmt, mod2=scheme.mod2)
    return _named(out, fmt, f"project_{axis}", scheme)


def product(first: Scheme, second: Scheme) -> Scheme:
    """The Kronecker product of two schemes: <n1n2, m1m2, p1p2>, rank r1·r2."""
    out = kron(first, second)
    return _named(out, out.format, "product", first)


def resize(scheme: Scheme, target: Any, drops: Sequence[int] = ()) -> Scheme:
    """Extend and project, one index at a time (n, then m, then p), until the format is ``target``.

    ``drops``: the indices that the projections drop, in that order (one per projection, each an
    index of the format as it is then); a projection without one drops the index that kills the
    most products. Raises :class:`SchemeError` for more drops than projections.

    Examples
    --------
    >>> s = resize(Scheme.naive("2x2x2"), "3x2x1")
    >>> (str(s.format), s.rank)
    ('3x2x1', 6)
    """
    fmt = Format.parse(target)
    out = scheme
    pending = list(drops)
    for ax, axis in enumerate(AXES):
        while out.format.dims[ax] < fmt.dims[ax]:
            out = extend(out, axis)
        while out.format.dims[ax] > fmt.dims[ax]:
            out = project(out, axis, pending.pop(0) if pending else None)
    if pending:
        raise SchemeError(f"resize: {len(drops)} indices to drop, but {scheme.format} -> {fmt} "
                          f"projects {len(drops) - len(pending)} times")
    return out


__all__ = ["extend", "project", "product", "resize"]
