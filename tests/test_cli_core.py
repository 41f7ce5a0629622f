"""The core commands: verify, show, compose, transform, catalog list."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from discover import Scheme
from discover.cli import main
from discover.jsonio import load_scheme, save_scheme
from discover.known import strassen, winograd
from discover.symmetry import cyclic, direct_sum, kron, transpose

from .test_jsonio import MALFORMED


@pytest.fixture
def strassen_file(tmp_path):
    return save_scheme(strassen(), tmp_path / "strassen.json")


def test_verify_accepts_valid_schemes(runner, tmp_path):
    schemes = [strassen(), winograd(), kron(strassen(), strassen()), transpose(Scheme.naive("2x3x4")),
               cyclic(Scheme.naive("3x4x5")), direct_sum(strassen(), Scheme.naive("2x2x3"), "p")]
    schemes += [Scheme.naive(f"{n}x{m}x{p}") for n in range(1, 6) for m in range(1, 6) for p in range(1, 6) if n <= m <= p]
    files = [str(save_scheme(s, tmp_path / f"s{i}.json")) for i, s in enumerate(schemes)]
    result = runner.invoke(main, ["verify", *files])
    assert result.exit_code == 0, result.output
    assert result.output.count(": valid: ") == len(files)


def test_verify_rejects_a_changed_coefficient_with_a_diagnosis(runner, tmp_path):
    V = np.array(strassen().V)
    V[2, 1, 0] = 1
    path = save_scheme(Scheme.from_arrays(strassen().U, V, strassen().W), tmp_path / "bad.json")
    result = runner.invoke(main, ["verify", str(path)])
    assert result.exit_code == 1
    assert "NOT valid" in result.output
    assert "c12: extra +a11*b21" in result.output and "c22: extra +a11*b21" in result.output


def test_verify_json_output(runner, strassen_file):
    result = runner.invoke(main, ["verify", "--json", str(strassen_file)])
    assert result.exit_code == 0
    docs = json.loads(result.stdout)  # always a list, one result per scheme
    assert len(docs) == 1 and docs[0]["valid"] is True and docs[0]["ring"] == "ZT" and docs[0]["rank"] == 7


def test_verify_json_is_a_list_for_two_files_and_reads_stdin(runner, strassen_file):
    result = runner.invoke(main, ["verify", "--json", str(strassen_file), "naive:2x3x4"])
    assert [d["rank"] for d in json.loads(result.stdout)] == [7, 24]
    result = runner.invoke(main, ["verify", "-"], input=strassen_file.read_text())
    assert result.exit_code == 0 and result.stdout.strip() == "-: valid: 2x2x2 rank 7 ring ZT"


@pytest.mark.parametrize("source, first", [("winograd", "Winograd variant of Strassen: 2x2x2 rank 7"),
                                           ("naive:2x3x4", "naive 2x3x4: 2x3x4 rank 24")])
def test_show_takes_any_scheme_source(runner, source, first):
    result = runner.invoke(main, ["show", source])
    assert result.exit_code == 0 and result.stdout.startswith(first)


def test_verify_takes_a_folder_as_its_json_files_in_name_order(runner, tmp_path):
    save_scheme(winograd(), tmp_path / "b.json")
    save_scheme(strassen(), tmp_path / "a.json")
    (tmp_path / "notes.txt").write_text("not a scheme")
    (tmp_path / "sub").mkdir()
    save_scheme(Scheme.naive("2x2x3"), tmp_path / "sub" / "c.json")  # subfolders are not read
    result = runner.invoke(main, ["verify", "--no-proof", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [f"{tmp_path / 'a.json'}: valid: 2x2x2 rank 7 ring ZT",
                                          f"{tmp_path / 'b.json'}: valid: 2x2x2 rank 7 ring ZT"]


def test_verify_reports_a_folder_without_json_files_and_checks_the_rest(runner, tmp_path, strassen_file):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(main, ["verify", str(empty), str(strassen_file)])
    assert result.exit_code == 2
    assert f"error: {empty}: a folder without .json files" in result.stderr
    assert f"{strassen_file}: valid: 2x2x2 rank 7 ring ZT" in result.stdout


def test_verify_says_valid_mod_2_only(runner, tmp_path):
    path = save_scheme(strassen().as_mod2(), tmp_path / "z2.json")
    result = runner.invoke(main, ["verify", str(path)])
    assert result.exit_code == 0 and "valid mod 2 only" in result.output


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_verify_exits_2_with_one_line_for_malformed_files(runner, tmp_path, kind):
    path = tmp_path / "bad.json"
    path.write_text(MALFORMED[kind][0])
    result = runner.invoke(main, ["verify", str(path)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and MALFORMED[kind][1] in lines[0]


def test_a_missing_choice_option_is_one_error_line(runner):
    # click lists the choices one per line ("Choose from:\n\tkron,\n\t..."): they are joined.
    result = runner.invoke(main, ["compose", "strassen", "strassen"], prog_name="strassen")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: strassen compose: Missing option '--op'. Choose from: kron, sum-n, sum-m, sum-p (see --help)"]


def test_show_prints_products_and_outputs(runner, strassen_file):
    result = runner.invoke(main, ["show", str(strassen_file)])
    assert result.exit_code == 0
    lines = result.stdout.strip().splitlines()
    assert sum(line.startswith("m") for line in lines) == 7
    assert sum(line.startswith("c") for line in lines) == 4
    assert "m1 = (a11 + a22) * (b11 + b22)" in lines
    assert "c11 = m1 + m4 - m5 + m7" in lines
    assert "rank 7" in lines[0] and "18 additions" in lines[0]


def test_compose_and_transform_write_verified_files(runner, tmp_path):
    out = tmp_path / "k.json"
    result = runner.invoke(main, ["compose", "strassen", "strassen", "--op", "kron", "-o", str(out)])
    assert result.exit_code == 0, result.output
    k = load_scheme(out)
    assert k.rank == 49 and k.meta["verification"]["valid"] is True and k.meta["provenance"]["composed"] is True
    out2 = tmp_path / "t.json"
    result = runner.invoke(main, ["transform", "naive:2x3x4", "--op", "orient", "--to", "4x2x3", "-o", str(out2)])
    assert result.exit_code == 0
    assert load_scheme(out2).format.dims == (4, 2, 3)
    out3 = tmp_path / "sum.json"
    result = runner.invoke(main, ["compose", "strassen", "naive:2x2x1", "--op", "sum-p", "-o", str(out3)])
    assert result.exit_code == 0 and load_scheme(out3).rank == 11


def test_compose_rejects_incompatible_schemes(runner):
    result = runner.invoke(main, ["compose", "strassen", "naive:3x3x3", "--op", "sum-p"])
    assert result.exit_code == 2 and "equal other dimensions" in result.stderr


def test_catalog_list_on_a_folder(runner, tmp_path):
    save_scheme(strassen(), tmp_path / "2x2x2_r7_ZT.json")
    save_scheme(Scheme.naive("2x2x3"), tmp_path / "2x2x3_r12_ZT.json")
    result = runner.invoke(main, ["catalog", "list", "--dir", str(tmp_path), "--json"])
    assert result.exit_code == 0
    rows = json.loads(result.stdout)["schemes"]
    assert [(r["format"], r["rank"], r["additions"]) for r in rows] == [("2x2x2", 7, 18), ("2x2x3", 12, 6)]


def test_console_script_version_and_help():
    out = subprocess.run([sys.executable, "-m", "discover.cli", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and "strassen" in out.stdout
    helped = subprocess.run([sys.executable, "-m", "discover.cli", "verify", "--help"], capture_output=True, text=True)
    assert helped.returncode == 0 and "Examples" in helped.stdout


def test_quiet_silences_messages_and_verbose_shows_the_traceback(runner, tmp_path):
    out = tmp_path / "k.json"
    loud = runner.invoke(main, ["compose", "strassen", "strassen", "--op", "kron", "-o", str(out)])
    quiet = runner.invoke(main, ["compose", "strassen", "strassen", "--op", "kron", "-o", str(out), "-q"])
    assert loud.exit_code == quiet.exit_code == 0
    assert "wrote" in loud.stderr and quiet.stderr == ""
    plain = runner.invoke(main, ["show", str(tmp_path / "missing.json")])
    verbose = runner.invoke(main, ["-v", "show", str(tmp_path / "missing.json")])
    assert plain.exit_code == verbose.exit_code == 2
    assert plain.stderr.count("\n") == 1 and "Traceback" not in plain.stderr
    assert "Traceback" in verbose.stderr and verbose.stderr.strip().splitlines()[-1].startswith("error:")


def test_search_help_names_every_built_in_method(runner):
    from discover.search.registry import BUILTIN_METHODS

    helped = runner.invoke(main, ["search", "--help"])
    listed = helped.output.split("Search method (", 1)[1].split(")", 1)[0]
    assert helped.exit_code == 0
    assert sorted(name.strip() for name in listed.split(",")) == sorted(BUILTIN_METHODS)
