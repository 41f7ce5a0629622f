"""Verification of schemes, two independent ways, with a diagnosis of what is wrong.

* :func:`verify_exact` compares the reconstructed tensor with the matmul tensor in exact
  integer arithmetic (int64 under a proven overflow bound, else Python integers).
* :func:`verify_sympy` multiplies symbolic matrices in sympy's polynomial ring ``QQ[a, b]``
  (or ``GF(2)[a, b]``) and compares every entry of C with A·B.

Both return a :class:`VerificationReport`; a test shows that they agree.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Optional

import numpy as np

from .errors import LimitError
from .formats import Format
from .limits import MAX_PROOF_TERMS, MAX_PROOF_VARIABLES, MAX_REPORTED_ERRORS
from .names import entry_name
from .scheme import Scheme
from .tensor import expansion_size, sparse_residual


@dataclass(frozen=True)
class EntryError:
    """One wrong monomial a[i,j]·b[j2,l2] in entry C[i0, l0]: its coefficient and the expected one."""

    c: tuple[int, int]
    a: tuple[int, int]
    b: tuple[int, int]
    got: Fraction | int
    expected: int

    def describe(self, fmt: Format) -> str:
        mono = f"{entry_name('a', *self.a, fmt)}*{entry_name('b', *self.b, fmt)}"
        if self.expected == 0:
            coef = self.got
            sign = "+" if coef > 0 else "-"
            mag = abs(coef)
            return f"extra {sign}{'' if mag == 1 else f'{mag}*'}{mono}"
        if self.got == 0:
            return f"missing +{mono}"
        return f"{mono} has coefficient {self.got}, expected {self.expected}"


@dataclass(frozen=True)
class VerificationReport:
    """Outcome of verifying one scheme.

    Attributes
    ----------
    valid : bool
        True when the scheme computes A·B exactly in the ring checked.
    checked_over : str
        ``"Q"`` (characteristic 0: exact over the integers/rationals) or ``"Z2"`` (mod 2).
    method : str
        ``"exact"`` (integer tensor comparison) or ``"sympy"`` (polynomial identity).
    ring : str
        The scheme's ring label (ZT, Z, Q or Z2).
    errors : tuple of EntryError
        The wrong monomials, grouped by C entry in :meth:`diagnosis`: all of them, or the
        first :data:`~discover.limits.MAX_REPORTED_ERRORS` in (c, a, b) order.
    valid_over_integers : bool or None
        For mod-2 schemes: whether the same coefficients also work over Z.
    omitted_errors : int
        Wrong monomials beyond those listed in ``errors``.
    wrong_entry_count : int or None
        Number of wrong entries of C when ``errors`` is cut short (else counted from it).
    """

    valid: bool
    checked_over: str
    method: str
    ring: str
    format: Format
    rank: int
    errors: tuple[EntryError, ...] = ()
    valid_over_integers: Optional[bool] = None
    seconds: float = 0.0
    coefficient_set: tuple[str, ...] = field(default=())
    omitted_errors: int = 0
    wrong_entry_count: Optional[int] = None

    @property
    def wrong_entries(self) -> list[str]:
        """Names of the entries of C that are wrong, e.g. ``['c12', 'c21']``."""
        seen: dict[tuple[int, int], None] = {}
        for e in self.errors:
            seen.setdefault(e.c, None)
        return [entry_name("c", *c, self.format) for c in seen]

    def diagnosis(self, limit: int = 20) -> list[str]:
        """One line per wrong entry of C: ``c12: extra +a11*b22, missing +a12*b22``."""
        by_entry: dict[tuple[int, int], list[str]] = {}
        for e in self.errors:
            by_entry.setdefault(e.c, []).append(e.describe(self.format))
        lines = [f"{entry_name('c', *c, self.format)}: {', '.join(parts)}" for c, parts in by_entry.items()]
        total = self.wrong_entry_count if self.wrong_entry_count is not None else len(lines)
        if len(lines) > limit:
            lines = lines[:limit]
        if total > len(lines):
            lines.append(f"... and {total - len(lines)} more wrong entries")
        return lines

    def summary(self) -> str:
        """A one-line verdict."""
        what = f"{self.format} rank {self.rank} ring {self.ring}"
        if self.valid:
            if self.checked_over == "Z2":
                extra = " (also valid over Z)" if self.valid_over_integers else ""
                return f"valid mod 2 only: {what}{extra}"
            return f"valid: {what}"
        over = "mod 2" if self.checked_over == "Z2" else "over Q"
        count = self.wrong_entry_count if self.wrong_entry_count is not None else len(self.wrong_entries)
        return f"NOT valid {over}: {what}: {count} wrong entries of C"

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "checked_over": self.checked_over,
            "method": self.method,
            "ring": self.ring,
            "format": list(self.format.dims),
            "rank": self.rank,
            "wrong_entries": self.wrong_entries,
            "diagnosis": self.diagnosis(limit=10**9),
            "valid_over_integers": self.valid_over_integers,
            "seconds": round(self.seconds, 6),
            "omitted_errors": self.omitted_errors,
        }


def _coefficient_set(scheme: Scheme) -> tuple[str, ...]:
    values = set()
    for arr in scheme.factors:
        values.update(arr.ravel().tolist())
    return tuple(str(v) for v in sorted(values))


def _errors_from_sparse(
    fmt: Format, keys: np.ndarray, diff: np.ndarray, scale: int, mod2: bool
) -> tuple[tuple[EntryError, ...], int, int]:
    """The first :data:`MAX_REPORTED_ERRORS` wrong monomials in (c, a, b) order, how many
    more there are, and how many entries of C are wrong."""
    n, m, p = fmt.dims
    nb, nc = m * p, n * p
    ia, rest = np.divmod(keys, nb * nc)
    ib, ic = np.divmod(rest, nc)
    order = np.lexsort((ib, ia, ic))[:MAX_REPORTED_ERRORS]
    errors = []
    for t in order:
        a_, b_, c_ = int(ia[t]), int(ib[t]), int(ic[t])
        i, j = divmod(a_, m)
        j2, l = divmod(b_, p)
        expected = int(j == j2 and (i, l) == divmod(c_, p))
        got: Fraction | int = Fraction(int(diff[t]), scale) + expected
        if mod2:
            got = int(got) % 2
        if isinstance(got, Fraction) and got.denominator == 1:
            got = int(got)
        errors.append(EntryError(c=divmod(c_, p), a=(i, j), b=(j2, l), got=got, expected=expected))
    wrong_entries = int(np.unique(ic).size)
    return tuple(errors), int(keys.size) - len(errors), wrong_entries


def verify_exact(scheme: Scheme, *, modulus: Optional[int] = None) -> VerificationReport:
    """Exact tensor comparison, sparse: only nonzero coefficients are expanded.

    Parameters
    ----------
    scheme : Scheme
        The scheme to check.
    modulus : {None, 2}
        Check over Q (None) or mod 2. Defaults to mod 2 for schemes labelled Z2.

    Raises
    ------
    LimitError
        When the expansion Σ_k nnz(U_k)·nnz(V_k)·nnz(W_k) exceeds
        :data:`~discover.limits.MAX_VERIFY_TERMS`.
    """
    start = time.perf_counter()
    mod2 = scheme.mod2 if modulus is None else modulus == 2
    fmt = scheme.format
    keys, diff, scale = sparse_residual(scheme)
    valid_over_z = None
    if mod2:
        valid_over_z = keys.size == 0
        odd = (diff % 2) != 0
        keys, diff = keys[odd], diff[odd] % 2
    errors, omitted, wrong = _errors_from_sparse(fmt, keys, diff, 1 if mod2 else scale, mod2)
    return VerificationReport(
        valid=keys.size == 0,
        checked_over="Z2" if mod2 else "Q",
        method="exact",
        ring=scheme.ring,
        format=fmt,
        rank=scheme.rank,
        errors=errors,
        valid_over_integers=valid_over_z,
        seconds=time.perf_counter() - start,
        coefficient_set=_coefficient_set(scheme),
        omitted_errors=omitted,
        wrong_entry_count=wrong if omitted else None,
    )


def check_proof_size(scheme: Scheme) -> None:
    """Refuse a sympy proof beyond :data:`MAX_PROOF_VARIABLES` variables or
    :data:`MAX_PROOF_TERMS` expanded terms (sympy's ring keeps one exponent per variable)."""
    n, m, p = scheme.format.dims
    variables = n * m + m * p
    if variables > MAX_PROOF_VARIABLES:
        raise LimitError(
            f"a sympy proof of {scheme.format} needs {variables} variables, above the limit of {MAX_PROOF_VARIABLES}"
        )
    size = expansion_size(scheme.U, scheme.V, scheme.W)
    if size > MAX_PROOF_TERMS:
        raise LimitError(
            f"a sympy proof of {scheme.format} rank {scheme.rank} expands {size:,} terms, above the limit of {MAX_PROOF_TERMS:,}"
        )


def verify_sympy(scheme: Scheme, *, modulus: Optional[int] = None) -> VerificationReport:
    """Symbolic proof: C computed by the scheme equals A·B as polynomials.

    Works in sympy's sparse polynomial ring over QQ (or GF(2)), which keeps a 5x5x5 scheme
    of rank ~100 to about a second. Each entry of C is one equation, checked in turn; the
    report lists the first :data:`~discover.limits.MAX_REPORTED_ERRORS` wrong monomials.

    Raises
    ------
    LimitError
        Beyond the proof's size limits (:func:`check_proof_size`).
    """
    check_proof_size(scheme)
    from sympy import GF, QQ
    from sympy.polys.rings import ring

    start = time.perf_counter()
    mod2 = scheme.mod2 if modulus is None else modulus == 2
    fmt = scheme.format
    n, m, p = fmt.dims
    a_names = [entry_name("a", i, j, fmt) for i in range(n) for j in range(m)]
    b_names = [entry_name("b", j, l, fmt) for j in range(m) for l in range(p)]
    domain = GF(2) if mod2 else QQ
    R, *gens = ring(",".join(a_names + b_names), domain)
    a = np.array(gens[: n * m], dtype=object).reshape(n, m)
    b = np.array(gens[n * m :], dtype=object).reshape(m, p)

    def linear_form(coeffs: np.ndarray, symbols: np.ndarray):
        total = R.zero
        for idx in zip(*np.nonzero(coeffs)):
            total += domain.convert(_to_sympy_rational(coeffs[idx], mod2)) * symbols[idx]
        return total

    products: dict[int, Any] = {}  # built on first use: a product no entry of C uses is never expanded

    def product(k: int):
        if k not in products:
            products[k] = linear_form(scheme.U[k], a) * linear_form(scheme.V[k], b)
        return products[k]

    errors: list[EntryError] = []
    a_index = {g: (i, j) for (i, j), g in np.ndenumerate(a)}
    b_index = {g: (j, l) for (j, l), g in np.ndenumerate(b)}
    monomial_of = {}
    for g, pos in a_index.items():
        monomial_of[("a", g.monoms()[0])] = pos
    for g, pos in b_index.items():
        monomial_of[("b", g.monoms()[0])] = pos
    nvars = n * m + m * p
    omitted = 0
    for i in range(n):
        for l in range(p):
            if len(errors) >= MAX_REPORTED_ERRORS:
                break
            got = R.zero
            for k in np.nonzero(scheme.W[:, i, l])[0]:
                got += domain.convert(_to_sympy_rational(scheme.W[k, i, l], mod2)) * product(int(k))
            expected = R.zero
            for j in range(m):
                expected += a[i, j] * b[j, l]
            diff = got - expected
            if diff == 0:
                continue
            for monom, coeff in diff.terms():
                a_pos = [t for t in range(n * m) if monom[t]]
                b_pos = [t for t in range(n * m, nvars) if monom[t]]
                if len(a_pos) != 1 or len(b_pos) != 1 or sum(monom) != 2:
                    # Not bilinear (cannot happen for a bilinear scheme), report on a11*b11.
                    a_pos, b_pos = [0], [n * m]
                ai, bi = a_pos[0], b_pos[0] - n * m
                exp = 1 if (ai % m == bi // p and ai // m == i and bi % p == l) else 0
                got_coef = _from_sympy(coeff, mod2) + exp
                if mod2:
                    got_coef %= 2
                errors.append(EntryError(c=(i, l), a=(ai // m, ai % m), b=(bi // p, bi % p), got=got_coef, expected=exp))
    errors.sort(key=lambda e: (e.c, e.a, e.b))
    if len(errors) > MAX_REPORTED_ERRORS:
        omitted = len(errors) - MAX_REPORTED_ERRORS  # at least this many; the rest was not expanded
        errors = errors[:MAX_REPORTED_ERRORS]
    return VerificationReport(
        valid=not errors,
        checked_over="Z2" if mod2 else "Q",
        method="sympy",
        ring=scheme.ring,
        format=fmt,
        rank=scheme.rank,
        errors=tuple(errors),
        valid_over_integers=None,
        seconds=time.perf_counter() - start,
        coefficient_set=_coefficient_set(scheme),
        omitted_errors=omitted,
    )


def _to_sympy_rational(value, mod2: bool):
    from sympy import Rational

    if isinstance(value, Fraction):
        return Rational(value.numerator, value.denominator)
    return int(value) % 2 if mod2 else int(value)


def _from_sympy(coeff, mod2: bool) -> Fraction | int:
    if mod2:
        return int(coeff) % 2
    frac = Fraction(int(coeff.numerator), int(coeff.denominator))
    return int(frac) if frac.denominator == 1 else frac


def verify(scheme: Scheme, *, proof: bool = True, modulus: Optional[int] = None) -> VerificationReport:
    """Verify a scheme: the exact check, then (when ``proof``) the sympy proof.

    Returns the combined report when both run (they must agree; a disagreement is a bug and
    raises ``RuntimeError``), else the exact report. A scheme beyond the proof's size limits
    (:func:`check_proof_size`) gets the exact report alone (method ``"exact"``).

    Raises
    ------
    LimitError
        When even the exact check is over its limit (:func:`verify_exact`).
    """
    exact = verify_exact(scheme, modulus=modulus)
    if not proof:
        return exact
    try:
        check_proof_size(scheme)
    except LimitError:
        return exact
    symbolic = verify_sympy(scheme, modulus=modulus)
    if symbolic.valid != exact.valid or set(symbolic.errors) != set(exact.errors):
        raise RuntimeError(f"verification engines disagree on {scheme!r}: exact={exact.valid} sympy={symbolic.valid}")
    return VerificationReport(
        valid=exact.valid,
        checked_over=exact.checked_over,
        method="exact+sympy",
        ring=exact.ring,
        format=exact.format,
        rank=exact.rank,
        errors=exact.errors,
        valid_over_integers=exact.valid_over_integers,
        seconds=exact.seconds + symbolic.seconds,
        coefficient_set=exact.coefficient_set,
        omitted_errors=exact.omitted_errors,
        wrong_entry_count=exact.wrong_entry_count,
    )
