"""A first SIGINT/SIGTERM stops a search gracefully (the walks hand back their best, which is saved);
a second one stops it at once."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from discover.jsonio import load_scheme
from discover.search.interrupt import GracefulStop
from discover.verify import verify


def _search(out, *extra):
    # 3x3x3 rank 19 (the lower bound) is out of reach: the walk runs until it is told to stop.
    return subprocess.Popen([sys.executable, "-m", "discover", "search", "3x3x3", "--rank", "19", "--method", "flip",
                             "--time-limit", "300", "--seed", "2", "-o", str(out), "--json", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            # A runner started in the background (nohup, CI) hands down SIGINT ignored,
                            # and the search keeps an ignored SIGINT ignored: give it the default back.
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _wait_for_progress(proc, seconds=8.0):
    time.sleep(seconds)  # past the start-up and the kernels' first compilation (cached after)
    assert proc.poll() is None


@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_first_signal_keeps_the_best_scheme_of_the_running_walks(tmp_path, workers, sig):
    proc = _search(tmp_path, "-j", workers)
    try:
        _wait_for_progress(proc)
        t0 = time.monotonic()
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
        stopped_in = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "stopping: the running tasks hand back their best" in err
    assert stopped_in < 30
    doc = json.loads(out)
    assert doc["interrupted"] is True and doc["found_ranks"] == []
    best = load_scheme(doc["best_saved"])  # the walk's best, proven and saved under its own rank
    assert verify(best).valid and best.rank <= 25 and best.format.dims == (3, 3, 3)  # naive: 27
    assert best.meta["provenance"]["seed"] == 2


def test_a_second_signal_stops_at_once(tmp_path):
    proc = _search(tmp_path, "-j", "1")
    try:
        _wait_for_progress(proc)
        proc.send_signal(signal.SIGTERM)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err


def test_graceful_stop_restores_the_handlers():
    before = signal.getsignal(signal.SIGTERM)
    with GracefulStop() as stop:
        assert signal.getsignal(signal.SIGTERM) == stop._handle
        stop._handle(signal.SIGTERM, None)
        assert stop.requested
        with pytest.raises(KeyboardInterrupt):
            stop._handle(signal.SIGTERM, None)
    assert signal.getsignal(signal.SIGTERM) == before


def test_an_ignored_sigint_stays_ignored():
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with GracefulStop():
            assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN  # a background job's choice is kept
            assert signal.getsignal(signal.SIGTERM) != signal.SIG_DFL
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)
