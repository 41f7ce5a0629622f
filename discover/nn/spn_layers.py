"""StrassenNets layers: learned 2-layer sum-product networks with ternary weights.

A linear map ``x ↦ W x`` is replaced by ``x ↦ W_c [(W_b x) ⊙ ã]`` (Tschannen, Khanna & Anandkumar,
"StrassenNets", 2018): ``W_b`` (r × in) and ``W_c`` (out × r) are ternary, so applying them costs
additions only, and the r-vector ``ã`` (standing for ``W_a · vec(weights)``) is full precision.
The hidden width r is the budget: r multiplications per input vector (per output patch for
convolutions).

Ternary weights are ``s · ternarize(w)`` with a learned scale ``s`` and the ternary-weight-network
threshold 0.7·mean|w| (:func:`discover.ternary.ternarize`, straight-through gradient). Training
goes through the three phases of :class:`Phase`, switched by :func:`set_phase`.
"""
from __future__ import annotations

import enum
import math
from typing import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from ..ternary import ternarize, ternary_threshold

TERNARY_FACTOR = 0.7


class Phase(enum.Enum):
    """Training phases of a StrassenNets model.

    FULL
        W_b and W_c full precision (warm start).
    TERNARY
        W_b and W_c ternary with straight-through gradients, scales learned.
    FROZEN
        W_b, W_c and their scales fixed; ã, biases and batch-norm are fine-tuned.
    """

    FULL = "full"
    TERNARY = "ternary"
    FROZEN = "frozen"


class TernaryWeight(nn.Module):
    """A weight tensor that is full precision or ``scale · {-1, 0, 1}`` depending on the phase.

    Parameters
    ----------
    shape : tuple of int
        Shape of the weight.
    fan_in : int
        Inputs summed per output, for the Kaiming-uniform initialisation.
    """

    def __init__(self, shape: tuple[int, ...], fan_in: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(shape))
        self.scale = nn.Parameter(torch.ones(()))
        self.phase = Phase.FULL
        bound = math.sqrt(3.0 / max(fan_in, 1))
        nn.init.uniform_(self.weight, -bound, bound)

    def forward(self) -> torch.Tensor:
        if self.phase is Phase.FULL:
            return self.weight
        return self.scale * ternarize(self.weight, TERNARY_FACTOR)

    def ternary(self) -> torch.Tensor:
        """The ternary pattern {-1, 0, 1} the weight has (or would have) in the ternary phases."""
        with torch.no_grad():
            thr = ternary_threshold(self.weight, TERNARY_FACTOR)
            return torch.where(self.weight.abs() > thr, torch.sign(self.weight), torch.zeros_like(self.weight))

    def set_phase(self, phase: Phase) -> None:
        """Switch phase; entering TERNARY from FULL sets the scale to the TWN optimum."""
        if phase is not Phase.FULL and self.phase is Phase.FULL:
            with torch.no_grad():
                mask = self.ternary() != 0
                # Mean |w| over the kept entries minimises ||w - s·t||² (Li & Liu 2016).
                kept = self.weight.abs()[mask]
                self.scale.fill_(kept.mean().item() if kept.numel() else 1.0)
        trainable = phase is not Phase.FROZEN
        self.weight.requires_grad_(trainable)
        self.scale.requires_grad_(trainable and phase is Phase.TERNARY)
        self.phase = phase

    def extra_repr(self) -> str:
        return f"shape={tuple(self.weight.shape)}, phase={self.phase.value}"


class SPNModule(nn.Module):
    """Base of the StrassenNets layers: phase handling shared by linear and conv versions."""

    w_b: TernaryWeight
    w_c: TernaryWeight
    a_tilde: nn.Parameter
    r: int

    @property
    def phase(self) -> Phase:
        return self.w_b.phase

    def set_phase(self, phase: Phase) -> None:
        """Switch this layer's training phase (see :class:`Phase`)."""
        self.w_b.set_phase(phase)
        self.w_c.set_phase(phase)

    def ternary_weights(self) -> dict[str, torch.Tensor]:
        """The effective W_b and W_c (values in {-s, 0, s}) as used in the ternary phases."""
        with torch.no_grad():
            return {
                "w_b": self.w_b.scale.detach() * self.w_b.ternary(),
                "w_c": self.w_c.scale.detach() * self.w_c.ternary(),
            }


class SPNLinear(SPNModule):
    """StrassenNets replacement of ``nn.Linear``: ``y = W_c[(W_b x) ⊙ ã] + bias``.

    Parameters
    ----------
    in_features, out_features : int
        As for ``nn.Linear``.
    r : int
        Budget: the hidden width, i.e. multiplications per input vector.
    bias : bool
        Whether to add a learned bias.
    """

    def __init__(self, in_features: int, out_features: int, r: int, bias: bool = True) -> None:
        super().__init__()
        if min(in_features, out_features, r) < 1:
            raise ValueError("in_features, out_features and r must be positive")
        self.in_features, self.out_features, self.r = in_features, out_features, r
        self.w_b = TernaryWeight((r, in_features), in_features)
        self.w_c = TernaryWeight((out_features, r), r)
        self.a_tilde = nn.Parameter(torch.ones(r))
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hidden = F.linear(x, self.w_b()) * self.a_tilde
        return F.linear(hidden, self.w_c(), self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, r={self.r}, bias={self.bias is not None}"


def _pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


class SPNConv2d(SPNModule):
    """StrassenNets replacement of ``nn.Conv2d`` computing p×p output patches with r products each.

    ``W_b`` is a strided ternary convolution to r channels whose receptive field covers one
    p×p output patch (kernel ``k + (p-1)·stride``, stride ``p·stride``), ``ã`` multiplies each
    channel, and ``W_c`` is a ternary transposed convolution (kernel p, stride p) back to the
    output channels. With p = 1 this is a k×k conv to r channels followed by a 1×1 conv.
    The output has the size ``nn.Conv2d`` would give (trailing partial patches are cropped).

    Parameters
    ----------
    in_channels, out_channels : int
        As for ``nn.Conv2d``.
    kernel_size, stride, padding : int or (int, int)
        As for ``nn.Conv2d`` (no dilation or groups).
    r : int
        Budget: hidden channels, i.e. multiplications per output patch.
    patch : int
        Side p of the output patches computed together.
    bias : bool
        Whether to add a learned bias per output channel.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        r: int,
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        patch: int = 1,
        bias: bool = True,
    ) -> None:
        super().__init__()
        if min(in_channels, out_channels, r, patch) < 1:
            raise ValueError("channels, r and patch must be positive")
        self.in_channels, self.out_channels, self.r, self.patch = in_channels, out_channels, r, patch
        self.kernel_size, self.stride, self.padding = _pair(kernel_size), _pair(stride), _pair(padding)
        kb = tuple(k + (patch - 1) * s for k, s in zip(self.kernel_size, self.stride))
        self.w_b = TernaryWeight((r, in_channels, *kb), in_channels * kb[0] * kb[1])
        self.w_c = TernaryWeight((r, out_channels, patch, patch), r)
        self.a_tilde = nn.Parameter(torch.ones(r))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        """Spatial output size, as ``nn.Conv2d`` with the same kernel, stride and padding."""
        return tuple(  # type: ignore[return-value]
            (size + 2 * pad - k) // s + 1
            for size, pad, k, s in zip((height, width), self.padding, self.kernel_size, self.stride)
        )

    def patch_grid(self, height: int, width: int) -> tuple[int, int]:
        """Number of p×p output patches along each spatial axis."""
        return tuple(-(-o // self.patch) for o in self.output_size(height, width))  # type: ignore[return-value]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        out_h, out_w = self.output_size(height, width)
        grid = self.patch_grid(height, width)
        p = self.patch
        # Extra zero rows/columns at the bottom/right so that the last partial patch is complete.
        extra = [
            max(0, (g * p - 1) * s + k - (size + 2 * pad))
            for g, s, k, size, pad in zip(grid, self.stride, self.kernel_size, (height, width), self.padding)
        ]
        ph, pw = self.padding
        x = F.pad(x, (pw, pw + extra[1], ph, ph + extra[0]))
        sh, sw = self.stride
        hidden = F.conv2d(x, self.w_b(), stride=(p * sh, p * sw))
        hidden = hidden * self.a_tilde.view(1, -1, 1, 1)
        y = F.conv_transpose2d(hidden, self.w_c(), self.bias, stride=p)
        return y[..., :out_h, :out_w]

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, r={self.r}, "
            f"stride={self.stride}, padding={self.padding}, patch={self.patch}, bias={self.bias is not None}"
        )


def spn_modules(model: nn.Module) -> Iterator[SPNModule]:
    """Every StrassenNets layer inside ``model``."""
    return (m for m in model.modules() if isinstance(m, SPNModule))


def set_phase(model: nn.Module, phase: Phase | str) -> nn.Module:
    """Switch every StrassenNets layer of ``model`` to ``phase``; returns ``model``.

    The only place phases change: ``forward`` never alters parameters. Build a new optimizer
    afterwards over ``[p for p in model.parameters() if p.requires_grad]``.
    """
    phase = Phase(phase)
    for module in spn_modules(model):
        module.set_phase(phase)
    return model
