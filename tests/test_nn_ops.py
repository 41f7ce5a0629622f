"""count_ops against hand-computed numbers."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from discover.known import strassen
from discover.nn import Phase, SchemeLinear, SchemeMatmul, SPNConv2d, SPNLinear, count_ops, set_phase


def _set(weight: torch.Tensor, value) -> None:
    with torch.no_grad():
        weight.copy_(torch.as_tensor(value, dtype=weight.dtype).reshape(weight.shape))


def test_plain_conv_and_linear_counts():
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(32, 3), nn.Linear(3, 2, bias=False))
    ops = count_ops(model, (1, 4, 4))
    # conv: 2 channels × 16 outputs × 9 products; 8 additions per sum + 1 for the bias.
    # linear: 32×3 products, 31 additions + bias per output; 3×2 products, 2 additions per output.
    assert [(layer.name, layer.kind, layer.mults, layer.adds) for layer in ops.layers] == [
        ("0", "Conv2d", 288, 288), ("3", "Linear", 96, 96), ("4", "Linear", 6, 4),
    ]
    assert (ops.mults, ops.adds) == (390, 388)
    assert ops.matmul_mults() == 390
    assert "total" in ops.table() and "288" in ops.table()


def test_batchnorm_and_pool_are_counted_but_not_as_matmul():
    model = nn.Sequential(nn.Conv2d(1, 1, 1, bias=False), nn.BatchNorm2d(1), nn.AvgPool2d(2))
    ops = count_ops(model, (1, 4, 4))
    assert [(layer.kind, layer.mults, layer.adds) for layer in ops.layers] == [
        ("Conv2d", 16, 0), ("BatchNorm2d", 16, 16), ("AvgPool2d", 4, 12),
    ]
    assert ops.matmul_mults() == 16


def _hand_spn_linear() -> SPNLinear:
    layer = SPNLinear(3, 2, r=2)
    _set(layer.w_b.weight, [[1, -1, 0], [0, 1, 1]])
    _set(layer.w_c.weight, [[1, 1], [0, -1]])
    return layer


def test_spn_linear_counts_full_and_ternary():
    layer = _hand_spn_linear()
    full = count_ops(layer, (3,))
    # W_b: 2×3 products, 2×2 additions; ã: 2 products; W_c: 2×2 products, 2×1 additions; bias: 2.
    assert (full.mults, full.adds) == (12, 8)
    set_phase(layer, Phase.TERNARY)
    ternary = count_ops(layer, (3,))
    # Only the r = 2 products with ã remain; W_b rows have 2 and 2 nonzeros (1+1 additions),
    # W_c rows 2 and 1 (1+0), plus 2 bias additions.
    assert (ternary.mults, ternary.adds) == (2, 5)
    batched = count_ops(layer, (4, 3))  # 4 vectors per input
    assert (batched.mults, batched.adds) == (8, 20)


def test_spn_conv_counts_per_patch():
    layer = SPNConv2d(1, 2, 3, r=2, padding=1)
    _set(layer.w_b.weight, [[1.0] * 9, [1.0] + [0.0] * 8])
    _set(layer.w_c.weight, [[1, 1], [1, 0]])  # (r, out, 1, 1): output 0 sums two channels, output 1 one
    set_phase(layer, "frozen")
    ops = count_ops(layer, (1, 4, 4))
    # 16 patches × r = 2 products; per patch 8 + 0 (W_b) + 1 + 0 (W_c) + 2 (bias) additions.
    assert (ops.mults, ops.adds) == (32, 176)
    layer2 = SPNConv2d(1, 2, 3, r=2, padding=1, patch=2)
    set_phase(layer2, "ternary")
    assert count_ops(layer2, (1, 4, 4)).mults == 4 * 2  # 2×2 patches of 2×2 outputs, r = 2 each
    assert count_ops(layer2, (1, 5, 5)).mults == 9 * 2  # 3×3 patches (the last ones partial)


def test_scheme_matmul_cost_by_hand():
    m1 = SchemeMatmul(strassen(), levels=1)
    adds = m1.program.additions
    assert m1.cost(2, 2, 2) == (7, adds)
    m2 = SchemeMatmul(strassen(), levels=2)
    # 7 products of 2×2 blocks, each by Strassen again; the top level adds 2×2 blocks.
    assert m2.cost(4, 4, 4) == (49, 7 * adds + 4 * adds)
    # Peeling 5×4×4: the 4×4×4 core by the scheme, the last row by a plain 1×4 @ 4×4 product.
    assert m1.cost(5, 4, 4) == (7 * 8 + 16, 7 * 4 + 4 * adds + 12)


def test_scheme_linear_counted_by_count_ops():
    layer = SchemeLinear(4, 4, strassen(), levels=1, bias=False)
    ops = count_ops(layer, (4, 4))  # four input vectors of 4 features: a 4×4 @ 4×4 product
    adds = layer.matmul.program.additions
    assert [(x.kind, x.mults, x.adds) for x in ops.layers] == [("SchemeLinear", 56, 28 + 4 * adds)]


@pytest.mark.parametrize("model_input", ["spn", "plain"])
def test_count_ops_restores_training_mode(model_input):
    model = nn.Sequential(nn.Linear(3, 3)) if model_input == "plain" else nn.Sequential(_hand_spn_linear())
    model.train()
    count_ops(model, (3,))
    assert model.training
