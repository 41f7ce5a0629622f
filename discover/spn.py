"""The StrassenNets sum-product network for matrix multiplication, batched over restarts.

``c = W_c [(W_b b) ⊙ (W_a a)]`` with a = vec(A), b = vec(B) (row-major), r hidden products,
so a trained network with weights in {-1, 0, 1} *is* a bilinear scheme:
``U_k = W_a[k]`` reshaped (n, m), ``V_k = W_b[k]`` reshaped (m, p), ``W_k = W_c[:, k]``
reshaped (n, p) (our W is not transposed). ``batch`` independent networks are trained at
once (one leading dimension). Used by the ``sgd`` search method and by the DNN layers
("rediscovery through the network").

Quantizers
----------
``"none"``
    Full-precision weights.
``"ste"``
    The paper's straight-through ternary estimator (:func:`discover.ternary.ternarize`,
    threshold per network and per layer); what the forward pass uses is what a scheme is
    read from.
``"penalty"``
    Full-precision forward pass; :meth:`SumProductMatmul.penalty` gives Σ (w³ − w)², a term
    that vanishes exactly on {-1, 0, 1}, to be added to the loss with an annealed weight.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np
import torch
from torch import nn

from .formats import Format
from .ternary import round_ternary, ternarize

QUANTIZERS = ("none", "ste", "penalty")


class SumProductMatmul(nn.Module):
    """``batch`` sum-product networks computing vec(A·B) from vec(A), vec(B).

    Parameters
    ----------
    fmt : Format or str
        The product ``A (n×m) @ B (m×p)``.
    rank : int
        Hidden products r.
    batch : int
        Independent networks trained together (restarts).
    quantizer : {"none", "ste", "penalty"}
        How weights are pushed to {-1, 0, 1} (see module docstring).
    init_scale : float
        Standard deviation of the initial weights.
    generator : torch.Generator, optional
        For reproducible initialisation.
    dtype : torch.dtype
        Parameter dtype (float32 by default; float64 for exact-check friendliness).
    """

    def __init__(self, fmt: Any, rank: int, batch: int = 1, quantizer: str = "none", init_scale: float = 0.5,
                 generator: Optional[torch.Generator] = None, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        if quantizer not in QUANTIZERS:
            raise ValueError(f"quantizer {quantizer!r}: choose one of {', '.join(QUANTIZERS)}")
        self.format = Format.parse(fmt)
        n, m, p = self.format.dims
        self.rank, self.batch, self.quantizer = int(rank), int(batch), quantizer

        def init(*shape: int) -> nn.Parameter:
            return nn.Parameter(torch.randn(*shape, generator=generator, dtype=dtype) * init_scale)

        self.Wa = init(batch, rank, n * m)
        self.Wb = init(batch, rank, m * p)
        self.Wc = init(batch, n * p, rank)

    def weights(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The weights the forward pass uses (ternarised with a straight-through gradient for ``ste``)."""
        if self.quantizer == "ste":
            return tuple(ternarize(w, dim=(1, 2)) for w in (self.Wa, self.Wb, self.Wc))  # type: ignore[return-value]
        return self.Wa, self.Wb, self.Wc

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """vec(A·B) for vec(A) of shape (N, nm) or (batch, N, nm), vec(B) likewise: (batch, N, np)."""
        Wa, Wb, Wc = self.weights()
        ha = torch.matmul(a, Wa.transpose(1, 2))  # (batch, N, r)
        hb = torch.matmul(b, Wb.transpose(1, 2))
        return torch.matmul(ha * hb, Wc.transpose(1, 2))

    def penalty(self) -> torch.Tensor:
        """Σ (w³ − w)² per network, shape (batch,): zero exactly when every weight is in {-1, 0, 1}."""
        return sum(((w * (w * w - 1.0)) ** 2).flatten(1).sum(1) for w in (self.Wa, self.Wb, self.Wc))

    @torch.no_grad()
    def ternary_weights(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Weights in {-1, 0, 1}: the STE forward weights for ``ste``, else the rounded weights."""
        if self.quantizer == "ste":
            return tuple(w.detach() for w in self.weights())  # type: ignore[return-value]
        return tuple(round_ternary(w.detach()) for w in (self.Wa, self.Wb, self.Wc))  # type: ignore[return-value]

    @torch.no_grad()
    def to_arrays(self, index: Optional[int] = None, quantized: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """U (·, r, n, m), V (·, r, m, p), W (·, r, n, p) in :class:`discover.scheme.Scheme` layout.

        ``index`` selects one network (leading dimension dropped); ``quantized`` returns the
        ternary weights (float arrays holding -1, 0, 1), else the raw weights.
        """
        n, m, p = self.format.dims
        Wa, Wb, Wc = self.ternary_weights() if quantized else (self.Wa.detach(), self.Wb.detach(), self.Wc.detach())
        U = Wa.reshape(self.batch, self.rank, n, m)
        V = Wb.reshape(self.batch, self.rank, m, p)
        W = Wc.transpose(1, 2).reshape(self.batch, self.rank, n, p)
        arrays = tuple(x.cpu().numpy() for x in (U, V, W))
        if index is not None:
            arrays = tuple(x[index] for x in arrays)
        return arrays  # type: ignore[return-value]


def random_matmul_batch(fmt: Any, size: int, generator: Optional[torch.Generator] = None,
                        dtype: torch.dtype = torch.float32, device: Any = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Random training pairs: vec(A), vec(B) with Gaussian entries and the target vec(A·B)."""
    fmt = Format.parse(fmt)
    n, m, p = fmt.dims
    A = torch.randn(size, n, m, generator=generator, dtype=dtype)
    B = torch.randn(size, m, p, generator=generator, dtype=dtype)
    C = A @ B
    if device is not None:
        A, B, C = A.to(device), B.to(device), C.to(device)
    return A.reshape(size, -1), B.reshape(size, -1), C.reshape(size, -1)
