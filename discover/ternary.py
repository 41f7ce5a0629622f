"""Ternary quantisation shared by the `sgd` search network and the DNN layers (torch).

``ternarize`` maps weights to {-1, 0, 1} with the threshold of ternary weight networks
(Li & Liu 2016): entries with |w| ≤ factor·mean|w| become 0. Its backward pass is the
straight-through estimator (gradient passed unchanged), as in StrassenNets.
"""
from __future__ import annotations

import torch


class _TernarizeSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, weight: torch.Tensor, threshold: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return torch.where(weight.abs() > threshold, torch.sign(weight), torch.zeros_like(weight))

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):  # type: ignore[override]
        return grad_output, None


def ternary_threshold(weight: torch.Tensor, factor: float = 0.7, dim: tuple[int, ...] | None = None) -> torch.Tensor:
    """``factor · mean|w|`` over ``dim`` (all entries when None), kept broadcastable; no gradient."""
    with torch.no_grad():
        if dim is None:
            return weight.abs().mean() * factor
        return weight.abs().mean(dim=dim, keepdim=True) * factor


def ternarize(weight: torch.Tensor, factor: float = 0.7, dim: tuple[int, ...] | None = None) -> torch.Tensor:
    """Values in {-1, 0, 1} with a straight-through gradient.

    Parameters
    ----------
    weight : torch.Tensor
        Full-precision weights.
    factor : float
        Threshold factor: |w| ≤ factor·mean|w| maps to 0 (0.7 in ternary weight networks).
    dim : tuple of int, optional
        Dimensions over which the mean is taken (per batch member, per output channel, ...);
        all of them when None.
    """
    return _TernarizeSTE.apply(weight, ternary_threshold(weight, factor, dim))


def round_ternary(weight: torch.Tensor) -> torch.Tensor:
    """Nearest value in {-1, 0, 1} (no gradient): the final snap of a penalised solution."""
    return torch.clamp(torch.round(weight), -1, 1)
