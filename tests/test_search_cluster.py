"""Searches on a Dask cluster (``--cluster``, ``--scheduler``) and resumable searches (``--resume``).

The cluster tests run the command as a process (a LocalCluster spawns workers that import the
package; a separate scheduler and workers are started as ``dask`` processes on 127.0.0.1) and
skip when the ``distributed`` extra is not installed. The resume tests use the local scheduler.
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from discover.canonical import canonical_key
from discover.cli import main
from discover.jsonio import load_scheme
from discover.search import dask_scheduler
from discover.search.state import STATE_FILE
from discover.verify import verify_exact

ROOT = Path(__file__).resolve().parent.parent
needs_distributed = pytest.mark.skipif(
    not dask_scheduler.distributed_available(),
    reason="Dask's distributed is not installed (pip install '.[distributed]')")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    return env


def strassen(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``python -m discover.cli ARGS`` as a process (this checkout's package)."""
    return subprocess.run([sys.executable, "-m", "discover.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=_env(), cwd=ROOT)


def _schemes(folder: Path) -> dict[str, object]:
    """File name -> canonical key of every scheme file; every file must load and be exact."""
    out = {}
    for path in sorted(folder.glob("*.json")):
        scheme = load_scheme(path)
        assert verify_exact(scheme).valid, path
        out[path.name] = canonical_key(scheme)
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _dask_processes(logs: Path):
    """A ``dask scheduler`` and two ``dask worker`` processes (no nanny: a killed worker stays dead)."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs: dict[str, subprocess.Popen] = {}
    files = []
    try:
        files.append(open(logs / "scheduler.log", "w"))
        procs["scheduler"] = subprocess.Popen(
            [sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stdout=files[-1], stderr=subprocess.STDOUT, env=_env())
        for name in ("w0", "w1"):
            files.append(open(logs / f"{name}.log", "w"))
            procs[name] = subprocess.Popen(
                [sys.executable, "-m", "dask", "worker", address, "--name", name, "--nthreads", "1", "--no-nanny",
                 "--no-dashboard", "--death-timeout", "60"], stdout=files[-1], stderr=subprocess.STDOUT, env=_env())
        yield address, procs
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)
        for f in files:
            f.close()


@pytest.fixture(scope="module")
def shared_cluster(tmp_path_factory):
    """One cluster for the tests that leave it whole."""
    with _dask_processes(tmp_path_factory.mktemp("dask")) as (address, _):
        yield address


@pytest.fixture
def dask_cluster(tmp_path):
    """A cluster of its own, for a test that kills part of it."""
    with _dask_processes(tmp_path) as cluster:
        yield cluster


# A helper process (keeps Dask's client out of the test process): wait until every worker runs
# a search task, print the name of one of them.
_WAIT_FOR_TASKS = textwrap.dedent("""
    import sys, time
    from distributed import Client
    client = Client(sys.argv[1], timeout="60s")
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        busy = {a: keys for a, keys in client.processing().items() if any("strassen-task" in str(k) for k in keys)}
        if len(busy) >= 2:
            print(client.scheduler_info()["workers"][sorted(busy)[0]]["name"])
            break
        time.sleep(0.05)
    client.close()
""")


@needs_distributed
def test_a_local_cluster_gives_the_same_scheme_as_one_machine(tmp_path):
    local = strassen("search", "2x2x3", "--rank", "11", "--seed", "3", "-o", str(tmp_path / "local"), "-q")
    cluster = strassen("search", "2x2x3", "--rank", "11", "--seed", "3", "--cluster", "local:2",
                       "-o", str(tmp_path / "cluster"))
    assert local.returncode == 0, local.stderr
    assert cluster.returncode == 0, cluster.stderr
    assert "dask scheduler tcp://127.0.0.1:" in cluster.stderr and "2 worker(s), dashboard" in cluster.stderr
    a = load_scheme(tmp_path / "local" / "2x2x3_r11_ZT.json")
    b = load_scheme(tmp_path / "cluster" / "2x2x3_r11_ZT.json")
    assert a.same_coefficients(b)
    assert b.meta["provenance"]["task_index"] == a.meta["provenance"]["task_index"]


@needs_distributed
def test_separate_dask_processes_collect_twenty_distinct_verified_schemes(tmp_path, shared_cluster):
    address = shared_cluster
    out = tmp_path / "found"
    r = strassen("search", "2x2x2", "--rank", "7", "--method", "flip", "--all", "--max-found", "20", "--seed", "0",
                 "--scheduler", address, "-o", str(out), "--json", "-q")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert len(doc["found"]) == 20 and len(doc["saved"]) == 20
    keys = _schemes(out)
    assert len(keys) == 20 and len(set(keys.values())) == 20


@needs_distributed
def test_catalog_improve_runs_its_searches_on_the_cluster(tmp_path, shared_cluster):
    from discover.jsonio import save_scheme
    from discover.scheme import Scheme

    catalog = tmp_path / "catalog"
    catalog.mkdir()
    save_scheme(Scheme.naive("2x2x3"), catalog / "2x2x3_r12_ZT.json")
    r = strassen("catalog", "improve", "--dir", str(catalog), "--work", str(tmp_path / "w"), "--rounds", "1",
                 "--slice", "120", "-m", "flip", "--seed", "3", "--scheduler", shared_cluster)
    assert r.returncode == 0, r.stderr
    # The search says where its tasks ran (the improve job passes the address on, and no --workers).
    assert f"dask scheduler {shared_cluster}, 2 worker(s)" in r.stderr
    assert "--workers" not in r.stderr
    scheme = load_scheme(catalog / "2x2x3_r11_ZT.json")
    assert scheme.rank == 11 and verify_exact(scheme).valid


@needs_distributed
def test_bench_search_on_a_cluster_prints_the_same_table(shared_cluster):
    r = strassen("bench", "search", "--methods", "flip", "--targets", "2x2x2:7", "--budget", "2", "--searches", "1",
                 "--scheduler", shared_cluster)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("machine: ") and lines[1].endswith(f"timed searches on the Dask cluster {shared_cluster}")
    assert lines[2].split() == ["method", "target", "restarts", "exact", "rate", "s/restart", "searches", "median",
                                "1st", "max", "1st"]
    assert [line.split()[:3] for line in lines[4:]] == [["flip", "2x2x2", "r7"]]


@needs_distributed
def test_a_worker_killed_mid_search_loses_only_its_task(tmp_path, dask_cluster):
    address, procs = dask_cluster
    out = tmp_path / "found"
    search = subprocess.Popen(
        [sys.executable, "-m", "discover.cli", "search", "2x2x3", "--rank", "11", "--method", "flip", "--seed", "3",
         "--time-limit", "30", "--scheduler", address, "-o", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=ROOT)
    try:
        busy = subprocess.run([sys.executable, "-c", _WAIT_FOR_TASKS, address], capture_output=True, text=True,
                              timeout=300, env=_env())
        victim = busy.stdout.strip()
        assert victim in ("w0", "w1"), busy.stderr
        procs[victim].send_signal(signal.SIGKILL)  # mid-task: the scheduler reruns it on the other worker
        stdout, stderr = search.communicate(timeout=300)
    finally:
        if search.poll() is None:
            search.kill()
            search.wait()
    assert procs[victim].wait(timeout=30) == -signal.SIGKILL
    assert search.returncode == 0, stderr
    [path] = out.glob("*.json")
    assert path.name == "2x2x3_r11_ZT.json" and verify_exact(load_scheme(path)).valid
    assert "m11 =" in stdout


@needs_distributed
def test_a_lost_scheduler_is_one_error_line_and_exit_1(tmp_path, dask_cluster):
    address, procs = dask_cluster
    search = subprocess.Popen(
        [sys.executable, "-m", "discover.cli", "search", "3x3x3", "--rank", "20", "--method", "flip",
         "--time-limit", "240", "--scheduler", address, "-o", str(tmp_path / "o")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=ROOT)
    try:
        busy = subprocess.run([sys.executable, "-c", _WAIT_FOR_TASKS, address], capture_output=True, text=True,
                              timeout=300, env=_env())
        assert busy.stdout.strip() in ("w0", "w1"), busy.stderr
        procs["scheduler"].send_signal(signal.SIGKILL)
        stdout, stderr = search.communicate(timeout=120)
    finally:
        if search.poll() is None:
            search.kill()
            search.wait()
    assert search.returncode == 1
    errors = [line for line in stderr.splitlines() if "error" in line.lower()]
    assert errors == [f"error: lost the Dask scheduler at {address} (saved schemes kept; "
                      f"continue with --resume -o {tmp_path / 'o'})"], stderr
    assert "Traceback" not in stderr
    assert (tmp_path / "o" / STATE_FILE).is_file()


def test_cluster_without_the_extra_says_how_to_install_it(runner, monkeypatch):
    monkeypatch.setattr(dask_scheduler, "distributed_available", lambda: False)
    r = runner.invoke(main, ["search", "2x2x2", "--rank", "7", "--cluster", "local:2"])
    assert r.exit_code == 2
    assert r.stderr == "error: running on a Dask cluster needs the distributed extra: " \
                       "pip install 'strassen-discover[distributed]'\n"


def test_cluster_options_are_checked(runner):
    r = runner.invoke(main, ["search", "2x2x2", "--rank", "7", "--cluster", "remote:2"])
    assert r.exit_code == 2 and r.stderr.startswith("error: --cluster 'remote:2': expected local:N")
    r = runner.invoke(main, ["search", "2x2x2", "--rank", "7", "--cluster", "local:2", "--scheduler", "tcp://x:1"])
    assert r.exit_code == 2 and "exclude each other" in r.stderr


# --------------------------------------------------------------------------- resume (local scheduler)
def _state(folder: Path) -> dict:
    try:
        return json.loads((folder / STATE_FILE).read_text())
    except (OSError, ValueError):
        return {}


def _tasks_done(folder: Path) -> int:
    return sum(b - a + 1 for a, b in _state(folder).get("tasks_done", []))


def test_sigkill_then_resume_gives_the_files_of_an_uninterrupted_run(tmp_path):
    args = ["search", "2x2x2", "--rank", "7", "--method", "flip", "--all", "--restarts", "24", "--seed", "5",
            "-j", "1", "-q"]
    whole = strassen(*args, "-o", str(tmp_path / "whole"))
    assert whole.returncode == 0, whole.stderr
    cut = tmp_path / "cut"
    proc = subprocess.Popen([sys.executable, "-m", "discover.cli", *args, "-o", str(cut)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env(), cwd=ROOT)
    try:
        while _tasks_done(cut) < 3 and proc.poll() is None:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert 3 <= _tasks_done(cut) < 24  # really cut in the middle
    resumed = strassen(*args, "-o", str(cut), "--resume", "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert _tasks_done(cut) == 24
    expected = _schemes(tmp_path / "whole")
    assert _schemes(cut) == expected
    # nothing half-written or left over: the folders hold the same files
    assert sorted(p.name for p in cut.iterdir()) == sorted(p.name for p in (tmp_path / "whole").iterdir())
    assert len(json.loads(resumed.stdout)["saved"]) == len(expected)


def test_resume_refuses_another_request_and_a_folder_without_state(runner, tmp_path):
    out = tmp_path / "o"
    args = ["search", "2x2x2", "--rank", "7", "--method", "flip", "--restarts", "1", "--seed", "2", "-j", "1", "-q"]
    assert runner.invoke(main, [*args, "-o", str(out)]).exit_code == 0
    r = runner.invoke(main, [*args[:-5], "--seed", "3", "-j", "1", "-q", "-o", str(out), "--resume"])
    assert r.exit_code == 2
    assert r.stderr == f"error: --resume: the search in {out} ran with seed 2, not 3; " \
                       "repeat its request or use another folder\n"
    r = runner.invoke(main, [*args, "-o", str(tmp_path / "empty"), "--resume"])
    assert r.exit_code == 2 and r.stderr.startswith("error: --resume: no search state in")
    r = runner.invoke(main, [*args, "--resume"])
    assert r.exit_code == 2 and "needs the output folder" in r.stderr


def test_resume_of_a_finished_first_hit_search_reruns_nothing(runner, tmp_path):
    out = tmp_path / "o"
    args = ["search", "2x2x3", "--rank", "11", "--method", "flip", "--restarts", "4", "--seed", "3", "-j", "1",
            "-o", str(out), "--json", "-q"]
    first = runner.invoke(main, args)
    assert first.exit_code == 0
    (out / ".2x2x3_r11_ZT.json.k1ll3d_x.tmp").write_text('{"format": [2, 2')  # a write cut short by a kill
    again = runner.invoke(main, [*args, "--resume"])
    assert again.exit_code == 0
    a, b = json.loads(first.stdout), json.loads(again.stdout)
    assert b["found"][0]["U"] == a["found"][0]["U"] and b["restarts"] == a["restarts"]
    assert sorted(p.name for p in out.iterdir()) == [".search-state", "2x2x3_r11_ZT.json"]


@pytest.mark.parametrize("field, ring, prime", [("gf2", "ZT", 2), ("gf3", "Q", 3)])
def test_the_state_keeps_the_lowest_rank_a_walk_reached_modulo_its_prime(runner, tmp_path, field, ring, prime):
    out = tmp_path / "o"
    args = ["search", "3x3x3", "--rank", "21", "--ring", ring, "--method", "flip", "-O", f"field={field}",
            "-O", "max_flips=300000", "--restarts", "1", "--seed", "4", "-j", "1", "-o", str(out), "--json", "-q"]
    first = runner.invoke(main, args)
    assert first.exit_code == 1, first.output
    lowest = json.loads(first.stdout)["best_rank_mod2"]
    assert isinstance(lowest, int) and 21 < lowest < 27
    state = json.loads((out / STATE_FILE).read_text())
    assert (state["best_rank_mod2"], state["best_rank_modulus"]) == (lowest, prime)
    again = runner.invoke(main, [*args, "--resume"])  # the one restart ran: nothing reruns, the rank comes back
    assert again.exit_code == 1
    summary = json.loads(again.stdout)
    assert (summary["best_rank_mod2"], summary["best_rank_modulus"], summary["restarts"]) == (lowest, prime, 1)
