"""SchemeMatmul / SchemeLinear: equality with torch for every scheme, gradients, buffers, state_dict."""
from __future__ import annotations

import io

import pytest
import torch
from torch import nn

from discover import catalog
from discover.errors import DiscoverError, LoadError, SchemeError
from discover.known import strassen, winograd
from discover.nn import SchemeLinear, SchemeMatmul
from discover.scheme import Scheme
from discover.symmetry import kron


@pytest.fixture(autouse=True)
def _one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _schemes() -> list[tuple[str, Scheme]]:
    """Every catalog scheme up to 4x4x4 (over Z or Q), plus fixed ones so the list is never empty."""
    found = [
        ("strassen", strassen()), ("winograd", winograd()), ("naive 2x3x4", Scheme.naive("2x3x4")),
        ("strassen_x_strassen", kron(strassen(), strassen())),
    ]
    try:
        entries = catalog.list_entries()
    except DiscoverError:
        entries = []
    for entry in entries:
        s = entry.scheme
        if not s.mod2 and max(s.format.dims) <= 4:
            found.append((entry.path.name, s))
    return found


SCHEMES = _schemes()


@pytest.mark.parametrize("name,scheme", SCHEMES, ids=[n for n, _ in SCHEMES])
def test_scheme_linear_equals_nn_linear(name, scheme):
    torch.manual_seed(0)
    n, m, p = scheme.format.dims
    # Sizes that do not divide the block grid (peeling/padding), batched leading dimensions.
    in_f, out_f, rows = 2 * m + 1, 2 * p + 3, 2 * n + 1
    linear = nn.Linear(in_f, out_f).double()
    x = torch.randn(3, rows, in_f, dtype=torch.float64)
    expected = linear(x)
    for boundary in ("peel", "pad"):
        layer = SchemeLinear.from_linear(linear, scheme, levels=1, boundary=boundary)
        torch.testing.assert_close(layer(x), expected, rtol=1e-12, atol=1e-12)
    assert torch.equal(SchemeLinear.from_linear(linear, scheme, levels=0)(x.reshape(-1, in_f)), (x.reshape(-1, in_f) @ linear.weight.T) + linear.bias)


@pytest.mark.parametrize("name,scheme", SCHEMES[:3], ids=[n for n, _ in SCHEMES[:3]])
def test_two_levels_match_torch(name, scheme):
    torch.manual_seed(1)
    n, m, p = scheme.format.dims
    a = torch.randn(2, n * n * 2 + 1, m * m * 2 + 1, dtype=torch.float64)
    b = torch.randn(m * m * 2 + 1, p * p * 2 + 1, dtype=torch.float64)
    for boundary in ("peel", "pad"):
        torch.testing.assert_close(SchemeMatmul(scheme, levels=2, boundary=boundary)(a, b), a @ b, rtol=1e-12, atol=1e-12)


def test_program_is_the_slp_of_the_scheme():
    layer = SchemeMatmul(winograd(), levels=1)
    assert layer.program.additions == 15 and layer.program.plain_additions == 24
    assert layer.program.multiplications == 7


def test_gradcheck_matmul_and_linear():
    torch.manual_seed(0)
    mm = SchemeMatmul(strassen(), levels=2)
    a = torch.randn(5, 6, dtype=torch.float64, requires_grad=True)
    b = torch.randn(6, 7, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(mm, (a, b))
    layer = SchemeLinear(5, 4, winograd(), levels=1).double()
    x = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(layer, (x,))
    layer(x).sum().backward()
    assert layer.weight.grad is not None and layer.bias.grad is not None


def test_buffers_are_not_parameters_and_move_with_to():
    layer = SchemeLinear(4, 4, strassen(), levels=1)
    names = {n for n, _ in layer.named_parameters()}
    assert names == {"weight", "bias"}
    assert {"matmul.U", "matmul.V", "matmul.W"} <= set(layer.state_dict())
    assert layer.matmul.U.shape == (7, 2, 2) and not layer.matmul.U.requires_grad
    half = layer.to(torch.float32)
    assert half.matmul.U.dtype == torch.float32
    text = repr(layer)
    for piece in ("format=2x2x2", "rank=7", "ring=ZT", "levels=1"):
        assert piece in text


def test_state_dict_round_trip_recompiles_from_buffers():
    torch.manual_seed(0)
    source = SchemeLinear(6, 5, winograd(), levels=1)
    buffer = io.BytesIO()
    torch.save(source.state_dict(), buffer)
    buffer.seek(0)
    target = SchemeLinear(6, 5, strassen(), levels=1)
    target.load_state_dict(torch.load(buffer))
    assert target.matmul.scheme.same_coefficients(winograd())
    assert target.matmul.program.additions == 15
    x = torch.randn(7, 6)
    assert torch.equal(target(x), source(x))


def test_loading_buffers_of_an_invalid_scheme_fails_clearly():
    layer = SchemeMatmul(strassen(), levels=1)
    state = layer.state_dict()
    state["U"] = state["U"].clone()
    state["U"][0, 0, 0] = 0.0
    with pytest.raises(SchemeError, match="valid scheme"):
        SchemeMatmul(strassen(), levels=1).load_state_dict(state)


def test_format_string_uses_the_catalog():
    try:
        best = catalog.best("2x2x2")
    except LoadError:
        with pytest.raises(LoadError):
            SchemeMatmul("2x2x2")
        return
    layer = SchemeMatmul("2x2x2")
    assert layer.scheme.same_coefficients(best)


def test_mod2_schemes_and_bad_arguments_are_refused():
    with pytest.raises(SchemeError):
        SchemeMatmul(strassen().as_mod2())
    with pytest.raises(ValueError):
        SchemeMatmul(strassen(), levels=-1)
    with pytest.raises(ValueError):
        SchemeMatmul(strassen(), boundary="wrap")


def test_bench_nn_prints_a_table_and_rejects_unknown_schemes():
    from click.testing import CliRunner

    from discover.cli import main

    runner = CliRunner()
    result = runner.invoke(main, ["bench", "nn", "--quick", "--size", "64", "--repeats", "1", "--scheme", "winograd"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("#") and "rank 7" in lines[0]
    assert lines[1].split()[:2] == ["N", "levels"]
    assert lines[2].split()[:2] == ["64", "1"]
    bad = runner.invoke(main, ["bench", "nn", "--quick", "--scheme", "2x2"])
    assert bad.exit_code == 2 and bad.stderr.startswith("error:")
