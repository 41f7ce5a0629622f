"""The scheme model: an exact bilinear algorithm for one matrix-multiplication format.

A rank-r scheme for format ``NxMxP`` holds U (r,N,M), V (r,M,P), W (r,N,P) and computes

    C[i, l] = Σ_k W[k, i, l] · (Σ_ij U[k, i, j] A[i, j]) · (Σ_jl V[k, j, l] B[j, l]).

Coefficients are exact (Python ints or Fractions in object arrays). A scheme is immutable:
its arrays are copies marked read-only.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Mapping, Optional

import numpy as np

from .coefficients import as_int64, common_denominator, exact_array, int_bounds
from .errors import CoefficientError, SchemeError
from .formats import Format
from .limits import check_scheme_size
from .rings import RING_NAMES, Ring

#: Ring labels, from most to least restrictive (kept for callers of the 0.1 API).
RINGS = RING_NAMES


def _frozen(arr: np.ndarray) -> np.ndarray:
    arr = arr.copy()
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class Scheme:
    """An exact bilinear matrix-multiplication scheme.

    Parameters
    ----------
    format : Format
        The product computed, ``A (n×m) @ B (m×p)``.
    U, V, W : numpy.ndarray
        Object arrays of exact coefficients with shapes (r,n,m), (r,m,p), (r,n,p).
    mod2 : bool
        True when the scheme is claimed valid only modulo 2 (ring label ``Z2``).
    meta : Mapping
        Free metadata carried to and from JSON (``name``, ``provenance``, ...).

    Use :meth:`from_arrays` or :meth:`naive` to build one; both check shapes and values.
    """

    format: Format
    U: np.ndarray
    V: np.ndarray
    W: np.ndarray
    mod2: bool = False
    meta: Mapping[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_arrays(
        cls,
        U: Any,
        V: Any,
        W: Any,
        fmt: Any = None,
        *,
        mod2: bool = False,
        meta: Optional[Mapping[str, Any]] = None,
    ) -> "Scheme":
        """Build a scheme from nested lists or arrays, checking shapes and values.

        Parameters
        ----------
        U, V, W
            Coefficients (ints, Fractions, integral floats or ``"p/q"`` strings).
        fmt
            The format (``"2x2x2"``, a Format or a 3-sequence). Inferred from the shapes
            when omitted.
        mod2
            Mark the scheme as valid only modulo 2; its coefficients are reduced to {0, 1}.

        Raises
        ------
        SchemeError
            When a shape disagrees with the format or with the other arrays, or a value is
            not an exact number.
        """
        arrays = []
        for name, values in (("U", U), ("V", V), ("W", W)):
            try:
                arr = exact_array(values)
            except (CoefficientError, ValueError) as e:
                raise SchemeError(f"{name}: {e}") from e
            if arr.ndim != 3:
                raise SchemeError(f"{name} has shape {arr.shape} but must be 3-dimensional (r, rows, cols)")
            arrays.append(arr)
        U_, V_, W_ = arrays
        if fmt is None:
            fmt = Format(U_.shape[1], U_.shape[2], V_.shape[2]) if min(U_.shape[1:] + V_.shape[2:]) > 0 else None
            if fmt is None:
                raise SchemeError(f"cannot infer a format from U of shape {U_.shape} and V of shape {V_.shape}")
        fmt = Format.parse(fmt)
        r = U_.shape[0]
        check_scheme_size(fmt.dims, r)
        for name, arr, shape in zip("UVW", arrays, fmt.shapes):
            if arr.shape[1:] != shape or arr.shape[0] != r:
                raise SchemeError(
                    f"{name} has shape {arr.shape} but format {fmt} with rank {r} needs ({r}, {shape[0]}, {shape[1]})"
                )
        if mod2:
            for arr in arrays:
                if any(isinstance(v, Fraction) for v in arr.ravel()):
                    raise SchemeError("a mod-2 scheme must have integer coefficients")
            arrays = [np.vectorize(lambda v: int(v) % 2, otypes=[object])(a) if a.size else a for a in arrays]
        return cls(fmt, *(_frozen(a) for a in arrays), mod2=mod2, meta=dict(meta or {}))

    @classmethod
    def naive(cls, fmt: Any) -> "Scheme":
        """The schoolbook algorithm: one product A[i,j]·B[j,l] per (i, j, l)."""
        fmt = Format.parse(fmt)
        n, m, p = fmt.dims
        r = fmt.naive_rank
        check_scheme_size(fmt.dims, r, f"naive {fmt}")  # before allocating r·(nm+mp+np) entries
        U = np.zeros((r, n, m), dtype=np.int64)
        V = np.zeros((r, m, p), dtype=np.int64)
        W = np.zeros((r, n, p), dtype=np.int64)
        k = 0
        for i in range(n):
            for j in range(m):
                for l in range(p):
                    U[k, i, j] = V[k, j, l] = W[k, i, l] = 1
                    k += 1
        return cls.from_arrays(U, V, W, fmt, meta={"name": f"naive {fmt}"})

    # ------------------------------------------------------------------ derived facts
    @property
    def rank(self) -> int:
        """Number of multiplications r."""
        return int(self.U.shape[0])

    @property
    def factors(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.U, self.V, self.W

    def _all_values(self):
        for arr in self.factors:
            yield from arr.ravel()

    @functools.cached_property
    def int64_factors(self) -> Optional[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """U, V, W as int64 arrays when every coefficient is an integer below 2**62 in
        magnitude, else None (computed once: the arrays are immutable)."""
        out = tuple(as_int64(a) for a in self.factors)
        return None if any(a is None for a in out) else out  # type: ignore[return-value]

    @functools.cached_property
    def coefficient_ring(self) -> Ring:
        """``ZT``, ``Z`` or ``Q``: the smallest ring that holds every coefficient (computed once)."""
        fast = self.int64_factors
        if fast is not None:
            return Ring.ZT if all(a.size == 0 or (a.min() >= -1 and a.max() <= 1) for a in fast) else Ring.Z
        ring = Ring.ZT
        for arr in self.factors:
            values = arr.ravel().tolist()
            bounds = int_bounds(values)
            if bounds is None:
                if any(isinstance(v, Fraction) for v in values):
                    return Ring.Q
                bounds = (min(values), max(values))
            if bounds[0] < -1 or bounds[1] > 1:
                ring = Ring.Z
        return ring

    @property
    def ring(self) -> Ring:
        """The ring label: ``Z2`` for mod-2 schemes, else :attr:`coefficient_ring`."""
        return Ring.Z2 if self.mod2 else self.coefficient_ring

    @property
    def max_abs_coefficient(self) -> Fraction | int:
        """Largest absolute value of a coefficient (0 for an empty scheme)."""
        return max((abs(v) for v in self._all_values()), default=0)

    @property
    def denominator(self) -> int:
        """Least common denominator of all coefficients (1 for integer schemes)."""
        if self.int64_factors is not None:
            return 1
        return math.lcm(*(common_denominator(a) for a in self.factors))

    @property
    def additions(self) -> int:
        """Additions/subtractions of the plain evaluation, counted as the literature does.

        Each product needs (terms − 1) additions per side; each entry of C needs
        (contributing products − 1). Strassen's scheme as written has 18.
        """
        nnz_u = self.nonzero_counts(self.U)
        nnz_v = self.nonzero_counts(self.V)
        total = int(np.maximum(nnz_u - 1, 0).sum() + np.maximum(nnz_v - 1, 0).sum())
        used = (self.W != 0).sum(axis=0)
        return total + int(np.maximum(used - 1, 0).sum())

    @staticmethod
    def nonzero_counts(arr: np.ndarray) -> np.ndarray:
        """Nonzero entries per factor of an (r, rows, cols) array."""
        r = arr.shape[0]
        return (arr != 0).reshape(r, int(np.prod(arr.shape[1:]))).sum(axis=1).astype(int)  # -1 fails when r = 0

    def int_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """Integer numerators (object arrays of Python ints) and one common denominator d.

        The scheme's U, V, W equal the returned arrays divided by d each.
        """
        d = self.denominator
        if d == 1:
            return self.U, self.V, self.W, 1
        scale = np.vectorize(lambda v: int(v * d), otypes=[object])
        return scale(self.U), scale(self.V), scale(self.W), d

    def int64_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """U, V, W as int64 arrays; only for integer schemes whose entries fit."""
        if self.denominator != 1:
            raise SchemeError("int64_arrays needs an integer scheme; this one has fractions")
        return tuple(np.array(a, dtype=np.int64).reshape(a.shape) for a in self.factors)  # type: ignore[return-value]

    # ------------------------------------------------------------------ helpers
    def with_meta(self, **updates: Any) -> "Scheme":
        """A copy with metadata keys added or replaced (arrays are shared: they are read-only)."""
        meta = dict(self.meta)
        meta.update(updates)
        return Scheme(self.format, self.U, self.V, self.W, mod2=self.mod2, meta=meta)

    def as_mod2(self) -> "Scheme":
        """The same scheme read modulo 2 (label ``Z2``)."""
        return Scheme.from_arrays(self.U, self.V, self.W, self.format, mod2=True, meta=self.meta)

    def same_coefficients(self, other: "Scheme") -> bool:
        """True when both schemes have the same format, ring label and identical U, V, W."""
        return (
            self.format == other.format
            and self.mod2 == other.mod2
            and all(a.shape == b.shape and bool(np.all(a == b)) for a, b in zip(self.factors, other.factors))
        )

    def plot(self, path: Any = None) -> Any:
        """Draw U, V, W of every product as signed grids (needs the ``plot`` extra).

        Parameters
        ----------
        path : path-like, optional
            Also write the picture (``.svg``, ``.png`` or ``.pdf``).

        Returns
        -------
        matplotlib.figure.Figure
            See :func:`discover.plot.plot_scheme`.
        """
        from .plot import plot_scheme  # matplotlib stays out of this module's imports

        return plot_scheme(self, path)

    @property
    def name(self) -> Optional[str]:
        """The scheme's recorded name (``meta["name"]``), or None; a file may hold anything there,
        and only a non-empty string is a name."""
        name = self.meta.get("name")
        return name if isinstance(name, str) and name else None

    def __repr__(self) -> str:
        name = self.name
        label = f" {name!r}" if name else ""
        return f"<Scheme{label} {self.format} rank={self.rank} ring={self.ring}>"
