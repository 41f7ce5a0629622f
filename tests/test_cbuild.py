"""Generated C with BLAS leaf products, built in one call: exact against A @ B on odd shapes."""
from __future__ import annotations

import ctypes
import json

import numpy as np
import pytest
from click.testing import CliRunner

import discover
from discover.cli import main
from discover.codegen.c import function_name
from discover.codegen.cbuild import build_shared, compiler, find_blas

BLAS = find_blas()
pytestmark = [
    pytest.mark.skipif(compiler() is None, reason="no C compiler on PATH"),
    pytest.mark.skipif(BLAS is None, reason="no BLAS found (scipy's or numpy's OpenBLAS, or a system one)"),
]
SHAPES = [(13, 11, 9), (34, 17, 25), (1, 5, 3), (40, 40, 40)]


def _run(lib, name, ctype, dtype, A, B, levels):
    fn = getattr(lib, name)
    fn.restype = ctypes.c_int
    ptr = ctypes.POINTER(ctype)
    N, K = A.shape
    P = B.shape[1]
    C = np.full((N, P), np.nan, dtype)
    assert fn(N, K, P, A.ctypes.data_as(ptr), K, B.ctypes.data_as(ptr), P, C.ctypes.data_as(ptr), P, levels, 1) == 0
    return C


@pytest.mark.parametrize("source", ["winograd", pytest.param("catalog:3x3x3", marks=pytest.mark.slow)])
def test_blas_build_is_exact_on_odd_shapes(source, tmp_path):
    scheme = discover.load(source)
    lib = ctypes.CDLL(str(build_shared(scheme, tmp_path / "libs.so")))
    rng = np.random.default_rng(0)
    for N, K, P in SHAPES:
        for dtype, suffix, ctype in (("float64", "", ctypes.c_double), ("float32", "_f32", ctypes.c_float)):
            A = rng.integers(-9, 10, (N, K)).astype(dtype)
            B = rng.integers(-9, 10, (K, P)).astype(dtype)
            for levels in (1, 2):
                C = _run(lib, function_name(scheme) + suffix, ctype, dtype, A, B, levels)
                np.testing.assert_array_equal(C, A @ B)
        # Random floats: within the scheme's documented error growth (normwise, a loose bound).
        A, B = rng.standard_normal((N, K)), rng.standard_normal((K, P))
        C = _run(lib, function_name(scheme), ctypes.c_double, "float64", A, B, 2)
        assert np.abs(C - A @ B).max() <= 1e-12 * max(1, K)


def test_export_build_cli(tmp_path):
    out = tmp_path / "libw.so"
    result = CliRunner().invoke(main, ["export", "winograd", "--to", "c", "--build", "-o", str(out),
                                       "--no-stability", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["file"] == str(out) and out.exists() and (tmp_path / "libw.c").exists()
    assert "dgemm" in doc["blas"]
    lib = ctypes.CDLL(str(out))
    A = np.arange(35.0).reshape(5, 7)
    B = np.arange(21.0).reshape(7, 3)
    np.testing.assert_array_equal(_run(lib, "mm_2x2x2_r7", ctypes.c_double, "float64", A, B, 2), A @ B)
    bad = CliRunner().invoke(main, ["export", "winograd", "--to", "python", "--build", "-o", str(out)])
    assert bad.exit_code == 2 and "error:" in bad.output
