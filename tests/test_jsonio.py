"""The JSON format: round trips, strict validation, atomic writes."""
from __future__ import annotations

import json
import os
from fractions import Fraction

import pytest

from discover import LoadError, Scheme
from discover.jsonio import dumps_scheme, load_scheme, save_scheme, scheme_to_dict
from discover.known import strassen
from discover.symmetry import sandwich


def _doc(**changes):
    doc = scheme_to_dict(strassen())
    doc.update(changes)
    return doc


def test_round_trip_keeps_coefficients_and_metadata(tmp_path):
    s = strassen().with_meta(provenance={"method": "hand", "seed": 3})
    path = save_scheme(s, tmp_path / "s.json")
    back = load_scheme(path)
    assert back.same_coefficients(s)
    assert back.meta["provenance"] == {"method": "hand", "seed": 3}
    assert json.loads(path.read_text())["ring"] == "ZT"


def test_rationals_are_written_as_strings(tmp_path):
    q = sandwich(strassen(), [[2, 0], [0, 1]], [[1, 0], [0, 1]], [[1, 0], [0, 1]])
    path = save_scheme(q, tmp_path / "q.json")
    doc = json.loads(path.read_text())
    flat = json.dumps(doc["U"]) + json.dumps(doc["W"])
    assert '"1/2"' in flat
    back = load_scheme(path)
    assert back.same_coefficients(q) and back.ring == "Q"
    assert any(v == Fraction(1, 2) for v in back.W.ravel()) or any(v == Fraction(1, 2) for v in back.U.ravel())


def test_mod2_label_round_trips(tmp_path):
    path = save_scheme(strassen().as_mod2(), tmp_path / "m.json")
    back = load_scheme(path)
    assert back.mod2 and back.ring == "Z2"


MALFORMED = {
    "not json": ("{not json", "malformed JSON"),
    "top level list": ("[1, 2]", "top level: expected a JSON object"),
    "missing field": (json.dumps({k: v for k, v in _doc().items() if k != "W"}), "missing field(s): W"),
    "bad format": (json.dumps(_doc(format=[2, 2])), "field format"),
    "rank disagrees": (json.dumps(_doc(rank=8)), "field U: holds 7 matrices but rank is 8"),
    "rank not int": (json.dumps(_doc(rank="7")), "field rank"),
    "shape disagrees": (json.dumps(_doc(U=[[[1, 0, 0], [0, 1, 0]]] * 7)), "field U[0][0]: has length 3 but the format needs 2"),
    "wrong nesting": (json.dumps(_doc(V=[[1, 0]] * 7)), "field V[0][0]: expected a list"),
    "non numeric": (json.dumps(_doc(W=[[["x", 0], [0, 1]]] + _doc()["W"][1:])), "field W[0][0][0]: 'x' is not an integer"),
    "nan": (dumps_scheme(strassen()).replace('"U": [\n    [[1,0]', '"U": [\n    [[NaN,0]', 1), "NaN is not allowed"),
    "inexact float": (json.dumps(_doc(U=[[[0.5, 0], [0, 1]]] + _doc()["U"][1:])), "field U[0][0][0]: 0.5 is a float that is not an exact integer"),
    "unknown ring": (json.dumps(_doc(ring="R")), "field ring: 'R' is not one of"),
    "ring contradicts": (json.dumps(_doc(U=[[[2, 0], [0, 1]]] + _doc()["U"][1:])), "field ring: ZT contradicts coefficient 2 at U[0][0][0]"),
    "boolean": (json.dumps(_doc(U=[[[True, 0], [0, 1]]] + _doc()["U"][1:])), "is a boolean"),
}


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_malformed_files_give_one_line_errors(tmp_path, kind):
    text, message = MALFORMED[kind]
    path = tmp_path / f"{kind.replace(' ', '_')}.json"
    path.write_text(text)
    with pytest.raises(LoadError) as info:
        load_scheme(path)
    msg = str(info.value)
    assert msg.startswith(str(path)) and message in msg and "\n" not in msg


def test_float_integers_are_accepted(tmp_path):
    doc = _doc(U=[[[1.0, 0.0], [0.0, 1.0]]] + _doc()["U"][1:])
    path = tmp_path / "f.json"
    path.write_text(json.dumps(doc))
    assert load_scheme(path).same_coefficients(strassen())


def test_atomic_write_leaves_no_temporary_file_and_keeps_old_content_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "s.json"
    save_scheme(strassen(), target)
    before = target.read_text()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        save_scheme(Scheme.naive("2x2x2"), target)
    assert target.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json"]
