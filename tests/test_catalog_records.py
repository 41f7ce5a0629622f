"""Catalog records: recorded steps, compare --markdown/--json with methods, times and additions,
rebuild against the recorded budget, and optimize-additions (issue 13, items 1, 5 and 6)."""
from __future__ import annotations

import json
import shlex
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from discover import Scheme, verify_exact
from discover.catalog import eliminated_additions, list_entries
from discover.catalog_compare import compare_catalog, format_seconds, markdown_table
from discover.catalog_steps import recorded_chain
from discover.cli import main
from discover.jsonio import load_scheme, save_scheme
from discover.known import strassen
from discover.optimize_additions import Move, apply_move, optimize_additions, sandwich_matrices
from discover.published_additions import TABLE as PUBLISHED, published_additions
from discover.best_known import TABLE as BEST_KNOWN
from discover.slp import compile_scheme
from discover.symmetry import direct_sum, sandwich

SHIPPED = Path(__file__).resolve().parents[1] / "algorithms"


def _with(scheme: Scheme, **provenance) -> Scheme:
    return scheme.with_meta(provenance=provenance)


@pytest.fixture
def small_catalog(tmp_path) -> Path:
    """2x2x2 found by a search on 2 workers of 4 cores; 2x2x3 composed (r12) and then searched down to 11."""
    root = tmp_path / "cat"
    root.mkdir()
    save_scheme(_with(strassen(), method="flip", wall_time=1.25, time_limit=60.0, workers=2,
                      environment={"cores": 4},
                      command="strassen search 2x2x2 --rank 7 --method flip --seed 1 -o algorithms --time-limit 60"),
                root / "2x2x2_r7_ZT.json")
    naive12 = direct_sum(Scheme.naive("2x2x2"), Scheme.naive("2x2x1"), "p")
    save_scheme(_with(naive12, method="compose", composed=True,
                      command="strassen catalog compose 2x2x3 --dir algorithms --out algorithms"),
                root / "2x2x3_r12_ZT-composed.json")
    s11 = direct_sum(strassen(), Scheme.naive("2x2x1"), "p")
    save_scheme(_with(s11, method="flip", wall_time=3.5, command=(
        "strassen search 2x2x3 --method flip --seed 1 --out algorithms -q --rank 11 "
        "--start algorithms/2x2x3_r12_ZT-composed.json --ring ZT -o field=zt --time-limit 45.0")),
        root / "2x2x3_r11_ZT.json")
    return root


# ---------------------------------------------------------------------- recorded steps
def test_the_chain_follows_the_recorded_starts_back_to_the_origin(small_catalog):
    entries = list_entries(small_catalog)
    last = next(e for e in entries if e.path.name == "2x2x3_r11_ZT.json")
    chain = recorded_chain(last, entries, small_catalog)
    assert [Path(s.entry.path).name for s in chain.steps] == ["2x2x3_r12_ZT-composed.json", "2x2x3_r11_ZT.json"]
    assert chain.complete
    assert chain.methods == "compose → flip"
    assert (chain.wall_time, chain.budget, chain.workers, chain.cores) == (3.5, 45.0, None, None)
    first = recorded_chain(next(e for e in entries if e.path.name == "2x2x2_r7_ZT.json"), entries, small_catalog)
    assert (first.methods, first.wall_time, first.budget, first.workers, first.cores) == ("flip", 1.25, 60.0, 2, 4)


def test_a_start_outside_the_catalog_leaves_the_chain_incomplete(small_catalog):
    path = small_catalog / "2x2x3_r11_ZT.json"
    doc = json.loads(path.read_text())
    doc["provenance"]["command"] = doc["provenance"]["command"].replace(
        "algorithms/2x2x3_r12_ZT-composed.json", "runs/elsewhere.json")
    path.write_text(json.dumps(doc))
    entries = list_entries(small_catalog)
    chain = recorded_chain(next(e for e in entries if e.path == path), entries, small_catalog)
    assert len(chain.steps) == 1 and not chain.complete


def test_every_shipped_entry_has_a_chain_from_a_recorded_origin():
    entries = list_entries(SHIPPED)
    for entry in entries:
        chain = recorded_chain(entry, entries, SHIPPED)
        assert chain.complete, entry.path.name
        assert all(step.argv for step in chain.steps), entry.path.name


# ---------------------------------------------------------------------- compare
def test_format_seconds():
    assert [format_seconds(s) for s in (None, 0.87, 9.96, 42.4, 60, 185, 7260, 7200)] == \
        ["–", "0.9 s", "10.0 s", "42 s", "1 min", "3 min 5 s", "2 h 1 min", "2 h"]


def test_compare_markdown_on_a_small_catalog(runner, small_catalog):
    result = runner.invoke(main, ["catalog", "compare", "--dir", str(small_catalog), "--markdown"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    a222, a223 = eliminated_additions(strassen()), eliminated_additions(load_scheme(small_catalog / "2x2x3_r11_ZT.json"))
    assert lines[0] == ("| format | ours | ring | best known Q | best known Z | mod 2 | gap | additions | "
                        "published additions | method | search time (budget) | workers | rank source |")
    assert lines[1] == "|---|---:|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---|"
    assert lines[2] == (f"| 2x2x2 | 7 | ZT | 7 | 7 | 7 | 0 | {a222} | 15 | flip | 1.2 s (1 min) | 2 of 4 | "
                        "Strassen 1969 (optimal) |")
    assert lines[3] == (f"| 2x2x3 | 11 | ZT | 11 | 11 | 11 | 0 | {a223} | 20 | compose → flip | 3.5 s (45 s) | – | "
                        "Hopcroft–Kerr 1971 (optimal) |")
    assert lines[4] == "| 2x2x4 | – | – | 14 | 14 | 14 | – | – | 31 (r14) | – | – | – | Hopcroft–Kerr 1971 |"
    assert len([line for line in lines if line.startswith("| ")]) == 1 + 20
    assert lines[-1] == "2/20 formats at the best known integer rank (2/20 within 2)."
    assert any(line.startswith("Published additions: ") and "Winograd 1971" in line for line in lines)
    assert result.stdout == markdown_table(compare_catalog(small_catalog))


def test_compare_json_and_text_carry_the_same_columns(runner, small_catalog):
    doc = json.loads(runner.invoke(main, ["catalog", "compare", "--dir", str(small_catalog), "--json"]).stdout)
    row = next(r for r in doc["formats"] if r["format"] == "2x2x3")
    assert row["file"] == "2x2x3_r11_ZT.json"
    assert (row["method"], row["methods"], row["steps"], row["steps_complete"]) == ("flip", "compose → flip", 2, True)
    assert (row["wall_time"], row["search_time"], row["budget"], row["workers"], row["cores"]) == (3.5, 3.5, 45.0, None, None)
    assert (row["published_additions"], row["published_additions_rank"]) == (20, 11)
    assert row["additions_eliminated"] == eliminated_additions(load_scheme(small_catalog / "2x2x3_r11_ZT.json"))
    text = runner.invoke(main, ["catalog", "compare", "--dir", str(small_catalog)]).stdout.splitlines()
    line = next(line for line in text if line.startswith("2x2x3"))
    assert f" {row['additions_eliminated']} " in line and "3.5 s (45 s)" in line and "compose → flip" in line


def test_compare_refuses_json_with_markdown(runner, small_catalog):
    result = runner.invoke(main, ["catalog", "compare", "--dir", str(small_catalog), "--json", "--markdown"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: --json and --markdown exclude each other"


def test_published_additions_table_is_consistent():
    assert [str(r.format) for r in PUBLISHED] == [str(r.format) for r in BEST_KNOWN]
    for record in PUBLISHED:
        known = next(b for b in BEST_KNOWN if b.format == record.format)
        assert known.integer_rank <= record.rank <= record.format.naive_rank
        assert 0 < record.additions and record.source
    assert published_additions("3x3x3").additions == 56
    assert published_additions("2x2x2").additions == 15
    assert published_additions("6x6x6") is None


# ---------------------------------------------------------------------- optimize-additions
@pytest.mark.parametrize("side", "XYZ")
def test_an_elementary_move_is_the_sandwich_it_names(side):
    s = Scheme.from_arrays(*(np.asarray(f, dtype=np.int64) for f in strassen().factors), "2x2x2")
    move = Move(side, 0, 1, -1)
    moved = Scheme.from_arrays(*apply_move(*(np.asarray(f, dtype=np.int64) for f in s.factors), move), "2x2x2")
    X, Y, Z = sandwich_matrices((2, 2, 2), [move])
    assert moved.same_coefficients(sandwich(s, X, Y, Z))
    assert verify_exact(moved).valid


def test_optimize_additions_finds_winograds_count_from_strassen():
    start = strassen()
    assert eliminated_additions(start) > 15
    result = optimize_additions(start, iterations=400, seed=0)
    assert result.additions == 15 == eliminated_additions(result.scheme)
    assert result.scheme.rank == 7 and result.scheme.max_abs_coefficient == 1
    assert verify_exact(result.scheme).valid
    compile_scheme(result.scheme, eliminate=True, check=True)


def test_ctrl_c_keeps_the_best_form_found_so_far():
    def interrupt(done, current, best):
        raise KeyboardInterrupt

    result = optimize_additions(strassen(), iterations=400, seed=0, on_progress=interrupt)
    assert result.interrupted and result.iterations < 400
    assert result.additions == eliminated_additions(result.scheme) <= eliminated_additions(strassen())
    assert verify_exact(result.scheme).valid


def test_optimize_additions_command_writes_a_proven_scheme(runner, tmp_path, monkeypatch):
    args = ["optimize-additions", "strassen", "--iterations", "400", "-o", str(tmp_path), "-q"]
    monkeypatch.setattr(sys, "argv", ["strassen", *args])  # what the provenance records
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    path = tmp_path / "2x2x2_r7_ZT-additions.json"
    scheme = load_scheme(path)
    prov = scheme.meta["provenance"]
    assert prov["method"] == "optimize-additions" and prov["additions"] == 15 == eliminated_additions(scheme)
    assert "sympy" in scheme.meta["verification"]["method"] and verify_exact(scheme).valid
    assert prov["command"].startswith("strassen optimize-additions strassen")


def test_an_optimized_file_joins_the_chain_and_the_catalog_prefers_it(runner, small_catalog, monkeypatch):
    monkeypatch.chdir(small_catalog.parent)
    args = ["optimize-additions", "cat/2x2x2_r7_ZT.json", "--iterations", "400", "-o", "cat", "-q"]
    monkeypatch.setattr(sys, "argv", ["strassen", *args])
    assert runner.invoke(main, args).exit_code == 0
    row = next(r for r in compare_catalog(small_catalog).rows if r.format == "2x2x2")
    assert (row.file, row.additions_eliminated, row.methods) == ("2x2x2_r7_ZT-additions.json", 15, "flip → optimize-additions")
    # the search's time, workers and cores: the rewrite is not timed
    assert (row.search_time, row.budget, row.workers, row.cores, row.steps) == (1.25, 60.0, 2, 4, 2)


def test_a_rewrite_of_a_composition_is_still_composed(runner, tmp_path):
    # Strassen ⊕ naive 2x2x1 (composed); its rewrite keeps the rank, so the compare table still stars it.
    composed = tmp_path / "2x2x3_r11_ZT-composed.json"
    runner.invoke(main, ["compose", "strassen", "naive:2x2x1", "--op", "sum-p", "-o", str(composed), "-q"])
    doc = json.loads(composed.read_text())
    doc["provenance"]["composed"] = True  # as `catalog compose` marks it
    composed.write_text(json.dumps(doc))
    result = runner.invoke(main, ["optimize-additions", str(composed), "--iterations", "400", "-o", str(tmp_path), "-q"])
    assert result.exit_code == 0, result.output
    rewritten = load_scheme(tmp_path / "2x2x3_r11_ZT-additions.json")
    assert rewritten.meta["provenance"]["composed"] is True and rewritten.rank == 11
    assert eliminated_additions(rewritten) < eliminated_additions(load_scheme(composed))
    plain = runner.invoke(main, ["optimize-additions", "strassen", "--iterations", "400", "-o", str(tmp_path / "s"), "-q"])
    assert plain.exit_code == 0 and "composed" not in load_scheme(tmp_path / "s" / "2x2x2_r7_ZT-additions.json").meta["provenance"]


def test_optimize_additions_exits_1_when_nothing_is_cheaper(runner, tmp_path):
    result = runner.invoke(main, ["optimize-additions", "winograd", "--iterations", "50", "-o", str(tmp_path), "--json"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert (doc["additions_before"], doc["additions"], doc["improved"], doc["saved"]) == (15, 15, False, None)
    assert list(tmp_path.iterdir()) == []


def test_optimize_additions_refuses_a_mod2_scheme(runner, tmp_path):
    path = tmp_path / "m.json"
    save_scheme(strassen().with_meta(), path)
    doc = json.loads(path.read_text())
    doc["ring"] = "Z2"
    path.write_text(json.dumps(doc))
    result = runner.invoke(main, ["optimize-additions", str(path)])
    assert result.exit_code == 2 and result.stderr.startswith("error: ")


# ---------------------------------------------------------------------- rebuild
def test_a_collecting_search_reruns_only_up_to_the_recorded_restart():
    from discover.catalog_rebuild import stop_at_recorded_task

    found = strassen().with_meta(provenance={"method": "flip", "restart": 289, "task_index": 289})
    argv = ["search", "3x3x3", "--rank", "23", "--all", "--max-found", "300", "--seed", "7"]
    assert stop_at_recorded_task(argv, found) == argv + ["--restarts", "290"]
    assert stop_at_recorded_task(argv + ["--restarts", "5"], found) == argv + ["--restarts", "5"]
    # A search given far more restarts than it ran before it was stopped reruns only up to the
    # recorded one, not its whole recorded allowance.
    assert stop_at_recorded_task(argv + ["--restarts", "2000"], found) == argv + ["--restarts", "290"]
    assert stop_at_recorded_task(argv + ["--restarts=2000"], found) == argv + ["--restarts=290"]
    plain = ["search", "3x3x3", "--rank", "23", "--seed", "7"]  # one scheme: nothing to cut
    assert stop_at_recorded_task(plain, found) == plain
    assert stop_at_recorded_task(argv, strassen().with_meta(provenance={"method": "lm"})) == argv


def test_a_recorded_lift_point_is_replayed_by_the_rerun():
    from discover.catalog_rebuild import replay_recorded_lift

    point = {"flips": 126734, "runner": 1, "scheme": "current"}
    found = strassen().with_meta(provenance={"method": "flip", "info": {"lift_point": point}})
    argv = ["search", "6x6x6", "--rank", "153", "--method", "flip", "-O", "field=gf2", "--seed", "1741"]
    assert replay_recorded_lift(argv, found) == argv + ["-O", "replay_lift=126734:1:current"]
    assert replay_recorded_lift(argv + ["-O", "replay_lift=5:0:best"], found) == argv + ["-O", "replay_lift=5:0:best"]
    at_start = strassen().with_meta(provenance={"method": "flip", "info": {"lift_point": {**point, "scheme": "start"}}})
    assert replay_recorded_lift(argv, at_start) == argv  # the start itself lifted: nothing to replay
    assert replay_recorded_lift(argv, strassen().with_meta(provenance={"method": "flip", "info": "odd"})) == argv
    assert replay_recorded_lift(["catalog", "compose", "6x6x6"], found) == ["catalog", "compose", "6x6x6"]
    cyclic = strassen().with_meta(provenance={"method": "cyclic", "info": {"lift_point": {"flips": 800000}}})
    walk = ["search", "5x5x5", "--rank", "93", "--method", "cyclic", "-O", "field=gf2"]
    assert replay_recorded_lift(walk, cyclic) == walk + ["-O", "replay_lift=800000"]


def test_a_step_that_wrote_several_schemes_continues_from_the_recorded_one(tmp_path):
    # A search with --all writes many schemes of one rank; the rebuild's next step must start from
    # the one the recorded chain continued from, not from the first file name.
    from discover.catalog_rebuild import _written
    from discover.known import winograd

    def task(scheme, index):
        return scheme.with_meta(provenance={"method": "flip", "task_index": index, "sub_index": 0})

    save_scheme(task(strassen(), 0), tmp_path / "2x2x2_r7_ZT-1.json")
    save_scheme(task(winograd(), 4), tmp_path / "2x2x2_r7_ZT-2.json")
    save_scheme(Scheme.naive("2x2x2"), tmp_path / "2x2x2_r8_ZT.json")
    scheme, path = _written(tmp_path, task(winograd(), 4))
    assert path.name == "2x2x2_r7_ZT-2.json" and scheme.same_coefficients(winograd())
    # not among them (e.g. another machine's walk): the scheme of the recorded task
    moved = sandwich(winograd(), np.array([[1, 1], [0, 1]]), np.eye(2, dtype=int), np.eye(2, dtype=int))
    save_scheme(task(moved, 4), tmp_path / "2x2x2_r7_ZT-2.json")
    assert _written(tmp_path, task(winograd(), 4))[1].name == "2x2x2_r7_ZT-2.json"
    # no match: the first by name, as before
    assert _written(tmp_path, task(winograd(), 9))[1].name == "2x2x2_r7_ZT-1.json"


def test_rebuild_reruns_the_chain_within_its_budget(runner, small_catalog, tmp_path, monkeypatch):
    """compose (r11 from the catalog's 2x2x2) then the flip step: rank 11 again, within 45 s."""
    monkeypatch.chdir(tmp_path)  # recorded paths say algorithms/: they must resolve to --dir
    result = runner.invoke(main, ["catalog", "rebuild", "--format", "2x2x3", "--dir", str(small_catalog),
                                  "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    line = result.stdout.strip()
    assert line.startswith("rebuilt 2x2x3: reached rank 11 in ") and "(budget 45 s; catalog: rank 11, 2 steps)" in line
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["step-1", "step-2"]
    # The catalog's 2x2x2 now composes to rank 11, not the recorded naive rank-12 start: step 2 walks
    # from the recorded start, as it did.
    assert "the catalog now composes direct_sum_p(naive 2x2x1, Strassen 1969) (rank 11)" in result.stderr
    assert "2x2x3_r12_ZT-composed.json" in result.stderr.split("step 2/2:")[1].splitlines()[0]
    for step in ("step-1", "step-2"):
        assert all(verify_exact(load_scheme(p)).valid for p in (tmp_path / "out" / step).glob("*.json"))


def test_rebuild_of_one_file_reruns_that_entry_not_the_formats_best(runner, small_catalog, tmp_path, monkeypatch):
    """--file names any catalog file: here the r12 composition, which the r11 (the best) walked from."""
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["catalog", "rebuild", "--file", "2x2x3_r12_ZT-composed.json", "--dir",
                                  str(small_catalog), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("rebuilt 2x2x3: reached rank 12 in ")
    assert "(no recorded budget; catalog: rank 12, 1 step)" in result.stdout
    for args, words in ((["--file", "2x2x4_r14_ZT.json"], "is not a file of the catalog"),
                        ([], "exactly one of --format"), (["--format", "2x2x3", "--file", "2x2x3_r11_ZT.json"],
                                                          "exactly one of --format")):
        bad = runner.invoke(main, ["catalog", "rebuild", "--dir", str(small_catalog), *args])
        assert bad.exit_code == 2 and words in bad.stderr and bad.stderr.count("\n") == 1, bad.output


def test_rebuild_exits_1_when_the_budget_is_not_enough(runner, tmp_path, monkeypatch):
    root = tmp_path / "cat"
    root.mkdir()
    shutil.copy(SHIPPED / "3x3x3_r23_ZT.json", root)
    path = root / "3x3x3_r23_ZT.json"
    doc = json.loads(path.read_text())
    # A flip budget far too small for 23 (not just a short clock, which a fast quiet machine beat: 23 in 0.6 s)
    doc["provenance"]["command"] = ("strassen search 3x3x3 --rank 23 --method flip --seed 1 --ring ZT "
                                    "-O field=zt -O max_flips=200 --restarts 1 -o algorithms -q --time-limit 0.5")
    path.write_text(json.dumps(doc))
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["catalog", "rebuild", "--format", "3x3x3", "--dir", str(root),
                                  "-o", str(tmp_path / "out")])
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("rebuild of 3x3x3: did not reach rank 23: step 1 of 1 got ")
    assert "(budget 0.5 s; catalog: rank 23, 1 step)" in result.stdout


def test_optimize_additions_into_its_own_folder_never_overwrites_its_source(runner, tmp_path):
    # X-additions.json optimised again into its folder: the default name is the source's own
    first = runner.invoke(main, ["optimize-additions", "strassen", "--iterations", "0", "-o", str(tmp_path), "-q"])
    assert first.exit_code == 1  # nothing cheaper in no moves: nothing written
    src = tmp_path / "2x2x2_r7_ZT-additions.json"
    save_scheme(strassen(), src)
    before = src.read_bytes()
    result = runner.invoke(main, ["optimize-additions", str(src), "--iterations", "400", "-o", str(tmp_path), "-q"])
    assert result.exit_code == 0, result.output
    assert src.read_bytes() == before
    again = load_scheme(tmp_path / "2x2x2_r7_ZT-additions-2.json")
    assert again.meta["provenance"]["from"] == str(src) and eliminated_additions(again) == 15
    # the same command again makes the same scheme: it rewrites its own file, not a -3
    result = runner.invoke(main, ["optimize-additions", str(src), "--iterations", "400", "-o", str(tmp_path), "-q"])
    assert result.exit_code == 0 and sorted(p.name for p in tmp_path.iterdir()) == [
        "2x2x2_r7_ZT-additions-2.json", "2x2x2_r7_ZT-additions.json"]


def test_free_path_keeps_other_and_unreadable_files(tmp_path):
    from discover.jsonio import free_path, save_scheme
    from discover.known import winograd

    s = strassen()
    assert free_path(tmp_path, s, "composed") == tmp_path / "2x2x2_r7_ZT-composed.json"
    save_scheme(s, tmp_path / "2x2x2_r7_ZT-composed.json")
    assert free_path(tmp_path, s, "composed") == tmp_path / "2x2x2_r7_ZT-composed.json"  # the same scheme
    assert free_path(tmp_path, winograd(), "composed") == tmp_path / "2x2x2_r7_ZT-composed-2.json"
    (tmp_path / "2x2x2_r7_ZT.json").write_text("{not json")
    assert free_path(tmp_path, s) == tmp_path / "2x2x2_r7_ZT-2.json"


def test_optimize_additions_of_several_sources_keeps_the_cheapest_and_records_its_own_source(runner, tmp_path,
                                                                                              monkeypatch):
    from discover.symmetry import sandwich

    # a dense form of Strassen's scheme (42 additions; 45 with the plain greedy alone), then Strassen's own (18)
    dense = sandwich(strassen(), np.array([[2, 1], [1, 1]]), np.array([[2, 1], [1, 1]]), np.array([[2, 1], [1, 1]]))
    save_scheme(dense, tmp_path / "dense.json")
    save_scheme(strassen(), tmp_path / "plain.json")
    sources = [str(tmp_path / "dense.json"), str(tmp_path / "plain.json")]
    args = ["optimize-additions", *sources, "--iterations", "60", "-o", str(tmp_path / "out"), "--json"]
    monkeypatch.setattr(sys, "argv", ["strassen", *args])
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    walked = {s["source"]: s for s in doc["sources"]}
    assert list(walked) == sources and walked[sources[0]]["additions_before"] == 42
    assert walked[sources[1]]["additions_before"] == 18
    assert doc["additions"] == min(s["additions"] for s in doc["sources"]) == walked[doc["source"]]["additions"]
    written = load_scheme(doc["saved"])
    prov = written.meta["provenance"]
    assert prov["from"] == doc["source"] and prov["chosen_from"]["sources"] == 2
    assert eliminated_additions(written) == doc["additions"] and verify_exact(written).valid
    # the recorded command names the chosen source alone: the chain (and a rerun) starts from it
    other = next(s for s in sources if s != doc["source"])
    assert other not in prov["command"] and doc["source"] in prov["command"] and other in prov["chosen_from"]["command"]
    recorded = shlex.split(prov["command"])
    assert recorded[-3:] == ["-o", str(tmp_path / "out"), "--json"]
    rerun = runner.invoke(main, [*recorded[1:-3], "-o", str(tmp_path / "again"), "-q"])
    assert rerun.exit_code == 0, rerun.output
    assert all(np.array_equal(a, b) for a, b in zip(load_scheme(next((tmp_path / "again").iterdir())).factors,
                                                   written.factors))


def test_several_sources_write_nothing_when_a_source_is_already_as_cheap(runner, tmp_path):
    from discover.known import winograd

    # Strassen's scheme reaches Winograd's 15, which Winograd's scheme has as given: nothing cheaper
    save_scheme(strassen(), tmp_path / "s.json")
    save_scheme(winograd(), tmp_path / "w.json")
    result = runner.invoke(main, ["optimize-additions", str(tmp_path / "s.json"), str(tmp_path / "w.json"),
                                  "--iterations", "400", "-o", str(tmp_path / "out"), "--json"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert (doc["source"], doc["additions"], doc["improved"]) == (str(tmp_path / "w.json"), 15, False)
    assert [(s["additions_before"], s["additions"]) for s in doc["sources"]] == [(18, 15), (15, 15)]
    assert not (tmp_path / "out").exists()

    mixed = runner.invoke(main, ["optimize-additions", "strassen", "naive:2x2x3", "--iterations", "5"])
    assert mixed.exit_code == 2 and "share a format and a rank" in mixed.output and "Traceback" not in mixed.output
