"""DNN layers built on matrix-multiplication schemes and StrassenNets sum-product networks (torch)."""
from __future__ import annotations

from .distill import TrainConfig, accuracy, distillation_loss, train
from .ops import LayerOps, OpCount, count_ops, register_counter
from .scheme_layers import SchemeLinear, SchemeMatmul, resolve_scheme
from .convert import SchemeConv2d, convert
from .spn_layers import Phase, SPNConv2d, SPNLinear, SPNModule, TernaryWeight, set_phase
from .spn_recurrent import SPNGRU, SPNLSTM

__all__ = [
    "LayerOps", "OpCount", "Phase", "SPNConv2d", "SPNGRU", "SPNLSTM", "SPNLinear", "SPNModule", "SchemeConv2d",
    "SchemeLinear", "SchemeMatmul", "convert", "TernaryWeight", "TrainConfig",
    "accuracy", "count_ops", "distillation_loss", "register_counter", "resolve_scheme", "set_phase", "train",
]
