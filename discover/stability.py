"""Numerical stability of a scheme: measured normwise error growth against the plain product.

Users choose between schemes of equal rank by it: schemes with large coefficients or long
chains of additions lose more accuracy in floating point. The error of a product computed
with ``levels`` levels of the scheme (float64, plain ``@`` at the base) is measured against
a reference in extended precision (``numpy.longdouble``), normwise as

    e = max|Ĉ − C| / (max|A| · max|B|),

and reported as the ratio ``e_scheme / e_plain`` to the plain float64 product's error on the
same inputs (1.0: as accurate as the plain product).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence

import numpy as np

from .scheme import Scheme
from .slp import Program, compile_scheme


@dataclass(frozen=True)
class StabilityReport:
    """Measured error growth of one scheme.

    Attributes
    ----------
    plain_error : float
        Mean normwise error of the plain float64 product.
    errors : dict
        ``{levels: mean normwise error}`` of the scheme applied ``levels`` times.
    block : int
        Size of the base blocks (the matrices are ``n**L·block`` by ``m**L·block`` etc.).
    trials : int
        Random input pairs per figure.
    seed : int
    """

    plain_error: float
    errors: dict[int, float]
    block: int
    trials: int
    seed: int

    @property
    def growth(self) -> dict[int, float]:
        """``{levels: error / plain error}``."""
        return {lv: (e / self.plain_error if self.plain_error > 0 else float("inf")) for lv, e in self.errors.items()}

    def summary(self) -> str:
        """``error growth vs plain product: 1 level 2.1x, 2 levels 4.5x``."""
        parts = [f"{lv} level{'s' if lv > 1 else ''} {g:.2f}x" for lv, g in sorted(self.growth.items())]
        return "error growth vs plain product: " + ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "plain_error": self.plain_error,
            "errors": {str(k): v for k, v in self.errors.items()},
            "growth": {str(k): v for k, v in self.growth.items()},
            "block": self.block,
            "trials": self.trials,
            "seed": self.seed,
        }


def recursive_product(program: Program, A: np.ndarray, B: np.ndarray, levels: int) -> np.ndarray:
    """A @ B with ``levels`` levels of the program (dimensions divisible by the format**levels)."""
    if levels <= 0:
        return A @ B
    n, m, p = program.scheme_format.dims
    h, w, q = A.shape[0] // n, A.shape[1] // m, B.shape[1] // p
    a_blocks = [A[i * h:(i + 1) * h, j * w:(j + 1) * w] for i in range(n) for j in range(m)]
    b_blocks = [B[j * w:(j + 1) * w, l * q:(l + 1) * q] for j in range(m) for l in range(p)]
    c_blocks = program.evaluate(a_blocks, b_blocks, lambda x, y: recursive_product(program, x, y, levels - 1))
    return np.block([[c_blocks[i * p + l] for l in range(p)] for i in range(n)])


def _normwise(C: np.ndarray, ref: np.ndarray, A: np.ndarray, B: np.ndarray) -> float:
    scale = float(np.abs(A).max()) * float(np.abs(B).max())
    return float(np.abs(C.astype(np.longdouble) - ref).max()) / scale


def measure_stability(
    scheme: Scheme,
    levels: Sequence[int] = (1, 2),
    *,
    block: Optional[int] = None,
    trials: int = 3,
    seed: int = 0,
    program: Optional[Program] = None,
) -> StabilityReport:
    """Measure the normwise error growth of ``scheme`` at the given recursion levels.

    Parameters
    ----------
    scheme : Scheme
        A scheme over Z or Q (exact: check it first).
    levels : sequence of int
        Recursion levels to measure.
    block : int, optional
        Base block size; by default chosen so that the largest matrix side stays near 128.
    trials : int
        Random input pairs (uniform in [-1, 1]) per figure; errors are averaged.
    seed : int
        Seed of the inputs.
    program : Program, optional
        The compiled program to measure (default: with common subexpressions eliminated).
    """
    program = program or compile_scheme(scheme, eliminate=True)
    n, m, p = scheme.format.dims
    top = max(levels, default=0)
    if block is None:
        block = max(4, min(32, 128 // max(max(n, m, p) ** top, 1)))
    rng = np.random.default_rng(seed)
    plain = 0.0
    errors = {lv: 0.0 for lv in levels}
    for _ in range(trials):
        A = rng.uniform(-1, 1, (n**top * block, m**top * block))
        B = rng.uniform(-1, 1, (m**top * block, p**top * block))
        ref = A.astype(np.longdouble) @ B.astype(np.longdouble)
        plain += _normwise(A @ B, ref, A, B) / trials
        for lv in levels:
            C = recursive_product(program, A, B, lv)
            errors[lv] += _normwise(C, ref, A, B) / trials
    return StabilityReport(plain_error=plain, errors=errors, block=block, trials=trials, seed=seed)
