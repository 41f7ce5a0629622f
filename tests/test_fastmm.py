"""The fused backend (discover.fastmm), the tune table and the tuned dispatch (no timed asserts)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import discover
from discover.blockmm import matmul
from discover.cli import main
from discover.errors import SchemeError, TuneError
from discover.fastmm import fused_matmul, fused_plan
from discover.tunetable import choose, load_table, save_table

SCHEMES = ["strassen", "winograd", "catalog:3x3x3", "catalog:2x3x4"]
SHAPES = [(13, 11, 9), (34, 17, 25), (1, 5, 3), (50, 50, 50)]


def _ints(rng, shape, dtype):
    return rng.integers(-9, 10, shape).astype(dtype)


@pytest.mark.parametrize("source", SCHEMES)
@pytest.mark.parametrize("levels", [1, 2])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_fused_is_exact_on_integer_valued_odd_shapes(source, levels, dtype):
    scheme = discover.load(source)
    rng = np.random.default_rng(levels)
    for N, K, P in SHAPES:
        A, B = _ints(rng, (N, K), dtype), _ints(rng, (K, P), dtype)
        C = fused_matmul(A, B, scheme, levels)
        assert C.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(C, A @ B)


def test_fused_complex():
    rng = np.random.default_rng(3)
    A = _ints(rng, (19, 14), "float64") + 1j * _ints(rng, (19, 14), "float64")
    B = _ints(rng, (14, 9), "float64") - 2j * _ints(rng, (14, 9), "float64")
    np.testing.assert_array_equal(fused_matmul(A, B, discover.load("catalog:3x3x3"), 2), A @ B)


@pytest.mark.parametrize("levels", [1, 2])
def test_fused_error_growth_is_that_of_the_generated_code(levels):
    # Same scheme, same arithmetic order per entry up to the omitted common subexpressions:
    # the normwise error stays within a small multiple of the generated numpy code's.
    scheme = discover.load("strassen")
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((96, 96)), rng.standard_normal((96, 96))
    exact = A.astype(np.longdouble) @ B.astype(np.longdouble)
    fused = np.abs(fused_matmul(A, B, scheme, levels) - exact).max()
    generated = np.abs(matmul(A, B, scheme, levels, backend="numpy") - exact).max()
    assert fused <= 4 * generated + 1e-15


def test_plan_counts_additions_without_common_subexpressions():
    plan = fused_plan(discover.load("strassen"))
    assert (plan.rank, plan.additions) == (7, 18)  # Strassen's 18 additions, written plainly


def test_matmul_backends_agree_and_integers_stay_on_the_exact_path():
    rng = np.random.default_rng(1)
    A, B = _ints(rng, (21, 18), "float64"), _ints(rng, (18, 23), "float64")
    for backend in ("auto", "fused", "numpy"):
        np.testing.assert_array_equal(matmul(A, B, "catalog:3x3x3", 2, backend=backend), A @ B)
    Ai, Bi = A.astype(np.int64), B.astype(np.int64)
    np.testing.assert_array_equal(matmul(Ai, Bi, "catalog:3x3x3", 2), Ai @ Bi)  # auto: generated code
    with pytest.raises(SchemeError, match="fused backend"):
        matmul(Ai, Bi, "strassen", backend="fused")
    with pytest.raises(SchemeError, match="backend must be"):
        matmul(A, B, backend="fast")


def _table(speedup):
    return {"version": 1, "margin": 1.02, "entries": [
        {"backend": b, "dtype": d, "scheme": "strassen", "levels": 2, "size": 16, "plain_s": 1.0,
         "scheme_s": 1.0 / speedup, "speedup": speedup}
        for b in ("numpy", "torch") for d in ("float64", "float32")]}


def test_choose_falls_back_below_the_crossover_and_below_the_margin():
    table = _table(1.5)
    assert choose(table, "numpy", "float64", (40, 16, 33)) == ("strassen", 2)
    assert choose(table, "numpy", "float64", (15, 40, 40)) is None  # below the smallest class
    assert choose(table, "numpy", "int64", (40, 40, 40)) is None  # no entry for the dtype
    assert choose(_table(1.01), "numpy", "float64", (40, 40, 40)) is None  # under the margin
    assert choose(None, "numpy", "float64", (40, 40, 40)) is None


def test_auto_dispatch_numpy_and_torch(tmp_path):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    A, B = _ints(rng, (37, 20), "float64"), _ints(rng, (20, 19), "float64")
    path = save_table(_table(1.5), tmp_path / "t.json")
    assert load_table(path)["entries"][0]["scheme"] == "strassen"
    np.testing.assert_array_equal(matmul(A, B, "auto", table=path), A @ B)
    np.testing.assert_array_equal(discover.matmul(A, B, "auto", table=_table(0.5)), A @ B)  # plain
    with pytest.raises(TuneError):
        matmul(A, B, "auto", table=tmp_path / "missing.json")
    a, b = torch.from_numpy(A).float(), torch.from_numpy(B).float()
    assert torch.equal(discover.matmul(a, b, "auto", table=_table(1.5)), a @ b)
    from discover.nn.scheme_layers import SchemeLinear

    lin = SchemeLinear(20, 19, "strassen", levels=1, dispatch=True, table=_table(1.5))
    with torch.no_grad():
        lin.weight.copy_(b.t())
        lin.bias.zero_()
        assert torch.equal(lin(a), a @ b)
        assert lin.matmul._dispatched  # the tuned scheme ran, not the layer's own
        lin.matmul.table = _table(0.5)
        assert torch.equal(lin(a), a @ b)  # plain torch.matmul


def test_tune_cli_writes_a_table_and_refuses_bad_options(tmp_path):
    out = tmp_path / "tune.json"
    runner = CliRunner()
    args = ["tune", "--schemes", "strassen", "--sizes", "8,16", "--levels", "1", "--dtypes", "float64",
            "--repeats", "1", "-o", str(out)]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    table = json.loads(out.read_text())
    assert [(e["size"], e["scheme"], e["levels"]) for e in table["entries"]] == [(8, "strassen", 1), (16, "strassen", 1)]
    assert all(e["plain_s"] > 0 and e["scheme_s"] > 0 for e in table["entries"])
    for bad in (["--sizes", "0"], ["--dtypes", "int8"], ["--schemes", "nope.json"]):
        result = runner.invoke(main, ["tune", *bad, "-o", str(tmp_path / "x.json")])
        assert result.exit_code == 2 and "error:" in result.output, result.output


@pytest.mark.slow  # numba compiles the generated module's kernels afresh (no disk cache for exec'd code)
@pytest.mark.parametrize("source", ["winograd", "catalog:3x3x3"])
def test_generated_module_fused_backend_and_its_numpy_fallback(source):
    from discover.codegen import generate

    namespace: dict = {}
    exec(compile(generate(discover.load(source), "python"), "gen", "exec"), namespace)
    assert namespace["BACKEND"] == "fused"  # numba is installed here
    namespace["FUSED_MIN_BLOCK"] = 1  # the fused kernels even on these small blocks
    rng = np.random.default_rng(4)
    for N, K, P in SHAPES[:3]:
        for dtype in ("float64", "float32"):
            A, B = _ints(rng, (N, K), dtype), _ints(rng, (K, P), dtype)
            for levels in (1, 2):
                for backend in ("fused", "numpy"):
                    namespace["BACKEND"] = backend
                    np.testing.assert_array_equal(namespace["matmul"](A, B, levels, cutoff=1), A @ B)


def test_dispatch_needs_a_crossover_not_an_isolated_gain():
    # 1024 measured a gain, 2048 a loss, 4096 a gain: only 4096 and above dispatch.
    entries = [{"backend": "torch", "dtype": "float32", "scheme": "winograd", "levels": 1, "size": n,
                "plain_s": 1.0, "scheme_s": 1.0 / g, "speedup": g} for n, g in ((512, 0.8), (1024, 1.2), (2048, 0.97), (4096, 1.1))]
    table = {"version": 1, "margin": 1.05, "entries": entries}
    assert choose(table, "torch", "float32", (1024, 1024, 1024)) is None
    assert choose(table, "torch", "float32", (3000, 3000, 3000)) is None
    assert choose(table, "torch", "float32", (4096, 5000, 9000)) == ("winograd", 1)
    from discover.tunetable import dispatch_plan

    assert dispatch_plan(table, "torch", "float32") == (4096.0, [(4096, ("winograd", 1))])
    assert dispatch_plan(table, "numpy", "float32") == (float("inf"), [])
    table["margin"] = 1.15  # 1.1 is then not enough anywhere
    assert choose(dict(table), "torch", "float32", (8192, 8192, 8192)) is None


def test_auto_with_the_default_table_takes_the_fast_plain_path_below_the_threshold(tmp_path, monkeypatch):
    import discover.blockmm as blockmm

    path = save_table(_table(1.5), tmp_path / "t.json")  # dispatches from size 16 on
    monkeypatch.setenv("STRASSEN_TUNE", str(path))
    monkeypatch.setattr(blockmm, "_FAST_UNTIL", [-1.0])
    monkeypatch.setattr(blockmm, "_FAST", {})
    monkeypatch.setattr("discover.tunetable._DEFAULT", [-1e9, ""])
    rng = np.random.default_rng(3)
    small, big = _ints(rng, (8, 8), "float64"), _ints(rng, (40, 40), "float64")
    np.testing.assert_array_equal(matmul(small, small, "auto"), small @ small)
    assert blockmm._FAST == {small.dtype: 16.0}  # remembered: the next small product skips the table
    calls = []
    monkeypatch.setattr(blockmm, "_auto", lambda *a: calls.append(a) or None)
    np.testing.assert_array_equal(matmul(small, small, "auto"), small @ small)
    assert calls == []
    monkeypatch.undo()
