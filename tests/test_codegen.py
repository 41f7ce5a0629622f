"""Generated code (numpy, torch, C, LaTeX, Markdown) reproduces the plain product."""
from __future__ import annotations

import ctypes
import importlib.util
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from discover.codegen import generate
from discover.errors import DiscoverError
from discover.known import strassen, winograd
from discover.scheme import Scheme
from discover.stability import measure_stability
from discover.symmetry import kron, to_format


def _import(path: Path, text: str):
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rational_scheme() -> Scheme:
    """Strassen with A-side scaled by 2 and W by 1/2: exact over Q, not over Z."""
    s = strassen()
    return Scheme.from_arrays(np.array(s.U) * 2, s.V, np.array(s.W) * Fraction(1, 2), "2x2x2")


SCHEMES = {
    "winograd": winograd,
    "strassen": strassen,
    "kron-strassen-winograd": lambda: kron(strassen(), winograd()),
    "kron-1x3x1-strassen": lambda: kron(to_format(Scheme.naive("1x3x1"), "1x3x1"), strassen()),
    "naive-2x3x4": lambda: Scheme.naive("2x3x4"),
}


@pytest.mark.parametrize("name", sorted(SCHEMES))
def test_numpy_target_exact_on_odd_integer_sizes(tmp_path, name):
    scheme = SCHEMES[name]()
    module = _import(tmp_path / f"gen_{name.replace('-', '_')}.py", generate(scheme, "python", "test"))
    rng = np.random.default_rng(0)
    A = rng.integers(-100, 100, (37, 45))
    B = rng.integers(-100, 100, (45, 29))
    for levels in (0, 1, 2):
        C = module.matmul(A, B, levels=levels, cutoff=2)
        assert C.dtype == np.int64 and np.array_equal(C, A @ B)
    assert module.RANK == scheme.rank and module.FORMAT == scheme.format.dims


def test_numpy_target_float_tolerance_and_header(tmp_path):
    text = generate(winograd(), "python", "strassen export winograd --to python")
    assert "strassen export winograd --to python" in text and "rank 7" in text and "24 written plainly, 15" in text
    module = _import(tmp_path / "gen_w.py", text)
    rng = np.random.default_rng(1)
    A, B = rng.standard_normal((130, 67)), rng.standard_normal((67, 91))
    for levels in (1, 2):
        C = module.matmul(A, B, levels=levels, cutoff=4)
        assert np.abs(C - A @ B).max() <= 1e-12 * np.abs(A).max() * np.abs(B).max() * 67
    out = np.empty((130, 91))
    assert module.matmul(A, B, out=out) is out
    module.THREADS, module.CHUNK_BYTES = 2, 256  # additions split over threads and many chunks
    A, B = rng.integers(-99, 99, (130, 67)), rng.integers(-99, 99, (67, 91))
    assert np.array_equal(module.matmul(A, B, levels=2, cutoff=4), A @ B)


def test_numpy_target_rational_scheme_is_exact_on_integers(tmp_path):
    module = _import(tmp_path / "gen_q.py", generate(_rational_scheme(), "python", "test"))
    rng = np.random.default_rng(2)
    A, B = rng.integers(-9, 9, (21, 19)), rng.integers(-9, 9, (19, 23))
    C = module.matmul(A, B, levels=2, cutoff=2)
    assert C.dtype == np.int64 and np.array_equal(C, A @ B)


def test_torch_target_exact_batched_and_autograd(tmp_path):
    torch = pytest.importorskip("torch")
    module = _import(tmp_path / "gen_t.py", generate(winograd(), "torch", "test"))
    g = torch.Generator().manual_seed(0)
    A = torch.randint(-50, 50, (3, 37, 45), generator=g)
    B = torch.randint(-50, 50, (45, 29), generator=g)
    assert torch.equal(module.matmul(A, B, levels=2, cutoff=2), A @ B)
    A = torch.randn(2, 20, 21, dtype=torch.float64, requires_grad=True, generator=g)
    B = torch.randn(21, 18, dtype=torch.float64, requires_grad=True, generator=g)
    C = module.matmul(A, B, levels=2, cutoff=2)
    C.square().sum().backward()
    grad_a = A.grad.clone()
    A.grad = None
    (A @ B).square().sum().backward()
    assert torch.allclose(grad_a, A.grad)


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")
def test_c_target_compiles_cleanly_and_is_exact(tmp_path):
    scheme = winograd()
    src = tmp_path / "w.c"
    src.write_text(generate(scheme, "c", "test */ comment"))
    subprocess.run(["gcc", "-O2", "-Wall", "-Werror", "-std=c99", "-c", str(src), "-o", str(tmp_path / "w.o")],
                   check=True, capture_output=True)
    lib = tmp_path / "libw.so"
    subprocess.run(["gcc", "-O2", "-shared", "-fPIC", str(src), "-o", str(lib)], check=True, capture_output=True)
    fn = getattr(ctypes.CDLL(str(lib)), "mm_2x2x2_r7")
    fn.restype = ctypes.c_int
    rng = np.random.default_rng(3)
    A = rng.integers(-100, 100, (37, 45)).astype(np.float64)
    B = rng.integers(-100, 100, (45, 29)).astype(np.float64)
    ptr = ctypes.POINTER(ctypes.c_double)
    for levels in (1, 2, 3):
        C = np.zeros((37, 29))
        rc = fn(37, 45, 29, A.ctypes.data_as(ptr), 45, B.ctypes.data_as(ptr), 29, C.ctypes.data_as(ptr), 29, levels, 2)
        assert rc == 0 and np.array_equal(C, A @ B)


def test_text_targets():
    latex = generate(winograd(), "latex", "cmd")
    assert r"\begin{align*}" in latex and "m_{1} &=" in latex and "15 in the program" in latex
    md = generate(winograd(), "markdown", "cmd")
    assert "```text" in md and "c11 = m1 + m2" in md and "24 written plainly, 15" in md


def test_unknown_target():
    with pytest.raises(DiscoverError, match="unknown code target"):
        generate(winograd(), "fortran")


def test_stability_report_is_deterministic_and_plain_product_is_stable():
    first = measure_stability(winograd(), trials=1, seed=5)
    again = measure_stability(winograd(), trials=1, seed=5)
    assert first.errors == again.errors and set(first.growth) == {1, 2}
    assert 0 < first.plain_error < 1e-13
    assert all(0 < g < 100 for g in first.growth.values())
    assert "1 level" in first.summary()


def test_numpy_target_with_scaled_terms_is_exact(tmp_path):
    """Coefficients other than ±1 (scalar multiplications, buffer reuse around them)."""
    s = winograd()
    U, V, W = np.array(s.U), np.array(s.V), np.array(s.W)
    U[2], W[2] = U[2] * 3, W[2] * Fraction(1, 3)   # a fraction in W: the integer rescaling runs
    V[3], W[3] = V[3] * -2, W[3] * Fraction(-1, 2)
    scheme = Scheme.from_arrays(U, V, W, "2x2x2")
    module = _import(tmp_path / "gen_scaled.py", generate(scheme, "python", "test"))
    rng = np.random.default_rng(4)
    A, B = rng.integers(-9, 9, (37, 45)), rng.integers(-9, 9, (45, 29))
    assert np.array_equal(module.matmul(A, B, levels=2, cutoff=2), A @ B)
    integral = Scheme.from_arrays(np.array(s.U) * 2, s.V, np.array(s.W), "2x2x2")  # not exact, but compiles
    doubled = _import(tmp_path / "gen_double.py", generate(integral, "python", "test"))
    assert doubled.RATIONAL is False
