"""The shipped catalog: every file verified, names agree, compare/get/best/rebuild work."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from discover import Format, Scheme, verify_exact, verify_sympy
from discover.best_known import SIX, TABLE, best_known
from discover.catalog import best, best_composition, catalog_dir, list_entries, load
from discover.cli import main
from discover.jsonio import load_scheme, save_scheme
from discover.known import strassen

CATALOG = Path(__file__).resolve().parents[1] / "algorithms"
FILES = sorted(CATALOG.glob("*.json"))
NAME = re.compile(r"^(\d+)x(\d+)x(\d+)_r(\d+)_(ZT|Z|Q|Z2)(-[\w.-]+)?\.json$")


def test_the_catalog_is_not_empty_and_is_the_default():
    assert len(FILES) >= 20
    assert catalog_dir().resolve() == CATALOG.resolve()


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_catalog_file_is_exact_and_named_after_its_content(path):
    scheme = load_scheme(path)
    match = NAME.match(path.name)
    assert match, f"{path.name} does not follow NxMxP_rR_RING[-suffix].json"
    n, m, p, r, ring = match.groups()[:5]
    assert scheme.format == Format(int(n), int(m), int(p))
    assert scheme.rank == int(r) and scheme.ring == ring
    report = verify_exact(scheme)
    assert report.valid, report.diagnosis()
    if scheme.rank <= 30:  # the sympy proof of the large ones runs in the slow test below
        assert verify_sympy(scheme).valid
    prov = scheme.meta["provenance"]
    assert prov["command"].startswith("strassen ")
    assert "date" in prov and "version" in prov
    assert scheme.meta["verification"]["valid"] is True


@pytest.mark.slow
@pytest.mark.parametrize("path", [p for p in FILES if load_scheme(p).rank > 30], ids=lambda p: p.name)
def test_large_catalog_files_pass_the_sympy_proof(path):
    assert verify_sympy(load_scheme(path)).valid


def test_every_format_up_to_5_is_served():
    for record in TABLE:
        scheme = best(record.format)
        assert scheme.format == record.format and scheme.rank <= record.format.naive_rank
        assert scheme.rank >= record.rank  # nobody beats the records by accident


def test_best_reorients_and_load_lists_exact_formats():
    s = best("3x2x2")
    assert s.format == Format(3, 2, 2) and verify_exact(s).valid
    assert all(x.format == Format(2, 2, 3) for x in load("2x2x3"))
    assert best("2x2x2").rank == 7


def test_catalog_get_writes_a_verified_transformed_scheme(runner, tmp_path):
    out = tmp_path / "322.json"
    result = runner.invoke(main, ["catalog", "get", "3x2x2", "-o", str(out)])
    assert result.exit_code == 0, result.output
    scheme = load_scheme(out)
    assert scheme.format.dims == (3, 2, 2) and scheme.rank == best("2x2x3").rank


def test_catalog_get_unknown_format_is_a_clean_error(runner, tmp_path):
    result = runner.invoke(main, ["catalog", "get", "7x7x7", "--dir", str(tmp_path)])
    assert result.exit_code == 2 and "no scheme for 7x7x7" in result.stderr


def test_compare_prints_every_format_and_the_summary(runner):
    result = runner.invoke(main, ["catalog", "compare"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert re.match(r"^\d+/20 formats at the best known integer rank", lines[-1])
    for record in TABLE:
        assert any(line.startswith(str(record.format)) for line in lines)
    doc = json.loads(runner.invoke(main, ["catalog", "compare", "--json"]).stdout)
    assert len(doc["formats"]) == 20
    row = next(r for r in doc["formats"] if r["format"] == "4x4x4")
    assert (row["best_known_rank"], row["best_known_integer_rank"], row["best_known_mod2_rank"]) == (48, 49, 47)
    assert row["gap"] == row["our_rank"] - 49


def test_compare_up_to_6_adds_the_formats_with_a_6_and_counts_them_apart(runner):
    doc = json.loads(runner.invoke(main, ["catalog", "compare", "--json", "--up-to", "6"]).stdout)
    formats = [r["format"] for r in doc["formats"]]
    assert formats[:20] == [str(r.format) for r in TABLE] and formats[20:] == [str(r.format) for r in SIX]
    assert (doc["formats_up_to_5"], doc["formats_with_a_6"]) == (20, 15)
    six = {r["format"]: r for r in doc["formats"][20:]}
    assert (six["6x6x6"]["best_known_rank"], six["6x6x6"]["best_known_mod2_rank"]) == (153, None)
    assert (six["3x3x6"]["best_known_rank"], six["3x3x6"]["best_known_integer_rank"]) == (40, 42)
    # the catalog composes every format with a 6, so each row has a rank and a gap to the record
    assert all(r["our_rank"] is not None and r["gap"] == r["our_rank"] - r["best_known_integer_rank"]
               for r in six.values())
    at = sum(1 for r in six.values() if r["gap"] <= 0)
    assert doc["summary"].startswith(f"{doc['at_best_known_integer_rank']}/20 formats")
    assert f"with a dimension 6: {at}/15" in doc["summary"]
    text = runner.invoke(main, ["catalog", "compare", "--up-to", "6"])
    assert text.exit_code == 0 and any(line.startswith("6x6x6") for line in text.stdout.splitlines())
    assert runner.invoke(main, ["catalog", "compare", "--up-to", "7"]).exit_code == 2


def test_best_known_table_is_consistent():
    assert best_known("5x4x4").format == Format(4, 4, 5)
    for record in TABLE:
        assert record.rank <= record.integer_rank and record.mod2_rank <= record.integer_rank
        assert record.format.flattening_bound <= record.rank <= record.format.naive_rank
    assert best_known("6x2x2").format == Format(2, 2, 6) and len(SIX) == 15
    for record in SIX:
        assert max(record.format.dims) == 6 and record.format == record.format.canonical()
        assert record.rank <= record.integer_rank and record.mod2_rank is None
        assert record.format.flattening_bound <= record.rank <= record.format.naive_rank


def test_catalog_list_shows_every_file(runner):
    result = runner.invoke(main, ["catalog", "list", "--json"])
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)["schemes"]) == len(FILES)


def test_environment_variable_points_to_another_catalog(runner, tmp_path, monkeypatch):
    save_scheme(strassen(), tmp_path / "2x2x2_r7_ZT.json")
    monkeypatch.setenv("STRASSEN_CATALOG", str(tmp_path))
    assert [e.path.name for e in list_entries()] == ["2x2x2_r7_ZT.json"]
    assert best("2x2x2").same_coefficients(strassen())


def test_best_composition_builds_from_catalog_blocks(tmp_path):
    save_scheme(strassen(), tmp_path / "2x2x2_r7_ZT.json")
    composed = best_composition("2x2x3", tmp_path)
    assert composed.rank == 7 + 4 and verify_exact(composed).valid  # Strassen ⊕ naive 2x2x1
    k = best_composition("4x4x4", tmp_path)
    assert k.rank == 49 and verify_exact(k).valid


def test_best_composition_takes_the_fewest_additions_after_elimination(tmp_path):
    from discover.catalog import eliminated_additions
    from discover.known import strassen
    from discover.symmetry import kron

    s, t = strassen(), load_scheme(catalog_dir() / "2x2x3_r11_ZT-composed.json")
    save_scheme(s, tmp_path / "2x2x2_r7_ZT.json")
    save_scheme(t, tmp_path / "2x2x3_r11_ZT.json")
    composed = best_composition("4x4x6", tmp_path)
    assert composed.rank == 77 and verify_exact(composed).valid
    # the two orders of the product differ after elimination (218 and 217 additions); the parts'
    # counts (the choice before) are the same for both, and the first one built is the dearer
    orders = [kron(s, t), kron(t, s)]
    assert [eliminated_additions(k) for k in orders] == [218, 217]
    assert eliminated_additions(composed) == 217


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["2x2x3", "2x2x4", "2x3x3"])
def test_rebuild_reruns_the_recorded_command(runner, tmp_path, fmt):
    result = runner.invoke(main, ["catalog", "rebuild", "--format", fmt, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"rebuilt {fmt}: reached rank {best(fmt).rank} in ")
    assert all(isinstance(load_scheme(p), Scheme) for p in tmp_path.glob("*.json"))


def test_rebuild_of_a_composed_entry_works_from_any_folder(runner, tmp_path, monkeypatch):
    composed = [e for e in list_entries() if e.composed and best(e.scheme.format).rank == e.scheme.rank]
    if not composed:
        pytest.skip("every catalog format is served by a search result")
    fmt = str(composed[0].scheme.format)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["catalog", "rebuild", "--format", fmt, "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"rebuilt {fmt}: reached rank {composed[0].scheme.rank} in ")
    assert "no recorded budget" in result.stdout  # a composition is not timed


def test_peeled_composition_splits_off_a_naive_slice(tmp_path):
    save_scheme(strassen(), tmp_path / "2x2x2_r7_ZT.json")
    peeled = best_composition("2x2x3", tmp_path, peel=True)
    assert peeled.rank == 11 and verify_exact(peeled).valid
    assert "naive" in peeled.meta["name"]


def test_a_search_from_catalog_records_the_file_it_read_and_the_chain_follows_it(runner, tmp_path, monkeypatch):
    # `--start catalog:FMT` reads whichever file is best today; the result names it (start_file),
    # so its chain of steps still leads back to that file after the catalog has grown.
    from discover.catalog_steps import recorded_chain

    catalog = tmp_path / "algorithms"
    catalog.mkdir()
    save_scheme(Scheme.naive("2x2x3"), catalog / "2x2x3_r12_ZT.json")
    monkeypatch.setenv("STRASSEN_CATALOG", str(catalog))
    monkeypatch.chdir(tmp_path)
    argv = ["search", "2x2x3", "--rank", "11", "--method", "flip", "--start", "catalog:2x2x3",
            "--seed", "0", "--workers", "1", "--time-limit", "60", "-o", "algorithms", "-q"]
    monkeypatch.setattr("sys.argv", ["strassen", *argv])  # the command the provenance records
    result = runner.invoke(main, argv)
    assert result.exit_code == 0, result.output
    found = catalog / "2x2x3_r11_ZT.json"
    provenance = json.loads(found.read_text())["provenance"]
    assert provenance["start_file"] == "algorithms/2x2x3_r12_ZT.json"
    assert "start" not in provenance["options"]  # the walks' own start option did not pick this start
    entries = list_entries(catalog)
    chain = recorded_chain(next(e for e in entries if e.path.name == found.name), entries, tmp_path)
    assert [s.entry.path.name for s in chain.steps] == ["2x2x3_r12_ZT.json", "2x2x3_r11_ZT.json"]
    assert chain.steps[1].start == "algorithms/2x2x3_r12_ZT.json"


def _search_2x2x3_from(start: str, runner, tmp_path, monkeypatch) -> tuple[Path, Path]:
    """A catalog of Strassen's 2x2x2 in tmp_path/algorithms (the working folder is tmp_path) and a
    2x2x3 r11 found there from ``start``; returns the catalog folder and the file found."""
    catalog = tmp_path / "algorithms"
    catalog.mkdir()
    save_scheme(strassen(), catalog / "2x2x2_r7_ZT.json")
    monkeypatch.setenv("STRASSEN_CATALOG", str(catalog))
    monkeypatch.chdir(tmp_path)
    argv = ["search", "2x2x3", "--rank", "11", "--method", "flip", "--start", start,
            "--seed", "0", "--workers", "1", "--time-limit", "60", "-o", "algorithms", "-q"]
    monkeypatch.setattr("sys.argv", ["strassen", *argv])
    result = runner.invoke(main, argv)
    assert result.exit_code == 0, result.output
    return catalog, catalog / "2x2x3_r11_ZT.json"


def test_an_extend_start_from_the_catalog_records_the_file_it_extended_and_rebuild_reuses_it(
        runner, tmp_path, monkeypatch):
    # `--start extend:FMT:catalog:SMALLER` reads whichever SMALLER is best today; the result names
    # that file, and a rebuild after the catalog's best SMALLER has changed extends the same file.
    from discover.catalog_rebuild import rebuild
    from discover.catalog_steps import is_file_source, recorded_chain
    from discover.known import KNOWN

    catalog, found = _search_2x2x3_from("extend:2x2x3:catalog:2x2x2", runner, tmp_path, monkeypatch)
    assert json.loads(found.read_text())["provenance"]["start_file"] == "algorithms/2x2x2_r7_ZT.json"

    save_scheme(KNOWN["winograd"](), catalog / "2x2x2_r7_ZT-additions.json")  # now the best 2x2x2
    entries = list_entries(catalog)
    chain = recorded_chain(next(e for e in entries if e.path.name == found.name), entries, tmp_path)
    assert [s.entry.path.name for s in chain.steps] == ["2x2x3_r11_ZT.json"] and chain.complete
    assert chain.steps[0].start == "extend:2x2x3:algorithms/2x2x2_r7_ZT.json"
    assert not is_file_source(chain.steps[0].start)

    commands = []
    rebuilt = rebuild(chain.steps[0].entry, entries, catalog, tmp_path / "out",
                      on_step=lambda i, n, args: commands.append(args))
    assert rebuilt.ok
    start = commands[0][commands[0].index("--start") + 1]
    assert start == f"extend:2x2x3:{catalog / '2x2x2_r7_ZT.json'}"


def test_a_start_that_reads_the_catalog_inside_a_product_is_recorded_pinned_and_rebuilt_from_that_file(
        runner, tmp_path, monkeypatch):
    # resize:2x2x3:product:catalog:2x2x2,naive:1x1x1 reads today's best 2x2x2 two moves deep; the
    # result records the start with that file in place of catalog:2x2x2, and a rebuild after the
    # catalog's best 2x2x2 has changed starts from the same file, wherever the catalog is.
    from discover.catalog_rebuild import rebuild
    from discover.catalog_steps import recorded_chain
    from discover.known import KNOWN

    catalog, found = _search_2x2x3_from("resize:2x2x3:product:catalog:2x2x2,naive:1x1x1", runner, tmp_path,
                                        monkeypatch)
    prov = json.loads(found.read_text())["provenance"]
    assert prov["start_pinned"] == "resize:2x2x3:product:algorithms/2x2x2_r7_ZT.json,naive:1x1x1"
    assert "start_file" not in prov

    save_scheme(KNOWN["winograd"](), catalog / "2x2x2_r7_ZT-additions.json")  # now the best 2x2x2
    entries = list_entries(catalog)
    chain = recorded_chain(next(e for e in entries if e.path.name == found.name), entries, tmp_path)
    assert [s.entry.path.name for s in chain.steps] == ["2x2x3_r11_ZT.json"] and chain.complete
    assert chain.steps[0].start == prov["start_pinned"]

    commands = []
    monkeypatch.chdir(tmp_path / "algorithms")  # from another folder: the file is found in the catalog
    rebuilt = rebuild(chain.steps[0].entry, entries, catalog, tmp_path / "out",
                      on_step=lambda i, n, args: commands.append(args))
    assert rebuilt.ok
    assert commands[0][commands[0].index("--start") + 1] == (
        f"resize:2x2x3:product:{catalog / '2x2x2_r7_ZT.json'},naive:1x1x1")


def test_a_start_from_a_reoriented_catalog_scheme_records_the_file_and_its_orientation(tmp_path, monkeypatch):
    # The catalog stores 2x2x3; a search for 2x3x3 from extend:2x3x3:catalog:2x3x2 reads that file
    # turned to 2x3x2. The record names both, and rebuild loads the same start from it.
    from discover.catalog_rebuild import rebuild
    from discover.catalog_steps import recorded_chain
    from discover.sources import load_source, load_start

    catalog = tmp_path / "algorithms"
    catalog.mkdir()
    save_scheme(load_source("extend:2x2x3:strassen"), catalog / "2x2x3_r11_ZT.json")
    monkeypatch.setenv("STRASSEN_CATALOG", str(catalog))
    monkeypatch.chdir(tmp_path)
    plain, plain_file = load_start("catalog:2x3x2")
    assert plain_file == "orient:2x3x2:algorithms/2x2x3_r11_ZT.json"
    assert load_source(plain_file).same_coefficients(plain)
    start, start_file = load_start("extend:2x3x3:catalog:2x3x2")
    assert start_file == "orient:2x3x2:algorithms/2x2x3_r11_ZT.json"
    assert load_source("extend:2x3x3:" + start_file).same_coefficients(start)

    scheme = Scheme.naive("2x3x3")
    scheme.meta["provenance"] = {"method": "flip", "start_file": start_file, "time_limit": 30,
                                 "command": "strassen search 2x3x3 --rank 18 --method flip --seed 0 --workers 1 "
                                            "--start extend:2x3x3:catalog:2x3x2 -o algorithms"}
    save_scheme(scheme, catalog / "2x3x3_r18_ZT.json")
    entries = list_entries(catalog)
    chain = recorded_chain(next(e for e in entries if e.path.name == "2x3x3_r18_ZT.json"), entries, tmp_path)
    assert chain.complete and chain.steps[0].start == "extend:2x3x3:" + start_file
    commands = []
    rebuild(chain.steps[0].entry, entries, catalog, tmp_path / "out", on_step=lambda i, n, args: commands.append(args))
    assert commands[0][commands[0].index("--start") + 1] == f"extend:2x3x3:orient:2x3x2:{catalog / '2x2x3_r11_ZT.json'}"


def test_an_extend_start_without_a_recorded_file_is_an_origin_that_cannot_be_followed(tmp_path):
    from discover.catalog_steps import recorded_chain

    scheme = Scheme.naive("2x2x3")
    scheme.meta["provenance"] = {"method": "flip", "command": "strassen search 2x2x3 --rank 12 --start "
                                                              "extend:2x2x3:catalog:2x2x2 -o algorithms"}
    save_scheme(scheme, tmp_path / "2x2x3_r12_ZT.json")
    entries = list_entries(tmp_path)
    chain = recorded_chain(entries[0], entries, tmp_path)
    # whatever the catalog's best 2x2x2 was then: not followable (like a plain catalog:FMT start)
    assert chain.steps[0].start == "extend:2x2x3:catalog:2x2x2" and not chain.complete
