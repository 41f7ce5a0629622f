"""Symmetries and compositions of schemes.

Each operation returns a new :class:`~discover.scheme.Scheme` whose ring is recomputed from
its coefficients; tests verify every result exactly.

* :func:`transpose`:  <n,m,p> → <p,m,n>, from (AB)ᵀ = BᵀAᵀ.
* :func:`cyclic`:     <n,m,p> → <m,p,n>, from the cyclic symmetry of the trace form.
* :func:`sandwich`:   A → X A Y⁻¹, B → Y B Z⁻¹, C → X C Z⁻¹ for invertible X, Y, Z.
* :func:`kron`:       <n1n2, m1m2, p1p2> of rank r1·r2 (block recursion of one scheme inside the other).
* :func:`direct_sum`: <n1+n2, m, p>, <n, m1+m2, p> or <n, m, p1+p2>, rank r1 + r2.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Any, Sequence

import numpy as np

from .coefficients import CoefficientError, exact_array
from .errors import SchemeError
from .formats import Format
from .limits import check_scheme_size
from .scheme import Scheme


def _swap(arr: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(arr.transpose(0, 2, 1))


def _derived(scheme: Scheme, U, V, W, fmt: Format, op: str, *parents: Scheme) -> Scheme:
    names = [p.name or f"{p.format} r{p.rank}" for p in (scheme, *parents)]
    meta = {"name": f"{op}({', '.join(names)})", "provenance": {"method": "compose", "operation": op, "composed": True}}
    return Scheme.from_arrays(U, V, W, fmt, mod2=scheme.mod2 or any(p.mod2 for p in parents), meta=meta)


def transpose(scheme: Scheme) -> Scheme:
    """The scheme for <p, m, n> computing Bᵀ·Aᵀ = (AB)ᵀ: U' = Vᵀ, V' = Uᵀ, W' = Wᵀ."""
    n, m, p = scheme.format.dims
    return _derived(scheme, _swap(scheme.V), _swap(scheme.U), _swap(scheme.W), Format(p, m, n), "transpose")


def cyclic(scheme: Scheme) -> Scheme:
    """The scheme for <m, p, n>: U' = V, V' = Wᵀ, W' = Uᵀ (trace form Σ a b c is cyclic)."""
    n, m, p = scheme.format.dims
    return _derived(scheme, scheme.V, _swap(scheme.W), _swap(scheme.U), Format(m, p, n), "cyclic")


def to_format(scheme: Scheme, target: Any) -> Scheme:
    """Reorient a scheme to any permutation of its format by transposes and cyclic shifts.

    Raises
    ------
    SchemeError
        When ``target`` is not a permutation of the scheme's dimensions.
    """
    target = Format.parse(target)
    if sorted(target.dims) != sorted(scheme.format.dims):
        raise SchemeError(f"{target} is not a reorientation of {scheme.format}")
    candidates = [scheme]
    for _ in range(2):
        candidates.append(cyclic(candidates[-1]))
    candidates += [transpose(c) for c in candidates]
    for cand in candidates:
        if cand.format == target:
            return cand if cand is not scheme else scheme
    raise AssertionError("unreachable: the six orientations cover every permutation")


def _inverse(matrix: np.ndarray) -> np.ndarray:
    """Exact inverse of a square matrix of ints/Fractions by Gauss–Jordan elimination."""
    n = matrix.shape[0]
    aug = [[Fraction(matrix[i, j]) for j in range(n)] + [Fraction(int(i == j)) for j in range(n)] for i in range(n)]
    for col in range(n):
        pivot = next((r for r in range(col, n) if aug[r][col] != 0), None)
        if pivot is None:
            raise SchemeError(f"matrix {str(matrix.tolist())[:120]} is singular: a sandwich needs invertible X, Y, Z")
        aug[col], aug[pivot] = aug[pivot], aug[col]
        inv_p = 1 / aug[col][col]
        aug[col] = [v * inv_p for v in aug[col]]
        for r in range(n):
            if r != col and aug[r][col] != 0:
                f = aug[r][col]
                aug[r] = [a - f * b for a, b in zip(aug[r], aug[col])]
    return exact_array([[v for v in row[n:]] for row in aug])


def _matmul(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return exact_array(np.dot(x, y))


def sandwich(scheme: Scheme, X: Any, Y: Any, Z: Any) -> Scheme:
    """Apply A → X A Y⁻¹, B → Y B Z⁻¹, C → X C Z⁻¹ to a scheme.

    With U'_k = X⁻ᵀ U_k Yᵀ, V'_k = Y⁻ᵀ V_k Zᵀ, W'_k = X W_k Z⁻¹ the new scheme still
    computes A·B. Integer matrices of determinant ±1 keep an integer scheme integral.
    """
    n, m, p = scheme.format.dims
    mats = []
    for name, M, size in (("X", X, n), ("Y", Y, m), ("Z", Z, p)):
        try:
            arr = exact_array(M)
        except (CoefficientError, ValueError) as e:  # also numpy's ValueError on ragged nesting
            raise SchemeError(f"{name} is not a matrix of exact numbers: {str(e).splitlines()[0][:120]}") from e
        if arr.shape != (size, size):
            raise SchemeError(f"{name} has shape {arr.shape} but format {scheme.format} needs ({size}, {size})")
        mats.append(arr)
    Xm, Ym, Zm = mats
    Xi, Yi, Zi = (_inverse(M) for M in mats)
    U = np.stack([_matmul(_matmul(Xi.T, scheme.U[k]), Ym.T) for k in range(scheme.rank)]) if scheme.rank else scheme.U
    V = np.stack([_matmul(_matmul(Yi.T, scheme.V[k]), Zm.T) for k in range(scheme.rank)]) if scheme.rank else scheme.V
    W = np.stack([_matmul(_matmul(Xm, scheme.W[k]), Zi) for k in range(scheme.rank)]) if scheme.rank else scheme.W
    return _derived(scheme, U, V, W, scheme.format, "sandwich")


def kron(outer: Scheme, inner: Scheme) -> Scheme:
    """Tensor product: <n1n2, m1m2, p1p2> of rank r1·r2.

    Matrix indices are blocked: row i = i1·n2 + i2, so ``outer`` acts on blocks and
    ``inner`` inside them (the usual recursive application).
    """
    fmt = Format(*(a * b for a, b in zip(outer.format.dims, inner.format.dims)))
    check_scheme_size(fmt.dims, outer.rank * inner.rank, "kron")  # before einsum allocates it
    parts = []
    for a, b in zip(outer.factors, inner.factors):
        prod = np.einsum("kij,lst->klisjt", a, b) if a.size and b.size else None
        r = a.shape[0] * b.shape[0]
        rows, cols = a.shape[1] * b.shape[1], a.shape[2] * b.shape[2]
        parts.append(prod.reshape(r, rows, cols) if prod is not None else np.zeros((r, rows, cols), dtype=object))
    return _derived(outer, *parts, fmt, "kron", inner)


_AXES = {"n": 0, "m": 1, "p": 2}


def direct_sum(first: Scheme, second: Scheme, axis: str) -> Scheme:
    """Direct sum along one dimension (``"n"``, ``"m"`` or ``"p"``), rank r1 + r2.

    * ``"p"``: C = [A B1, A B2], format <n, m, p1+p2>;
    * ``"n"``: C = [A1 B; A2 B], format <n1+n2, m, p>;
    * ``"m"``: C = A1 B1 + A2 B2 with A = [A1 A2], B = [B1; B2], format <n, m1+m2, p>.
    """
    if axis not in _AXES:
        raise SchemeError(f"axis {axis!r} must be one of n, m, p")
    ax = _AXES[axis]
    d1, d2 = list(first.format.dims), list(second.format.dims)
    for other in set(range(3)) - {ax}:
        if d1[other] != d2[other]:
            raise SchemeError(f"direct sum along {axis} needs equal other dimensions: {first.format} and {second.format}")
    dims = list(d1)
    dims[ax] = d1[ax] + d2[ax]
    fmt = Format(*dims)
    check_scheme_size(fmt.dims, first.rank + second.rank, f"direct_sum_{axis}")
    # Which matrix dimension (row/col) of U, V, W carries the summed index.
    carriers = {0: ((0, None), (None, None), (0, None)), 1: ((None, 1), (0, None), (None, None)), 2: ((None, None), (None, 1), (None, 1))}[ax]
    out = []
    for arr1, arr2, (row_axis, col_axis), shape in zip(first.factors, second.factors, carriers, fmt.shapes):
        big = np.zeros((first.rank + second.rank, *shape), dtype=object)
        r1 = first.rank
        rs1 = slice(0, arr1.shape[1])
        cs1 = slice(0, arr1.shape[2])
        rs2 = slice(shape[0] - arr2.shape[1], shape[0]) if row_axis == 0 else slice(0, arr2.shape[1])
        cs2 = slice(shape[1] - arr2.shape[2], shape[1]) if col_axis == 1 else slice(0, arr2.shape[2])
        big[:r1, rs1, cs1] = arr1
        big[r1:, rs2, cs2] = arr2
        out.append(big)
    return _derived(first, *out, fmt, f"direct_sum_{axis}", second)


def compose_many(schemes: Sequence[Scheme], axis: str) -> Scheme:
    """Direct sum of several schemes along one axis, left to right."""
    if not schemes:
        raise SchemeError("nothing to compose")
    result = schemes[0]
    for s in schemes[1:]:
        result = direct_sum(result, s, axis)
    return result
