"""Counting multiplications and additions of a model's forward pass, per layer and in total.

Counts are for one input (batch size 1) as the layer would run at inference in its current
state: products with ternary weights (StrassenNets layers in the TERNARY or FROZEN phase) are
sign flips and count as additions; a sum of k terms costs k-1 additions; a bias adds one
addition per output. Batch-norm is counted as one multiplication and one addition per
element (it can be folded into the previous layer at inference; it is listed separately).
Activations and max-pooling (comparisons) cost nothing here; embeddings are look-ups (no
arithmetic).

Recurrent layers (``nn.LSTM``, ``nn.GRU`` and their StrassenNets versions) are counted per time
step and layer: the input-to-hidden and hidden-to-hidden products with their biases, the G·H
additions joining the two, and the cell update (LSTM: ``c = f⊙c + i⊙g`` and ``h = o⊙tanh(c)``,
3H products and H additions; GRU: ``r⊙(W_hn h + b_hn)`` and ``h = n + z⊙(h − n)``, 2H products
and 2H additions).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

import torch
from torch import nn

from .spn_layers import Phase, SPNConv2d, SPNLinear
from .spn_recurrent import SPNGRU, SPNLSTM

#: Layer kinds whose multiplications are the "matmul" work StrassenNets replaces.
MATMUL_KINDS = ("Linear", "Conv2d", "SPNLinear", "SPNConv2d", "SchemeLinear", "SchemeMatmul")
#: Recurrent layer kinds (their counts include the gate arithmetic of the cell).
RECURRENT_KINDS = ("LSTM", "GRU", "SPNLSTM", "SPNGRU")


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

    def of_kinds(self, *kinds: str) -> "OpCount":
        """The layers of the given kinds only (e.g. ``ops.of_kinds(*RECURRENT_KINDS).mults``)."""
        return OpCount(tuple(layer for layer in self.layers if layer.kind in kinds))

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


def _spn_linear_row(m: SPNLinear) -> tuple[int, int]:
    """Operations of an SPN linear layer for one input vector."""
    bias = m.out_features if m.bias is not None else 0
    if m.phase is Phase.FULL:
        mults = m.r * m.in_features + m.r + m.out_features * m.r
        adds = m.r * (m.in_features - 1) + m.out_features * (m.r - 1) + bias
        return mults, adds
    # Ternary: the scales of W_b and W_c fold into ã, leaving the r products with ã.
    tb, tc = m.w_b.ternary(), m.w_c.ternary()
    return m.r, _sum_cost((tb != 0).sum(dim=1)) + _sum_cost((tc != 0).sum(dim=1)) + bias


def _spn_linear_ops(m: SPNLinear, inp: torch.Tensor, out: torch.Tensor) -> tuple[int, int]:
    rows = out.numel() // m.out_features
    mults, adds = _spn_linear_row(m)
    return rows * mults, rows * adds


def _dense_row(inputs: int, outputs: int, bias: bool) -> tuple[int, int]:
    """Operations of a dense matrix-vector product (plus bias) for one input vector."""
    return inputs * outputs, outputs * (inputs - 1 + bias)


def _cell_ops(kind: str, hidden: int) -> tuple[int, int]:
    """Gate arithmetic per step after the two products: joining them (G·H adds) and the update."""
    if kind == "LSTM":
        return 3 * hidden, 4 * hidden + hidden
    return 2 * hidden, 3 * hidden + 2 * hidden


def _steps(m: nn.Module, inp: torch.Tensor) -> int:
    """Time steps × sequences of a recurrent layer's input (sequence and batch axes alike)."""
    return inp.numel() // inp.shape[-1]


def _dense_rnn_ops(m: nn.RNNBase, inp: torch.Tensor, out: object) -> tuple[int, int]:
    if m.bidirectional or getattr(m, "proj_size", 0):
        raise ValueError("count_ops: bidirectional or projected recurrent layers are not supported")
    kind = "LSTM" if isinstance(m, nn.LSTM) else "GRU"
    gates = (4 if kind == "LSTM" else 3) * m.hidden_size
    mults = adds = 0
    for k in range(m.num_layers):
        for inputs in (m.input_size if k == 0 else m.hidden_size, m.hidden_size):
            pm, pa = _dense_row(inputs, gates, m.bias)
            mults, adds = mults + pm, adds + pa
        cm, ca = _cell_ops(kind, m.hidden_size)
        mults, adds = mults + cm, adds + ca
    steps = _steps(m, inp)
    return steps * mults, steps * adds


def _spn_rnn_ops(m: SPNLSTM | SPNGRU, inp: torch.Tensor, out: object) -> tuple[int, int]:
    kind = "LSTM" if isinstance(m, SPNLSTM) else "GRU"
    mults = adds = 0
    for layer in m.layers:
        for spn in (layer.ih, layer.hh):
            pm, pa = _spn_linear_row(spn)
            mults, adds = mults + pm, adds + pa
        cm, ca = _cell_ops(kind, m.hidden_size)
        mults, adds = mults + cm, adds + ca
    steps = _steps(m, inp)
    return steps * mults, steps * adds


def _lookup_ops(m: nn.Module, inp: torch.Tensor, out: torch.Tensor) -> tuple[int, int]:
    return 0, 0


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
    nn.LSTM: _dense_rnn_ops,  # type: ignore[dict-item]
    nn.GRU: _dense_rnn_ops,  # type: ignore[dict-item]
    SPNLSTM: _spn_rnn_ops,  # type: ignore[dict-item]
    SPNGRU: _spn_rnn_ops,  # type: ignore[dict-item]
    nn.Embedding: _lookup_ops,
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


def count_ops(model: nn.Module, input_shape: Sequence[int], input_dtype: Optional[torch.dtype] = None) -> OpCount:
    """Multiplications and additions per layer and in total, for one input of ``input_shape``.

    Parameters
    ----------
    model : nn.Module
        The model; its layers of known types are counted (subclasses of those included),
        the insides of counted layers are not visited again.
    input_shape : sequence of int
        Shape of one input without the batch dimension, e.g. ``(1, 8, 8)``; ``(T, features)``
        for a recurrent layer (T time steps), ``(T,)`` for token indices.
    input_dtype : torch.dtype, optional
        Dtype of the zero input fed through the model: the parameters' dtype by default;
        ``torch.long`` for models that start with an embedding.

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
        dtype = input_dtype or (param.dtype if param is not None and param.is_floating_point() else torch.float32)
        device = param.device if param is not None else None
        with torch.no_grad():
            model(torch.zeros((1, *input_shape), dtype=dtype, device=device))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return OpCount(tuple(records))
