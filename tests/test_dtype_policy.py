"""The dtype policy of every evaluation target, with the scheme forced to run.

Each case runs the scheme at levels 1 and 2 with cutoff 1 on odd shapes (every dimension
leaves a remainder, so peeling runs too), checks the result against ``A @ B`` (exact for
integers, within the normwise bound below for floats, dtype kept) and counts the calls of
the one-level step with a spy: ``1`` at level 1, ``1 + multiplications`` at level 2.

Float bound (documented in README's dtype policy): ``|C - A@B| <= 4·eps·K·max|A|·max|B|·g^levels``
with ``g = LA·LB·GC`` the growth factors of the program (:func:`discover.integral.side_norms`).

Cases: catalog schemes (max dimension ≤ 4 by default for the python target, ≤ 3 for torch
and the layers, a few for C; the rest marked slow), rational
variants of catalog schemes (a sandwich with determinant-2 matrices puts halves into U, V
and W), and the rational published schemes of ``../shared/data`` (AlphaTensor's
factorizations with denominators 2 and 8, AlphaEvolve's 2x4x5 r32 and 3x4x6 r54; skipped
when the folder is absent, or found at ``$STRASSEN_SHARED_DATA``; the big ones are slow).

The slow cases form an exhaustive sweep that CI (which runs slow tests too) skips: run it with
``STRASSEN_EXHAUSTIVE=1 python -m pytest -m slow tests/test_dtype_policy.py``.
"""
from __future__ import annotations

import ctypes
import importlib.util
import os
import shutil
import subprocess
from fractions import Fraction
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from discover.catalog import catalog_dir
from discover.cli import main
from discover.codegen import generate
from discover.codegen.c import VARIANTS, function_name
from discover.integral import side_norms
from discover.jsonio import load_scheme, save_scheme
from discover.known import strassen
from discover.scheme import Scheme
from discover.slp import Program, compile_scheme
from discover.symmetry import sandwich

from .conftest import SHARED_DATA

#: The rational entries of AlphaTensor's factorizations_r.npz (27 of 93; checked by a slow test).
AT_RATIONAL = (
    "3,4,11", "3,9,11", "5,7,11", "5,8,11", "6,7,11", "6,8,11", "7,7,11", "7,9,11", "7,9,12", "7,10,11",
    "7,11,11", "8,9,11", "8,9,12", "9,9,9", "9,9,10", "9,9,11", "9,10,11", "9,10,12", "9,11,11", "9,11,12",
    "10,10,11", "10,10,12", "10,11,12", "10,12,12", "11,11,11", "11,11,12", "11,12,12",
)
#: The rational AlphaEvolve decompositions (the two complex ones are refused by the importer).
AE_RATIONAL = ("decomposition_245", "decomposition_346")
#: Published schemes run in the default suite by the python target (small; denominators 2, 8, 8)...
FAST_PUBLISHED = {"at-3,4,11", "at-3,9,11", "ae-decomposition_245"}
#: ... and by the torch target and the layers (the others are slow there).
FAST_PUBLISHED_TORCH = {"ae-decomposition_245"}
#: Level 2 of a rank-r scheme runs r + 1 one-level steps in Python: by default up to rank 120, in
#: the exhaustive sweep up to rank 230 (AlphaTensor's 3x9x11 r225 with 1/8: ~15 s per dtype).
EXHAUSTIVE = bool(os.environ.get("STRASSEN_EXHAUSTIVE"))
LEVEL2_MAX_RANK = 230 if EXHAUSTIVE else 120
#: SchemeMatmul compiles with elimination and an exact check: minutes above this rank.
LAYER_MAX_RANK = 120
#: The exhaustive sweep (13 min measured on 2 busy cores) is opt-in: CI runs slow tests too.
SWEEP = [pytest.mark.slow, pytest.mark.skipif(
    not EXHAUSTIVE,
    reason="exhaustive dtype sweep: set STRASSEN_EXHAUSTIVE=1 (and run with -m slow)")]


def _shared_data() -> Path:
    for candidate in (SHARED_DATA, Path(os.environ.get("STRASSEN_SHARED_DATA", "/nonexistent"))):
        if candidate.is_dir():
            return candidate
    pytest.skip(f"published schemes not available at {SHARED_DATA} (or $STRASSEN_SHARED_DATA)")


def _rational(name: str) -> Scheme:
    """A catalog scheme re-based with determinant-2 matrices: halves (and products of them) in U, V, W."""
    base = {"strassen-q": lambda: strassen(), "3x3x3-q": lambda: load_scheme(catalog_dir() / "3x3x3_r23_ZT.json"),
            "2x3x4-q": lambda: load_scheme(catalog_dir() / "2x3x4_r20_ZT.json")}[name]()
    n, m, p = base.format.dims

    def det2(k: int) -> np.ndarray:
        X = np.eye(k, dtype=np.int64)
        X[0, 0], X[0, k - 1] = 2, 1
        return X

    return sandwich(base, det2(n), det2(m), det2(p)).with_meta(name=name)


def _published(name: str) -> Scheme:
    from discover.interchange.alphatensor import read_alphaevolve, read_alphatensor

    source, key = name.split("-", 1)
    data = _shared_data()
    if source == "at":
        items = read_alphatensor(data / "alphatensor" / "factorizations_r.npz", keys=[key])
    else:
        items = read_alphaevolve(data / "alphaevolve" / "alphaevolve_decompositions.npz", keys=[key])
    assert len(items) == 1 and items[0].scheme is not None, items
    return items[0].scheme


@cache
def _case(name: str) -> tuple[Scheme, Program]:
    """The scheme of a case and its program (big published schemes: plain and unchecked, to stay fast)."""
    if name.startswith(("at-", "ae-")):
        scheme = _published(name)
        big = scheme.rank > LAYER_MAX_RANK
        assert scheme.denominator > 1
        return scheme, compile_scheme(scheme, eliminate=not big, check=not big)
    scheme = _rational(name) if name.endswith("-q") else load_scheme(catalog_dir() / name)
    return scheme, compile_scheme(scheme)


def _catalog_params(fast_dim: int = 4) -> list:
    """Every catalog file; those with a dimension above ``fast_dim`` are marked slow."""
    params = []
    for path in sorted(catalog_dir().glob("*.json")):
        dims = [int(d) for d in path.name.split("_")[0].split("x")]
        marks = SWEEP if max(dims) > fast_dim else []
        params.append(pytest.param(path.name, marks=marks, id=path.stem))
    return params


def _published_params(fast_set: set) -> list:
    params = []
    for key in AT_RATIONAL + AE_RATIONAL:
        name = ("at-" if "," in key else "ae-") + key
        marks = [] if name in fast_set else SWEEP
        params.append(pytest.param(name, marks=marks, id=name))
    return params


RATIONAL = ["strassen-q", "3x3x3-q", "2x3x4-q"]
CASES = _catalog_params() + RATIONAL + _published_params(FAST_PUBLISHED)
TORCH_CASES = _catalog_params(3) + RATIONAL + _published_params(FAST_PUBLISHED_TORCH)


def _shape(dims: tuple[int, int, int], levels: int) -> tuple[int, int, int]:
    """Odd sizes 2·d^levels − 1: never divisible by d, and cutoff 1 reaches every level."""
    return tuple(2 * d ** levels - 1 for d in dims)  # type: ignore[return-value]


def _float_bound(program: Program, dtype, K: int, alpha: float, beta: float, levels: int) -> float:
    la, lb, gc = side_norms(program)
    return 4 * float(np.finfo(dtype).eps) * K * alpha * beta * float(la * lb * gc) ** levels


def _expected_calls(program: Program, levels: int) -> int:
    return 1 + (program.multiplications if levels == 2 else 0)


def _import(path: Path, text: str):
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _spy(monkeypatch, module) -> list:
    """Count the calls of the generated one-level steps (float and integer variants)."""
    calls: list = []
    for attr in ("_one_level", "_one_level_exact"):
        original = getattr(module, attr)

        def spy(*args, _original=original):
            calls.append(1)
            return _original(*args)

        monkeypatch.setattr(module, attr, spy)
    return calls


def _skip_level2(scheme: Scheme, levels: int) -> None:
    if levels == 2 and scheme.rank > LEVEL2_MAX_RANK:
        pytest.skip(f"level 2 of a rank-{scheme.rank} scheme runs {scheme.rank + 1} one-level steps in Python")


# ---------------------------------------------------------------------------------- python
def _run_numpy(module, scheme: Scheme, program: Program, levels: int, calls: list) -> None:
    N, K, P = _shape(scheme.format.dims, levels)
    rng = np.random.default_rng(levels)
    A, B = rng.integers(-50, 51, (N, K)), rng.integers(-50, 51, (K, P))
    C = module.matmul(A, B, levels=levels, cutoff=1)
    assert C.dtype == np.int64 and np.array_equal(C, A @ B)
    assert len(calls) == _expected_calls(program, levels) and module.applied_levels(N, K, P, levels, 1) == levels
    for dtype in (np.float32, np.float64):
        calls.clear()
        A, B = rng.uniform(-1, 1, (N, K)).astype(dtype), rng.uniform(-1, 1, (K, P)).astype(dtype)
        C = module.matmul(A, B, levels=levels, cutoff=1)
        assert C.dtype == dtype and len(calls) == _expected_calls(program, levels)
        err = np.abs(C.astype(np.float64) - A.astype(np.float64) @ B.astype(np.float64)).max()
        assert err <= _float_bound(program, dtype, K, 1.0, 1.0, levels), (dtype, err)


@pytest.mark.parametrize("levels", [1, 2])
@pytest.mark.parametrize("name", CASES)
def test_python_target_forced(tmp_path, monkeypatch, name, levels):
    scheme, program = _case(name)
    _skip_level2(scheme, levels)
    module = _import(tmp_path / "gen_policy.py", generate(scheme, "python", "test", program=program))
    _run_numpy(module, scheme, program, levels, _spy(monkeypatch, module))


# ---------------------------------------------------------------------------------- torch
@pytest.mark.parametrize("levels", [1, 2])
@pytest.mark.parametrize("name", TORCH_CASES)
def test_torch_target_forced(tmp_path, monkeypatch, name, levels):
    torch = pytest.importorskip("torch")
    scheme, program = _case(name)
    _skip_level2(scheme, levels)
    module = _import(tmp_path / "gen_policy_t.py", generate(scheme, "torch", "test", program=program))
    calls = _spy(monkeypatch, module)
    N, K, P = _shape(scheme.format.dims, levels)
    g = torch.Generator().manual_seed(levels)
    A, B = torch.randint(-50, 51, (2, N, K), generator=g), torch.randint(-50, 51, (K, P), generator=g)
    C = module.matmul(A, B, levels=levels, cutoff=1)
    assert C.dtype == torch.int64 and torch.equal(C, A @ B)
    assert len(calls) == _expected_calls(program, levels)
    for dtype in (torch.float32, torch.float64):
        calls.clear()
        A = (torch.rand(N, K, generator=g, dtype=torch.float64) * 2 - 1).to(dtype)
        B = (torch.rand(K, P, generator=g, dtype=torch.float64) * 2 - 1).to(dtype)
        C = module.matmul(A, B, levels=levels, cutoff=1)
        assert C.dtype == dtype and len(calls) == _expected_calls(program, levels)
        err = (C.double() - A.double() @ B.double()).abs().max().item()
        assert err <= _float_bound(program, np.dtype(str(dtype).split(".")[1]), K, 1.0, 1.0, levels)


# ---------------------------------------------------------------------------------- nn
@pytest.mark.parametrize("levels", [1, 2])
@pytest.mark.parametrize("name", TORCH_CASES)
def test_scheme_matmul_forced(name, levels):
    torch = pytest.importorskip("torch")
    from discover.nn import SchemeMatmul

    scheme, _ = _case(name)
    if scheme.rank > LAYER_MAX_RANK:
        pytest.skip("SchemeMatmul compiles with elimination and an exact check: minutes at this rank")
    layer = SchemeMatmul(scheme, levels=levels)
    calls: list = []
    blocks = layer._blocks

    def spy(*args, **kwargs):
        calls.append(1)
        return blocks(*args, **kwargs)

    layer._blocks = spy  # the recursion looks the method up on the instance
    N, K, P = _shape(scheme.format.dims, levels)
    g = torch.Generator().manual_seed(levels)
    A, B = torch.randint(-50, 51, (2, N, K), generator=g), torch.randint(-50, 51, (K, P), generator=g)
    C = layer(A, B)
    assert C.dtype == torch.int64 and torch.equal(C, A @ B)
    assert len(calls) == _expected_calls(layer.program, levels)
    for dtype in (torch.float32, torch.float64):
        calls.clear()
        A = (torch.rand(N, K, generator=g, dtype=torch.float64) * 2 - 1).to(dtype)
        B = (torch.rand(K, P, generator=g, dtype=torch.float64) * 2 - 1).to(dtype)
        C = layer(A, B)
        assert C.dtype == dtype and len(calls) == _expected_calls(layer.program, levels)
        err = (C.double() - A.double() @ B.double()).abs().max().item()
        assert err <= _float_bound(layer.program, np.dtype(str(dtype).split(".")[1]), K, 1.0, 1.0, levels)


# ---------------------------------------------------------------------------------- C
_TRACE_H = "extern long strassen_calls;\n#define STRASSEN_TRACE(name) (strassen_calls++)\n"


def _build_c(tmp_path: Path, scheme: Scheme, program: Program):
    """The generated C file compiled into a shared library with a call counter."""
    src = tmp_path / "scheme.c"
    src.write_text(generate(scheme, "c", "test", program=program))
    (tmp_path / "trace.h").write_text(_TRACE_H)
    (tmp_path / "counter.c").write_text("long strassen_calls = 0;\n")
    lib = tmp_path / "libscheme.so"
    subprocess.run(["gcc", "-O0", "-std=c99", "-Wall", "-Werror", "-shared", "-fPIC", "-include",
                    str(tmp_path / "trace.h"), str(src), str(tmp_path / "counter.c"),
                    "-o", str(lib)], check=True, capture_output=True)
    return ctypes.CDLL(str(lib))


_CTYPES = {"double": (np.float64, ctypes.c_double), "float": (np.float32, ctypes.c_float),
           "int64_t": (np.int64, ctypes.c_int64)}


def _call_c(lib, name: str, ctype: str, A: np.ndarray, B: np.ndarray, levels: int, cutoff: int = 1):
    dtype, scalar = _CTYPES[ctype]
    A, B = np.ascontiguousarray(A, dtype), np.ascontiguousarray(B, dtype)
    C = np.zeros((A.shape[0], B.shape[1]), dtype)
    fn = getattr(lib, name)
    fn.restype = ctypes.c_int
    ptr = ctypes.POINTER(scalar)
    rc = fn(A.shape[0], A.shape[1], B.shape[1], A.ctypes.data_as(ptr), A.shape[1], B.ctypes.data_as(ptr),
            B.shape[1], C.ctypes.data_as(ptr), C.shape[1], levels, cutoff)
    return rc, C


_C_FAST = ("2x2x2_r7_ZT.json", "3x3x3-q", "ae-decomposition_245")
C_CASES = list(_C_FAST) + [
    pytest.param(name, marks=SWEEP, id=name)
    for name in [p.values[0] for p in _catalog_params()] + RATIONAL + ["ae-decomposition_346", "at-3,4,11"]
    if name not in _C_FAST]


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")
@pytest.mark.parametrize("name", C_CASES)
def test_c_target_forced_every_variant(tmp_path, name):
    scheme, program = _case(name)
    lib = _build_c(tmp_path, scheme, program)
    counter = ctypes.c_long.in_dll(lib, "strassen_calls")
    rng = np.random.default_rng(5)
    for levels in (1, 2):
        N, K, P = _shape(scheme.format.dims, levels)
        A, B = rng.integers(-50, 51, (N, K)), rng.integers(-50, 51, (K, P))
        Af, Bf = rng.uniform(-1, 1, (N, K)), rng.uniform(-1, 1, (K, P))
        for suffix, ctype, _ in VARIANTS:
            counter.value = 0
            if ctype == "int64_t":
                rc, C = _call_c(lib, function_name(scheme) + suffix, ctype, A, B, levels)
                assert rc == 0 and np.array_equal(C, A @ B)
            else:
                dtype = _CTYPES[ctype][0]
                rc, C = _call_c(lib, function_name(scheme) + suffix, ctype, Af, Bf, levels)
                want = Af.astype(dtype).astype(np.float64) @ Bf.astype(dtype).astype(np.float64)
                assert rc == 0 and np.abs(C - want).max() <= _float_bound(program, dtype, K, 1.0, 1.0, levels)
            assert counter.value == _expected_calls(program, levels), (suffix, levels)


# ---------------------------------------------------------------------------------- policy details
def rational_module_program() -> Program:
    return _case("3x3x3-q")[1]


@pytest.fixture(scope="module")
def rational_module(tmp_path_factory):
    scheme, program = _case("3x3x3-q")
    return _import(tmp_path_factory.mktemp("q") / "gen_q333.py", generate(scheme, "python", "test", program=program))


def test_python_small_integer_dtypes_wrap_like_numpy(rational_module):
    rng = np.random.default_rng(11)
    A, B = rng.integers(-128, 128, (17, 19)), rng.integers(-128, 128, (19, 23))
    for dtype in (np.int8, np.int16, np.int32, np.uint8, np.uint16):
        a, b = A.astype(dtype), B.astype(dtype)
        C = rational_module.matmul(a, b, levels=2, cutoff=1)
        assert C.dtype == dtype and np.array_equal(C, a @ b), dtype


def test_python_mixed_dtypes_follow_numpy_promotion(rational_module):
    rng = np.random.default_rng(12)
    A, B = rng.integers(-9, 10, (17, 19)), rng.integers(-9, 10, (19, 23))
    for da, db in ((np.int32, np.float32), (np.int64, np.float16), (np.float32, np.float64), (np.int8, np.uint8),
                   (np.int32, np.int64)):
        a, b = A.astype(da), B.astype(db)
        C, want = rational_module.matmul(a, b, levels=2, cutoff=1), a @ b
        assert C.dtype == want.dtype == np.result_type(a, b), (da, db)
        if C.dtype.kind == "f":  # the re-based scheme has non-dyadic fractions after elimination
            assert np.abs(C - want).max() <= _float_bound(rational_module_program(), C.dtype, 19, 9, 9, 2)
        else:
            assert np.array_equal(C, want), (da, db)


def test_python_fraction_object_arrays_are_exact(rational_module):
    rng = np.random.default_rng(13)
    A = np.array([[Fraction(int(x), 7) for x in row] for row in rng.integers(-9, 10, (17, 19))], dtype=object)
    B = rng.integers(-9, 10, (19, 23)).astype(object)
    C = rational_module.matmul(A, B, levels=2, cutoff=1)
    assert C.dtype == object and bool(np.all(C == A @ B))
    assert any(isinstance(v, Fraction) and v.denominator == 7 for v in C.ravel())
    Ci = rational_module.matmul(B.T, B, levels=2, cutoff=1)  # Python ints stay ints
    assert bool(np.all(Ci == B.T @ B)) and all(type(v) is int for v in Ci.ravel())


def test_python_complex_and_refused_dtypes(rational_module):
    rng = np.random.default_rng(14)
    A = rng.standard_normal((17, 19)) + 1j * rng.standard_normal((17, 19))
    B = rng.standard_normal((19, 23)) - 1j * rng.standard_normal((19, 23))
    C = rational_module.matmul(A, B, levels=2, cutoff=1)
    assert C.dtype == np.complex128 and np.abs(C - A @ B).max() < 1e-10
    with pytest.raises(TypeError, match="not bool"):
        rational_module.matmul(A.real > 0, B.real > 0, levels=1, cutoff=1)


def test_python_overflow_bound_falls_back_to_python_ints(rational_module, monkeypatch):
    """Entries near 2^29: the bound exceeds int64, the product does not; Python ints keep it exact."""
    rng = np.random.default_rng(15)
    A = rng.integers(-(2**29), 2**29, (17, 19))
    B = rng.integers(-(2**29), 2**29, (19, 23))
    assert np.abs(A @ B).max() < 2**62 < rational_module.intermediate_bound(2**29, 2**29, 19, 2)
    seen: list = []
    original = rational_module._mul
    monkeypatch.setattr(rational_module, "_mul", lambda a, *rest: seen.append(a.dtype) or original(a, *rest))
    C = rational_module.matmul(A, B, levels=2, cutoff=1)
    assert C.dtype == np.int64 and np.array_equal(C, A @ B) and seen[0] == object
    seen.clear()
    rational_module.matmul(A % 1000, B % 1000, levels=2, cutoff=1)
    assert seen[0] == np.int64


def test_torch_target_dtypes(tmp_path):
    torch = pytest.importorskip("torch")
    scheme, program = _case("3x3x3-q")
    module = _import(tmp_path / "gen_tq.py", generate(scheme, "torch", "test", program=program))
    g = torch.Generator().manual_seed(3)
    A, B = torch.randint(-99, 100, (17, 19), generator=g), torch.randint(-99, 100, (19, 23), generator=g)
    for dtype in (torch.int8, torch.int32, torch.uint8):
        a, b = A.to(dtype), B.to(dtype)
        assert torch.equal(module.matmul(a, b, levels=2, cutoff=1), a @ b)
    la, lb, gc = side_norms(program)
    for dtype in (torch.float16, torch.bfloat16):
        a, b = (A // 10).to(dtype), (B // 10).to(dtype)
        C = module.matmul(a, b, levels=2, cutoff=1)
        bound = 4 * torch.finfo(dtype).eps * 19 * 9 * 9 * float(la * lb * gc) ** 2
        assert C.dtype == dtype and (C.double() - (A // 10).double() @ (B // 10).double()).abs().max() <= bound
    assert module.matmul(A.int(), B.float(), levels=1, cutoff=1).dtype == torch.float32  # torch's promotion
    with pytest.raises(TypeError, match="not booleans"):
        module.matmul(A > 0, B > 0)
    with pytest.raises(OverflowError, match="beyond int64"):
        module.matmul(A * 2**31, B * 2**31, levels=2, cutoff=1)


def test_scheme_layers_dtypes():
    torch = pytest.importorskip("torch")
    from discover.errors import DiscoverError, DtypeError, IntegerOverflowError
    from discover.nn import SchemeLinear, SchemeMatmul

    scheme, _ = _case("3x3x3-q")
    layer = SchemeMatmul(scheme, levels=2)
    g = torch.Generator().manual_seed(4)
    A, B = torch.randint(-99, 100, (17, 19), generator=g), torch.randint(-99, 100, (19, 23), generator=g)
    for dtype in (torch.int8, torch.int16, torch.uint8):
        a, b = A.to(dtype), B.to(dtype)
        assert torch.equal(layer(a, b), a @ b)
    with pytest.raises(DtypeError):
        layer(A > 0, B > 0)
    with pytest.raises(IntegerOverflowError, match="beyond int64") as info:
        layer(A * 2**31, B * 2**31)
    assert isinstance(info.value, DiscoverError)
    linear = SchemeLinear(19, 23, scheme, levels=2)
    assert linear(A.float()).dtype == torch.float32 and linear(A).dtype == torch.float32
    assert linear.double()(A).dtype == torch.float64


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")
def test_c_int64_variant_refuses_possible_overflow_and_wraps_integer_schemes(tmp_path):
    scheme, program = _case("3x3x3-q")
    (tmp_path / "q").mkdir()
    lib = _build_c(tmp_path / "q", scheme, program)
    rng = np.random.default_rng(6)
    A, B = rng.integers(-(2**31), 2**31, (17, 19)), rng.integers(-(2**31), 2**31, (19, 23))
    rc, _ = _call_c(lib, function_name(scheme) + "_i64", "int64_t", A, B, 2)
    assert rc == -2
    integer, iprogram = _case("3x3x3_r23_ZT.json")
    (tmp_path / "z").mkdir()
    zlib = _build_c(tmp_path / "z", integer, iprogram)
    A, B = rng.integers(-(2**40), 2**40, (17, 19)), rng.integers(-(2**40), 2**40, (19, 23))
    rc, C = _call_c(zlib, function_name(integer) + "_i64", "int64_t", A, B, 2)
    assert rc == 0 and np.array_equal(C, A @ B)  # both wrap modulo 2^64


# ---------------------------------------------------------------------------------- acceptance, CLI
def test_exported_rational_scheme_exact_on_int64_and_keeps_float32(runner, tmp_path):
    """Acceptance: `strassen export` of a scheme with fractions, levels=2, cutoff=1."""
    scheme, _ = _case("3x3x3-q")
    assert scheme.ring == "Q"
    source = save_scheme(scheme, tmp_path / "q333.json")
    out = tmp_path / "q333.py"
    result = runner.invoke(main, ["export", str(source), "--to", "python", "-o", str(out), "--no-stability", "-q"])
    assert result.exit_code == 0, result.output
    module = _import(out, out.read_text())
    rng = np.random.default_rng(20)
    A, B = rng.integers(-1000, 1000, (37, 45)), rng.integers(-1000, 1000, (45, 29))
    assert module.applied_levels(37, 45, 29, levels=2, cutoff=1) == 2
    C = module.matmul(A, B, levels=2, cutoff=1)
    assert C.dtype == np.int64 and np.array_equal(C, A @ B)
    C32 = module.matmul(A.astype(np.float32), B.astype(np.float32), levels=2, cutoff=1)
    assert C32.dtype == np.float32


@pytest.mark.slow
@pytest.mark.skipif(not EXHAUSTIVE, reason="reads both npz files (~25 s): STRASSEN_EXHAUSTIVE=1")
def test_published_rational_keys_are_the_rational_ones():
    """The hard-coded AT_RATIONAL/AE_RATIONAL lists match the files (reading all of them takes ~20 s)."""
    from discover.interchange import import_file

    data = _shared_data()
    for path, keys in (("alphatensor/factorizations_r.npz", AT_RATIONAL),
                       ("alphaevolve/alphaevolve_decompositions.npz", AE_RATIONAL)):
        items = import_file(data / path)
        assert {it.key for it in items if it.scheme is not None and it.scheme.denominator > 1} == set(keys)


def test_export_cutoff_option(runner, tmp_path):
    out = tmp_path / "s1.py"
    result = runner.invoke(main, ["export", "strassen", "--to", "python", "--cutoff", "1", "-o", str(out),
                                  "--no-stability", "--json"])
    assert result.exit_code == 0, result.output
    assert '"cutoff": 1' in result.stdout and "cutoff=1" in result.stderr
    module = _import(out, out.read_text())
    assert module.DEFAULT_CUTOFF == 1 and module.applied_levels(3, 3, 3, levels=1) == 1
    bad = runner.invoke(main, ["export", "strassen", "--to", "c", "--cutoff", "1", "-o", str(tmp_path / "s.c")])
    assert bad.exit_code == 2 and bad.stderr.startswith("error: --cutoff") and "Traceback" not in bad.output
    zero = runner.invoke(main, ["export", "strassen", "--to", "torch", "--cutoff", "0", "-o", str(tmp_path / "t.py")])
    assert zero.exit_code == 2 and zero.stderr.count("\n") == 1


def test_integral_program_rescales_exactly():
    from discover.integral import integral_program, intermediate_bound

    s = strassen()
    program = compile_scheme(s)
    assert integral_program(program) == (program, 1)  # integer programs come back unchanged
    halves = Scheme.from_arrays(np.array(s.U) * 2, s.V, np.array(s.W) * Fraction(1, 2), "2x2x2")
    scaled, d = integral_program(compile_scheme(halves))
    assert d == 1 and all(type(c) is int for step in scaled.steps for _, c in step.terms)  # 2·a11 + 2·a22 → a11 + a22
    program = _case("3x3x3-q")[1]
    scaled, d = integral_program(program)
    assert d > 1 and all(type(c) is int for step in scaled.steps for _, c in step.terms)
    assert scaled.additions == program.additions and scaled.products == program.products
    norms = side_norms(scaled)
    assert intermediate_bound(norms, 3, 5, 7, 19, 0) == 19 * 5 * 7
    assert intermediate_bound(norms, 3, 5, 7, 19, 2) >= intermediate_bound(norms, 3, 5, 7, 19, 1) > 19 * 5 * 7
