"""A cyclic-symmetric walk stopped at a checkpoint and resumed makes the very walk that was never stopped."""
from __future__ import annotations

import json

import numpy as np
import pytest

from discover.cli import main
from discover.errors import SearchError
from discover.flip.cyclic import cyclic_walk, scheme_orbits
from discover.formats import Format
from discover.rings import Ring
from discover.search.contract import Problem, SearchTask
from discover.search.driver import task_seed
from discover.search.methods.cyclic import METHOD, CyclicOptions
from discover.sources import load_source

from .test_flip_checkpoint import same_checkpoints, stopped_after
from .test_search_checkpoints import _flips

#: What differs between two runs of one walk: this run's seconds, and where a resumed run began.
CLOCK_KEYS = {"seconds", "lift_seconds", "resumed_at_flips"}


class Kept:
    """An ``on_checkpoint`` that keeps what the walk hands out."""

    def __init__(self) -> None:
        self.running: list[dict] = []
        self.final = None

    def __call__(self, checkpoint: dict, final: bool) -> None:
        if final:
            assert self.final is None  # handed out once, at the end
            self.final = checkpoint
        else:
            self.running.append(checkpoint)


def _walk(kind: str, **kw):
    """One walk of each kind, out of reach of its target so that it runs out its flip budget."""
    if kind == "orbit":  # over Z from the naive 3x3x3 orbits; 18 is out of reach
        return cyclic_walk(3, 18, 5, max_flips=900_000, plus_min=100, plus_max=500, **kw)
    if kind == "orbit-gf2":
        return cyclic_walk(3, 18, 5, max_flips=900_000, plus_min=100, plus_max=500, mod2=True, **kw)
    reps, fixed = scheme_orbits(load_source("cubes:4x4x4:1111"), mod2=True)  # the pairs walk, with patience
    return cyclic_walk(4, 40, 2, reps=reps, fixed=fixed, mod2=True, pairs=True, plus_min=2000, plus_max=4000,
                       patience=300_000, max_flips=1_500_000, **kw)


@pytest.mark.parametrize("kind", ["orbit", "orbit-gf2", "pairs"])
def test_a_resumed_cyclic_walk_is_the_walk_that_never_stopped(kind):
    whole_kept = Kept()
    whole = _walk(kind, on_checkpoint=whole_kept)
    first_kept = Kept()
    first = _walk(kind, should_stop=stopped_after(2), on_checkpoint=first_kept)
    assert 0 < first[2]["flips"] < whole[2]["flips"]
    held = first_kept.final
    assert held is not None and held["walk"].startswith("cyclic-")
    assert int(held["arrays"]["stats"][0]) == first[2]["flips"]
    rest_kept = Kept()
    rest = _walk(kind, resume_from=held, on_checkpoint=rest_kept)
    assert np.array_equal(rest[0], whole[0]) and np.array_equal(rest[1], whole[1])
    assert rest[2] == {**whole[2], "resumed_at_flips": first[2]["flips"]}
    same_checkpoints(rest_kept.final, whole_kept.final)
    assert not whole_kept.running  # the walks take seconds and the clock's period is minutes: none while running


def test_checkpoints_while_the_walk_runs_are_copies_in_flip_order(monkeypatch):
    monkeypatch.setenv("STRASSEN_CHECKPOINT_SECONDS", "0")  # one after every compiled call
    kept = Kept()
    _walk("orbit", on_checkpoint=kept)
    flips = [int(c["arrays"]["stats"][0]) for c in kept.running]
    assert len(flips) >= 3 and flips == sorted(flips) and len(set(flips)) == len(flips)
    assert int(kept.final["arrays"]["stats"][0]) == 900_000
    assert not np.array_equal(kept.running[0]["arrays"]["orbits"], kept.final["arrays"]["orbits"])


def test_a_checkpoint_of_another_walk_is_refused_in_one_line():
    kept = Kept()
    _walk("orbit", should_stop=stopped_after(1), on_checkpoint=kept)
    with pytest.raises(SearchError, match="'cyclic-orbit' walk, not a 'cyclic-orbit-gf2' one"):
        _walk("orbit-gf2", resume_from=kept.final)
    with pytest.raises(SearchError, match="does not fit this walk"):  # another format: other array sizes
        cyclic_walk(4, 40, 5, max_flips=900_000, resume_from=kept.final)


def _task(resume_from=None, polls=None) -> tuple[SearchTask, object]:
    fmt = Format.parse("3x3x3")
    options = CyclicOptions(field="gf2", lift_lows=1, max_flips=3_000_000)
    problem = Problem(fmt, 22, Ring.ZT)
    task = SearchTask("cyclic", problem, options, task_seed(2, 0), 0, resume_from=resume_from)
    stop = stopped_after(polls) if polls is not None else (lambda: False)
    return task, stop


def test_a_resumed_gf2_cyclic_task_keeps_its_lifts_and_its_best_lift():
    # 22 is out of reach: the walk lifts each new low on its way down (lift_lows) and ends with
    # the lowest lift (23, at 646 k flips) as its best exact scheme. Cut after six compiled calls
    # (268 k flips), when it holds a lift of rank 24, the resumed task ends with the same lifts,
    # the same best scheme and the same last checkpoint.
    task, stop = _task()
    whole = METHOD.run_task(task, stop)
    assert whole.best_rank == 23 and whole.checkpoint is not None
    cut_task, cut_stop = _task(polls=6)
    first = METHOD.run_task(cut_task, cut_stop)
    assert first.checkpoint is not None and first.checkpoint["values"]["lifter"]["lifted_sign"] == 1
    assert first.stats["flips"] == 268_156 and first.best_rank == 24
    assert first.checkpoint["values"]["best_lifted"] is not None
    rest_task, rest_stop = _task(resume_from=first.checkpoint)
    rest = METHOD.run_task(rest_task, rest_stop)
    unclocked = lambda stats: {k: v for k, v in stats.items() if k not in CLOCK_KEYS}  # noqa: E731
    assert unclocked(rest.stats) == unclocked(whole.stats)
    assert rest.best_scheme.same_coefficients(whole.best_scheme)
    for name in whole.checkpoint["arrays"]:
        assert np.array_equal(rest.checkpoint["arrays"][name], whole.checkpoint["arrays"][name]), name
    assert rest.checkpoint["values"]["best_lifted"] == whole.checkpoint["values"]["best_lifted"]
    assert rest.checkpoint["values"]["lifter"] == whole.checkpoint["values"]["lifter"]


def test_a_cyclic_search_cut_by_its_time_limit_goes_on_with_resume(runner, tmp_path):
    out = tmp_path / "o"
    args = ["search", "5x5x5", "--rank", "60", "--method", "cyclic", "-O", "field=gf2", "-O", "walk=pairs",
            "--start", "cubes:5x5x5:10001+01010+00100", "--seed", "3", "-j", "1", "--time-limit", "3",
            "-o", str(out), "--json", "-q"]
    first = runner.invoke(main, args)
    assert first.exit_code == 1, first.output
    flips = json.loads(first.stdout)["flips"]
    assert flips > 0 and _flips(out) == flips
    again = runner.invoke(main, [*args, "--resume"])
    assert again.exit_code == 1, again.output
    more = json.loads(again.stdout)
    assert more["flips"] > flips and _flips(out) == more["flips"]
    assert (more["restarts"], more["resumed_walks"], more["resumed_flips"]) == (1, 1, flips)
    assert more["best_rank_mod2"] <= json.loads(first.stdout)["best_rank_mod2"]
