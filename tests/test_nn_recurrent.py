"""StrassenNets recurrent layers (SPNLSTM, SPNGRU): torch equivalence, phases, gradients, op counts."""
from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.func import functional_call

from discover.nn import SPNGRU, SPNLSTM, Phase, count_ops, set_phase
from discover.nn.ops import RECURRENT_KINDS
from discover.nn.spn_recurrent import folded_weight

F64 = torch.float64


@pytest.fixture(autouse=True)
def _one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _set(weight: torch.Tensor, value) -> None:
    with torch.no_grad():
        weight.copy_(torch.as_tensor(value, dtype=weight.dtype).reshape(weight.shape))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("num_layers,bias", [(1, True), (2, True), (2, False)])
def test_spn_lstm_full_phase_reproduces_torch_lstm(batch_first, num_layers, bias):
    torch.manual_seed(0)
    dense = nn.LSTM(3, 4, num_layers=num_layers, bias=bias, batch_first=batch_first).double()
    spn = SPNLSTM(3, 4, r=16, num_layers=num_layers, bias=bias, batch_first=batch_first).double().load_dense(dense)
    x = torch.randn(5, 6, 3, dtype=F64)
    batch = 5 if batch_first else 6
    state = (torch.randn(num_layers, batch, 4, dtype=F64), torch.randn(num_layers, batch, 4, dtype=F64))
    for args in ((x,), (x, state)):
        want_y, (want_h, want_c) = dense(*args)
        got_y, (got_h, got_c) = spn(*args)
        for got, want in ((got_y, want_y), (got_h, want_h), (got_c, want_c)):
            assert got.shape == want.shape
            torch.testing.assert_close(got, want, rtol=0, atol=1e-12)
    # Same gradients with respect to the input.
    xg = x.clone().requires_grad_(True)
    (grad_dense,) = torch.autograd.grad(dense(xg)[0].sum(), xg)
    (grad_spn,) = torch.autograd.grad(spn(xg)[0].sum(), xg)
    torch.testing.assert_close(grad_spn, grad_dense, rtol=0, atol=1e-12)


@pytest.mark.parametrize("batch_first", [False, True])
def test_spn_gru_full_phase_reproduces_torch_gru(batch_first):
    torch.manual_seed(1)
    dense = nn.GRU(3, 4, num_layers=2, batch_first=batch_first).double()
    spn = SPNGRU(3, 4, r=(12, 13), num_layers=2, batch_first=batch_first).double().load_dense(dense)
    x = torch.randn(5, 6, 3, dtype=F64)
    h0 = torch.randn(2, 5 if batch_first else 6, 4, dtype=F64)
    want_y, want_h = dense(x, h0)
    got_y, got_h = spn(x, h0)
    torch.testing.assert_close(got_y, want_y, rtol=0, atol=1e-12)
    torch.testing.assert_close(got_h, want_h, rtol=0, atol=1e-12)


def test_unbatched_input_and_state_shapes_follow_torch():
    torch.manual_seed(2)
    dense = nn.LSTM(3, 4, num_layers=2).double()
    spn = SPNLSTM(3, 4, r=16, num_layers=2).double().load_dense(dense)
    x = torch.randn(7, 3, dtype=F64)
    state = (torch.randn(2, 4, dtype=F64), torch.randn(2, 4, dtype=F64))
    want_y, (_, want_c) = dense(x, state)
    got_y, (got_h, got_c) = spn(x, state)
    assert got_y.shape == (7, 4) and got_h.shape == got_c.shape == (2, 4)
    torch.testing.assert_close(got_y, want_y, rtol=0, atol=1e-12)
    torch.testing.assert_close(got_c, want_c, rtol=0, atol=1e-12)
    # Carrying the state over two halves of a sequence gives the whole-sequence result.
    first, carried = spn(x[:3], state)
    second, _ = spn(x[3:], carried)
    torch.testing.assert_close(torch.cat([first, second]), got_y, rtol=0, atol=1e-12)


def test_bad_shapes_and_sizes_are_value_errors():
    spn = SPNLSTM(3, 4, r=5, num_layers=2, batch_first=True)
    with pytest.raises(ValueError, match="2-D or 3-D"):
        spn(torch.randn(2, 3, 4, 3))
    with pytest.raises(ValueError, match="3 input features"):
        spn(torch.randn(2, 5, 2))
    with pytest.raises(ValueError, match=r"\(2, 2, 4\)"):
        spn(torch.randn(2, 5, 3), (torch.zeros(1, 2, 4), torch.zeros(1, 2, 4)))
    with pytest.raises(ValueError, match="r ≥ 16"):
        spn.load_dense(nn.LSTM(3, 4, num_layers=2, batch_first=True))
    with pytest.raises(ValueError, match="positive"):
        SPNGRU(3, 4, r=0)


def test_ternary_phase_runs_the_ternary_weights():
    """In the ternary phases the LSTM uses exactly W_c·diag(ã)·W_b of the ternary weights (values ±s, 0)."""
    torch.manual_seed(3)
    spn = SPNLSTM(3, 2, r=5).double()
    set_phase(spn, Phase.TERNARY)
    cells = [m for m in spn.modules() if hasattr(m, "a_tilde")]
    assert len(cells) == 2 and all(m.phase is Phase.TERNARY for m in cells)
    x = torch.randn(4, 1, 3, dtype=F64)
    y, _ = spn(x)
    ih, hh = spn.layers[0].ih, spn.layers[0].hh
    w_ih, w_hh = ((t["w_c"] * m.a_tilde.detach()) @ t["w_b"] for m, t in ((ih, ih.ternary_weights()), (hh, hh.ternary_weights())))
    h = c = torch.zeros(1, 2, dtype=F64)
    for step in x:  # torch's gate order i, f, g, o
        i, f, g, o = (step @ w_ih.T + ih.bias.detach() + h @ w_hh.T + hh.bias.detach()).chunk(4, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
    torch.testing.assert_close(y[-1], h, rtol=0, atol=1e-12)
    set_phase(spn, Phase.FROZEN)
    trainable = {name for name, p in spn.named_parameters() if p.requires_grad}
    assert trainable == {f"layers.0.{m}.{p}" for m in ("ih", "hh") for p in ("a_tilde", "bias")}


@pytest.mark.parametrize("cls", [SPNLSTM, SPNGRU])
@pytest.mark.parametrize("phase", [Phase.FULL, Phase.FROZEN])
def test_gradcheck_tiny_instance(cls, phase):
    """Gradients with respect to the input, the state and every trainable parameter (float64)."""
    torch.manual_seed(4)
    spn = cls(2, 2, r=3, num_layers=2, batch_first=True).double()
    set_phase(spn, phase)
    names = [name for name, p in spn.named_parameters() if p.requires_grad]
    params = [spn.get_parameter(name).detach().clone().requires_grad_(True) for name in names]
    x = torch.randn(2, 3, 2, dtype=F64, requires_grad=True)
    h0 = torch.randn(2, 2, 2, dtype=F64, requires_grad=True)

    def run(x, h0, *values):
        state = (h0, torch.tanh(h0)) if cls is SPNLSTM else h0
        output, _ = functional_call(spn, dict(zip(names, values)), (x, state))
        return output

    assert torch.autograd.gradcheck(run, (x, h0, *params), eps=1e-6, atol=1e-7)


def _hand_lstm() -> SPNLSTM:
    """input 2, hidden 1, r = 2 for both products, with chosen ternary patterns."""
    spn = SPNLSTM(2, 1, r=2)
    ih, hh = spn.layers[0].ih, spn.layers[0].hh
    _set(ih.w_b.weight, [[1, -1], [0, 1]])                   # 2 + 1 nonzeros: 1 + 0 additions
    _set(ih.w_c.weight, [[1, 1], [0, -1], [1, 0], [-1, 1]])   # 2, 1, 1, 2 nonzeros: 2 additions
    _set(hh.w_b.weight, [[1], [-1]])                         # 1, 1: 0 additions
    _set(hh.w_c.weight, [[1, 0], [1, 1], [0, 1], [1, -1]])    # 1, 2, 1, 2: 2 additions
    return spn


def test_count_ops_spn_lstm_by_hand():
    spn = _hand_lstm()
    full = count_ops(spn, (3, 2))  # 3 time steps of 2 features
    # FULL, per step: ih 2·2 + 2 + 4·2 = 14 mults, 2·1 + 4·1 + 4 (bias) = 10 adds; hh 2·1 + 2 + 4·2 = 12
    # mults, 0 + 4 + 4 = 8 adds; joining the gates 4 adds; cell update 3 mults, 1 add.
    assert [(layer.kind, layer.mults, layer.adds) for layer in full.layers] == [("SPNLSTM", 3 * 29, 3 * 23)]
    set_phase(spn, Phase.TERNARY)
    ternary = count_ops(spn, (3, 2))
    # Ternary, per step: r = 2 products each plus the cell's 3; adds 1 + 2 + 4 (ih) + 0 + 2 + 4 (hh) + 4 + 1.
    assert (ternary.mults, ternary.adds) == (3 * 7, 3 * 18)
    assert count_ops(spn, (5, 2)).mults == 5 * 7


def test_count_ops_dense_recurrent_by_hand():
    lstm = count_ops(nn.LSTM(2, 1), (3, 2))
    # Per step: ih 4·2 mults, 4·(1 + 1) adds; hh 4·1 mults, 4·(0 + 1) adds; join 4; cell 3 mults, 1 add.
    assert (lstm.mults, lstm.adds) == (3 * 15, 3 * 17)
    gru = count_ops(nn.GRU(2, 1, num_layers=2, bias=False), (3, 2))
    # Per step, layer 1: 3·2 + 3·1 mults, 3·1 + 3·0 adds; layer 2: 3 + 3 mults, 0 adds; each layer joins
    # 3 and updates with 2 mults, 2 adds.
    assert (gru.mults, gru.adds) == (3 * (9 + 2 + 6 + 2), 3 * (3 + 5 + 0 + 5))
    spn_gru = SPNGRU(2, 1, r=1)
    set_phase(spn_gru, Phase.FROZEN)
    assert count_ops(spn_gru, (4, 2)).mults == 4 * (1 + 1 + 2)


def test_count_ops_language_model_kinds():
    from discover.nn.charlm import VOCAB, CharLM

    model = CharLM(embed=8, hidden=4, factor=1.0)
    set_phase(model, "ternary")
    ops = count_ops(model, (1,), input_dtype=torch.long)
    assert [layer.kind for layer in ops.layers] == ["Embedding", "SPNLSTM", "Linear"]
    assert ops.layers[0].mults == ops.layers[0].adds == 0
    assert ops.layers[2].mults == 4 * VOCAB
    assert ops.of_kinds(*RECURRENT_KINDS).mults == 16 + 16 + 3 * 4


def test_folded_weight_is_the_spn_map():
    torch.manual_seed(5)
    spn = SPNLSTM(3, 2, r=4).double()
    layer = spn.layers[0].ih
    v = torch.randn(6, 3, dtype=F64)
    torch.testing.assert_close(v @ folded_weight(layer).T + layer.bias, layer(v), rtol=0, atol=1e-12)
