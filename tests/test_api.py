"""The top-level API as a researcher's first script uses it: only ``import discover`` and ``import torch``."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from torch import nn

import discover
from discover.errors import LoadError, NotExactError, SearchError
from discover.nn import SchemeConv2d, SchemeLinear, convert, count_ops

FIRST_SCRIPT = """
import numpy as np, torch, discover
s = discover.load("catalog:3x3x3")                       # load
report = discover.verify(s)                               # verify (exact + sympy)
assert report.valid and s.rank == 23
from discover.formulas import scheme_formulas
lines = scheme_formulas(s)                                # formulas
assert lines[1].startswith("m1 = ") and len(lines) == 1 + 23 + 9
code = discover.export(s, "python")                      # export
assert "def matmul(" in code
rng = np.random.default_rng(0)
A = rng.integers(-9, 9, (4, 10, 7)); B = rng.integers(-9, 9, (4, 7, 11))
C = discover.matmul(A, B, s, levels=1)                    # a 3-D batch, integers: exact
assert C.shape == (4, 10, 11) and (C == A @ B).all()
a, b = torch.randn(4, 10, 7, dtype=torch.float64), torch.randn(4, 7, 11, dtype=torch.float64)
assert torch.allclose(discover.matmul(a, b, s), a @ b)
mlp = torch.nn.Sequential(torch.nn.Linear(12, 12), torch.nn.ReLU(), torch.nn.Linear(12, 3)).double()
x = torch.randn(5, 12, dtype=torch.float64); before = mlp(x)
discover.nn.convert(mlp, s, min_features=12)             # put the scheme into the model
assert type(mlp[0]).__name__ == "SchemeLinear" and torch.allclose(mlp(x), before)
print("ok")
"""


def test_the_first_script_a_researcher_writes_runs_as_is():
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(FIRST_SCRIPT)], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_search_takes_a_format_string_and_method_options_as_keywords(tmp_path):
    result = discover.search("2x2x2", 7, method="lm", seed=0, workers=1, restarts=16, batch=8, out=tmp_path)
    assert [s.rank for s in result.found] == [7]
    assert result.found[0].meta["provenance"]["options"]["batch"] == 8
    assert [p.name for p in result.saved] == ["2x2x2_r7_ZT.json"]
    with pytest.raises(SearchError, match="Winograd 1971"):
        discover.search("2x2x2", 6)
    with pytest.raises(SearchError, match="unknown option"):
        discover.search("2x2x2", 7, method="lm", nonsense=1)


def test_load_save_and_export_round_trip(tmp_path):
    s = discover.load("winograd")
    path = discover.save(s, tmp_path / "w.json", note="from the test")
    back = discover.load(str(path))
    assert back.same_coefficients(s) and back.meta["provenance"]["note"] == "from the test"
    assert back.meta["verification"]["valid"] is True
    assert back.meta["provenance"]["environment"]["version"] == discover.__version__
    discover.export(s, "perminov", tmp_path / "w_perminov.json")
    assert (tmp_path / "w_perminov.json").exists()
    with pytest.raises(LoadError):
        discover.load(str(tmp_path / "missing.json"))


def test_matmul_refuses_an_inexact_scheme():
    s = discover.load("strassen")
    W = np.array(s.W)
    W[0, 0, 0] = 0
    bad = discover.Scheme.from_arrays(s.U, s.V, W, "2x2x2")
    with pytest.raises(NotExactError):
        discover.matmul(np.eye(4), np.eye(4), bad)


def test_scheme_linear_loads_an_nn_linear_state_dict():
    torch.manual_seed(0)
    linear = nn.Linear(8, 6)
    layer = SchemeLinear(8, 6, "strassen")
    layer.load_state_dict(linear.state_dict())
    x = torch.randn(3, 8)
    assert torch.allclose(layer(x), linear(x), atol=1e-6)


def test_convert_swaps_linear_and_conv_layers_and_keeps_the_function():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, stride=2), nn.ReLU(), nn.Flatten(), nn.Linear(128, 16),
                          nn.ReLU(), nn.Linear(16, 4)).double()
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    expected = model(x)
    convert(model, "strassen", min_features=8)
    assert [type(m).__name__ for m in model] == ["SchemeConv2d", "ReLU", "Flatten", "SchemeLinear", "ReLU", "Linear"]
    assert torch.allclose(model(x), expected)
    ops = count_ops(model, (3, 8, 8))
    assert ops.layers[0].kind == "SchemeConv2d" and "total" in str(ops)


def test_scheme_conv2d_matches_conv2d_with_stride_padding_dilation():
    torch.manual_seed(2)
    conv = nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2)).double()
    layer = SchemeConv2d.from_conv(conv, "strassen", levels=1)
    x = torch.randn(2, 4, 9, 7, dtype=torch.float64)
    assert torch.allclose(layer(x), conv(x))


def test_python_dash_m_discover_runs_the_cli():
    proc = subprocess.run([sys.executable, "-m", "discover", "show", "naive:1x1x2"], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0 and proc.stdout.splitlines()[1] == "m1 = a11 * b11"
