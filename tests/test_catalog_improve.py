"""``strassen catalog improve``: rounds of search slices that write verified lower ranks into the catalog."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from discover.catalog_compare import compare_catalog
from discover.catalog_improve import Target, search_argv, targets
from discover.search import checkpoints
from discover.cli import main
from discover.jsonio import load_scheme, save_scheme
from discover.scheme import Scheme
from discover.verify import verify

ALGORITHMS = Path(__file__).resolve().parents[1] / "algorithms"


@pytest.fixture
def naive_catalog(tmp_path):
    folder = tmp_path / "catalog"
    folder.mkdir()
    save_scheme(Scheme.naive("2x2x2"), folder / "2x2x2_r8_ZT.json")
    save_scheme(Scheme.naive("2x2x3"), folder / "2x2x3_r12_ZT.json")
    return folder


def test_targets_are_the_compare_tables_gaps():
    # The shipped catalog: every format the compare table shows above its record, nothing else.
    for up_to in (5, 6):
        gaps = [(r.format, r.our_rank) for r in compare_catalog(up_to=up_to).rows if r.gap and r.gap > 0]
        assert [(t.format, t.our_rank) for t in targets(up_to=up_to)] == gaps
        assert gaps  # the catalog is not at every record yet: otherwise this test checks nothing


def test_the_slice_command_asks_one_rank_less_from_the_catalogs_best(tmp_path):
    argv = search_argv(Target("2x5x6", 48, 47), tmp_path, 600, "pool", 3, 1, ["walk_flips=200000"])
    assert argv == ["search", "2x5x6", "--rank", "47", "--method", "pool", "--start", "catalog:2x5x6",
                    "--seed", "3", "--time-limit", "600", "-o", str(tmp_path / "2x5x6_r47"),
                    "--workers", "1", "-O", "walk_flips=200000"]


def test_improve_writes_verified_lower_ranks_and_stops_when_nothing_is_left(runner, naive_catalog, tmp_path):
    work = tmp_path / "work"
    r = runner.invoke(main, ["catalog", "improve", "--dir", str(naive_catalog), "--work", str(work),
                             "--slice", "60", "-j", "1", "--rounds", "2"])
    assert r.exit_code == 0, r.output
    assert f"2x2x2: rank 7 (was 8) -> {naive_catalog / '2x2x2_r7_ZT.json'}" in r.stdout
    assert f"2x2x3: rank 11 (was 12) -> {naive_catalog / '2x2x3_r11_ZT.json'}" in r.stdout
    assert "2 improvement(s): 2x2x2 8 → 7, 2x2x3 12 → 11" in r.stderr
    for name, rank in [("2x2x2_r7_ZT.json", 7), ("2x2x3_r11_ZT.json", 11)]:
        scheme = load_scheme(naive_catalog / name)
        assert scheme.rank == rank and verify(scheme).valid
        prov = scheme.meta["provenance"]
        fmt = name.split("_")[0]
        assert prov["command"].startswith(f"strassen search {fmt} --rank {rank} --method pool --start catalog:{fmt}")
        assert prov["start_file"] == str(naive_catalog / f"{fmt}_r{rank + 1}_ZT.json")
        assert scheme.meta["improve"]["slices"] == 1
        ledger = json.loads((work / f"{fmt}_r{rank}" / ".improve-ledger").read_text())
        assert ledger["slices"] == 1
    # Both formats are at their records now: a rerun has nothing to do.
    again = runner.invoke(main, ["catalog", "improve", "--dir", str(naive_catalog), "--work", str(work)])
    assert again.exit_code == 0 and "nothing to improve" in again.stderr
    assert sorted(p.name for p in naive_catalog.iterdir()) == [
        "2x2x2_r7_ZT.json", "2x2x2_r8_ZT.json", "2x2x3_r11_ZT.json", "2x2x3_r12_ZT.json"]


def test_a_slice_that_lowers_the_rank_goes_on_from_the_new_scheme(runner, tmp_path):
    # One round, one format, three ranks to go (naive 18 -> record 15): without the follow-on
    # searches a round would stop at the first lower rank.
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    save_scheme(Scheme.naive("2x3x3"), catalog / "2x3x3_r18_ZT.json")
    work = tmp_path / "work"
    r = runner.invoke(main, ["catalog", "improve", "--dir", str(catalog), "--work", str(work), "--formats", "2x3x3",
                             "--rounds", "1", "--slice", "120", "-j", "1", "-m", "flip", "--seed", "3"])
    assert r.exit_code == 0, r.output
    assert "3 improvement(s): 2x3x3 18 → 17, 2x3x3 17 → 16, 2x3x3 16 → 15" in r.stderr
    for rank in (17, 16, 15):
        scheme = load_scheme(catalog / f"2x3x3_r{rank}_ZT.json")
        assert scheme.rank == rank and verify(scheme).valid
        prov = scheme.meta["provenance"]
        # Each search starts from the scheme the one before adopted, with the rest of the slice's time.
        assert prov["start_file"] == str(catalog / f"2x3x3_r{rank + 1}_ZT.json")
        limit = float(prov["command"].split("--time-limit ")[1].split()[0])
        assert limit == 120 if rank == 17 else limit < 120


def test_dry_run_prints_the_rounds_searches_and_writes_nothing(runner, naive_catalog, tmp_path):
    work = tmp_path / "work"
    r = runner.invoke(main, ["catalog", "improve", "--dir", str(naive_catalog), "--work", str(work),
                             "--dry-run", "--slice", "30", "-O", "walk_flips=1000"])
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines() == [
        f"strassen search 2x2x2 --rank 7 --method pool --start catalog:2x2x2 --seed 0 --time-limit 30 "
        f"-o {work / '2x2x2_r7'} -O walk_flips=1000",
        f"strassen search 2x2x3 --rank 11 --method pool --start catalog:2x2x3 --seed 0 --time-limit 30 "
        f"-o {work / '2x2x3_r11'} -O walk_flips=1000",
    ]
    assert not work.exists()


@pytest.mark.parametrize("args, message", [
    (["--formats", "7x7x9"], "no best known rank for 7x7x9"),
    (["--formats", "3x3x3"], "the catalog has no scheme for 3x3x3 to start from"),
    (["-O", "nonsense"], "-O takes KEY=VALUE"),
    (["-O", "no_such_option=1"], "the search for 2x2x2 refused its arguments"),
])
def test_bad_input_is_one_line_and_exit_2(runner, naive_catalog, tmp_path, args, message):
    r = runner.invoke(main, ["catalog", "improve", "--dir", str(naive_catalog), "--work", str(tmp_path / "w"),
                             "--slice", "5", "-j", "1", *args])
    assert r.exit_code == 2, r.output
    assert message in r.stderr and "Traceback" not in r.output
    assert sorted(p.name for p in naive_catalog.iterdir()) == ["2x2x2_r8_ZT.json", "2x2x3_r12_ZT.json"]


@pytest.mark.parametrize("args, message", [
    (["--start", "cubes:3x3x3:101+010"], "give that format alone with --formats"),
    (["--formats", "2x2x2,2x2x3", "--start", "naive:2x2x2"], "give that format alone with --formats"),
    (["--formats", "2x2x3", "--start", "naive:2x2x2"], "naive:2x2x2 is a 2x2x2 scheme; the searches of 2x2x3"),
    (["--formats", "2x2x2", "--start", "cubes:2x2x2:1"], "--start cubes:2x2x2:1: cubes: mask '1'"),
])
def test_a_start_that_does_not_fit_the_job_is_one_line_and_exit_2(runner, naive_catalog, tmp_path, args, message):
    for extra in ([], ["--dry-run"]):
        r = runner.invoke(main, ["catalog", "improve", "--dir", str(naive_catalog), "--work", str(tmp_path / "w"),
                                 "--slice", "5", "-j", "1", *args, *extra])
        assert r.exit_code == 2, r.output
        assert message in r.stderr and "Traceback" not in r.output
        assert not (tmp_path / "w").exists()


def test_a_cyclic_job_starts_every_search_from_its_start(runner, tmp_path):
    # The cube start a cyclic pairs walk needs (3x3x3: two cubes, ranks 2 + 3k): the job's first
    # search (rank 26 asked) and its follow-on (25, reaching Laderman's 23) both start there.
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    save_scheme(Scheme.naive("3x3x3"), catalog / "3x3x3_r27_ZT.json")
    work = tmp_path / "work"
    start = "cubes:3x3x3:101+010"
    args = ["catalog", "improve", "--dir", str(catalog), "--work", str(work), "--formats", "3x3x3", "-m", "cyclic",
            "--start", start, "-O", "field=gf2", "-O", "walk=pairs", "-O", "patience=200000", "--seed", "0",
            "-j", "1", "--slice", "20", "--rounds", "1"]
    dry = runner.invoke(main, [*args, "--dry-run"])
    assert dry.exit_code == 0 and dry.stdout.startswith(
        f"strassen search 3x3x3 --rank 26 --method cyclic --start {start} --seed 0 --time-limit 20")
    r = runner.invoke(main, args)
    assert r.exit_code == 0, r.output
    assert "2 improvement(s): 3x3x3 27 → 26, 3x3x3 26 → 23" in r.stderr
    for rank in (26, 23):
        scheme = load_scheme(catalog / f"3x3x3_r{rank}_ZT.json")
        assert scheme.rank == rank and verify(scheme).valid
        assert f" --method cyclic --start {start} " in scheme.meta["provenance"]["command"]


def test_ctrl_c_stops_the_running_search_and_keeps_the_catalog_as_it_was(tmp_path):
    # 4x4x5 rank 61 is beyond a few seconds of pool descent: the slice is still running at the signal.
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    shutil.copy(ALGORITHMS / "4x5x4_r62_ZT.json", catalog)
    work = tmp_path / "work"
    proc = subprocess.Popen([sys.executable, "-m", "discover", "catalog", "improve", "--dir", str(catalog),
                             "--work", str(work), "--formats", "4x4x5", "--slice", "300", "-j", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        time.sleep(8)
        assert proc.poll() is None
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=90)
        stopped_in = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted: 1 search(es)" in err and "no improvement" in err
    assert stopped_in < 60
    assert sorted(p.name for p in catalog.iterdir()) == ["4x5x4_r62_ZT.json"]
    assert json.loads((work / "4x4x5_r61" / ".improve-ledger").read_text())["slices"] == 1
    assert (work / "4x4x5_r61" / ".search-state").exists()  # the search stopped cleanly: its state is saved


def test_each_slice_of_a_folder_goes_on_with_the_walk_the_last_one_cut_short(runner, tmp_path):
    # A target out of reach: each slice ends by its time limit, leaving its walk's checkpoint; the
    # folder's next slice resumes that walk (its seed, --resume-or-start) and counts its flips on.
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    shutil.copy(ALGORITHMS / "4x5x4_r62_ZT.json", catalog)
    work = tmp_path / "work"
    folder = work / "4x4x5_r61"
    job = ["catalog", "improve", "--dir", str(catalog), "--work", str(work), "--formats", "4x4x5", "--seed", "5",
           "-m", "flip"]
    flips = []
    for _ in range(2):
        r = runner.invoke(main, [*job, "--slice", "3", "--rounds", "1", "-j", "1"])
        assert r.exit_code == 1, r.output
        assert "1 search(es)" in r.stderr and "no improvement" in r.stderr
        flips.append(int(checkpoints.load(checkpoints.checkpoint_path(folder, 0))["arrays"]["stats"][0]))
        starts = [line for line in r.stderr.splitlines() if line.startswith("4x4x5: rank 62 (record 61), searching 61")]
        assert len(starts) == 1 and "--seed 5 " in starts[0]
        assert ("--resume-or-start" in starts[0]) == (len(flips) == 2), starts[0]
    assert 0 < flips[0] < flips[1]  # the second slice went on from the first one's flips
    # --status shows the flips of the walk the next slice goes on with.
    from discover.search.progress import si_count

    status = runner.invoke(main, ["catalog", "improve", "--work", str(work), "--status"])
    assert status.stdout.splitlines()[0].split()[-4:] == ["walk", "flips", "running", "for"]
    assert status.stdout.splitlines()[1].split()[-2:] == [si_count(flips[1]), "–"]
    assert json.loads((folder / ".improve-ledger").read_text())["slices"] == 2
    assert sorted(p.name for p in catalog.iterdir()) == ["4x5x4_r62_ZT.json"]
    # The dry run prints the slice that would run next: the same walk again; with --fresh-walks a new
    # walk with the folder's third seed, 7.
    dry = runner.invoke(main, [*job, "--dry-run"])
    assert dry.exit_code == 0 and "--seed 5 " in dry.stdout and "--resume-or-start" in dry.stdout
    dry = runner.invoke(main, [*job, "--dry-run", "--fresh-walks"])
    assert dry.exit_code == 0 and "--seed 7 " in dry.stdout and "--resume-or-start" not in dry.stdout
    r = runner.invoke(main, [*job, "--slice", "2", "--rounds", "1", "-j", "1", "--fresh-walks"])
    assert r.exit_code == 1, r.output
    assert json.loads((folder / ".search-state").read_text())["request"]["seed"] == 7  # a new search there
    searched, wall = map(int, re.search(r"(\d+) s of search in (\d+) s", r.stderr).groups())
    assert wall >= searched >= 2  # one search at a time: the job took at least its search's seconds


def test_a_work_folder_that_cannot_be_made_is_refused_before_any_search(runner, naive_catalog, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    r = runner.invoke(main, ["catalog", "improve", "--dir", str(naive_catalog), "--work", str(blocker / "w")])
    assert r.exit_code == 2 and "cannot make the work folder" in r.stderr and "Traceback" not in r.output


def test_an_unwritable_catalog_is_refused_before_any_search(runner, naive_catalog, tmp_path, monkeypatch):
    # Root writes into read-only folders, so the permission is what the check sees, not a chmod.
    import discover.catalog_improve as improve_module

    real_access = improve_module.os.access
    monkeypatch.setattr(improve_module.os, "access",
                        lambda path, mode: False if Path(path) == naive_catalog and mode & improve_module.os.W_OK
                        else real_access(path, mode))
    work = tmp_path / "w"
    r = runner.invoke(main, ["catalog", "improve", "--dir", str(naive_catalog), "--work", str(work)])
    assert r.exit_code == 2 and f"cannot write into the catalog folder {naive_catalog}" in r.stderr
    assert not work.exists()


def test_additions_writes_the_fewest_additions_form_beside_each_new_scheme(runner, naive_catalog, tmp_path):
    from discover.catalog import eliminated_additions

    r = runner.invoke(main, ["catalog", "improve", "--dir", str(naive_catalog), "--work", str(tmp_path / "w"),
                             "--formats", "2x2x2", "--slice", "60", "-j", "1", "--additions", "20"])
    assert r.exit_code == 0, r.output
    found, form = naive_catalog / "2x2x2_r7_ZT.json", naive_catalog / "2x2x2_r7_ZT-additions.json"
    assert f"2x2x2: its fewest-additions form -> {form}" in r.stdout
    scheme, optimized = load_scheme(found), load_scheme(form)
    assert optimized.rank == 7 and verify(optimized).valid
    assert optimized.meta["provenance"]["command"].startswith(f"strassen optimize-additions {found} --iterations 20")
    assert eliminated_additions(optimized) <= eliminated_additions(scheme)


def test_parallel_searches_run_side_by_side_and_ctrl_c_stops_them_all(tmp_path):
    # Two formats out of reach of a few seconds of search, two at a time: both are running when
    # Ctrl-C comes, both stop cleanly (their state saved, their slice counted), the catalog is untouched.
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    for name in ("4x5x4_r62_ZT.json", "2x5x6_r48_ZT.json"):
        shutil.copy(ALGORITHMS / name, catalog)
    work = tmp_path / "work"
    proc = subprocess.Popen([sys.executable, "-m", "discover", "catalog", "improve", "--dir", str(catalog),
                             "--work", str(work), "--formats", "4x4x5,2x5x6", "--slice", "300", "--parallel", "2",
                             "-m", "flip", "-O", "field=gf2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        time.sleep(10)
        assert proc.poll() is None
        # While the job runs, --status lists both folders (no slice has ended yet) as running.
        status = subprocess.run([sys.executable, "-m", "discover", "catalog", "improve", "--work", str(work),
                                 "--status"], capture_output=True, text=True, timeout=60)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    rows = [line.split() for line in status.stdout.splitlines()[1:]]
    assert [(row[0], row[1], row[2], row[-1]) for row in rows] == [("2x5x6", "47", "0", "s"), ("4x4x5", "61", "0", "s")]
    assert "0 slices in 2 folders, 0.0 s of search; 2 running now (not counted until they end)" in status.stderr
    assert not list(work.rglob(".improve-running"))
    assert "interrupted: 2 search(es)" in err and "no improvement" in err
    searched, wall = map(int, re.search(r"(\d+) s of search in (\d+) s", err).groups())
    assert searched > wall >= 10  # side by side: the two searches' seconds add up to more than the job's
    workers = max(1, (os.cpu_count() or 1) // 2)  # the cores shared between the two searches
    for folder, fmt, rank in [("4x4x5_r61", "4x4x5", 62), ("2x5x6_r47", "2x5x6", 48)]:
        assert f"--workers {workers} " in err.split(f"{fmt}: rank")[1].splitlines()[0]
        ledger = json.loads((work / folder / ".improve-ledger").read_text())
        # The GF(2) walks started at the catalog's rank; what they reached mod 2 by Ctrl-C is kept.
        assert ledger["slices"] == 1 and set(ledger["reached"]) == {"2"} and ledger["reached"]["2"] <= rank
        assert (work / folder / ".search-state").exists()
        assert checkpoints.holds_checkpoint(work / folder)  # the walk cut short: the next slice goes on with it
        # Each search's progress went to its own log, not to the job's stderr.
        assert (work / folder / "search.log").read_text().startswith(f"searching {fmt} rank")
    assert "tasks 0 done" not in err
    assert sorted(p.name for p in catalog.iterdir()) == ["2x5x6_r48_ZT.json", "4x5x4_r62_ZT.json"]


def test_parallel_dry_run_shares_the_cores_among_the_searches(runner, naive_catalog, tmp_path):
    r = runner.invoke(main, ["catalog", "improve", "--dir", str(naive_catalog), "--work", str(tmp_path / "w"),
                             "--parallel", "2", "--dry-run"])
    assert r.exit_code == 0, r.output
    workers = max(1, (os.cpu_count() or 1) // 2)
    assert [line.endswith(f"--workers {workers}") for line in r.stdout.splitlines()] == [True, True]
    # -j wins over the share.
    r = runner.invoke(main, ["catalog", "improve", "--dir", str(naive_catalog), "--work", str(tmp_path / "w"),
                             "--parallel", "2", "-j", "3", "--dry-run"])
    assert [line.endswith("--workers 3") for line in r.stdout.splitlines()] == [True, True]


def test_parallel_below_one_is_refused(tmp_path, naive_catalog):
    from discover.catalog_improve import improve
    from discover.errors import DiscoverError

    with pytest.raises(DiscoverError, match="run at least one search at a time"):
        improve(naive_catalog, tmp_path / "w", parallel=0)


def test_parallel_searches_adopt_like_one_at_a_time(runner, naive_catalog, tmp_path):
    work = tmp_path / "w"
    r = runner.invoke(main, ["catalog", "improve", "--dir", str(naive_catalog), "--work", str(work), "--parallel", "2",
                             "--slice", "60", "--rounds", "1", "-m", "flip", "--seed", "3"])
    assert r.exit_code == 0, r.output
    for fmt, rank in [("2x2x2", 7), ("2x2x3", 11)]:
        scheme = load_scheme(naive_catalog / f"{fmt}_r{rank}_ZT.json")
        assert scheme.rank == rank and verify(scheme).valid
        assert f"(progress: {work / f'{fmt}_r{rank}' / 'search.log'})" in r.stderr
    assert "2 improvement(s)" in r.stderr


def test_the_next_round_starts_as_cores_come_free_not_after_the_slowest_search(naive_catalog, monkeypatch, tmp_path):
    # Scheduling alone, on a clock of its own: 2x2x2's slices take 10, the others' 1, two at a time,
    # two rounds. Round 2's 2x2x3 and 2x3x3 must not wait for round 1's 2x2x2; a format's next slice
    # waits for its running one.
    import discover.catalog_improve as ci

    save_scheme(Scheme.naive("2x3x3"), naive_catalog / "2x3x3_r18_ZT.json")
    took = {"2x2x2": 10, "2x2x3": 1, "2x3x3": 1}
    clock = [0]
    launched = []

    class Ended:
        def __init__(self, end):
            self.end, self.returncode = end, None

    def fake_launch(target, seconds, work, env, **kwargs):
        launched.append((target.format, clock[0]))
        return ci._Running(target, [], Ended(clock[0] + took[target.format]), 0.0, seconds)

    def fake_wait_any(running):
        first = min(running, key=lambda r: r.proc.end)
        clock[0] = first.proc.end
        first.proc.returncode = 1
        return [first]

    monkeypatch.setattr(ci, "_launch", fake_launch)
    monkeypatch.setattr(ci, "_wait_any", fake_wait_any)
    monkeypatch.setattr(ci, "_finish", lambda r, code, *a, **k: ci.SliceRun(r.target, r.argv, code, 1.0))
    result = ci.improve(naive_catalog, tmp_path / "w", rounds=2, parallel=2)
    assert launched == [("2x2x2", 0), ("2x2x3", 0), ("2x3x3", 1), ("2x2x3", 2), ("2x3x3", 3), ("2x2x2", 10)]
    assert len(result.runs) == 6 and not result.improvements


def test_status_reports_the_slices_of_each_folder(runner, naive_catalog, tmp_path):
    work = tmp_path / "w"
    empty = runner.invoke(main, ["catalog", "improve", "--work", str(work), "--status"])
    assert empty.exit_code == 0 and f"no slices have run in {work} yet" in empty.stderr and not work.exists()
    r = runner.invoke(main, ["catalog", "improve", "--dir", str(naive_catalog), "--work", str(work), "--rounds", "1",
                             "--slice", "60", "-j", "1", "-m", "flip", "--seed", "3"])
    assert r.exit_code == 0, r.output
    (work / "2x2x3_r10").mkdir()  # a folder no slice ran in (no ledger) is not listed
    status = runner.invoke(main, ["catalog", "improve", "--work", str(work), "--status"])
    assert status.exit_code == 0, status.output
    lines = status.stdout.splitlines()
    assert lines[0].split() == ["format", "rank", "asked", "slices", "searched", "lowest", "saved", "walks", "reached",
                                "walk", "flips", "running", "for"]
    rows = [line.split() for line in lines[1:]]
    # Each walk found its scheme (a walk over for good): no walk for a next slice to go on with.
    assert [(row[0], row[1], row[2], row[-4], row[-3], row[-2], row[-1]) for row in rows] == [
        ("2x2x2", "7", "1", "7", "7", "–", "–"), ("2x2x3", "11", "1", "11", "11", "–", "–")]
    assert not list(work.rglob(".improve-running"))  # each slice's mark went with its end
    assert "2 slices in 2 folders" in status.stderr


def test_scheduler_excludes_j_in_one_line(runner, naive_catalog, tmp_path, monkeypatch):
    work = tmp_path / "w"
    r = runner.invoke(main, ["catalog", "improve", "--dir", str(naive_catalog), "--work", str(work),
                             "--scheduler", "tcp://127.0.0.1:9", "-j", "1"])
    assert r.exit_code == 2 and "-j sizes each search's local pool" in r.stderr and "Traceback" not in r.output
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://127.0.0.1:9")  # the option's environment variable
    r = runner.invoke(main, ["catalog", "improve", "--dir", str(naive_catalog), "--work", str(work), "-j", "1"])
    assert r.exit_code == 2 and "-j sizes each search's local pool" in r.stderr
    assert not work.exists()


def test_without_scheduler_the_searches_run_here_whatever_the_shell_holds(naive_catalog, tmp_path, monkeypatch):
    # An address left in the caller's environment must not send the slices to a cluster that is not
    # asked for (nor make them refuse --workers).
    from discover.catalog_improve import improve

    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://127.0.0.1:9")
    result = improve(naive_catalog, tmp_path / "w", formats=["2x2x2"], rounds=1, slice_seconds=60, method="flip",
                     seed=3, workers=1)
    assert [(r.target.format, r.returncode, r.adopted_rank) for r in result.runs] == [("2x2x2", 0, 7)]


def test_a_slices_seconds_end_when_its_process_is_seen_to_end(tmp_path):
    # Finishing the slice that ended first (its proof, its optimize-additions) must not count into
    # the seconds of one that ended beside it: those go into the ledger and decide a follow-on's time.
    import discover.catalog_improve as ci

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    running = ci._Running(Target("2x2x2", 8, 7), [], proc, time.monotonic(), 60.0)
    assert ci._wait_any([running]) == [running]
    time.sleep(1.5)
    run = ci._finish(running, 0, tmp_path / "w", tmp_path, {}, seed=0, additions=0)
    assert run.seconds < 1.5
    assert json.loads((tmp_path / "w" / "2x2x2_r7" / ".improve-ledger").read_text())["seconds"] < 1.5


def test_a_refused_search_side_by_side_points_to_its_log(runner, naive_catalog, tmp_path):
    # With --parallel the search's own message goes to its log, not above the job's line.
    work = tmp_path / "w"
    r = runner.invoke(main, ["catalog", "improve", "--dir", str(naive_catalog), "--work", str(work), "--slice", "5",
                             "--parallel", "2", "-O", "no_such_option=1"])
    assert r.exit_code == 2, r.output
    line = [x for x in r.stderr.splitlines() if "refused its arguments" in x]
    assert len(line) == 1 and "its message is in " in line[0] and "Traceback" not in r.output
    log = Path(line[0].split("its message is in ")[1].rstrip(")"))
    assert log.name == "search.log" and "no_such_option" in log.read_text()
    assert sorted(p.name for p in naive_catalog.iterdir()) == ["2x2x2_r8_ZT.json", "2x2x3_r12_ZT.json"]
    assert not list(work.rglob(".improve-running"))  # the other search, stopped, is not marked running


def test_the_ledger_keeps_the_lowest_rank_the_walks_reached_mod_2_and_status_shows_it(runner, tmp_path):
    import discover.catalog_improve as ci
    from discover.search.state import STATE_FILE

    work = tmp_path / "w"
    folder = work / "3x3x3_r22"
    walk = runner.invoke(main, ["search", "3x3x3", "--rank", "22", "--method", "flip", "-O", "field=gf2",
                                "-O", "max_flips=300000", "--restarts", "1", "--seed", "4", "-j", "1",
                                "-o", str(folder), "--json", "-q"])
    assert walk.exit_code == 1, walk.output  # nothing exact at 22: only the walk's lowest rank mod 2
    lowest = json.loads(walk.stdout)["best_rank_mod2"]
    assert isinstance(lowest, int) and 22 <= lowest < 27
    assert ci._reached_by_search(folder) == {"2": lowest}
    ci._add_slice(folder, 10.0, ci._reached_by_search(folder))
    state = json.loads((folder / STATE_FILE).read_text())
    state["best_rank_mod2"] = lowest + 2  # a later slice that ended higher does not raise the ledger's lowest
    (folder / STATE_FILE).write_text(json.dumps(state))
    ci._add_slice(folder, 5.0, ci._reached_by_search(folder))
    assert json.loads((folder / ci.LEDGER).read_text()) == {"slices": 2, "seconds": 15.0, "reached": {"2": lowest}}
    status = runner.invoke(main, ["catalog", "improve", "--work", str(work), "--status"])
    assert status.exit_code == 0, status.output
    assert status.stdout.splitlines()[1].split() == ["3x3x3", "22", "2", "15", "s", "–", str(lowest), "mod", "2", "–", "–"]
    (folder / ci.LEDGER).write_text('{"slices": 3, "seconds": 20.0}\n')  # a ledger from before: no walks' ranks
    assert runner.invoke(main, ["catalog", "improve", "--work", str(work), "--status"]).stdout.splitlines()[1].split() \
        == ["3x3x3", "22", "3", "20", "s", "–", "–", "–", "–"]


def test_reached_text_puts_the_exact_rank_first():
    from discover.catalog_improve import reached_text

    assert reached_text({"2": 56, "Z": 57, "3": 55}) == "57, 56 mod 2, 55 mod 3"
    assert reached_text({}) == ""


def test_a_running_mark_whose_process_is_gone_is_not_running(runner, tmp_path):
    import discover.catalog_improve as ci

    work = tmp_path / "w"
    folder = work / "2x5x6_r47"
    folder.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (folder / ci.RUNNING).write_text(json.dumps({"pid": dead.pid, "started": time.time(), "seconds": 60}))
    assert ci.running_since(folder) is None  # a job killed outright leaves its mark behind
    r = runner.invoke(main, ["catalog", "improve", "--work", str(work), "--status"])
    assert r.exit_code == 0 and f"no slices have run in {work} yet" in r.stderr
    (folder / ci.RUNNING).write_text(json.dumps({"pid": os.getpid(), "started": time.time() - 125, "seconds": 600}))
    r = runner.invoke(main, ["catalog", "improve", "--work", str(work), "--status"])
    assert r.stdout.splitlines()[1].split() == ["2x5x6", "47", "0", "0.0", "s", "–", "–", "–", "2", "min", "5", "s"]
