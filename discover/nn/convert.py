"""Put schemes into existing models: ``convert`` swaps eligible layers for scheme-based ones.

:func:`convert` replaces every ``nn.Linear`` whose in and out features are at least
``min_features`` by a :class:`~discover.nn.scheme_layers.SchemeLinear`, and every ``nn.Conv2d``
(``groups=1``) by a :class:`SchemeConv2d` (im2col: the unfolded input times the flattened kernel,
that product computed by the scheme), keeping their weights; the model computes the same function
up to floating-point rounding.
"""
from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ..formats import Format
from ..scheme import Scheme
from .ops import register_counter
from .scheme_layers import SchemeLinear, SchemeMatmul


class SchemeConv2d(nn.Module):
    """``nn.Conv2d`` (``groups=1``) computed by im2col and a scheme-based matrix product.

    Parameters
    ----------
    in_channels, out_channels, kernel_size, stride, padding, dilation, bias
        As for ``nn.Conv2d``.
    scheme, levels, min_size
        As for :class:`~discover.nn.scheme_layers.SchemeMatmul`.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, bias: bool = True, scheme: Scheme | str | Format = "2x2x2", levels: int = 1,
                 min_size: int = 1, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        pair = nn.modules.utils._pair
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride = pair(kernel_size), pair(stride)
        self.padding, self.dilation = pair(padding), pair(dilation)
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, *self.kernel_size, device=device, dtype=dtype))
        self.bias = nn.Parameter(torch.empty(out_channels, device=device, dtype=dtype)) if bias else None
        self.matmul = SchemeMatmul(scheme, levels, min_size=min_size)
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(in_channels * self.kernel_size[0] * self.kernel_size[1])
            nn.init.uniform_(self.bias, -bound, bound)

    @classmethod
    def from_conv(cls, conv: nn.Conv2d, scheme: Scheme | str | Format = "2x2x2", **kwargs: Any) -> "SchemeConv2d":
        """A SchemeConv2d with a copy of ``conv``'s weight and bias (``groups=1``, zero padding)."""
        if conv.groups != 1 or conv.padding_mode != "zeros" or isinstance(conv.padding, str):
            raise ValueError("SchemeConv2d supports groups=1 and numeric zero padding only")
        layer = cls(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, conv.dilation,
                    conv.bias is not None, scheme, device=conv.weight.device, dtype=conv.weight.dtype, **kwargs)
        with torch.no_grad():
            layer.weight.copy_(conv.weight)
            if conv.bias is not None:
                layer.bias.copy_(conv.bias)  # type: ignore[union-attr]
        return layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        cols = F.unfold(x, self.kernel_size, dilation=self.dilation, padding=self.padding, stride=self.stride)
        oh = (h + 2 * self.padding[0] - self.dilation[0] * (self.kernel_size[0] - 1) - 1) // self.stride[0] + 1
        ow = (w + 2 * self.padding[1] - self.dilation[1] * (self.kernel_size[1] - 1) - 1) // self.stride[1] + 1
        rows = cols.transpose(1, 2).reshape(-1, cols.shape[1])  # (n·L, C·kh·kw)
        y = self.matmul(rows, self.weight.reshape(self.out_channels, -1).t())
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(n, oh * ow, self.out_channels).transpose(1, 2).reshape(n, self.out_channels, oh, ow)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, bias={self.bias is not None}")


def _scheme_conv_ops(module: SchemeConv2d, inp: torch.Tensor, out: torch.Tensor) -> tuple[int, int]:
    rows = out.shape[0] * out.shape[2] * out.shape[3]
    depth = module.in_channels * module.kernel_size[0] * module.kernel_size[1]
    mults, adds = module.matmul.cost(rows, depth, module.out_channels)
    return mults, adds + (out.numel() if module.bias is not None else 0)


register_counter(SchemeConv2d, _scheme_conv_ops)  # type: ignore[arg-type]


def convert(model: nn.Module, scheme: Scheme | str | Format = "2x2x2", min_features: int = 64, levels: int = 1,
            convs: bool = True) -> nn.Module:
    """Replace eligible layers of ``model`` in place by scheme-based ones (weights kept); returns it.

    Parameters
    ----------
    model
        Any module; its ``nn.Linear`` layers with ``in_features`` and ``out_features`` at least
        ``min_features`` become :class:`SchemeLinear`; with ``convs``, its ``nn.Conv2d`` layers
        (``groups=1``, zero padding) with at least ``min_features`` output channels become
        :class:`SchemeConv2d`.
    scheme
        A scheme, a scheme source or a format (the catalog's best), verified by the layers.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from discover.nn import convert
    >>> mlp = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2)).double()
    >>> x = torch.randn(5, 8, dtype=torch.float64)
    >>> before = mlp(x)
    >>> converted = convert(mlp, "strassen", min_features=8)
    >>> type(converted[0]).__name__, type(converted[2]).__name__
    ('SchemeLinear', 'Linear')
    >>> bool(torch.allclose(converted(x), before))
    True
    """
    for name, child in list(model.named_children()):
        if type(child) is nn.Linear and min(child.in_features, child.out_features) >= min_features:
            setattr(model, name, SchemeLinear.from_linear(child, scheme, levels=levels))
        elif convs and type(child) is nn.Conv2d and child.groups == 1 and child.padding_mode == "zeros" \
                and not isinstance(child.padding, str) and child.out_channels >= min_features:
            setattr(model, name, SchemeConv2d.from_conv(child, scheme, levels=levels))
        else:
            convert(child, scheme, min_features, levels, convs)
    return model
