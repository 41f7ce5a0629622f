"""Parametrisations of the factors: all entries free, or cyclic-symmetric (square formats).

The numerical methods optimise a parameter vector ``y`` of length ``size`` per batch member; the
factors are ``x = y[:, index]`` laid out as ``[U (r, a), V (r, b), W (r, c)]`` flattened (see
:mod:`discover.search.methods._numeric`). For the free parametrisation ``index`` is ``None``
(``x = y``). Each entry of ``x`` copies exactly one parameter, so Jacobian products reduce by a
scatter-add over ``index`` (no dense matrix).

Cyclic symmetry (Ballard, Ikenmeyer, Landsberg, Ryder 2019) for ``<n, n, n>`` in this package's
layout (``C[i, l] = Σ_k W[k, i, l] m_k``, W not transposed): the map
σ(U, V, W) = (V, Wᵀ, Uᵀ) sends a term to a term of the same tensor and σ³ = id. A scheme with
``S`` symmetric terms (A, A, Aᵀ) and ``T`` cyclic triples {t, σt, σ²t} has rank S + 3T and only
(S + 3T)·n² free parameters instead of 3(S + 3T)·n².
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch

from ..contract import SearchError


@dataclass(frozen=True)
class ParamMap:
    """How parameters become factors: ``x = y[:, index]`` (``index`` None: ``x = y``)."""

    size: int  # parameters per member
    full: int  # factor entries per member, r·(a + b + c)
    index: Optional[torch.Tensor] = None
    label: str = ""

    def expand(self, y: torch.Tensor) -> torch.Tensor:
        """Factor entries (B, full) from parameters (B, size)."""
        return y if self.index is None else y[:, self.index]

    def reduce_vector(self, g: torch.Tensor) -> torch.Tensor:
        """Jᵀ of the expansion applied to a (B, full) gradient."""
        if self.index is None:
            return g
        return torch.zeros(g.shape[0], self.size, dtype=g.dtype, device=g.device).index_add_(1, self.index, g)

    def reduce_matrix(self, H: torch.Tensor) -> torch.Tensor:
        """Jᵀ H J of the expansion for a (B, full, full) matrix."""
        if self.index is None:
            return H
        B = H.shape[0]
        rows = torch.zeros(B, self.size, self.full, dtype=H.dtype, device=H.device).index_add_(1, self.index, H)
        return torch.zeros(B, self.size, self.size, dtype=H.dtype, device=H.device).index_add_(2, self.index, rows)

    def to(self, device: torch.device) -> "ParamMap":
        return self if self.index is None else ParamMap(self.size, self.full, self.index.to(device), self.label)


def free_map(rank: int, sizes: tuple[int, int, int]) -> ParamMap:
    """Every factor entry is a parameter."""
    full = rank * sum(sizes)
    return ParamMap(full, full)


def parse_symmetric(spec: str, n: int, rank: int) -> tuple[int, int]:
    """``"S,T"`` → (S, T), checked against the rank (S + 3T must equal it)."""
    try:
        s_str, t_str = spec.split(",")
        S, T = int(s_str), int(t_str)
    except ValueError:
        raise SearchError(f"symmetric={spec!r}: expected S,T (symmetric terms, cyclic triples), e.g. symmetric=5,6") from None
    if S < 0 or T < 0 or S + T == 0:
        raise SearchError(f"symmetric={spec!r}: S and T must be ≥ 0 and not both 0")
    if S + 3 * T != rank:
        raise SearchError(f"symmetric={spec!r}: S + 3T = {S + 3 * T} must equal the rank {rank}")
    return S, T


def cyclic_map(n: int, S: int, T: int) -> ParamMap:
    """The cyclic-symmetric parametrisation of ``<n, n, n>`` with S symmetric terms and T triples.

    Parameters are, in order, the S matrices A_s and the T triples (X_t, Y_t, Z_t), each an n×n
    matrix flattened row-major. Terms: (A, A, Aᵀ) for each s; (X, Y, Z), (Y, Zᵀ, Xᵀ), (Zᵀ, X, Yᵀ)
    for each t.
    """
    N = n * n
    r = S + 3 * T
    ident = torch.arange(N)
    trans = (ident % n) * n + ident // n  # flat index of the transpose's entry
    index = torch.empty(3 * r * N, dtype=torch.long)

    def put(term: int, slot: int, param_block: int, transposed: bool) -> None:
        src = param_block * N + (trans if transposed else ident)
        index[slot * r * N + term * N: slot * r * N + (term + 1) * N] = src

    for s in range(S):
        put(s, 0, s, False)
        put(s, 1, s, False)
        put(s, 2, s, True)
    for t in range(T):
        x, y, z = S + 3 * t, S + 3 * t + 1, S + 3 * t + 2  # parameter blocks
        k = S + 3 * t  # first of the three terms
        for term, parts in ((k, ((x, False), (y, False), (z, False))),
                            (k + 1, ((y, False), (z, True), (x, True))),
                            (k + 2, ((z, True), (x, False), (y, True)))):
            for slot, (block, tr) in enumerate(parts):
                put(term, slot, block, tr)
    return ParamMap(r * N, 3 * r * N, index, f"cyclic S={S} T={T}")
