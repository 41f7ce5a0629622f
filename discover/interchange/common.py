"""Pieces shared by the interchange adapters: the import result type and layout conversions.

Every other tool stores the third factor for Cᵀ: the weight of product k in C[i, l] sits at
position ``l·N + i`` of a flat row. Our W[k, i, l] is not transposed. :func:`scheme_from_ct`
and :func:`ct_factors` are the only places that convert, so every adapter agrees.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Optional

import numpy as np

from ..errors import ComplexCoefficientError, LoadError, SchemeError
from ..formats import Format
from ..scheme import Scheme


@dataclass(frozen=True)
class ImportedScheme:
    """One scheme read from a file, or the reason it could not be read.

    Attributes
    ----------
    source : str
        The file name (without folders).
    key : str
        Where the scheme sits in the file (an npz key such as ``"4,4,4"``); ``""`` for
        files that hold one scheme.
    kind : str
        The detected file format (``alphatensor``, ``perminov``, ``exp`` ...).
    scheme : Scheme or None
        The scheme with its coefficients exactly as stored (not yet verified, ``mod2``
        False); None when ``error`` is set.
    error : str or None
        A one-line reason why this item was refused; the other items of the file go on.
    declared_rank : int or None
        The rank the file claims (its name or a rank field), when it claims one.
    """

    source: str
    key: str
    kind: str
    scheme: Optional[Scheme] = None
    error: Optional[str] = None
    declared_rank: Optional[int] = None

    @property
    def ok(self) -> bool:
        return self.scheme is not None

    @property
    def label(self) -> str:
        """``factorizations_r.npz[4,4,4]`` or just the file name."""
        key = self.key if len(self.key) <= 40 else self.key[:37] + "..."  # a hostile key can be huge
        return f"{self.source}[{key}]" if self.key else self.source


def exact_matrix(values: Any, where: str) -> np.ndarray:
    """Numbers of a numeric array as exact coefficients.

    Integer-valued input comes back as an int64 array, anything else as an object array of
    ints and Fractions.

    Floats are converted with ``Fraction(float)``, which is exact: published floats hold
    dyadic values such as 0.5 or -0.125. Complex arrays with a nonzero imaginary part are
    refused with :class:`ComplexCoefficientError`.
    """
    arr = np.asarray(values)
    if arr.dtype.kind == "c":
        if np.any(arr.imag != 0):
            raise ComplexCoefficientError(f"{where}: complex coefficients are not supported")
        arr = arr.real
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64)  # integer arrays stay numeric: Scheme converts them fast
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):
            raise SchemeError(f"{where}: holds NaN or infinite values")
        integral = arr == np.round(arr)
        if integral.all() and np.all(np.abs(arr) < 2**53):
            return arr.astype(np.int64)
        out = np.round(arr).astype(np.int64).astype(object)
        for idx in zip(*np.nonzero(~integral)):
            out[idx] = Fraction(float(arr[idx]))
        return out
    if arr.dtype == object:
        out = np.empty(arr.shape, dtype=object)
        for idx, v in np.ndenumerate(arr):
            if isinstance(v, complex):
                raise ComplexCoefficientError(f"{where}: complex coefficients are not supported")
            if isinstance(v, float):
                if not math.isfinite(v):
                    raise SchemeError(f"{where}: holds NaN or infinite values")
                v = Fraction(v)
            out[idx] = v
        return out
    raise SchemeError(f"{where}: arrays of dtype {arr.dtype} are not coefficients")


def scheme_from_ct(u: Any, v: Any, w: Any, fmt: Any, *, meta: Optional[dict] = None) -> Scheme:
    """Build a scheme from flat rows in the field's Cᵀ layout.

    Parameters
    ----------
    u, v, w
        Arrays of shape (R, N·M), (R, M·P), (R, P·N): row k holds product k; A and B are
        row-major, and position ``l·N + i`` of ``w[k]`` is the weight of product k in C[i, l].
    fmt
        The format ``N x M x P``.
    """
    fmt = Format.parse(fmt)
    n, m, p = fmt.dims
    u, v, w = (x if isinstance(x, np.ndarray) else np.asarray(x, dtype=object) for x in (u, v, w))
    r = u.shape[0] if u.ndim == 2 else -1
    for name, arr, width in (("u", u, n * m), ("v", v, m * p), ("w", w, p * n)):
        if arr.ndim != 2 or arr.shape != (r, width):
            raise SchemeError(f"{name} has shape {arr.shape} but format {fmt} needs ({max(r, 0)}, {width})")
    U = u.reshape(r, n, m)
    V = v.reshape(r, m, p)
    W = w.reshape(r, p, n).transpose(0, 2, 1)
    return Scheme.from_arrays(U, V, W, fmt, meta=meta)


def ct_factors(scheme: Scheme) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The inverse of :func:`scheme_from_ct`: rows (R, N·M), (R, M·P), (R, P·N) in Cᵀ layout."""
    r = scheme.rank
    return (
        scheme.U.reshape(r, scheme.U.shape[1] * scheme.U.shape[2]),  # not -1: r may be 0
        scheme.V.reshape(r, scheme.V.shape[1] * scheme.V.shape[2]),
        scheme.W.transpose(0, 2, 1).reshape(r, scheme.W.shape[1] * scheme.W.shape[2]),
    )


def provenance(source: str, key: str, kind: str) -> dict[str, Any]:
    """The ``provenance`` block of an imported scheme."""
    prov: dict[str, Any] = {"method": "import", "source": source, "source_format": kind}
    if key:
        prov["key"] = key
    return prov


def item_meta(source: str, key: str, kind: str, title: str) -> dict[str, Any]:
    """Metadata for an imported scheme: a name and the provenance block."""
    where = f"{source}[{key}]" if key else source
    return {"name": f"{title} ({where})", "provenance": provenance(source, key, kind)}


def as_load_error(path: Any, exc: Exception) -> LoadError:
    """Wrap an exception into a one-line LoadError naming the file."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return LoadError(f"{path}: {text}")
