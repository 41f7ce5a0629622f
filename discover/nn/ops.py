"""Counting multiplications and additions of a model's forward pass, per layer and in total.

Counts are for one input (batch size 1) as the layer would run at inference in its current
state: products with ternary weights (StrassenNets layers in the TERNARY or FROZEN phase) are
sign flips and count as additions; a sum of k terms costs k-1 additions; a bias adds one
addition per output. Batch-norm is counted as one multiplication and one addition per
element (it can be folded into the previous layer at inference; it is listed separately).
Activations and max-pooling (comparisons) cost nothing here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch
from torch import nn

from .spn_layers import Phase, SPNConv2d, SPNLinear

#: Layer kinds whose multiplications are the "matmul" work StrassenNets replaces.
MATMUL_KINDS = ("Linear", "Conv2d", "SPNLinear", "SPNConv2d", "SchemeLinear", "SchemeMatmul")


@dataclass(frozen=True)
class LayerOps:
    """Operations of one layer for one input."""

    name: str
    kind: str
    mults: int
    adds: int


@dataclass(frozen=True)
class OpCount:
    """Per-layer and total operation counts (see :func:`count_ops`)."""

    layers: tuple[LayerOps, ...] = field(default_factory=tuple)

    @property
    def mults(self) -> int:
        return sum(layer.mults for layer in self.layers)

    @property
    def adds(self) -> int:
        return sum(layer.adds for layer in self.layers)

    def matmul_mults(self) -> int:
        """Multiplications of the conv and linear layers (plain, StrassenNets or scheme-based)."""
        return sum(layer.mults for layer in self.layers if layer.kind in MATMUL_KINDS)

    def matmul_adds(self) -> int:
        """Additions of the conv and linear layers."""
        return sum(layer.adds for layer in self.layers if layer.kind in MATMUL_KINDS)

    def __str__(self) -> str:
        return self.table()

    def table(self) -> str:
        """A plain-text table, one row per layer plus the total."""
        rows = [(layer.name or "(model)", layer.kind, f"{layer.mults:,}", f"{layer.adds:,}") for layer in self.layers]
        rows.append(("total", "", f"{self.mults:,}", f"{self.adds:,}"))
        head = ("layer", "kind", "mults", "adds")
        widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(4)]

        def line(row: tuple[str, ...]) -> str:
            return "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))

        return "\n".join([line(head), *map(line, rows)])


def _sum_cost(nonzeros: torch.Tensor) -> int:
    """Additions to form sums with the given numbers of (nonzero) terms."""
    return int(torch.clamp(nonzeros - 1, min=0).sum().item())


def _linear_ops(m: nn.Linear, inp: torch.Tensor, out: torch.Tensor) -> tuple[int, int]:
    rows = out.numel() // m.out_features
    mults = rows * m.in_features * m.out_features
    adds = rows * m.out_features * (m.in_features - 1 + (m.bias is not None))
    return mults, adds


def _conv_ops(m: nn.Conv2d, inp: torch.Tensor, out: torch.Tensor) -> tuple[int, int]:
    per_output = m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
    outputs = out.numel()
    return outputs * per_output, outputs * (per_output - 1 + (m.bias is not None))


def _spn_linear_ops(m: SPNLinear, inp: torch.Tensor, out: torch.Tensor) -> tuple[int, int]:
    rows = out.numel() // m.out_features
    bias = m.out_features if m.bias is not None else 0
    if m.phase is Phase.FULL:
        mults = m.r * m.in_features + m.r + m.out_features * m.r
        adds = m.r * (m.in_features - 1) + m.out_features * (m.r - 1) + bias
        return rows * mults, rows * adds
    # Ternary: the scales of W_b and W_c fold into ã, leaving the r products with ã.
    tb, tc = m.w_b.ternary(), m.w_c.ternary()
    adds = _sum_cost((tb != 0).sum(dim=1)) + _sum_cost((tc != 0).sum(dim=1)) + bias
    return rows * m.r, rows * adds


def _spn_conv_ops(m: SPNConv2d, inp: torch.Tensor, out: torch.Tensor) -> tuple[int, int]:
    gh, gw = m.patch_grid(*inp.shape[-2:])
    patches = inp.shape[0] * gh * gw
    p2 = m.patch * m.patch
    bias = m.out_channels * p2 if m.bias is not None else 0
    per_b = m.w_b.weight[0].numel()
    if m.phase is Phase.FULL:
        mults = m.r * per_b + m.r + m.out_channels * p2 * m.r
        adds = m.r * (per_b - 1) + m.out_channels * p2 * (m.r - 1) + bias
        return patches * mults, patches * adds
    # Interior patches; zero padding at the border is counted as if it were data.
    tb, tc = m.w_b.ternary(), m.w_c.ternary()
    adds_b = _sum_cost((tb != 0).flatten(1).sum(dim=1))
    adds_c = _sum_cost((tc != 0).sum(dim=0).flatten())
    return patches * m.r, patches * (adds_b + adds_c + bias)


def _batchnorm_ops(m: nn.Module, inp: torch.Tensor, out: torch.Tensor) -> tuple[int, int]:
    return out.numel(), out.numel()


def _avgpool_ops(m: nn.Module, inp: torch.Tensor, out: torch.Tensor) -> tuple[int, int]:
    window = inp.numel() // max(out.numel(), 1)
    return out.numel(), out.numel() * (window - 1)


_COUNTERS: dict[type, Callable[[nn.Module, torch.Tensor, torch.Tensor], tuple[int, int]]] = {
    nn.Linear: _linear_ops,  # type: ignore[dict-item]
    nn.Conv2d: _conv_ops,  # type: ignore[dict-item]
    SPNLinear: _spn_linear_ops,  # type: ignore[dict-item]
    SPNConv2d: _spn_conv_ops,  # type: ignore[dict-item]
    nn.BatchNorm1d: _batchnorm_ops,
    nn.BatchNorm2d: _batchnorm_ops,
    nn.AvgPool2d: _avgpool_ops,
    nn.AdaptiveAvgPool2d: _avgpool_ops,
}


def register_counter(kind: type, counter: Callable[[nn.Module, torch.Tensor, torch.Tensor], tuple[int, int]]) -> None:
    """Teach :func:`count_ops` a new layer type: ``counter(module, input, output) -> (mults, adds)``."""
    _COUNTERS[kind] = counter


def _counter_for(module: nn.Module):
    for kind in type(module).__mro__:
        if kind in _COUNTERS:
            return _COUNTERS[kind]
    return None


def count_ops(model: nn.Module, input_shape: Sequence[int]) -> OpCount:
    """Multiplications and additions per layer and in total, for one input of ``input_shape``.

    Parameters
    ----------
    model : nn.Module
        The model; its layers of known types are counted (subclasses of those included),
        the insides of counted layers are not visited again.
    input_shape : sequence of int
        Shape of one input without the batch dimension, e.g. ``(1, 8, 8)``.

    Returns
    -------
    OpCount
        ``.layers`` in execution order, ``.mults``, ``.adds``, ``.matmul_mults()``, ``.table()``.
    """
    records: list[LayerOps] = []
    names = {module: name for name, module in model.named_modules()}
    top_level: list[nn.Module] = []

    def collect(module: nn.Module) -> None:
        # A counted layer is not visited further (its TernaryWeight children are part of it).
        if _counter_for(module) is not None:
            top_level.append(module)
            return
        for child in module.children():
            collect(child)

    collect(model)
    hooks = []

    def hook(module: nn.Module, args: tuple, output: torch.Tensor) -> None:
        mults, adds = _counter_for(module)(module, args[0], output)  # type: ignore[misc]
        records.append(LayerOps(names.get(module, ""), type(module).__name__, int(mults), int(adds)))

    for module in top_level:
        hooks.append(module.register_forward_hook(hook))
    was_training = model.training
    try:
        model.eval()
        param = next(model.parameters(), None)
        dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
        device = param.device if param is not None else None
        with torch.no_grad():
            model(torch.zeros((1, *input_shape), dtype=dtype, device=device))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return OpCount(tuple(records))
