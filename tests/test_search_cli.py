"""``strassen search``: acceptance behaviour, exit codes, files written."""
from __future__ import annotations

import json

import numpy as np

import pytest

from discover.cli import main
from discover.jsonio import load_scheme
from discover.verify import verify


def test_search_finds_saves_and_is_reproducible(runner, tmp_path):
    out1, out2 = tmp_path / "a", tmp_path / "b"
    r1 = runner.invoke(main, ["search", "2x2x2", "--rank", "7", "--seed", "0", "--out", str(out1), "-q"])
    assert r1.exit_code == 0, r1.output
    files = list(out1.glob("*.json"))
    assert [f.name for f in files] == ["2x2x2_r7_ZT.json"]
    assert "m7 =" in r1.stdout and "c22 =" in r1.stdout
    verified = runner.invoke(main, ["verify", str(files[0])])
    assert verified.exit_code == 0 and "valid" in verified.stdout
    r2 = runner.invoke(main, ["search", "2x2x2", "--rank", "7", "--seed", "0", "--out", str(out2), "-q", "--workers", "1"])
    assert r2.exit_code == 0
    a, b = load_scheme(files[0]), load_scheme(out2 / "2x2x2_r7_ZT.json")
    assert a.same_coefficients(b)
    prov = a.meta["provenance"]
    assert prov["method"] == "lm" and prov["seed"] == 0 and "version" in prov and "date" in prov
    assert a.meta["verification"]["valid"] is True


def test_search_json_output(runner):
    r = runner.invoke(main, ["search", "2x2x2", "--rank", "7", "--seed", "1", "--json", "-q", "-j", "1"])
    assert r.exit_code == 0
    doc = json.loads(r.stdout)
    assert doc["found"][0]["rank"] == 7 and doc["found"][0]["ring"] == "ZT"
    assert doc["interrupted"] is False


def test_a_flip_budget_without_restarts_says_it_is_per_restart(runner):
    # max_flips bounds one walk; without --restarts the search walks again until its time limit.
    free = runner.invoke(main, ["search", "2x2x2", "--rank", "7", "-m", "flip", "-O", "max_flips=2000",
                                "--time-limit", "3", "-j", "1", "--seed", "0"])
    assert free.exit_code == 0, free.output
    assert "max_flips=2000 is per restart; the search restarts until its time limit" in free.stderr
    once = runner.invoke(main, ["search", "2x2x2", "--rank", "7", "-m", "flip", "-O", "max_flips=2000",
                                "--restarts", "1", "-j", "1", "--seed", "0"])
    assert once.exit_code == 0 and "per restart" not in once.stderr


def test_unreached_rank_reports_and_saves_the_best_exact_scheme(runner, tmp_path):
    # 3x3x3 rank 20 is an open problem. A fixed flip budget makes the walk reproducible: it ends
    # above the target, exit 1, and the lowest-rank exact scheme it reached is verified and saved
    # under its real rank; --json carries the same numbers.
    out = tmp_path / "o"
    r = runner.invoke(main, ["search", "3x3x3", "--rank", "20", "--restarts", "1", "-O", "max_flips=300000",
                             "-o", str(out), "-j", "1", "--json"])
    assert r.exit_code == 1, r.stderr
    doc = json.loads(r.stdout)
    best = doc["best_rank"]
    assert doc["found"] == [] and 20 < best < 27 and doc["best_scheme_rank"] == best
    assert doc["flips"] == 300000 and doc["best_rank_mod2"] is None and doc["best_rank_modulus"] is None
    assert f"best rank reached: {best}" in r.stderr and f"best exact scheme: rank {best} (verified)" in r.stderr
    assert sorted(f.name for f in out.iterdir()) == [".search-state", f"3x3x3_r{best}_ZT.json"]
    assert doc["best_saved"] == str(out / f"3x3x3_r{best}_ZT.json")
    saved = load_scheme(out / f"3x3x3_r{best}_ZT.json")
    assert saved.rank == best and verify(saved).valid
    assert saved.meta["provenance"]["problem"]["rank"] == 20 and saved.meta["verification"]["valid"] is True
    assert doc["best_scheme"]["rank"] == best


def test_proven_impossible_rank_is_refused_at_once_with_the_reference(runner):
    r = runner.invoke(main, ["search", "2x2x2", "--rank", "6"])
    assert r.exit_code == 2
    assert r.stderr.strip() == "error: rank 6 is impossible for 2x2x2: Winograd 1971, Hopcroft–Kerr 1971: rank 7 is optimal for 2x2x2"


def test_unwritable_out_is_refused_before_searching(runner, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = runner.invoke(main, ["search", "3x3x3", "--rank", "23", "-o", str(blocker / "sub")])
    assert r.exit_code == 2 and "cannot write to the output folder" in r.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["2x2", "--rank", "7"], "NxMxP"),
        (["2x2x2", "--rank", "0"], "positive"),
        (["2x2x2", "--rank", "-1"], "positive"),
        (["2x3x4", "--rank", "5"], "flattening bound"),
        (["2x2x2", "--rank", "7", "--method", "nope"], "unknown method"),
        (["2x2x2", "--rank", "7", "-O", "nonsense=1"], "unknown option"),
        (["2x2x2", "--rank", "7", "-O", "batch"], "KEY=VALUE"),
        (["2x2x2", "--rank", "7", "--workers", "0"], "workers"),
        (["2x2x2", "--rank", "7", "--workers", "100000"], "workers must be at most"),
        (["2x2x2", "--rank", "7", "--time-limit", "-1"], "time limit"),
        (["2x2x2", "--rank", "7", "--time-limit", "nan"], "time limit"),
        (["2x2x2", "--rank", "7", "--seed", "-1"], "seed"),
        (["2x2x2", "--rank", "7", "-m", "lm", "-O", "batch=-1"], "batch"),
        (["2x2x2", "--rank", "7", "-m", "lm", "-O", "check_every=0"], "check_every"),
        (["2x2x2", "--rank", "7", "-m", "lm", "-O", "alpha=inf"], "alpha"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(runner, args, message):
    r = runner.invoke(main, ["search", *args])
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0]


@pytest.mark.parametrize("rank", [8, 9])
def test_rank_at_or_above_naive_returns_naive(runner, rank, tmp_path):
    r = runner.invoke(main, ["search", "2x2x2", "--rank", str(rank), "--out", str(tmp_path)])
    assert r.exit_code == 0
    assert "naive rank 8" in r.stderr
    scheme = load_scheme(tmp_path / "2x2x2_r8_ZT.json")
    assert scheme.rank == 8


def test_bench_search_prints_machine_and_table(runner):
    r = runner.invoke(main, ["bench", "search", "--methods", "lm", "--targets", "2x2x2:7", "--budget", "2", "--searches", "1"])
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("machine: ") and "cores" in r.stdout
    row = [line for line in r.stdout.splitlines() if line.startswith("lm ")]
    assert len(row) == 1 and "2x2x2 r7" in row[0]


def test_bench_search_bad_input(runner):
    assert runner.invoke(main, ["bench", "search", "--methods", "nope"]).exit_code == 2
    assert runner.invoke(main, ["bench", "search", "--targets", "2x2x2"]).exit_code == 2


def test_a_result_below_the_target_rank_is_saved_and_reported(runner, tmp_path):
    # A rank-25 start: the catalog's 3x3x3 rank 23 plus a term and its negation. The walk's first
    # reductions remove the pair, which lands below the target 24: that better result is kept.
    from discover.catalog import best
    from discover.jsonio import save_scheme
    from discover.scheme import Scheme

    base = best("3x3x3")
    assert base.rank == 23
    one = np.zeros((1, 3, 3), dtype=np.int64)
    one[0, 0, 0] = 1
    U = np.concatenate([np.array(base.U), one, one])
    V = np.concatenate([np.array(base.V), one, one])
    W = np.concatenate([np.array(base.W), one, -one])
    start = save_scheme(Scheme.from_arrays(U, V, W, "3x3x3"), tmp_path / "start.json")
    r = runner.invoke(main, ["search", "3x3x3", "--rank", "24", "--method", "flip", "--start", str(start),
                             "-o", str(tmp_path / "out"), "-j", "1", "--time-limit", "60", "--json"])
    assert r.exit_code == 0, r.stderr
    assert "found rank 23, below the target 24" in r.stderr
    doc = json.loads(r.stdout)
    assert doc["found_ranks"] == [23] and doc["rank"] == 24
    saved = load_scheme(tmp_path / "out" / "3x3x3_r23_ZT.json")
    assert saved.rank == 23 and verify(saved).valid
    assert saved.meta["provenance"]["problem"]["rank"] == 24


def test_progress_plot_is_written_from_the_search_history(runner, tmp_path):
    pytest.importorskip("matplotlib", reason="the plot extra is not installed")
    out = tmp_path / "progress.png"
    r = runner.invoke(main, ["search", "2x2x3", "--rank", "11", "--seed", "1", "-j", "1", "-q",
                             "--progress-plot", str(out)])
    assert r.exit_code == 0, r.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _children(pid: int) -> list[int]:
    import pathlib

    kids = []
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


def _running(pid: int) -> bool:
    import pathlib

    try:
        return pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _descendants(pid: int) -> list[int]:
    found, frontier = [], [pid]
    while frontier:
        kids = [k for p in frontier for k in _children(p)]
        found += kids
        frontier = kids
    return found


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="reads /proc (Linux)")
def test_workers_come_from_the_fork_server_and_die_with_the_command_even_after_sigkill():
    # The command never forks itself (a copied lock can hang a worker): its workers are children
    # of the fork server, grandchildren of the command, and all end when it is SIGKILLed.
    import signal
    import subprocess
    import sys
    import time

    def under_the_server(pid: int) -> list[int]:
        return [k for c in _children(pid) for k in _children(c)]

    proc = subprocess.Popen([sys.executable, "-m", "discover", "search", "3x3x3", "--rank", "20", "-j", "2",
                             "--time-limit", "120", "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while len(under_the_server(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(under_the_server(proc.pid)) >= 2
        family = _descendants(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 30
        alive = family
        while alive and time.monotonic() < deadline:
            time.sleep(0.2)
            alive = [w for w in family if _running(w)]
        assert alive == []
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_start_scheme_that_is_not_exact_is_one_line_and_exit_2(runner, tmp_path):
    from discover.jsonio import save_scheme
    from discover.known import strassen
    from discover.scheme import Scheme

    s = strassen()
    W = np.array(s.W)
    W[0, 0, 0] = 0
    bad = save_scheme(Scheme.from_arrays(s.U, s.V, W, "2x2x2"), tmp_path / "bad.json")
    r = runner.invoke(main, ["search", "2x2x2", "--rank", "7", "--method", "flip", "--start", str(bad)])
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "NOT valid" in lines[0]


def test_every_scheme_is_saved_before_it_is_reported(tmp_path):
    # Ctrl-C can come between any two schemes: a scheme handed to the caller is already on disk.
    from discover.problem import Problem
    from discover.search import search

    seen = []

    def on_found(scheme, path):
        assert path is not None and path.exists() and load_scheme(path).same_coefficients(scheme)
        seen.append(path)

    result = search(Problem("2x2x3", 11), "flip", seed=0, restarts=6, workers=1, find_all=True, out_dir=tmp_path,
                    on_found=on_found)
    assert seen == result.saved and len(seen) == len(result.found) >= 2


def test_best_lift_above_the_target_is_dated_when_the_walk_lifted_it(runner, tmp_path):
    # GF(2) runners with lift_lows miss rank 19 (the lower bound) and keep their lowest lift. Its
    # wall_time is the moment of that lift, which the walk reports; the whole run is kept beside it.
    out = tmp_path / "o"
    r = runner.invoke(main, ["search", "3x3x3", "--rank", "19", "--ring", "Z", "--method", "flip", "--restarts", "1",
                             "-O", "field=gf2", "-O", "lift_lows=1", "-O", "runners=4", "-O", "max_flips=200000",
                             "-O", "plus_min=100", "-O", "plus_max=500", "--seed", "3", "-o", str(out), "-j", "1", "-q"])
    assert r.exit_code == 1, r.stderr
    [path] = out.glob("3x3x3_r*.json")
    prov = load_scheme(path).meta["provenance"]
    assert prov["info"]["best_above_target"] is True
    assert 0 <= prov["wall_time"] <= prov["info"]["search_seconds"]


def test_the_summary_counts_the_lifts_of_a_walk_mod_2(runner):
    # Rank 19 is out of reach mod 2, so a walk that lifts only at the target tries none and says
    # so; with lift_lows it lifts each new low on the way and the JSON counts those lifts.
    argv = ["search", "3x3x3", "--rank", "19", "--method", "flip", "--restarts", "1", "-O", "field=gf2",
            "-O", "runners=4", "-O", "max_flips=200000", "-O", "plus_min=100", "-O", "plus_max=500",
            "--seed", "3", "-j", "1", "--json"]
    plain = runner.invoke(main, argv)
    assert plain.exit_code == 1, plain.stderr
    doc = json.loads(plain.stdout)
    assert doc["lift_attempts"] == 0 and doc["best_rank_mod2"] > 19 and doc["best_rank_modulus"] == 2
    assert f"best rank mod 2: {doc['best_rank_mod2']}, not lifted (no lift tried)" in plain.stderr
    lows = runner.invoke(main, argv + ["-O", "lift_lows=1"])
    assert lows.exit_code == 1, lows.stderr
    doc = json.loads(lows.stdout)
    assert doc["lift_attempts"] >= 1 and 0 <= doc["lift_failures"] < doc["lift_attempts"]
    # Every failed lift is counted under its reason (ring ZT: the sign lift only).
    assert sum(doc["lift_failure_kinds"].values()) == doc["lift_failures"]
    assert set(doc["lift_failure_kinds"]) <= {"failed_no_signs", "failed_signs_not_exact", "out_of_ring"}


def test_the_summary_names_why_lifts_failed():
    from discover.cli.search_cmd import _failure_words
    from discover.search.collector import SearchResult

    result = SearchResult(lift_attempts=5, lift_failures=4, lift_failure_kinds={"out_of_ring": 1, "failed_no_signs": 3})
    assert _failure_words(result) == ": 3 no ±1 signs on the support (mod 4), 1 lifted outside the ring"
    assert _failure_words(SearchResult(lift_attempts=2, lift_failures=2)) == ""  # walks mod 3 give no reasons
