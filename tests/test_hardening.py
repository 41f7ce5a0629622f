"""Issue 15, one test per class of hostile input: safe writes, silent misreads, tracebacks, resources.

Every case here failed on the code before the hardening (a traceback, a wrong result, a replaced
device, a lost mode, a dense tensor of terabytes); each now ends in one ``error:`` line with exit
code 2, or a clean :class:`~discover.errors.DiscoverError`.
"""
from __future__ import annotations

import io
import json
import os
import stat
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from discover import catalog
from discover.cli import main
from discover.errors import DiscoverError, LimitError, LoadError, SchemeError, WriteError
from discover.interchange import import_file
from discover.interchange.benson_ballard import scheme_from_text
from discover.interchange.kauers import parse_exp_text
from discover.jsonio import atomic_write_text, load_scheme, save_scheme
from discover.known import strassen
from discover.limits import MAX_NPZ_MEMBER_BYTES
from discover.nn import SchemeLinear, SchemeMatmul
from discover.scheme import Scheme
from discover.symmetry import kron
from discover.verify import verify, verify_exact


def one_error_line(result) -> str:
    """The single ``error:`` line of a failed command (and no traceback)."""
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


# ---------------------------------------------------------------------------- writes
def test_export_refuses_to_replace_a_device(runner):
    before = os.stat(os.devnull)
    result = runner.invoke(main, ["export", "strassen", "--to", "json", "-o", os.devnull])
    assert "not a regular file" in one_error_line(result)
    after = os.stat(os.devnull)
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev


def test_a_link_inside_the_folder_is_written_through(tmp_path):
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to("real.json")
    atomic_write_text(link, "new")
    assert link.is_symlink() and os.readlink(link) == "real.json"
    assert target.read_text() == "new"


def test_a_link_out_of_the_folder_is_refused(tmp_path, runner):
    outside = tmp_path / "outside.json"
    outside.write_text("keep")
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "s.json").symlink_to(outside)
    with pytest.raises(WriteError, match="leaves its folder"):
        atomic_write_text(folder / "s.json", "x")
    result = runner.invoke(main, ["transform", "strassen", "--op", "cyclic", "-o", str(folder / "s.json")])
    assert "leaves its folder" in one_error_line(result)
    assert outside.read_text() == "keep"


def test_new_files_follow_the_umask_and_old_files_keep_their_mode(tmp_path):
    old = os.umask(0o027)
    try:
        path = atomic_write_text(tmp_path / "new.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    os.chmod(path, 0o604)
    atomic_write_text(path, "y")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o604 and path.read_text() == "y"


@pytest.mark.parametrize("command", [
    ["export", "strassen", "--to", "python", "-q", "--no-stability", "-o", "{bad}"],
    ["export", "strassen", "--to", "exp", "-o", "{bad}"],
    ["transform", "strassen", "--op", "transpose", "-o", "{bad}"],
    ["compose", "strassen", "naive:2x2x1", "--op", "sum-p", "-o", "{bad}"],
])
def test_unwritable_outputs_are_one_line(runner, tmp_path, command):
    blocker = tmp_path / "file"
    blocker.write_text("")
    bad = str(blocker / "x.out")  # a path under a regular file
    result = runner.invoke(main, [a.replace("{bad}", bad) for a in command])
    assert "Not a directory" in one_error_line(result)


def test_import_into_an_unwritable_folder_is_one_line(runner, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    src = save_scheme(strassen(), tmp_path / "s.json")
    result = runner.invoke(main, ["import", str(src), "-o", str(blocker / "sub")])
    assert "is not a folder" in one_error_line(result)


# ---------------------------------------------------------------------------- silent misreads
def test_exp_index_zero_is_an_error_not_a_wrap_around():
    item = parse_exp_text("(a00+a11)*(b11)*(c11)\n", "x.exp")
    assert item.scheme is None and "1-based" in item.error
    item = parse_exp_text("(a1_0)*(b11)*(c11)\n", "x.exp")
    assert item.scheme is None and "1-based" in item.error


def test_layers_refuse_an_unverified_scheme_object():
    U = np.array(strassen().U)
    U[0, 0, 0] = 0
    bad = Scheme.from_arrays(U, strassen().V, strassen().W)
    with pytest.raises(SchemeError, match="inexact"):
        SchemeMatmul(bad)
    with pytest.raises(SchemeError, match="inexact"):
        SchemeLinear(4, 4, scheme=bad)


def test_layers_refuse_a_tampered_catalog_and_a_tampered_file(tmp_path, monkeypatch):
    U = np.array(strassen().U)
    U[3, 1, 1] = -1
    tampered = Scheme.from_arrays(U, strassen().V, strassen().W)
    path = save_scheme(tampered, tmp_path / "2x2x2_r7_ZT.json")
    monkeypatch.setenv(catalog.ENV_VAR, str(tmp_path))
    with pytest.raises(SchemeError, match="inexact"):
        SchemeLinear(4, 4, scheme="2x2x2")
    with pytest.raises(SchemeError, match="inexact"):
        SchemeMatmul(str(path))


def test_a_rejected_state_dict_leaves_the_module_unchanged():
    torch.manual_seed(0)
    layer = SchemeLinear(4, 4, scheme=strassen())
    before = {k: v.clone() for k, v in layer.state_dict().items()}
    state = {k: v.clone() for k, v in before.items()}
    state["matmul.U"][0, 0, 0] = 5.0
    state["weight"] = torch.zeros_like(state["weight"])
    with pytest.raises(SchemeError, match="do not hold a valid scheme"):
        layer.load_state_dict(state)
    for key, value in layer.state_dict().items():
        assert torch.equal(value, before[key]), key
    state = {k: v.clone() for k, v in before.items()}
    state["matmul.W"][1, 0, 0] = float("nan")
    with pytest.raises(SchemeError, match="NaN"):
        layer.load_state_dict(state)
    assert torch.equal(layer.matmul.W, before["matmul.W"])


# ---------------------------------------------------------------------------- tracebacks
def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("text, message", [
    ('{"format": [2,2,2], "rank": 7, "ring": "ZT", "U": ' + "[" * 100_000 + "]" * 100_000 + "}", "nesting"),
    ('{"format": [2,2,2], "rank": 7, "ring": "ZT", "meta": ' + "[" * 500 + "]" * 500 + ', "U": [], "V": [], "W": []}', "nesting"),
    ('{"format": [2,2,2], "rank": ' + "9" * 5000 + ', "ring": "ZT", "U": [], "V": [], "W": []}', "digits"),
    ('{"format": [2,2,2], "rank": 1, "ring": "Q", "U": [[["' + "7" * 5000 + '/3", 0], [0, 0]]], "V": [], "W": []}', "digits"),
    ('{"format": [2,2,2], "rank": 1, "ring": "Q", "U": [[["' + "7" * 1500 + '/3", 0], [0, 0]]], "V": [[[1,0],[0,0]]], "W": [[[1,0],[0,0]]]}', "digits"),
    ('{"format": [2,2,2], "rank": 1, "ring": "Z", "U": [[[1e1000000, 0], [0, 0]]], "V": [[[1,0],[0,0]]], "W": [[[1,0],[0,0]]]}', "finite"),
    ('{"format": [' + "1" * 5000 + ',2,2], "rank": 0, "ring": "ZT", "U": [], "V": [], "W": []}', "digits"),
    ('{"format": "' + "1" * 5000 + 'x2x2", "rank": 0, "ring": "ZT", "U": [], "V": [], "W": []}', "limit"),
], ids=["deep-U", "deep-metadata", "huge-rank", "huge-string-coefficient", "long-fraction", "exponent",
        "huge-dimension", "huge-format-string"])
def test_hostile_json_is_one_line(runner, tmp_path, text, message):
    path = _write(tmp_path, "s.json", text)
    with pytest.raises(LoadError, match=message):
        load_scheme(path)
    line = one_error_line(runner.invoke(main, ["verify", path]))
    assert message in line


@pytest.mark.parametrize("line, message", [
    ("(" * 2000 + "a11" + ")" * 2000 + "*(b11)*(c11)", "nested deeper"),
    ("(a11)/00*(b11)*(c11)", "division by zero"),
    ("(1/00*a11)*(b11)*(c11)", "zero denominator"),
    ("(" + "7" * 5000 + "*a11)*(b11)*(c11)", "digits"),
    ("(a1_" + "9" * 5000 + ")*(b11)*(c11)", "dimension limit"),
    ("(a999_999)*(b999_999)*(c999_999)", "limit"),
], ids=["parens", "trailing-zero-divisor", "zero-denominator", "digits", "index-digits", "format-limit"])
def test_hostile_exp_lines_are_refused(line, message):
    item = parse_exp_text(line + "\n", "x.exp")
    assert item.scheme is None and message in item.error


@pytest.mark.parametrize("token, message", [("1/00", "zero denominator"), ("1e1000000", "exponent"), ("7" * 5000, "digits")],
                         ids=["zero-denominator", "exponent", "digits"])
def test_hostile_benson_ballard_numbers_are_refused(token, message):
    text = f"# x\n{token}\n#\n1\n#\n1\n"
    item = scheme_from_text(text, "bb.txt")
    assert item.scheme is None and message in item.error


def test_hostile_perminov_and_npz_keys(tmp_path):
    doc = {"n": [2, 2, 2], "m": 1, "u": [["9" * 5000 + "/1", 0, 0, 0]], "v": [[1, 0, 0, 0]], "w": [[1, 0, 0, 0]]}
    items = import_file(_write(tmp_path, "p.json", json.dumps(doc)), "perminov")
    assert items[0].scheme is None and "limit" in items[0].error
    deep = _write(tmp_path, "d.json", '{"n": [2,2,2], "u": ' + "[" * 50_000 + "]" * 50_000 + "}")
    with pytest.raises(LoadError, match="nesting"):
        import_file(deep, "perminov")
    buf = io.BytesIO()
    np.savez(buf, **{"9" * 5000 + ",1,1": np.zeros((3, 1, 1))})
    npz = tmp_path / "k.npz"
    npz.write_bytes(buf.getvalue())
    items = import_file(npz, "alphatensor")
    assert items[0].scheme is None and "not of the form" in items[0].error and len(items[0].error) < 200


def test_rank_zero_schemes_show_and_verify(runner, tmp_path):
    path = _write(tmp_path, "r0.json", '{"format": [2,3,4], "rank": 0, "ring": "ZT", "U": [], "V": [], "W": []}')
    result = runner.invoke(main, ["show", path])
    assert result.exit_code == 0 and "rank 0" in result.output and "c11 = 0" in result.output
    result = runner.invoke(main, ["verify", path])
    assert result.exit_code == 1 and "8 wrong entries" in result.output


@pytest.mark.parametrize("xyz, message", [
    ("[[[1,1],[1,1]],[[1,0],[0,1]],[[1,0],[0,1]]]", "singular"),
    ("[[[0.5,0],[0,1]],[[1,0],[0,1]],[[1,0],[0,1]]]", "not an exact integer"),
    ("[[[1,0],[0]],[[1,0],[0,1]],[[1,0],[0,1]]]", "not a number"),
    ('[[["x",0],[0,1]],[[1,0],[0,1]],[[1,0],[0,1]]]', "not an integer"),
])
def test_bad_sandwich_matrices_are_one_line(runner, xyz, message):
    result = runner.invoke(main, ["transform", "strassen", "--op", "sandwich", "--xyz", xyz])
    assert message in one_error_line(result)


def test_verify_dev_zero_and_a_batch_that_goes_on(runner, tmp_path):
    good = str(save_scheme(strassen(), tmp_path / "good.json"))
    empty = tmp_path / "empty"
    empty.mkdir()
    # a folder stands for its .json files; one without any is an unreadable source
    result = runner.invoke(main, ["verify", "/dev/zero", good, str(empty), str(tmp_path / "missing.json")])
    assert result.exit_code == 2
    assert f"{good}: valid" in result.output
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 3 and "/dev/zero: not a regular file" in errors[0]
    assert f"{empty}: a folder without .json files" in errors[1]
    assert "4 files: 1 valid, 0 not valid, 3 unreadable" in result.stderr


def test_import_batch_goes_on_after_bad_files(runner, tmp_path):
    bad_exp = _write(tmp_path, "bad.exp", "(a00+a11)*(b11)*(c11)\n")
    trunc = _write(tmp_path, "trunc.json", '{"U": [')
    good = str(save_scheme(strassen(), tmp_path / "good.json"))
    out = tmp_path / "out"
    result = runner.invoke(main, ["import", bad_exp, "/dev/zero", trunc, good, "-o", str(out)])
    assert result.exit_code == 2
    assert len(list(out.iterdir())) == 1
    assert "2 scheme(s) from 2 file(s): 1 valid over Q" in result.stderr
    assert "2 file(s) unreadable" in result.stderr


# ---------------------------------------------------------------------------- resources
def _peak_bytes(fn) -> tuple[object, int]:
    tracemalloc.start()
    try:
        out = fn()
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_large_format_small_rank_verifies_sparsely(tmp_path):
    path = _write(tmp_path, "t.json", '{"format":[100,100,100],"rank":0,"ring":"ZT","U":[],"V":[],"W":[]}')
    assert len(Path(path).read_bytes()) < 80
    scheme = load_scheme(path)
    report, peak = _peak_bytes(lambda: verify(scheme))
    assert not report.valid and report.wrong_entry_count == 100 * 100
    assert len(report.errors) == 1000 and report.omitted_errors == 10**6 - 1000
    assert peak < 300 * 2**20  # a dense tensor would need 10**12 entries


def test_a_tiny_exp_file_with_a_large_format_imports_as_not_exact(runner, tmp_path):
    path = _write(tmp_path, "big.exp", "(a1_1+a100_100)*(b1_1+b100_100)*(c1_1+c100_100)\n")
    assert import_file(path)[0].scheme.format.dims == (100, 100, 100)
    result = runner.invoke(main, ["import", path, "-o", str(tmp_path / "out"), "--proof"])
    assert result.exit_code == 1 and "not exact" in result.stderr and "10000 wrong entries" in result.stderr


def test_kron_square_still_gets_both_engines():
    assert verify(kron(strassen(), strassen())).method == "exact+sympy"


@pytest.mark.slow
def test_the_naive_20_cube_verifies_in_little_memory():
    naive = Scheme.naive("20x20x20")
    report, peak = _peak_bytes(lambda: verify_exact(naive))
    assert report.valid
    assert peak < 512 * 2**20  # the dense path needed a 400x400x400 tensor plus 8000x160000 products


def test_oversize_requests_are_refused_before_allocating(runner):
    with pytest.raises(LimitError):
        Scheme.naive("100x100x100")
    result = runner.invoke(main, ["compose", "naive:10x10x10", "naive:10x10x10", "--op", "kron"])
    assert "above the limit" in one_error_line(result)
    result = runner.invoke(main, ["compose", "naive:100x100x100", "strassen", "--op", "kron"])
    assert "above the limit" in one_error_line(result)
    with pytest.raises(DiscoverError, match="limit"):
        Scheme.naive("1001x1x1")


def test_an_npz_member_over_the_limit_is_refused_before_decompression(tmp_path):
    path = tmp_path / "bomb.npz"
    size = MAX_NPZ_MEMBER_BYTES + 2**20
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("2,2,2.npy", "w", force_zip64=True) as fh:
            chunk = bytes(2**20)
            for _ in range(size // len(chunk)):
                fh.write(chunk)
    assert path.stat().st_size < 2**20
    items, peak = _peak_bytes(lambda: import_file(path, "alphatensor"))
    assert items[0].scheme is None and "exceeds the limit" in items[0].error
    assert peak < 8 * 2**20


@pytest.mark.parametrize("name", [5, ["a"], {"b": 1}, ""])
def test_a_name_that_is_not_a_string_is_no_name(runner, tmp_path, name):
    # optimize-additions and compose build names from their parents': an int name was a TypeError.
    doc = json.loads((Path(__file__).resolve().parents[1] / "algorithms" / "2x2x2_r7_ZT.json").read_text())
    doc["name"] = name
    src = tmp_path / "odd.json"
    src.write_text(json.dumps(doc))
    assert load_scheme(src).name is None
    result = runner.invoke(main, ["compose", str(src), "strassen", "--op", "kron", "-o", str(tmp_path / "c.json")])
    assert result.exit_code == 0, result.output
    assert load_scheme(tmp_path / "c.json").rank == 49
    result = runner.invoke(main, ["optimize-additions", str(src), "--iterations", "5", "-o", str(tmp_path / "oa")])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "oa").glob("*.json"))) == 1
