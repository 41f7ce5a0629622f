"""Sparser schemes of the same rank: a walk on the plateau of the ternary flip graph.

The written additions of a scheme are ``nnz(U) + nnz(V) + nnz(W) − 2r − n·p``, and after
common-subexpression elimination they stay close to that order: the catalog's 4x5x5 r76 forms
have 750–800 nonzero coefficients in all and need 295–306 additions, a published form with 528
written additions needs 309 with our compiler. The symmetry orbit that
:func:`discover.optimize_additions.optimize_additions` walks keeps the scheme's structure; flips
change it. :func:`plateau_walk` takes random flips (:func:`discover.flip.zt.apply_flip`) at a fixed
rank, ternary throughout, with a Metropolis rule on the number of nonzero coefficients
(``exp(−Δ/temperature)`` for a flip that adds Δ of them), and keeps the sparsest scheme it met.
A flip that would empty a factor (a lower rank: a reduction) is not taken, so the rank stays.

:func:`plateau_samples` cuts one walk into stretches and returns the sparsest scheme of each: the
starts of an orbit walk (``strassen optimize-additions --flips N``).
"""
from __future__ import annotations

import math

import numpy as np

from ..formats import Format
from ..scheme import Scheme
from . import zt
from .jit import njit
from .moves import _popcount
from .rng import below, next_u64, seed_state


@njit(cache=True)
def _term_nonzeros(F, k):
    return (_popcount(F[0, k] | F[1, k]) + _popcount(F[2, k] | F[3, k]) + _popcount(F[4, k] | F[5, k]))


@njit(cache=True)
def nonzeros(F, r):
    """The nonzero coefficients of the first r packed terms."""
    total = 0
    for k in range(r):
        total += _term_nonzeros(F, k)
    return total


@njit(cache=True)
def plateau_walk(F, r, state, steps, temperature, best):
    """Walk ``steps`` flip attempts on F in place; the sparsest scheme met is copied into ``best``.

    Returns (nonzeros now, nonzeros of ``best``, flips taken).
    """
    current = nonzeros(F, r)
    fewest = current
    for row in range(6):
        for k in range(r):
            best[row, k] = F[row, k]
    saved = np.empty(12, dtype=np.uint64)
    taken = 0
    for _ in range(steps):
        i = below(state, r)
        j, s, sigma = zt.pick_partner(F, r, i, state)
        if j < 0:
            continue
        for row in range(6):
            saved[row] = F[row, i]
            saved[6 + row] = F[row, j]
        before = _term_nonzeros(F, i) + _term_nonzeros(F, j)
        bits = next_u64(state) >> np.uint64(40)
        if zt.apply_flip(F, s, i, j, sigma, bits, False) < 0:
            continue
        empty = False
        for slot in range(3):
            if (F[2 * slot, i] | F[2 * slot + 1, i]) == 0 or (F[2 * slot, j] | F[2 * slot + 1, j]) == 0:
                empty = True
        delta = _term_nonzeros(F, i) + _term_nonzeros(F, j) - before
        accept = not empty
        if accept and delta > 0:
            u = np.float64(next_u64(state) >> np.uint64(11)) * (1.0 / 9007199254740992.0)
            accept = temperature > 0 and u < math.exp(-delta / temperature)
        if not accept:
            for row in range(6):
                F[row, i] = saved[row]
                F[row, j] = saved[6 + row]
            continue
        taken += 1
        current += delta
        if current < fewest:
            fewest = current
            for row in range(6):
                for k in range(r):
                    best[row, k] = F[row, k]
    return current, fewest, taken


def plateau_samples(scheme: Scheme, flips: int, seed: int, samples: int = 16,
                    temperature: float = 1.0) -> list[Scheme]:
    """The sparsest scheme of each of ``samples`` stretches of one plateau walk from ``scheme``.

    Parameters
    ----------
    scheme : Scheme
        A ternary scheme (ring ZT); its rank is kept.
    flips : int
        Flip attempts in all, at least 1 (a seed and this budget reproduce the walk exactly).
    seed : int
        Seed of the walk's random numbers.
    samples : int
        Stretches; the walk goes on from where each one ended, not from its sparsest scheme.
    temperature : float
        Metropolis temperature on the nonzero coefficients (0: never a denser step).

    Returns
    -------
    list of Scheme
        The distinct sparsest schemes, in the order met (unverified: the caller proves them).

    Raises
    ------
    ValueError
        If the scheme is not ternary, a factor has more than 64 entries, or ``flips`` or
        ``samples`` is below 1.
    """
    if scheme.mod2:
        raise ValueError("a mod-2 scheme has no ternary plateau over the integers")
    if flips < 1 or samples < 1:
        raise ValueError(f"flips and samples must be at least 1, got {flips} and {samples}")
    fmt: Format = scheme.format
    F = zt.pack(scheme.U, scheme.V, scheme.W)
    r = scheme.rank
    best = np.zeros_like(F)
    state = seed_state(seed)
    found: list[Scheme] = []
    seen: set[bytes] = set()
    stretch = max(flips // samples, 1)
    for _ in range(samples):
        plateau_walk(F, r, state, stretch, float(temperature), best)
        key = best[:, :r].tobytes()
        if key in seen:
            continue
        seen.add(key)
        U, V, W = zt.unpack(best, r, fmt)
        found.append(Scheme.from_arrays(U, V, W, fmt))
    return found
