"""``strassen import``: files written, rings from verification, one-line errors and exit codes."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from discover.cli import main
from discover.interchange import EXPORT_TARGETS
from discover.jsonio import load_scheme
from discover.known import strassen

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="shared data folder /work/shared/data is absent")


def run(*args: str):
    return CliRunner().invoke(main, ["import", *args])


@needs_data
def test_import_perminov_and_exp(tmp_path):
    out = tmp_path / "out"
    result = run(str(DATA / "perminov_fmm" / "ZT_json" / "2x3x5_m25_c106_ZT.json"), str(DATA / "flips_kauers_moosbauer" / "226-21-mod2.exp"), "-o", str(out))
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == ["2x2x6_r21_Z2-km-226-21-mod2.json", "2x3x5_r25_ZT-perminov-2x3x5_m25_c106_ZT.json"]
    z2 = load_scheme(out / names[0])
    assert z2.ring == "Z2" and z2.meta["verification"]["checked_over"] == "Z2"
    assert z2.meta["provenance"]["source"] == "226-21-mod2.exp"
    zt = load_scheme(out / names[1])
    assert zt.ring == "ZT" and zt.meta["verification"]["valid"] is True


@needs_data
def test_rank_is_recounted(tmp_path):
    result = run(str(DATA / "flips_kauers_moosbauer" / "366-85-mod2.exp"), "-o", str(tmp_path))
    assert result.exit_code == 0
    assert "claims rank 85 but holds 86 products" in result.output
    scheme = load_scheme(tmp_path / "3x6x6_r86_Z2-km-366-85-mod2.json")
    assert scheme.rank == 86 and scheme.meta["provenance"]["declared_rank"] == 85


@needs_data
def test_complex_items_refused_batch_goes_on(tmp_path):
    result = run(str(DATA / "alphaevolve" / "alphaevolve_decompositions.npz"), "-o", str(tmp_path), "--json")
    assert result.exit_code == 1
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 2 and all("complex coefficients are not supported" in ln for ln in errors)
    doc = json.loads(result.stdout)
    assert doc["counts"] == {"valid": 13, "Z2": 0, "not exact": 0, "refused": 2}
    assert len(list(tmp_path.glob("*.json"))) == 13


def test_unreadable_and_bad_files_exit_2_batch_goes_on(tmp_path):
    good = tmp_path / "strassen.txt"
    EXPORT_TARGETS["exp"](strassen(), good)
    garbage = tmp_path / "garbage.exp"
    garbage.write_bytes(b"\x00\xff\x10binary")
    out = tmp_path / "out"
    result = run(str(tmp_path / "missing.npz"), str(garbage), str(good), "-o", str(out))
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 2
    assert [p.name for p in out.iterdir()] == ["2x2x2_r7_ZT-km-strassen.json"]


def test_not_exact_gives_exit_1(tmp_path):
    lines = (tmp_path / "s.exp")
    EXPORT_TARGETS["exp"](strassen(), lines)
    text = lines.read_text().splitlines()
    text[0] = text[0].replace("(a11+a22)", "(a11+a22+a12)", 1)
    bad = tmp_path / "bad.exp"
    bad.write_text("\n".join(text) + "\n")
    result = run(str(bad), "-o", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "not exact" in result.stderr
    assert not (tmp_path / "out").exists()


def test_proof_and_dry_run(tmp_path):
    path = tmp_path / "s.json"
    EXPORT_TARGETS["perminov"](strassen(), path)
    result = run(str(path), "--proof", "--dry-run", "-o", str(tmp_path / "out"))
    assert result.exit_code == 0 and "would write" in result.stdout
    assert not (tmp_path / "out").exists()
    result = run(str(path), "--proof", "-o", str(tmp_path / "out"))
    scheme = load_scheme(tmp_path / "out" / "2x2x2_r7_ZT-perminov-s.json")
    assert scheme.meta["verification"]["method"] == "exact+sympy"


class _Evil:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


def test_malicious_npz_one_line_error(tmp_path):
    marker = tmp_path / "pwned"
    evil = np.empty(3, dtype=object)
    evil[0] = _Evil(marker)
    evil[1] = evil[2] = np.zeros((4, 7))
    path = tmp_path / "evil.npz"
    np.savez(path, **{"2,2,3": evil})
    result = run(str(path), "-o", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 2  # the error line and the summary
    assert "refusing a pickle that calls" in result.stderr
    assert not marker.exists() and not (tmp_path / "out").exists()


@pytest.mark.slow
@needs_data
def test_all_alphatensor_mod2_factorizations(tmp_path):
    # The 93 real factorizations take minutes (ranks up to 990): see the report, not CI.
    result = run(str(DATA / "alphatensor" / "factorizations_f2.npz"), "-o", str(tmp_path), "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["counts"] == {"valid": 0, "Z2": 20, "not exact": 0, "refused": 0}
    assert len(list(tmp_path.glob("*_Z2-at-factorizations_f2.json"))) == 20


@pytest.mark.parametrize("provenance", ["found by hand", [["method", "flip"]], 7])
def test_a_provenance_that_is_not_a_record_is_replaced_not_a_traceback(tmp_path, provenance):
    # A file may hold anything under "provenance"; merging into it raised ValueError (a traceback).
    doc = json.loads((Path(__file__).resolve().parents[1] / "algorithms" / "2x2x2_r7_ZT.json").read_text())
    doc["provenance"] = provenance
    src = tmp_path / "odd.json"
    src.write_text(json.dumps(doc))
    result = run(str(src), "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    (written,) = (tmp_path / "out").glob("*.json")
    record = load_scheme(written).meta["provenance"]
    assert isinstance(record, dict) and record["tool"] == "strassen-discover" and "method" not in record
