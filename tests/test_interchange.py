"""Interchange adapters: published files import and verify, exports round-trip, pickles are safe."""
from __future__ import annotations

import io
import os
import re
import pickle
import zipfile
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from discover.errors import LoadError, SchemeError
from discover.interchange import (
    EXPORT_TARGETS,
    UnsafePickleError,
    detect_format,
    import_file,
    label_ring,
)
from discover.interchange.alphatensor import read_alphaevolve, read_alphatensor
from discover.interchange.benson_ballard import benson_ballard_text, scheme_from_text
from discover.interchange.kauers import parse_exp_text, parse_product
from discover.interchange.safe_pickle import read_npy
from discover.known import strassen
from discover.scheme import Scheme
from discover.verify import verify_exact

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="shared data folder /work/shared/data is absent")


def _only(items):
    assert len(items) == 1 and items[0].error is None, items
    return items[0].scheme


# ---------------------------------------------------------------- published files
@needs_data
def test_alphatensor_ct_layout_is_converted():
    """The third factor of AlphaTensor is Cᵀ: read as-is it is wrong, converted it is exact."""
    scheme = _only(read_alphatensor(DATA / "alphatensor" / "factorizations_r.npz", keys=["2,2,3"]))
    assert (str(scheme.format), scheme.rank) == ("2x2x3", 11)
    assert verify_exact(scheme).valid
    with zipfile.ZipFile(DATA / "alphatensor" / "factorizations_r.npz") as zf:
        u, v, w = read_npy(io.BytesIO(zf.read("2,2,3.npy")))
    r = u.shape[1]
    assert np.array_equal(np.array(scheme.W.transpose(0, 2, 1).reshape(r, -1), dtype=np.int64), w.T)
    untransposed = Scheme.from_arrays(u.T.reshape(r, 2, 2), v.T.reshape(r, 2, 3), w.T.reshape(r, 2, 3), "2x2x3")
    assert not verify_exact(untransposed).valid


@needs_data
def test_alphatensor_selected_keys_and_exact_dyadic_floats():
    items = read_alphatensor(DATA / "alphatensor" / "factorizations_r.npz", keys=["2,2,2", "3,4,5", "3,4,11"])
    got = {it.key: it.scheme for it in items}
    assert [it.error for it in items] == [None] * 3
    assert got["2,2,2"].rank == 7 and got["3,4,5"].rank == 47 and got["3,4,11"].rank == 103
    assert Fraction(1, 2) in set(got["3,4,11"].U.ravel()) | set(got["3,4,11"].V.ravel()) | set(got["3,4,11"].W.ravel())
    for scheme in got.values():
        labelled = label_ring(scheme)
        assert labelled.valid and not labelled.scheme.mod2
    assert label_ring(got["3,4,11"]).scheme.ring == "Q"
    assert label_ring(got["3,4,5"]).scheme.ring == "Z"


@needs_data
def test_alphatensor_f2_is_labelled_z2():
    items = read_alphatensor(DATA / "alphatensor" / "factorizations_f2.npz", keys=["2,2,3", "4,4,4"])
    for item in items:
        labelled = label_ring(item.scheme)
        assert not verify_exact(item.scheme).valid
        assert labelled.valid and labelled.scheme.ring == "Z2" and labelled.report.checked_over == "Z2"
    assert {it.key: it.scheme.rank for it in items} == {"2,2,3": 11, "4,4,4": 47}


@needs_data
def test_alphaevolve_complex_refused_rest_valid():
    items = read_alphaevolve(DATA / "alphaevolve" / "alphaevolve_decompositions.npz")
    refused = {it.key: it.error for it in items if it.error}
    assert set(refused) == {"decomposition_347", "decomposition_444"}
    assert all("complex coefficients are not supported" in e for e in refused.values())
    ok = [it for it in items if it.scheme is not None]
    assert len(ok) == 13
    assert all(label_ring(it.scheme).valid for it in ok)
    ranks = {str(it.scheme.format): it.scheme.rank for it in ok}
    assert ranks["2x4x5"] == 32 and ranks["4x4x5"] == 61 and ranks["5x5x5"] == 93
    assert label_ring(next(it.scheme for it in ok if it.key == "decomposition_245")).scheme.ring == "Q"


@needs_data
def test_perminov_files_import_as_ternary():
    files = sorted((DATA / "perminov_fmm" / "ZT_json").glob("*.json"))
    assert len(files) == 9
    for path in files:
        assert detect_format(path) == "perminov"
        scheme = _only(import_file(path))
        labelled = label_ring(scheme)
        assert labelled.valid and labelled.scheme.ring == "ZT", path.name
        assert f"{scheme.format}_m{scheme.rank}" in path.name


@pytest.mark.slow
@needs_data
def test_every_exp_file_verifies_with_the_ring_of_its_content():
    files = sorted((DATA / "flips_kauers_moosbauer").glob("*.exp")) + sorted((DATA / "mkauers_structured").glob("*.exp"))
    assert len(files) == 54
    for path in files:
        item = import_file(path)[0]
        labelled = label_ring(item.scheme)
        assert labelled.valid, path.name
        expected = "Z2" if "mod2" in path.name else labelled.scheme.coefficient_ring
        assert labelled.scheme.ring == expected, path.name
        if path.name == "366-85-mod2.exp":
            assert (item.declared_rank, item.scheme.rank) == (85, 86)
        elif item.declared_rank is not None:
            assert item.declared_rank == item.scheme.rank, path.name


@needs_data
def test_moosbauer_poole_plain_is_z2_and_lifted_is_exact():
    folder = DATA / "symmetric_flips_moosbauer_poole"
    expect = {"555m93.txt": ("Z2", 93), "555m93_lifted.txt": ("Z", 93), "666m153.txt": ("Z2", 153), "666m153_lifted.txt": ("Z", 153)}
    for name, (ring, rank) in expect.items():
        item = import_file(folder / name)[0]
        labelled = label_ring(item.scheme)
        assert labelled.valid and (labelled.scheme.ring, labelled.scheme.rank) == (ring, rank), name
    assert detect_format(folder / "555m93_lifted.txt") == "lifted"


# ---------------------------------------------------------------- parsing
def test_parse_product_variants():
    assert parse_product("(a11+a22)*(b11+b22)*(c11+c22)") == [
        ("a", 0, 0, 1), ("a", 1, 1, 1), ("b", 0, 0, 1), ("b", 1, 1, 1), ("c", 0, 0, 1), ("c", 1, 1, 1)
    ]
    assert parse_product("(a11 - a12) (2 b31) (c12)") == [("a", 0, 0, 1), ("a", 0, 1, -1), ("b", 2, 0, 2), ("c", 0, 1, 1)]
    assert parse_product("2*a11*b11*c21/3")[-1] == ("c", 1, 0, Fraction(1, 3))
    assert parse_product("(a11)*(b11)*(c11+c12)/3")[-2:] == [("c", 0, 0, Fraction(1, 3)), ("c", 0, 1, Fraction(1, 3))]
    assert parse_product("-(a25*(-b11+2*b12)*c12)")[-1] == ("c", 0, 1, -1)
    assert parse_product("a1_12*b12_1*c1_1")[0][:3] == ("a", 0, 11)
    for bad in ("a11*b11", "(a11+b11)*b11*c11", "a11*b11*c11*a12", "(a11*(b11)*c11", "a111*b11*c11", "x11*b11*c11"):
        with pytest.raises(SchemeError):
            parse_product(bad)


def test_exp_c_factor_is_transposed():
    """``cKI`` is the weight in C[I, K]: the naive 1x1x2 product a11*b12 feeds c21."""
    item = parse_exp_text("a11*b11*c11\na11*b12*c21\n", "x.exp")
    assert str(item.scheme.format) == "1x1x2"
    assert label_ring(item.scheme).valid
    assert item.scheme.W[1, 0, 1] == 1


def test_benson_ballard_is_not_transposed():
    naive = Scheme.naive("2x3x4")
    text = benson_ballard_text(naive)
    blocks = re.split(r"^#.*$", text, flags=re.M)
    assert [len(b.strip().splitlines()) for b in blocks[1:]] == [6, 12, 8]
    back = scheme_from_text(text, "naive").scheme
    assert back.same_coefficients(naive)
    # Row i·P + l of the W block is C[i, l]: product (i, j, l) = (1, 2, 3) is number 1·12 + 2·4 + 3 = 23.
    w_rows = [line.split() for line in blocks[3].strip().splitlines()]
    assert w_rows[1 * 4 + 3][23] == "1"


def test_benson_ballard_bad_block_counts():
    assert "3 blocks" in scheme_from_text("1 0\n#\n0 1\n", "x").error
    assert "fit no format" in scheme_from_text("1\n1\n#\n1\n#\n1\n1\n1\n", "x").error


def test_detect_rejects_unknown(tmp_path):
    for name, content in (("x.txt", b"hello world\n"), ("y.json", b'{"a": 1}'), ("z.bin", b"\xff\xfe\x00\x01")):
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(LoadError):
            import_file(path)
    with pytest.raises(LoadError, match="cannot read"):
        import_file(tmp_path / "missing.exp")


# ---------------------------------------------------------------- round trips
def _third_scheme() -> Scheme:
    """Strassen with product 0 scaled by 3 on A and 1/3 on C: exact over Q, not dyadic."""
    s = strassen()
    U = s.U.copy()
    W = s.W.copy()
    U[0] = U[0] * 3
    W[0] = np.vectorize(lambda v: Fraction(v, 3), otypes=[object])(W[0])
    return Scheme.from_arrays(U, s.V, W, s.format)


def _mod2_scheme() -> Scheme:
    s = strassen()
    V = s.V.copy()
    V[0] = V[0] * 3  # 3 ≡ 1 mod 2: still valid mod 2, no longer over Q
    return Scheme.from_arrays(s.U, V, s.W, s.format).as_mod2()


def _rectangular() -> Scheme:
    s = Scheme.naive("2x3x4")
    U = s.U.copy()
    U[5] = U[5] * 2
    W = s.W.copy()
    W[5] = np.vectorize(lambda v: Fraction(v, 2), otypes=[object])(W[5])
    return Scheme.from_arrays(U, s.V, W, s.format)


@pytest.mark.parametrize("target", sorted(EXPORT_TARGETS))
@pytest.mark.parametrize("make", [strassen, _rectangular, _mod2_scheme, _third_scheme], ids=["strassen", "rect", "mod2", "third"])
def test_export_import_round_trip(tmp_path, target, make):
    scheme = make()
    path = tmp_path / f"scheme.{ {'alphatensor': 'npz', 'json': 'json', 'perminov': 'json'}.get(target, 'txt') }"
    if target == "alphatensor" and make is _third_scheme:
        with pytest.raises(SchemeError, match="no exact float64"):
            EXPORT_TARGETS[target](scheme, path)
        assert not path.exists()
        return
    EXPORT_TARGETS[target](scheme, path)
    expected_kind = {"lifted": "lifted", "exp": "exp"}.get(target, target)
    assert detect_format(path) == expected_kind
    back = _only(import_file(path))
    labelled = label_ring(back)
    assert labelled.valid
    assert labelled.scheme.same_coefficients(scheme)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left behind


# ---------------------------------------------------------------- safe unpickling
class _Evil:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


def test_malicious_pickle_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "pwned"
    evil = np.empty(3, dtype=object)
    evil[0] = _Evil(marker)
    evil[1] = evil[2] = np.zeros((4, 7))
    path = tmp_path / "evil.npz"
    np.savez(path, **{"2,2,2": evil})
    assert detect_format(path) == "alphatensor"
    with pytest.raises(UnsafePickleError, match="refusing a pickle that calls .*mkdir"):
        import_file(path)
    assert not marker.exists()


def test_restricted_unpickler_reads_numpy_object_arrays():
    value = np.empty(3, dtype=object)
    value[0], value[1], value[2] = np.ones((2, 3)), np.arange(4), np.zeros((1, 1), dtype=np.int32)
    buf = io.BytesIO()
    np.save(buf, value, allow_pickle=True)
    buf.seek(0)
    back = read_npy(buf)
    assert back.dtype == object and all(np.array_equal(a, b) for a, b in zip(back, value))
    assert pickle.dumps(1)  # the module is untouched for ordinary pickling


def test_perminov_newer_spelling_dimension_and_rank(tmp_path):
    # The numerical tool of the same author writes "dimension"/"rank" instead of "n"/"m".
    import json

    from discover.interchange.perminov import perminov_dict

    scheme = strassen()
    doc = perminov_dict(scheme)
    doc["dimension"] = doc.pop("n")
    doc["rank"] = doc.pop("m", scheme.rank)
    doc.update(ring="ZT", complexity=0, strategy="default")
    path = tmp_path / "2x2x2_m7_c0_0123_ZT.json"
    path.write_text(json.dumps(doc))
    assert detect_format(path) == "perminov"
    item = import_file(path)[0]
    assert item.declared_rank == 7
    assert item.scheme.format == scheme.format
    assert (item.scheme.U == scheme.U).all() and (item.scheme.V == scheme.V).all() and (item.scheme.W == scheme.W).all()
