"""Alternative-basis schemes (Karstadt–Schwartz): a sparser core and three basis changes.

A scheme ``(U, V, W)`` of ``<n, m, p>`` with rank ``r`` is written as

    ``U = U'·φ``,  ``V = V'·ψ``,  ``W = W'·ω``

with the factors flattened row-major to ``(r, n·m)``, ``(r, m·p)``, ``(r, n·p)`` and invertible
``φ`` (nm×nm), ``ψ`` (mp×mp), ``ω`` (np×np). Since ``m_k = <U_k, a> <V_k, b>`` and
``c = Σ_k W_k m_k`` (vectors row-major, W not transposed), the core ``(U', V', W')`` computes
``c̃ = ω^{-T}·c`` from ``ã = φ·a`` and ``b̃ = ψ·b``:

    ``C = ω^T( core(φ(A), ψ(B)) )``.

Applied recursively, the basis changes act on every block level once, at the top
(``φ_rec = φ ⊗ … ⊗ φ``, O(N² log N) work), and the core runs recursively with fewer
additions per level (Winograd's variant of Strassen: 12 instead of 15). The core alone is
not a matrix-multiplication scheme: its tensor is the matmul tensor in the new bases.

The sparsifying heuristic (per side; the three sides are independent): for a factor ``F``
(r×d) choose ``d`` products ``S`` whose rows ``F_S`` are independent and take the basis
``X = F_S``, so that ``F' = F·X^{-1}`` has unit rows at ``S``; then apply elementary column
operations ``F' ← F'·(I ± e_a e_bᵀ)`` (``X`` changes inversely) while they remove nonzeros.
Subsets are enumerated when there are at most ``budget`` of them, sampled (random
independent sets) otherwise. The score is lexicographic: first the core's additions on
that side (``nnz(F') − rows``, the leading term of the arithmetic cost), then the basis
change's additions (``nnz(X) − d``, paid once per level at the top, a lower-order term).
By default only unimodular bases (integer, det ±1, integer inverse) are kept.

Everything here is exact (Python ints and Fractions in object arrays); floats only rank
candidates, and every result is checked exactly (:meth:`AltBasisScheme.check`).
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Optional

import numpy as np

from .errors import NotExactError, SchemeError
from .scheme import Scheme
from .verify import verify_exact

SIDES = ("U", "V", "W")


# ------------------------------------------------------------------------- exact linear algebra
def _exact_inverse(X: np.ndarray) -> Optional[np.ndarray]:
    """The inverse of a square object array by Gauss–Jordan over Fractions (None: singular)."""
    d = X.shape[0]
    M = [[Fraction(v) for v in row] + [Fraction(int(i == j)) for j in range(d)] for i, row in enumerate(X.tolist())]
    for col in range(d):
        pivot = next((r for r in range(col, d) if M[r][col] != 0), None)
        if pivot is None:
            return None
        M[col], M[pivot] = M[pivot], M[col]
        inv = 1 / M[col][col]
        M[col] = [v * inv for v in M[col]]
        for r in range(d):
            if r != col and M[r][col] != 0:
                f = M[r][col]
                M[r] = [a - f * b for a, b in zip(M[r], M[col])]
    out = np.empty((d, d), dtype=object)
    for i in range(d):
        for j in range(d):
            v = M[i][d + j]
            out[i, j] = int(v) if v.denominator == 1 else v
    return out


def _dot(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Exact product of object arrays, integers kept as ints."""
    out = np.asarray(A, dtype=object).dot(np.asarray(B, dtype=object))
    return np.vectorize(lambda v: int(v) if isinstance(v, Fraction) and v.denominator == 1 else v,
                        otypes=[object])(out) if out.size else out


def _is_integer(X: np.ndarray) -> bool:
    return all(isinstance(v, int) or (isinstance(v, Fraction) and v.denominator == 1) for v in X.ravel().tolist())


def nonzeros(X: np.ndarray) -> int:
    """Nonzero entries of an exact array."""
    return sum(1 for v in np.asarray(X, dtype=object).ravel().tolist() if v != 0)


def side_additions(F: np.ndarray) -> int:
    """Additions of one side of a scheme written plainly: ``Σ (nonzeros − 1)`` over its forms.

    ``F`` is an operand factor flattened to (r, d) (rows: products) or the transposed output
    factor (np, r) (rows: entries of C); empty rows cost nothing.
    """
    counts = (np.asarray(F, dtype=object) != 0).sum(axis=1)
    return int(np.maximum(counts - 1, 0).sum())


def basis_additions(X: np.ndarray) -> int:
    """Additions of applying a basis change ``x ↦ X·x`` once (``Σ_rows (nonzeros − 1)``)."""
    return side_additions(X)


# ------------------------------------------------------------------------- the result
@dataclass(frozen=True, eq=False)
class AltBasisScheme:
    """A scheme as a sparse core and three basis changes (see the module docstring).

    Attributes
    ----------
    original : Scheme
        The scheme that was transformed.
    core : Scheme
        ``(U', V', W')``: same format and rank; not a matmul scheme by itself.
    phi, psi, omega : numpy.ndarray
        Exact object arrays (nm×nm, mp×mp, np×np) with ``U = U'·φ``, ``V = V'·ψ``,
        ``W = W'·ω`` (factors flattened row-major). The data transforms are
        ``ã = φ·a``, ``b̃ = ψ·b`` and ``c = ωᵀ·c̃``.
    """

    original: Scheme
    core: Scheme
    phi: np.ndarray
    psi: np.ndarray
    omega: np.ndarray
    meta: dict = field(default_factory=dict)

    @property
    def bases(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(φ, ψ, ω)``."""
        return self.phi, self.psi, self.omega

    @property
    def transforms(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The maps applied to the data: ``φ`` to vec(A), ``ψ`` to vec(B), ``ωᵀ`` to vec(C̃)."""
        return self.phi, self.psi, self.omega.T

    @property
    def is_integer(self) -> bool:
        """Whether every basis change and its inverse are integer (det ±1)."""
        return all(_is_integer(X) and _is_integer(_exact_inverse(X)) for X in self.bases)

    def core_additions(self) -> dict[str, int]:
        """Additions per level of the core as written plainly, per side and in all."""
        r = self.core.rank
        U, V, W = (np.asarray(f, dtype=object).reshape(r, -1) for f in self.core.factors)
        out = {"U": side_additions(U), "V": side_additions(V), "W": side_additions(W.T)}
        out["total"] = out["U"] + out["V"] + out["W"]
        return out

    def basis_additions(self) -> dict[str, int]:
        """Additions of one application of each basis change (once per level, at the top)."""
        out = {name: basis_additions(X) for name, X in zip(("phi", "psi", "omega"), self.transforms)}
        out["total"] = sum(out.values())
        return out

    def check(self) -> None:
        """Raise :class:`NotExactError` unless ``core·bases`` equals the original factors exactly
        and the original is an exact matmul scheme (so the pair computes ``A @ B``)."""
        r = self.core.rank
        for name, core_f, X, orig in zip(SIDES, self.core.factors, self.bases, self.original.factors):
            got = _dot(np.asarray(core_f, dtype=object).reshape(r, -1), X)
            want = np.asarray(orig, dtype=object).reshape(r, -1)
            if got.shape != want.shape or not bool(np.all(got == want)):
                raise NotExactError(f"alternative basis: {name}' times its basis is not the original {name}")
            if _exact_inverse(X) is None:
                raise NotExactError(f"alternative basis: the basis of {name} is singular")
        if not verify_exact(self.original).valid:
            raise NotExactError(f"{self.original!r} is not exact: its alternative basis cannot multiply matrices")

    def to_json(self) -> dict[str, Any]:
        """Additions in both bases and the three bases (exact: ints or ``"p/q"`` strings)."""
        from .coefficients import coefficient_to_json

        def matrix(X: np.ndarray) -> list[list[Any]]:
            return [[coefficient_to_json(v) for v in row] for row in X.tolist()]

        return {"additions": {"standard": self.original.additions, "core": self.core_additions(),
                              "basis_changes": self.basis_additions()},
                "phi": matrix(self.phi), "psi": matrix(self.psi), "omega": matrix(self.omega),
                "core": {"U": matrix(np.asarray(self.core.U, dtype=object).reshape(self.core.rank, -1)),
                         "V": matrix(np.asarray(self.core.V, dtype=object).reshape(self.core.rank, -1)),
                         "W": matrix(np.asarray(self.core.W, dtype=object).reshape(self.core.rank, -1))}}

    def lines(self) -> list[str]:
        """A text report: additions in both bases, the three basis changes and the core's forms."""
        from .formulas import scheme_formulas

        r = self.core.rank
        orig = [np.asarray(f, dtype=object).reshape(r, -1) for f in self.original.factors]
        plain = side_additions(orig[0]) + side_additions(orig[1]) + side_additions(orig[2].T)
        core, basis = self.core_additions(), self.basis_additions()
        n, m, p = self.original.format.dims
        out = [
            f"alternative basis of {self.original.format} rank {r}: additions per level "
            f"{plain} (standard basis) -> {core['total']} (core: U {core['U']}, V {core['V']}, W {core['W']})",
            f"basis changes, applied once per level at the top: {basis['total']} additions "
            f"(phi {basis['phi']}, psi {basis['psi']}, omega^T {basis['omega']}); "
            f"{'integer, det ±1' if self.is_integer else 'rational'}",
        ]
        names = (("phi: a~ = phi · a", self.phi, n, m, "a"), ("psi: b~ = psi · b", self.psi, m, p, "b"),
                 ("omega^T: c = omega^T · c~", self.omega.T, n, p, "c"))
        for title, X, rows, cols, letter in names:
            out.append(title)
            src, dst = ("~", "") if letter == "c" else ("", "~")  # c = omega^T c~; a~ = phi a
            for i in range(rows * cols):
                terms = [(X[i, j], f"{letter}{j // cols + 1}{j % cols + 1}{src}")
                         for j in range(rows * cols) if X[i, j] != 0]
                lhs = f"{letter}{i // cols + 1}{i % cols + 1}{dst}"
                rhs = " ".join(_term(c, v, first=k == 0) for k, (c, v) in enumerate(terms))
                out.append(f"  {lhs} = {rhs}")
        out.append("core (on a~, b~, giving c~):")
        out += ["  " + line for line in scheme_formulas(self.core)[1:]]
        return out


def _term(c: Any, var: str, first: bool) -> str:
    sign = "-" if c < 0 else ("" if first else "+")
    mag = abs(c)
    body = var if mag == 1 else f"{mag}*{var}"
    return f"{sign}{body}" if first else f"{sign} {body}"


# ------------------------------------------------------------------------- the heuristic
def _nnz(X: np.ndarray) -> int:
    return int((np.asarray(X) != 0).sum())


def _float(X: np.ndarray) -> np.ndarray:
    return np.array([[float(v) for v in row] for row in np.asarray(X, dtype=object).tolist()], dtype=np.float64)


def _independent(Ff: np.ndarray, order: Any, d: int) -> list[int]:
    """The first ``d`` rows of ``Ff`` in ``order`` that are independent of those before (Gram–Schmidt)."""
    chosen: list[int] = []
    basis: list[np.ndarray] = []
    for k in order:
        v = Ff[int(k)].copy()
        for q in basis:
            v -= (q @ v) * q
        norm = float(np.linalg.norm(v))
        if norm > 1e-8 * max(1.0, float(np.linalg.norm(Ff[int(k)]))):
            basis.append(v / norm)
            chosen.append(int(k))
            if len(chosen) == d:
                break
    return chosen


def _subsets(r: int, d: int, budget: int, rng: np.random.Generator, Ff: np.ndarray) -> list[tuple[int, ...]]:
    """Candidate product subsets: all of them when few, else random independent sets."""
    if math.comb(r, d) <= budget:
        return list(itertools.combinations(range(r), d))
    seen: set[tuple[int, ...]] = set()
    for _ in range(budget):
        chosen = _independent(Ff, rng.permutation(r), d)
        if len(chosen) == d:
            seen.add(tuple(sorted(chosen)))
    return sorted(seen)


def _subset_score(Ff: np.ndarray, S: tuple[int, ...], integer: bool) -> Optional[tuple[int, int]]:
    """``(nnz F·F_S^{-1}, nnz F_S)`` in floats, or None for a singular (or, if ``integer``, non-unimodular) F_S."""
    Xf = Ff[list(S)]
    det = np.linalg.det(Xf)
    if abs(det) < 1e-9 or (integer and abs(abs(det) - 1) > 1e-6):
        return None
    return int((np.abs(np.linalg.solve(Xf.T, Ff.T)) > 1e-9).sum()), _nnz(Xf)


def _polish(core: np.ndarray, basis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column operations ``F' ← F'(I + c·e_a e_bᵀ)``, ``X ← (I − c·e_a e_bᵀ)X`` (c = ±1, so a
    unimodular basis stays unimodular) while ``(nnz F', nnz X)`` drops lexicographically."""
    core, basis = core.copy(), basis.copy()
    d = basis.shape[0]
    improved = True
    while improved:
        improved = False
        for a, b in itertools.permutations(range(d), 2):
            for c in (1, -1):
                col = core[:, b] + c * core[:, a]
                row = basis[a, :] - c * basis[b, :]
                gain = (_nnz(col) - _nnz(core[:, b]), _nnz(row) - _nnz(basis[a, :]))
                if gain < (0, 0):
                    core[:, b], basis[a, :], improved = col, row, True
    return core, basis


def sparsify_side(F: np.ndarray, *, budget: int = 2000, seed: int = 0, integer: bool = True,
                  keep: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """A sparse core ``F'`` and a basis ``X`` with ``F = F'·X`` for one factor ``F`` (r×d, exact).

    Parameters
    ----------
    F : numpy.ndarray
        Object array (r, d) of exact coefficients, rank d (a scheme's factor always has full
        column rank: its tensor's flattenings do).
    budget : int
        Subsets enumerated or sampled.
    seed : int
        Seed of the sampling.
    integer : bool
        Keep only unimodular bases (integer, det ±1).
    keep : int
        Candidates (best by their score) that get the column-operation polish.

    Returns
    -------
    (F', X) : tuple of numpy.ndarray
        Exact object arrays; the identity basis when nothing better was found.
    """
    F = np.asarray(F, dtype=object)
    r, d = F.shape
    Ff = _float(F)
    if np.linalg.matrix_rank(Ff) < d:
        raise SchemeError(f"a factor of rank {np.linalg.matrix_rank(Ff)} < {d} has no basis of products")
    rng = np.random.default_rng(seed)
    identity = np.array([[int(i == j) for j in range(d)] for i in range(d)], dtype=object)
    candidates = [(_nnz(F), _nnz(identity), (), F.copy(), identity)]
    for S in _subsets(r, d, budget, rng, Ff):
        got = _subset_score(Ff, S, integer)
        if got is not None:
            candidates.append((got[0], got[1], S, None, None))
    candidates.sort(key=lambda c: (c[0], c[1], c[2]))
    best: Optional[tuple[tuple[int, int], np.ndarray, np.ndarray]] = None
    for _, _, S, core, basis in candidates[:keep]:
        if core is None:
            basis = F[list(S)]
            inverse = _exact_inverse(basis)
            if inverse is None or (integer and not (_is_integer(basis) and _is_integer(inverse))):
                continue
            core = _dot(F, inverse)
        if _is_integer(core) and _is_integer(basis):  # polish in int64: exact and fast
            core, basis = (np.asarray(x.tolist(), dtype=np.int64) for x in _polish(
                np.asarray(core.tolist(), dtype=np.int64), np.asarray(basis.tolist(), dtype=np.int64)))
            core, basis = (np.array(x.tolist(), dtype=object) for x in (core, basis))
        else:
            core, basis = _polish(core, basis)
        score = (_nnz(core), _nnz(basis))
        if best is None or score < best[0]:
            best = (score, core, basis)
    assert best is not None  # the identity candidate is always there
    return best[1], best[2]


def find_alt_basis(scheme: Scheme, *, budget: int = 2000, seed: int = 0, integer: bool = True) -> AltBasisScheme:
    """Rewrite ``scheme`` as a sparse core and three basis changes, checked exactly.

    Parameters
    ----------
    scheme : Scheme
        An exact scheme over Z or Q (mod-2 schemes are refused).
    budget : int
        Product subsets tried per side: all of them when there are at most ``budget``
        (2x2x2 rank 7: 35), else ``budget`` random independent sets.
    seed : int
        Seed of the sampling (the result is deterministic for a given seed).
    integer : bool
        Keep only integer bases with integer inverses (default); ``False`` also allows
        rational ones.

    Returns
    -------
    AltBasisScheme

    Raises
    ------
    NotExactError
        When ``scheme`` is not exact (or the result failed its exact check: a bug).

    Examples
    --------
    >>> import discover
    >>> alt = find_alt_basis(discover.load("winograd"))
    >>> alt.core_additions()["total"]
    12
    """
    if scheme.mod2:
        raise NotExactError("a mod-2 scheme has no alternative basis over the integers")
    if not verify_exact(scheme).valid:
        raise NotExactError(f"{scheme!r} is not exact: it has no alternative basis")
    r = scheme.rank
    U, V, W = (np.asarray(f, dtype=object).reshape(r, -1) for f in scheme.factors)
    sides = [sparsify_side(F, budget=budget, seed=seed + k, integer=integer) for k, F in enumerate((U, V, W))]
    n, m, p = scheme.format.dims
    core = Scheme.from_arrays(sides[0][0].reshape(r, n, m), sides[1][0].reshape(r, m, p),
                              sides[2][0].reshape(r, n, p), scheme.format,
                              meta={"name": f"alternative-basis core of {scheme.meta.get('name', scheme.format)}"})
    alt = AltBasisScheme(scheme, core, sides[0][1], sides[1][1], sides[2][1],
                         {"budget": budget, "seed": seed, "integer": integer})
    alt.check()
    return alt
