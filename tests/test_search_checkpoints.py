"""Walk checkpoints in a search's output folder: a walk cut short goes on where it stood on --resume."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from discover.cli import main
from discover.flip.checkpoint import CHECKPOINT_ENV
from discover.search import checkpoints
from discover.search.state import STATE_FILE

from .test_search_cluster import ROOT, _env, _schemes, needs_distributed

# A walk out of reach of its target (3x3x3 has no rank 19), lifting each new lowest rank on its way.
WALK = ["search", "3x3x3", "--rank", "19", "--ring", "Z", "--method", "flip", "-O", "field=gf2", "-O", "runners=4",
        "-O", "lift_lows=1", "--seed", "8"]


def _flips(folder: Path, task: int = 0) -> int:
    return int(checkpoints.load(checkpoints.checkpoint_path(folder, task))["arrays"]["stats"][0])


def _summary(stdout: str) -> dict:
    doc = json.loads(stdout)
    return {k: doc[k] for k in ("best_rank_mod2", "flips", "lift_attempts", "best_scheme_rank", "restarts")}


def test_sigkill_then_resume_makes_the_walks_of_an_uninterrupted_run(tmp_path):
    # Two walks side by side (the process pool: checkpoints reach the driver through its queue),
    # a flip budget (so a seed replays each walk), a checkpoint every 0.2 s; killed once both
    # walks have one, then resumed: the same flips, lifts and saved schemes as a run never cut.
    args = [*WALK, "-O", "max_flips=12000000", "--restarts", "2", "-j", "2", "--json", "-q"]
    env = {**_env(), CHECKPOINT_ENV: "0.2"}
    run = lambda *extra: subprocess.run([sys.executable, "-m", "discover.cli", *args, *extra], capture_output=True,
                                        text=True, timeout=600, env=env, cwd=ROOT)
    whole = run("-o", str(tmp_path / "whole"))
    assert whole.returncode == 1, whole.stderr
    cut = tmp_path / "cut"
    proc = subprocess.Popen([sys.executable, "-m", "discover.cli", *args, "-o", str(cut)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 300
        while proc.poll() is None and time.monotonic() < deadline and not (
                checkpoints.checkpoint_path(cut, 0).exists() and checkpoints.checkpoint_path(cut, 1).exists()):
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    held = [_flips(cut, 0), _flips(cut, 1)]
    assert 0 < min(held) and max(held) < 12_000_000  # really cut in the middle of both walks
    resumed = run("-o", str(cut), "--resume")
    assert resumed.returncode == 1, resumed.stderr
    assert _summary(resumed.stdout) == _summary(whole.stdout)
    assert _schemes(cut) == _schemes(tmp_path / "whole")
    # Both walks ended for good (their flip budgets spent): no checkpoint is left.
    assert sorted(p.name for p in cut.iterdir()) == sorted(p.name for p in (tmp_path / "whole").iterdir())
    assert not checkpoints.holds_checkpoint(cut)


def test_a_walk_cut_by_its_time_limit_goes_on_with_resume(runner, tmp_path):
    out = tmp_path / "o"
    args = [*WALK, "--time-limit", "3", "-j", "1", "-o", str(out), "--json", "-q"]
    first = runner.invoke(main, args)
    assert first.exit_code == 1, first.output
    flips = json.loads(first.stdout)["flips"]
    assert flips > 0 and _flips(out) == flips  # the walk's last state, kept beside the search's state
    assert json.loads((out / STATE_FILE).read_text())["tasks_done"] == []  # cut short: not finished
    again = runner.invoke(main, [*args, "--resume"])
    assert again.exit_code == 1, again.output
    more = json.loads(again.stdout)
    assert more["flips"] > flips and _flips(out) == more["flips"]  # counted on from where it stood
    assert more["restarts"] == 1  # one walk, resumed: not a restart
    assert (more["resumed_walks"], more["resumed_flips"]) == (1, flips)
    # Without --json the summary line says so.
    said = runner.invoke(main, [*args[:-2], "--resume"])
    assert said.exit_code == 1 and "; 1 walk(s) went on from their checkpoints (" in said.stderr
    assert more["best_rank_mod2"] <= json.loads(first.stdout)["best_rank_mod2"]


def test_a_walk_counts_one_restart_however_often_it_is_cut_and_killed(runner, tmp_path):
    # Cut by its time limit (its restart counted), resumed and killed after a checkpoint written
    # while it ran, resumed again: still one walk, one restart.
    out = tmp_path / "o"
    args = [*WALK, "--time-limit", "2", "-j", "1", "-o", str(out), "-q"]
    assert runner.invoke(main, args).exit_code == 1
    assert json.loads((out / STATE_FILE).read_text())["restarts_done"] == 1
    before = _flips(out)
    long_run = [*WALK, "--time-limit", "300", "-j", "1", "-o", str(out), "-q", "--resume"]  # a resume may change limits
    proc = subprocess.Popen([sys.executable, "-m", "discover.cli", *long_run], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**_env(), CHECKPOINT_ENV: "0.2"}, cwd=ROOT)
    try:
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline and _flips(out) == before:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL and _flips(out) > before  # a checkpoint written while it ran
    again = runner.invoke(main, [*args, "--json", "--resume"])
    assert again.exit_code == 1 and json.loads(again.stdout)["restarts"] == 1


def test_a_new_search_in_the_folder_starts_its_walk_over(runner, tmp_path):
    out = tmp_path / "o"
    first = runner.invoke(main, [*WALK, "--time-limit", "2", "-j", "1", "-o", str(out), "--json", "-q"])
    assert first.exit_code == 1 and checkpoints.holds_checkpoint(out)
    # Another request, --resume-or-start: a new search, from the start scheme, not from the old walk;
    # it spends its flip budget (a walk over for good) and leaves no checkpoint.
    budget = [*WALK, "-O", "max_flips=40000", "--restarts", "1", "-j", "1", "-o", str(out), "--json", "-q"]
    other = runner.invoke(main, [*budget, "--resume-or-start"])
    assert other.exit_code == 1, other.output
    assert json.loads(other.stdout)["flips"] == 40_000 and not checkpoints.holds_checkpoint(out)
    # The same request again with --resume-or-start: resumed (its one walk is done, nothing reruns).
    same = runner.invoke(main, [*budget, "--resume-or-start"])
    assert same.exit_code == 1 and json.loads(same.stdout)["restarts"] == 1
    # A new search without --resume drops the checkpoints an earlier one left.
    runner.invoke(main, [*WALK, "--time-limit", "2", "-j", "1", "-o", str(out), "-q"])
    assert checkpoints.holds_checkpoint(out)
    fresh = runner.invoke(main, [*budget])
    assert fresh.exit_code == 1 and not checkpoints.holds_checkpoint(out)


def test_a_checkpoint_that_cannot_be_used_is_one_line(runner, tmp_path):
    out = tmp_path / "o"
    args = [*WALK, "--time-limit", "2", "-j", "1", "-o", str(out), "-q"]
    assert runner.invoke(main, args).exit_code == 1
    path = checkpoints.checkpoint_path(out, 0)
    path.write_bytes(path.read_bytes()[:100])  # not a checkpoint any more (an edit, a disk fault)
    r = runner.invoke(main, [*args, "--resume"])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert r.stderr == f"error: --resume: unreadable walk checkpoint {path}: File is not a zip file; " \
                       "remove it to start that walk over\n"
    r = runner.invoke(main, [*args, "--resume", "--resume-or-start"])
    assert r.exit_code == 2 and r.stderr == "error: --resume and --resume-or-start: give one\n"
    r = runner.invoke(main, [*WALK, "--resume-or-start"])
    assert r.exit_code == 2 and "needs the output folder" in r.stderr
    r = runner.invoke(main, args, env={CHECKPOINT_ENV: "soon"})
    assert r.exit_code == 2
    assert r.stderr == f"error: {CHECKPOINT_ENV}='soon': expected seconds between walk checkpoints (a number >= 0)\n"


def test_a_checkpoint_round_trips_through_its_file(tmp_path):
    held = {"walk": "gf2", "arrays": {"Fs": np.arange(24, dtype=np.uint64).reshape(2, 3, 4),
                                      "state": np.array([7], dtype=np.uint64)},
            "values": {"lowest": 23, "counters": {"lift_attempts": 2}, "best_lifted": None}}
    path = checkpoints.save(tmp_path, 3, held)
    assert path == tmp_path / ".walk-3.ckpt" and not list(tmp_path.glob("*.tmp"))
    back = checkpoints.load_all(tmp_path)
    assert list(back) == [3] and back[3]["walk"] == "gf2" and back[3]["values"] == held["values"]
    for name, array in held["arrays"].items():
        assert back[3]["arrays"][name].dtype == array.dtype and np.array_equal(back[3]["arrays"][name], array)
    checkpoints.drop_all(tmp_path)
    assert os.listdir(tmp_path) == []


@needs_distributed
def test_a_walk_on_a_dask_cluster_hands_out_checkpoints_while_it_runs(tmp_path):
    # The workers' live channel is a Dask queue the client drains: a checkpoint written while the
    # walk runs on a LocalCluster reaches the folder, so a run killed outright (client, scheduler
    # and worker at once) resumes from it, here on one machine.
    out = tmp_path / "o"
    args = [*WALK, "--cluster", "local:1", "--time-limit", "300", "-o", str(out), "-q"]
    proc = subprocess.Popen([sys.executable, "-m", "discover.cli", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**_env(), CHECKPOINT_ENV: "0.2"}, cwd=ROOT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline and not checkpoints.holds_checkpoint(out):
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL  # killed while the walk ran, not ended by its time limit
    before = _flips(out)
    assert before > 0
    # 10 s, not 2: on a loaded machine (the suite runs on every core) starting the worker and loading
    # the compiled kernels took the whole of 2 s, and the resumed walk made no flip.
    again = subprocess.run([sys.executable, "-m", "discover.cli", *WALK, "--time-limit", "10", "-j", "1", "-o",
                            str(out), "--json", "-q", "--resume"], capture_output=True, text=True, timeout=300,
                           env=_env(), cwd=ROOT)
    assert again.returncode == 1, again.stderr
    more = json.loads(again.stdout)
    assert (more["resumed_walks"], more["resumed_flips"]) == (1, before) and more["flips"] > before
