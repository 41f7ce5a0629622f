"""Alternative-basis schemes (discover.altbasis, discover.altmm, export/show/bench --alt-basis)."""
from __future__ import annotations

import importlib.util
import json
from fractions import Fraction

import numpy as np
import pytest
from click.testing import CliRunner

import discover
from discover.altbasis import AltBasisScheme, find_alt_basis
from discover.altmm import alt_levels, alt_matmul
from discover.cli import main
from discover.errors import NotExactError, SchemeError
from discover.fastmm import fused_matmul
from discover.scheme import Scheme
from discover.verify import verify_exact

SHAPES = [(13, 11, 9), (34, 17, 25), (1, 5, 3), (50, 50, 50), (29, 40, 31)]


@pytest.fixture(scope="module")
def alts():
    # 3x3x3 with a small sampling budget: the default one takes about 10 s.
    return {"winograd": find_alt_basis(discover.load("winograd")),
            "strassen": find_alt_basis(discover.load("strassen")),
            "catalog:3x3x3": find_alt_basis(discover.load("catalog:3x3x3"), budget=60),
            "catalog:2x3x4": find_alt_basis(discover.load("catalog:2x3x4"), budget=60)}


def _flat(F, r):
    return np.asarray(F, dtype=object).reshape(r, -1)


@pytest.mark.parametrize("source", ["winograd", "strassen"])
def test_2x2x2_reaches_12_additions_per_level(alts, source):
    alt = alts[source]
    assert alt.core_additions() == {"U": 3, "V": 3, "W": 6, "total": 12}
    assert alt.original.additions == {"winograd": 24, "strassen": 18}[source]
    assert alt.is_integer
    assert all(abs(round(float(np.linalg.det(np.array(X, dtype=float))))) == 1 for X in alt.bases)


@pytest.mark.parametrize("source", ["winograd", "strassen", "catalog:3x3x3"])
def test_core_times_bases_is_the_original_scheme_exactly(alts, source):
    alt = alts[source]
    r = alt.core.rank
    rebuilt = [np.asarray(_flat(f, r).dot(X)) for f, X in zip(alt.core.factors, alt.bases)]
    for got, want in zip(rebuilt, alt.original.factors):
        assert np.array_equal(got, _flat(want, r))
    n, m, p = alt.original.format.dims
    scheme = Scheme.from_arrays(rebuilt[0].reshape(r, n, m), rebuilt[1].reshape(r, m, p), rebuilt[2].reshape(r, n, p))
    assert verify_exact(scheme).valid
    assert not verify_exact(alt.core).valid  # the core alone is no matmul scheme
    if source == "catalog:3x3x3":
        assert alt.core_additions()["total"] < alt.original.additions


def test_check_refuses_a_wrong_basis(alts):
    alt = alts["winograd"]
    identity = np.array([[int(i == j) for j in range(4)] for i in range(4)], dtype=object)
    bad = AltBasisScheme(alt.original, alt.core, identity, alt.psi, alt.omega)
    with pytest.raises(NotExactError, match="U'"):
        bad.check()
    with pytest.raises(NotExactError):
        find_alt_basis(alt.core)  # not exact


@pytest.mark.parametrize("source", ["winograd", "strassen", "catalog:3x3x3", "catalog:2x3x4"])
@pytest.mark.parametrize("levels", [1, 2])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_alt_matmul_is_exact_on_integer_valued_odd_shapes(alts, source, levels, dtype):
    rng = np.random.default_rng(levels)
    for N, K, P in SHAPES:
        A = rng.integers(-9, 10, (N, K)).astype(dtype)
        B = rng.integers(-9, 10, (K, P)).astype(dtype)
        C = alt_matmul(A, B, alts[source], levels)
        assert C.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(C, A @ B)


@pytest.mark.parametrize("source", ["winograd", "catalog:3x3x3"])
@pytest.mark.parametrize("levels", [1, 2])
def test_alt_error_growth_stays_within_twice_the_standard_basis(alts, source, levels):
    # Documented growth (README): within 2x of the standard basis's normwise error on the same inputs
    # (measured 0.76x-1.12x for these schemes and sizes).
    rng = np.random.default_rng(7)
    A, B = rng.standard_normal((97, 101)), rng.standard_normal((101, 89))
    exact = A.astype(np.longdouble) @ B.astype(np.longdouble)
    alt = np.abs(alt_matmul(A, B, alts[source], levels) - exact).max()
    standard = np.abs(fused_matmul(A, B, alts[source].original, levels) - exact).max()
    assert alt <= 2 * standard + 1e-15


def test_rational_bases_only_when_asked():
    # Winograd with U doubled and W halved: no product subset of W is unimodular any more.
    w = discover.load("winograd")
    scheme = Scheme.from_arrays(np.asarray(w.U, dtype=object) * 2, w.V, np.asarray(w.W, dtype=object) * Fraction(1, 2))
    integer = find_alt_basis(scheme)
    assert integer.is_integer and integer.core_additions()["total"] > 12
    rational = find_alt_basis(scheme, integer=False)
    assert not rational.is_integer and rational.core_additions()["total"] == 12
    rng = np.random.default_rng(4)
    A, B = rng.integers(-9, 10, (13, 11)).astype(float), rng.integers(-9, 10, (11, 9)).astype(float)
    np.testing.assert_array_equal(alt_matmul(A, B, rational, 2), A @ B)


def test_levels_are_decided_at_the_top():
    assert alt_levels((13, 11, 9), (2, 2, 2), 2, 1) == 2
    assert alt_levels((13, 11, 9), (2, 2, 2), 3, 2) == 2  # 9 // 8 < 2
    assert alt_levels((3, 11, 9), (2, 2, 2), 2, 2) == 0
    alt = find_alt_basis(discover.load("winograd"))
    np.testing.assert_array_equal(alt_matmul(np.ones((3, 2)), np.ones((2, 5)), alt, 2, cutoff=4), np.full((3, 5), 2.0))


def test_discover_matmul_basis_alt():
    rng = np.random.default_rng(3)
    A, B = rng.integers(-9, 10, (2, 21, 18)).astype(float), rng.integers(-9, 10, (18, 23)).astype(float)
    np.testing.assert_array_equal(discover.matmul(A, B, "winograd", 2, basis="alt"), A @ B)
    with pytest.raises(SchemeError, match="basis must be"):
        discover.matmul(A, B, basis="sparse")
    with pytest.raises(SchemeError, match="fused backend"):
        discover.matmul(A.astype(np.int64), B.astype(np.int64), basis="alt")
    with pytest.raises(SchemeError, match="fused backend"):
        discover.matmul(A, B, backend="numpy", basis="alt")


def _import(path):
    spec = importlib.util.spec_from_file_location("alt_generated", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_export_alt_basis_python_is_exact_for_every_dtype(tmp_path):
    out = tmp_path / "w.py"
    result = CliRunner().invoke(main, ["export", "winograd", "--to", "python", "--alt-basis", "-o", str(out),
                                       "--json", "-q"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["additions"]["alt_basis"] == {"core": 12, "basis_changes": 6}
    module = _import(out)
    assert (module.CORE_ADDITIONS, module.BASIS_ADDITIONS) == (12, 6)
    assert "alternative basis" in module.__doc__
    rng = np.random.default_rng(5)
    module.BACKEND = "numpy"  # the numpy fallback; the fused kernels are those of discover.matmul
    for levels in (1, 2):
        for N, K, P in SHAPES:
            A, B = rng.integers(-9, 10, (N, K)), rng.integers(-9, 10, (K, P))
            for a, b in ((A, B), (A.astype(float), B.astype(float)), (A.astype(object), B.astype(object))):
                np.testing.assert_array_equal(module.matmul(a, b, levels, cutoff=1), A @ B)
    big = np.iinfo(np.int64).max
    A, B = np.array([[big, 3], [2, big]]), np.array([[5, big], [big, 7]])
    np.testing.assert_array_equal(module.matmul(A, B, 1, cutoff=1), A @ B)  # wrap-around as A @ B


def _c_product(lib, name, A, B, levels):
    import ctypes

    ctype = {np.dtype(np.float64): ctypes.c_double, np.dtype(np.float32): ctypes.c_float,
             np.dtype(np.int64): ctypes.c_int64}[A.dtype]
    fn = getattr(lib, name)
    fn.restype = ctypes.c_int
    ptr = ctypes.POINTER(ctype)
    (N, K), P = A.shape, B.shape[1]
    C = np.empty((N, P), A.dtype)
    assert fn(N, K, P, A.ctypes.data_as(ptr), K, B.ctypes.data_as(ptr), P, C.ctypes.data_as(ptr), P, levels, 1) == 0
    return C


@pytest.mark.parametrize("blas", [False, True])
def test_export_alt_basis_c_builds_and_is_exact(tmp_path, blas):
    import ctypes

    from discover.codegen.cbuild import compiler, find_blas

    if compiler() is None or (blas and find_blas() is None):
        pytest.skip("no C compiler" if compiler() is None else "no BLAS to link against")
    lib = tmp_path / "libalt.so"
    args = ["export", "catalog:2x2x3", "--to", "c", "--alt-basis", "--build", "-o", str(lib), "-q", "--no-stability"]
    result = CliRunner().invoke(main, args + ([] if blas else ["--no-blas"]))
    assert result.exit_code == 0, result.output
    assert "_alt(" in lib.with_suffix(".c").read_text()
    handle = ctypes.CDLL(str(lib))
    rng = np.random.default_rng(6)
    for levels in (1, 2):
        for N, K, P in SHAPES:
            A, B = rng.integers(-9, 10, (N, K)), rng.integers(-9, 10, (K, P))
            for suffix, dtype in (("", np.float64), ("_f32", np.float32), ("_i64", np.int64)):
                C = _c_product(handle, f"mm_2x2x3_r11_alt{suffix}", A.astype(dtype), B.astype(dtype), levels)
                np.testing.assert_array_equal(C, A @ B)


def test_export_alt_basis_refuses_other_targets():
    result = CliRunner().invoke(main, ["export", "winograd", "--to", "torch", "--alt-basis"])
    assert result.exit_code == 2
    assert "error: --alt-basis" in result.output


def test_show_alt_basis_prints_both_counts_and_the_bases():
    result = CliRunner().invoke(main, ["show", "winograd", "--alt-basis"])
    assert result.exit_code == 0, result.output
    assert "additions per level 24 (standard basis) -> 12 (core: U 3, V 3, W 6)" in result.output
    assert "phi: a~ = phi · a" in result.output and "omega^T: c = omega^T · c~" in result.output
    doc = json.loads(CliRunner().invoke(main, ["show", "winograd", "--alt-basis", "--json"]).stdout)
    assert doc["alt_basis"]["additions"]["core"]["total"] == 12
    assert len(doc["alt_basis"]["phi"]) == 4


def test_bench_matmul_alt_basis_reports_both_bases():
    pytest.importorskip("numba")
    result = CliRunner().invoke(main, ["bench", "matmul", "--sizes", "64", "--formats", "2x2x2", "--levels", "1",
                                       "--repeats", "1", "--dtypes", "float64", "--no-c", "--alt-basis", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    entry = doc["schemes"][0]
    assert entry["alt_basis"]["additions"] == 12
    assert [r["size"] for r in entry["alt_basis"]["rows"]] == [64]
    assert entry["alt_basis"]["rows"][0]["error"] < 1e-12
