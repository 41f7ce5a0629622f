"""StrassenNets recurrent layers: LSTM and GRU whose gate products are sum-product networks.

Each layer of ``torch.nn.LSTM`` (``torch.nn.GRU``) computes two matrix products per time step,
input-to-hidden ``W_ih x`` and hidden-to-hidden ``W_hh h`` (G·H gate rows, G = 4 for the LSTM,
3 for the GRU). Here both are :class:`~discover.nn.spn_layers.SPNLinear` products
``W_c[(W_b v) ⊙ ã] + b`` with budget r (ternary W_b, W_c in the ternary phases, full-precision
ã), as in StrassenNets' language models. Gate order, biases, batch-first/sequence-first layouts,
unbatched inputs and the ``(h, c)`` state follow the torch layers, so the same weights give the
same outputs (see :meth:`SPNLSTM.load_dense`).

The forward pass runs torch's own recurrent kernel (``torch.lstm``, ``torch.gru``) on the folded
matrices ``W_c · diag(ã) · W_b`` (the same linear maps, so the same outputs and gradients),
formed once per call: training runs at the speed of ``torch.nn.LSTM`` instead of a Python loop
over time steps. :func:`~discover.nn.count_ops` counts the layer as it runs at inference: r
products per step and matrix once W_b and W_c are ternary.
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import nn

from .spn_layers import SPNLinear

State = tuple[torch.Tensor, torch.Tensor]


def folded_weight(layer: SPNLinear) -> torch.Tensor:
    """``W_c · diag(ã) · W_b`` (out × in): the linear map of an SPN layer as one matrix."""
    return layer.w_c() @ (layer.a_tilde.unsqueeze(1) * layer.w_b())


class SPNRecurrentLayer(nn.Module):
    """The two gate products of one recurrent layer: ``ih`` (input → G·H) and ``hh`` (hidden → G·H)."""

    def __init__(self, input_size: int, hidden_size: int, gates: int, r_ih: int, r_hh: int, bias: bool) -> None:
        super().__init__()
        self.ih = SPNLinear(input_size, gates * hidden_size, r_ih, bias=bias)
        self.hh = SPNLinear(hidden_size, gates * hidden_size, r_hh, bias=bias)


def _budgets(r: int | Sequence[int]) -> tuple[int, int]:
    if isinstance(r, int):
        return r, r
    r_ih, r_hh = (int(v) for v in r)
    return r_ih, r_hh


class _SPNRecurrent(nn.Module):
    """Shared layout handling of :class:`SPNLSTM` and :class:`SPNGRU`."""

    GATES = 0
    DENSE: type[nn.RNNBase] = nn.RNNBase

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        r: int | Sequence[int],
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        r_ih, r_hh = _budgets(r)
        if min(input_size, hidden_size, num_layers, r_ih, r_hh) < 1:
            raise ValueError("input_size, hidden_size, num_layers and r must be positive")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"dropout must lie in [0, 1], got {dropout}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.r_ih, self.r_hh = r_ih, r_hh
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.layers = nn.ModuleList(
            SPNRecurrentLayer(input_size if k == 0 else hidden_size, hidden_size, self.GATES, r_ih, r_hh, bias)
            for k in range(num_layers)
        )

    def _run(self, kernel, x: torch.Tensor, states: tuple[Optional[torch.Tensor], ...]):
        """``kernel`` (torch.lstm or torch.gru) on the folded weights, with torch's layouts."""
        unbatched = x.dim() == 2
        if x.dim() not in (2, 3):
            raise ValueError(f"{type(self).__name__}: expected a 2-D or 3-D input, got shape {tuple(x.shape)}")
        if unbatched:
            x = x.unsqueeze(1)  # (L, 1, in): time-major
        batch_first = self.batch_first and not unbatched
        batch = x.shape[0 if batch_first else 1]
        if x.shape[-1] != self.input_size:
            raise ValueError(f"{type(self).__name__}: expected {self.input_size} input features, got {x.shape[-1]}")
        shape = (self.num_layers, batch, self.hidden_size)
        full = []
        for state in states:
            if state is None:
                full.append(x.new_zeros(shape))
                continue
            state = state.unsqueeze(1) if unbatched else state
            if tuple(state.shape) != shape:
                expected = (shape[0], shape[2]) if unbatched else shape
                raise ValueError(f"{type(self).__name__}: a state must have shape {expected}, got {tuple(state.shape)}")
            full.append(state)
        params: list[torch.Tensor] = []
        for layer in self.layers:
            params += [folded_weight(layer.ih), folded_weight(layer.hh)]
            if self.bias:
                params += [layer.ih.bias, layer.hh.bias]  # type: ignore[list-item]
        hx = full[0] if len(full) == 1 else tuple(full)
        output, *final = kernel(x, hx, params, self.bias, self.num_layers, self.dropout, self.training, False, batch_first)
        if unbatched:
            output, final = output.squeeze(1), [f.squeeze(1) for f in final]
        return output, final

    @torch.no_grad()
    def load_dense(self, dense: nn.RNNBase) -> "_SPNRecurrent":
        """Copy the weights of a ``torch.nn`` layer of the same sizes into this one (FULL phase).

        Needs ``r_ih ≥ G·H`` and ``r_hh ≥ G·H``: W_b holds the dense matrix in its first G·H
        rows, W_c selects them (identity block), ã = 1; the extra rows and columns are zero.
        Afterwards ``self(x, state)`` equals ``dense(x, state)`` up to rounding.
        """
        rows = self.GATES * self.hidden_size
        if not isinstance(dense, self.DENSE) or dense.hidden_size != self.hidden_size \
                or dense.input_size != self.input_size or dense.num_layers != self.num_layers \
                or dense.bidirectional or getattr(dense, "proj_size", 0) or dense.bias != self.bias:
            raise ValueError(f"load_dense needs a unidirectional {self.DENSE.__name__} of the same sizes and bias")
        if min(self.r_ih, self.r_hh) < rows:
            raise ValueError(f"load_dense needs r ≥ {rows} (the gate rows), got r_ih={self.r_ih}, r_hh={self.r_hh}")
        for k, layer in enumerate(self.layers):
            for name, spn in (("ih", layer.ih), ("hh", layer.hh)):
                weight = getattr(dense, f"weight_{name}_l{k}")
                spn.w_b.weight.zero_()
                spn.w_b.weight[:rows].copy_(weight)
                spn.w_c.weight.zero_()
                spn.w_c.weight[:, :rows].copy_(torch.eye(rows, dtype=weight.dtype))
                spn.a_tilde.fill_(1.0)
                if self.bias:
                    spn.bias.copy_(getattr(dense, f"bias_{name}_l{k}"))  # type: ignore[union-attr]
        return self

    def extra_repr(self) -> str:
        return (f"{self.input_size}, {self.hidden_size}, r=({self.r_ih}, {self.r_hh}), num_layers={self.num_layers}, "
                f"bias={self.bias}, batch_first={self.batch_first}, dropout={self.dropout}")


class SPNLSTM(_SPNRecurrent):
    """StrassenNets replacement of ``torch.nn.LSTM`` (gates i, f, g, o as in torch).

    Parameters
    ----------
    input_size, hidden_size, num_layers, bias, batch_first, dropout
        As for ``torch.nn.LSTM`` (unidirectional, no projection).
    r : int or (int, int)
        Budget of the input-to-hidden and hidden-to-hidden products (one value for both):
        multiplications per time step and matrix in the ternary phases.

    Notes
    -----
    ``forward(input, (h_0, c_0)=None) -> (output, (h_n, c_n))`` with the shapes of
    ``torch.nn.LSTM``: input (L, N, in), (N, L, in) when ``batch_first``, or (L, in) unbatched;
    states (num_layers, N, H), or (num_layers, H) unbatched.
    """

    GATES = 4
    DENSE = nn.LSTM

    def forward(self, x: torch.Tensor, hx: Optional[State] = None) -> tuple[torch.Tensor, State]:
        output, (h_n, c_n) = self._run(torch.lstm, x, (None, None) if hx is None else tuple(hx))
        return output, (h_n, c_n)


class SPNGRU(_SPNRecurrent):
    """StrassenNets replacement of ``torch.nn.GRU`` (gates r, z, n as in torch).

    Same parameters as :class:`SPNLSTM`; ``forward(input, h_0=None) -> (output, h_n)``.
    The candidate is ``n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))`` as in torch.
    """

    GATES = 3
    DENSE = nn.GRU

    def forward(self, x: torch.Tensor, hx: Optional[torch.Tensor] = None) -> tuple[torch.Tensor, torch.Tensor]:
        output, (h_n,) = self._run(torch.gru, x, (hx,))
        return output, h_n
