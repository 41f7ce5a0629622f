"""An integer scheme moved to ternary coefficients {-1, 0, 1} at the same rank, where a walk finds it.

A Hensel lift of a GF(2) scheme (``search --ring Z``) is one integer point of a family of
solutions; the point it picks (the free unknowns set to 0) often carries coefficients up to 5 or 9
where other points of the family, or of the scheme's orbit, are ternary. :func:`ternary_form`
walks two kinds of exact moves that keep the rank and the tensor:

* transvections of the symmetry group: X, Y or Z = I ± e_ij in the sandwich A → X A Y⁻¹,
  B → Y B Z⁻¹, C → X C Z⁻¹ (:func:`discover.symmetry.sandwich`), integer matrices of
  determinant 1, applied as row and column operations on U, V, W;
* integer flips: two terms that share a factor up to sign, a⊗b⊗c + (σa)⊗b'⊗c', become
  a⊗(b + sσb')⊗c + (σa)⊗b'⊗(c' − sc) for s = ±1 (the move of the flip graph, over Z).

The walk is a Metropolis walk on the coefficients' excess over 1 (Σ max(|x| − 1, 0), weighted
far above the sum of |x| that breaks ties), back to the best form after a stretch without
progress, until the excess is 0. A term left with a zero factor is dropped (exact, one product
fewer). On the 3x5x5 rank-58 lift (coefficients up to 9) it reached a ternary form after 321 moves.
The moves are exact; the caller certifies the result.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from .optimize_additions import Move, apply_move
from .rings import Ring
from .scheme import Scheme

#: Weight of one unit of excess over |x| = 1 against one unit of the sum of |x|.
EXCESS_WEIGHT = 1000
#: Moves without a new best before the walk returns to the best form and heats up again.
STALL_MOVES = 20_000


@dataclass
class TernaryFormResult:
    """The form with the least excess found (not yet certified) and how the walk went."""

    scheme: Scheme
    start_excess: int
    excess: int
    moves: int
    seconds: float
    interrupted: bool = False

    @property
    def ternary(self) -> bool:
        return self.excess == 0

    @property
    def max_coefficient(self) -> int:
        return max((int(np.abs(f).max()) for f in self.scheme.factors if f.size), default=0)


def coefficient_excess(factors: "list[np.ndarray] | tuple[np.ndarray, ...]") -> int:
    """Σ max(|x| − 1, 0) over every coefficient: 0 exactly when the factors are ternary."""
    return sum(int(np.maximum(np.abs(f) - 1, 0).sum()) for f in factors)


def _cost(factors: list[np.ndarray]) -> int:
    return coefficient_excess(factors) * EXCESS_WEIGHT + sum(int(np.abs(f).sum()) for f in factors)


def shared_factors(factors: list[np.ndarray]) -> list[tuple[int, int, int, int]]:
    """Every (factor, i, j, σ) with factor ``factor`` of term j equal to σ times that of term i (i < j)."""
    out = []
    for f, arr in enumerate(factors):
        flat = arr.reshape(arr.shape[0], -1)
        seen: dict[bytes, list[tuple[int, int]]] = {}
        for k, row in enumerate(flat):
            nonzero = np.flatnonzero(row)
            if not nonzero.size:
                continue
            sign = 1 if row[nonzero[0]] > 0 else -1
            key = (row * sign).tobytes()
            for j, sj in seen.get(key, ()):
                out.append((f, j, k, sign * sj))
            seen.setdefault(key, []).append((k, sign))
    return out


def _flip(factors: list[np.ndarray], shared: int, i: int, j: int, sigma: int, which: int, s: int) -> list[np.ndarray]:
    """Terms i and j share factor ``shared`` (j's = σ·i's): move s·(j's factor g) into term i, and
    take s·(i's factor h) out of term j, where (g, h) are the other two factors (swapped by ``which``)."""
    out = [f.copy() for f in factors]
    g, h = [x for x in range(3) if x != shared]
    if which:
        g, h = h, g
    out[g][i] = out[g][i] + s * sigma * out[g][j]
    out[h][j] = out[h][j] - s * out[h][i]
    return out


def _without_dead_terms(factors: list[np.ndarray]) -> list[np.ndarray]:
    alive = np.ones(factors[0].shape[0], dtype=bool)
    for f in factors:
        alive &= f.reshape(f.shape[0], -1).any(axis=1)
    return factors if alive.all() else [f[alive] for f in factors]


def ternary_form(scheme: Scheme, *, moves: int = 200_000, seed: int = 0, time_limit: Optional[float] = None,
                 on_progress: Optional[Callable[[int, int, int], None]] = None) -> TernaryFormResult:
    """Walk ``scheme``'s transvections and integer flips towards ternary coefficients.

    Parameters
    ----------
    scheme : Scheme
        An exact integer scheme (not mod 2).
    moves : int
        Moves tried at most; the walk stops as soon as the coefficients are ternary.
    seed : int
        Seed of the move choices (the walk is a function of the scheme, ``moves`` and the seed,
        unless ``time_limit`` stops it first).
    time_limit : float, optional
        Stop after this many seconds.
    on_progress : callable, optional
        Called as ``on_progress(moves_done, current_excess, best_excess)`` every 1000 moves.

    Returns
    -------
    TernaryFormResult
        The form with the least excess seen; Ctrl-C stops the walk and returns it (``interrupted``).

    Examples
    --------
    >>> from discover.symmetry import sandwich
    >>> from discover.known import KNOWN
    >>> wide = sandwich(KNOWN["strassen"](), [[1, 2], [0, 1]], [[1, 0], [3, 1]], [[1, 1], [1, 2]])
    >>> r = ternary_form(wide, seed=1)
    >>> (r.ternary, r.scheme.rank, r.start_excess > 0)
    (True, 7, True)
    """
    if scheme.mod2:
        raise ValueError("ternary_form: a mod-2 scheme has no integer coefficients to move")
    if scheme.ring is Ring.Q:
        raise ValueError("ternary_form: the scheme has fractions; only integer schemes are walked")
    factors = _without_dead_terms([np.array(f, dtype=np.int64) for f in scheme.factors])
    n, m, p = scheme.format.dims
    transvections = [Move(side, i, j, s) for side, size in zip("XYZ", (n, m, p))
                     for i in range(size) for j in range(size) if i != j for s in (1, -1)]
    rng = np.random.default_rng(seed)
    cost = _cost(factors)
    start_excess = coefficient_excess(factors)
    best_cost, best, best_excess = cost, factors, start_excess
    shared = shared_factors(factors)
    temperature = hot = 200.0
    since_best = done = 0
    t0 = time.perf_counter()
    interrupted = False
    try:
        while done < moves and best_excess:
            if time_limit is not None and time.perf_counter() - t0 > time_limit:
                break
            done += 1
            if shared and rng.random() < 0.5:
                pick = shared[rng.integers(len(shared))]
                trial = _flip(factors, *pick, int(rng.integers(2)), 1 if rng.random() < 0.5 else -1)
            elif transvections:
                trial = list(apply_move(*factors, transvections[rng.integers(len(transvections))]))
            else:
                break
            trial = _without_dead_terms(trial)
            trial_cost = _cost(trial)
            if trial_cost <= cost or rng.random() < math.exp((cost - trial_cost) / temperature):
                factors, cost = trial, trial_cost
                shared = shared_factors(factors)
                if cost < best_cost:
                    best_cost, best, best_excess, since_best = cost, factors, coefficient_excess(factors), 0
            since_best += 1
            temperature = max(temperature * 0.9999, 2.0)
            if since_best >= STALL_MOVES:  # back to the best form, hot again
                factors, cost, temperature, since_best = best, best_cost, hot, 0
                shared = shared_factors(factors)
            if on_progress is not None and done % 1000 == 0:
                on_progress(done, coefficient_excess(factors), best_excess)
    except KeyboardInterrupt:
        interrupted = True
    out = Scheme.from_arrays(*best, scheme.format)
    return TernaryFormResult(out, start_excess, best_excess, done,
                             round(time.perf_counter() - t0, 3), interrupted)


__all__ = ["TernaryFormResult", "coefficient_excess", "shared_factors", "ternary_form"]
