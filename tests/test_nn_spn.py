"""StrassenNets layers: shapes, exact representability, phases, ternary weights, toy training, distillation."""
from __future__ import annotations

import io
import sys

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from discover.nn import Phase, SPNConv2d, SPNLinear, TrainConfig, accuracy, distillation_loss, set_phase, train


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models run fastest on one thread, especially on a shared 2-core machine."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _set(weight: torch.Tensor, value: torch.Tensor) -> None:
    with torch.no_grad():
        weight.copy_(value)


@pytest.mark.parametrize("k,stride,padding,patch,size", [
    (3, 1, 1, 1, 8), (3, 1, 1, 2, 8), (3, 1, 1, 2, 7), (3, 2, 1, 2, 9), (5, 1, 0, 3, 11), (1, 1, 0, 2, 5),
])
def test_spn_conv_output_shape_matches_conv2d(k, stride, padding, patch, size):
    torch.manual_seed(0)
    x = torch.randn(2, 3, size, size + 1)
    spn = SPNConv2d(3, 4, k, r=5, stride=stride, padding=padding, patch=patch)
    conv = nn.Conv2d(3, 4, k, stride=stride, padding=padding)
    assert spn(x).shape == conv(x).shape


def test_spn_linear_full_phase_represents_any_linear_layer():
    torch.manual_seed(0)
    linear = nn.Linear(6, 4).double()
    spn = SPNLinear(6, 4, r=4).double()
    _set(spn.w_b.weight, linear.weight)
    _set(spn.w_c.weight, torch.eye(4, dtype=torch.float64))
    _set(spn.bias, linear.bias)
    x = torch.randn(5, 3, 6, dtype=torch.float64)
    torch.testing.assert_close(spn(x), linear(x), rtol=0, atol=1e-12)


@pytest.mark.parametrize("patch,stride,size", [(1, 1, 7), (2, 1, 7), (2, 2, 9), (3, 1, 8)])
def test_spn_conv_full_phase_represents_any_conv(patch, stride, size):
    """With r = out·p², W_b holds the conv kernel at each patch offset and W_c routes it back."""
    torch.manual_seed(1)
    cin, cout, k = 2, 3, 3
    conv = nn.Conv2d(cin, cout, k, stride=stride, padding=1).double()
    spn = SPNConv2d(cin, cout, k, r=cout * patch * patch, stride=stride, padding=1, patch=patch).double()
    kb = k + (patch - 1) * stride
    wb = torch.zeros(cout * patch * patch, cin, kb, kb, dtype=torch.float64)
    wc = torch.zeros(cout * patch * patch, cout, patch, patch, dtype=torch.float64)
    for o in range(cout):
        for u in range(patch):
            for v in range(patch):
                j = (o * patch + u) * patch + v
                wb[j, :, u * stride:u * stride + k, v * stride:v * stride + k] = conv.weight[o]
                wc[j, o, u, v] = 1.0
    _set(spn.w_b.weight, wb)
    _set(spn.w_c.weight, wc)
    _set(spn.bias, conv.bias)
    x = torch.randn(2, cin, size, size, dtype=torch.float64)
    torch.testing.assert_close(spn(x), conv(x), rtol=0, atol=1e-12)


def _values_are_ternary(weight: torch.Tensor, scale: torch.Tensor) -> bool:
    s = scale.item()
    return bool(torch.all((weight == 0) | (weight == s) | (weight == -s)).item())


def test_phases_switch_by_one_call_and_forward_never_mutates():
    torch.manual_seed(0)
    model = nn.Sequential(SPNConv2d(1, 4, 3, r=4, padding=1, patch=2), nn.BatchNorm2d(4), nn.Flatten(), SPNLinear(64, 3, r=3))
    x = torch.randn(4, 1, 4, 4)
    assert all(m.phase is Phase.FULL for m in (model[0], model[3]))
    set_phase(model, "ternary")
    for layer in (model[0], model[3]):
        assert layer.phase is Phase.TERNARY
        assert layer.w_b.scale.item() > 0 and layer.w_b.scale.requires_grad
        for name, w in layer.ternary_weights().items():
            scale = getattr(layer, name).scale
            assert _values_are_ternary(w, scale)
            assert torch.equal(getattr(layer, name)().detach(), w)  # forward uses exactly these
    before = {k: v.clone() for k, v in model.state_dict().items() if "running" not in k and "num_batches" not in k}
    model.train()
    model(x)
    after = model.state_dict()
    assert all(torch.equal(v, after[k]) for k, v in before.items())
    set_phase(model, Phase.FROZEN)
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"0.a_tilde", "0.bias", "1.weight", "1.bias", "3.a_tilde", "3.bias"}


def test_spn_state_dict_round_trip():
    torch.manual_seed(0)
    layer = SPNConv2d(2, 3, 3, r=4, padding=1, patch=2)
    set_phase(layer, Phase.TERNARY)
    buffer = io.BytesIO()
    torch.save(layer.state_dict(), buffer)
    buffer.seek(0)
    other = SPNConv2d(2, 3, 3, r=4, padding=1, patch=2)
    set_phase(other, Phase.TERNARY)
    other.load_state_dict(torch.load(buffer))
    x = torch.randn(1, 2, 6, 6)
    assert torch.equal(layer(x), other(x))


def test_spn_linear_learns_a_toy_regression_and_ends_ternary():
    """Fit y = M x through all three phases; the learned ternary net approximates M well."""
    torch.manual_seed(0)
    target = torch.randint(-1, 2, (4, 8)).float() @ torch.randint(-1, 2, (8, 8)).float() * 0.3
    x = torch.randn(256, 8)
    y = x @ target.T
    layer = SPNLinear(8, 4, r=16, bias=False)
    loss0 = F.mse_loss(layer(x), y).item()
    for phase, steps, lr in ((Phase.FULL, 100, 3e-2), (Phase.TERNARY, 150, 1e-2), (Phase.FROZEN, 50, 1e-2)):
        set_phase(layer, phase)
        opt = torch.optim.Adam([p for p in layer.parameters() if p.requires_grad], lr=lr)
        for _ in range(steps):
            loss = F.mse_loss(layer(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
    final = F.mse_loss(layer(x), y).item()
    assert final < 0.05 * loss0
    for name, w in layer.ternary_weights().items():
        assert _values_are_ternary(w, getattr(layer, name).scale)


def test_spn_cnn_trains_on_a_toy_classification_with_distillation():
    torch.manual_seed(0)
    x = torch.randn(128, 1, 6, 6)
    y = (x[:, 0, :3].sum(dim=(1, 2)) > x[:, 0, 3:].sum(dim=(1, 2))).long()
    teacher = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(144, 2))
    train(teacher, x, y, TrainConfig(epochs=15, lr=1e-2), seed=0)
    student = nn.Sequential(SPNConv2d(1, 4, 3, r=4, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), SPNLinear(144, 2, r=4))
    for phase, epochs in ((Phase.FULL, 6), (Phase.TERNARY, 10), (Phase.FROZEN, 3)):
        set_phase(student, phase)
        losses = train(student, x, y, TrainConfig(epochs=epochs, lr=1e-2), seed=1, teacher=teacher)
        assert len(losses) == epochs
    assert accuracy(teacher, x, y) > 0.9
    assert accuracy(student, x, y) > 0.85


def test_training_is_deterministic_for_a_seed():
    def run() -> torch.Tensor:
        torch.manual_seed(3)
        model = nn.Sequential(nn.Flatten(), SPNLinear(16, 3, r=4))
        x, y = torch.randn(64, 1, 4, 4, generator=torch.Generator().manual_seed(0)), torch.arange(64) % 3
        set_phase(model, Phase.TERNARY)
        train(model, x, y, TrainConfig(epochs=3, batch_size=16), seed=5)
        return model[1].w_b.weight.detach().clone()

    assert torch.equal(run(), run())


def test_distillation_loss_limits():
    torch.manual_seed(0)
    logits, targets = torch.randn(8, 5), torch.randint(0, 5, (8,))
    ce = F.cross_entropy(logits, targets)
    assert torch.equal(distillation_loss(logits, targets), ce)
    assert torch.equal(distillation_loss(logits, targets, torch.randn(8, 5), alpha=0.0), ce)
    # A teacher equal to the student contributes nothing: only the hard term remains.
    torch.testing.assert_close(distillation_loss(logits, targets, logits, temperature=3.0, alpha=0.25), 0.75 * ce)
    teacher = torch.randn(8, 5)
    soft = F.kl_div(F.log_softmax(logits / 2, -1), F.softmax(teacher / 2, -1), reduction="batchmean")
    torch.testing.assert_close(distillation_loss(logits, targets, teacher, temperature=2.0, alpha=1.0), 4 * soft)


@pytest.mark.slow
def test_rediscovery_through_the_network(tmp_path):
    """The 2x2 matmul SPN (ternary W_a, W_b, W_c, r = 7) trained on random (A, B) pairs gives an
    exact scheme (the ``sgd`` search method), ``strassen verify`` accepts it, and a DNN layer runs it."""
    from click.testing import CliRunner

    from discover.cli import main
    from discover.jsonio import load_scheme
    from discover.nn import SchemeLinear

    runner = CliRunner()
    found = runner.invoke(main, [
        "search", "2x2x2", "--rank", "7", "--method", "sgd", "--seed", "0", "-j", "1", "--restarts", "1",
        "-O", "batch=32", "--out", str(tmp_path), "--quiet",
    ])
    assert found.exit_code == 0, found.output
    files = sorted(tmp_path.glob("*.json"))
    assert [f.name for f in files] == ["2x2x2_r7_ZT.json"]
    checked = runner.invoke(main, ["verify", str(files[0])])
    assert checked.exit_code == 0, checked.output
    scheme = load_scheme(files[0])
    assert scheme.rank == 7 and scheme.ring == "ZT"
    linear = nn.Linear(6, 5).double()
    layer = SchemeLinear.from_linear(linear, scheme, levels=2)
    x = torch.randn(9, 6, dtype=torch.float64)
    torch.testing.assert_close(layer(x), linear(x), rtol=1e-12, atol=1e-12)


def test_nn_demo_quick_prints_the_table():
    pytest.importorskip("sklearn", reason="the nn-demo needs the optional 'demo' extra (scikit-learn)")
    from click.testing import CliRunner

    from discover.cli import main

    result = CliRunner().invoke(main, ["nn-demo", "--quick", "--budgets", "1", "--seed", "0"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["model", "test", "acc"]
    assert lines[1].startswith("baseline CNN") and "309,248" in lines[1]
    # r = 1×out: conv1 16·64, conv2 32·64 and linear 10 products per image: a 99.0 % cut.
    assert lines[2].startswith("SPN r=1x") and "3,082" in lines[2] and "99.0 %" in lines[2]
    assert "seed 0: baseline accuracy" in result.stderr


@pytest.mark.slow
def test_nn_demo_is_deterministic_for_a_seed():
    pytest.importorskip("sklearn", reason="the nn-demo needs the optional 'demo' extra (scikit-learn)")
    from discover.nn.demo import Schedule, run_demo

    schedule = Schedule(baseline=1, full=1, ternary=1, frozen=0)
    first, second = (run_demo((0.5,), (7,), schedule=schedule) for _ in range(2))
    assert [r.accuracies for r in first] == [r.accuracies for r in second]
    assert [(r.mults, r.adds) for r in first] == [(r.mults, r.adds) for r in second]


def test_nn_demo_without_scikit_learn_is_one_clear_error(monkeypatch):
    from click.testing import CliRunner

    from discover.cli import main

    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    result = CliRunner().invoke(main, ["nn-demo", "--quick"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: scikit-learn is not installed; install the demo extra: pip install 'strassen-discover[demo]'"
    ]


def test_nn_demo_rejects_bad_budgets():
    from click.testing import CliRunner

    from discover.cli import main

    result = CliRunner().invoke(main, ["nn-demo", "--budgets", "0,-1"])
    assert result.exit_code == 2 and result.stderr.startswith("error: --budgets")
