"""A runner walk stopped at a checkpoint and resumed makes the very walk that was never stopped."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from discover.errors import SearchError
from discover.flip import checkpoint as walk_checkpoint
from discover.flip.gf3runners import gf3_runner_search
from discover.flip.settings import FlipSettings
from discover.flip.walk import flip_search
from discover.formats import Format
from discover.problem import Problem
from discover.scheme import Scheme

#: What differs between two runs of one walk: this run's seconds, and where a resumed run began.
CLOCK_KEYS = {"seconds", "lift_seconds", "best_lifted_seconds", "resumed_at_flips"}
#: Checkpoint values read off the clock: the single walk's call size ("step") is sized to ~0.2 s a
#: call, so it follows the machine's load; the walk itself does not depend on it.
CLOCKED_VALUES = {"walk_seconds", "lift_seconds", "step"}


def stopped_after(polls: int):
    """A ``should_stop`` that says stop at its ``polls``-th look (the walk looks once per compiled call)."""
    counter = itertools.count(1)
    return lambda: next(counter) > polls


def same_stats(a: dict, b: dict) -> None:
    assert {k: v for k, v in a.items() if k not in CLOCK_KEYS} == {k: v for k, v in b.items() if k not in CLOCK_KEYS}


def same_checkpoints(a: dict, b: dict) -> None:
    assert a["walk"] == b["walk"] and set(a["arrays"]) == set(b["arrays"])
    for name in a["arrays"]:
        assert np.array_equal(a["arrays"][name], b["arrays"][name]), name
    def unclocked(values: dict) -> dict:
        out = {k: v for k, v in values.items() if k not in CLOCKED_VALUES}
        out["counters"] = {k: v for k, v in out.get("counters", {}).items() if k not in CLOCK_KEYS}
        return out
    assert unclocked(a["values"]) == unclocked(b["values"])


@pytest.mark.parametrize("field, ring, target, flips, polls", [
    ("gf2", "Z", 19, 120_000, 5),      # lift_lows lifts on the way down; 19 is out of reach
    ("gf2", "ZT", 23, 1_000_000, 40),  # at 23 by 312 k flips, lifted at its 4th try (496 k flips)
    ("zt", "ZT", 19, 120_000, 5),      # the ternary runners: out of reach
])
def test_a_resumed_walk_is_the_walk_that_never_stopped(field, ring, target, flips, polls):
    fmt = Format.parse("3x3x3")
    problem = Problem(fmt, target, ring, start=Scheme.naive(fmt))
    settings = FlipSettings(field=field, runners=4, max_flips=flips, plus_min=100, plus_max=500,
                            lift_lows=field == "gf2" and target == 19)
    whole = flip_search(problem, settings, np.random.SeedSequence(7))
    assert (whole.scheme is not None) == (target == 23)
    first = flip_search(problem, settings, np.random.SeedSequence(7), should_stop=stopped_after(polls))
    assert first.scheme is None and first.checkpoint is not None
    assert 0 < first.stats["flips"] < whole.stats["flips"]
    if target == 23:  # cut after the walk reached its target and a first lift failed: lifts are due again later
        assert first.rank_mod2 == 23 and first.stats["lift_attempts"] == 1
    rest = flip_search(problem, settings, np.random.SeedSequence(7), resume_from=first.checkpoint)
    assert rest.stats["resumed_at_flips"] == first.stats["flips"]
    same_stats(rest.stats, whole.stats)
    assert rest.rank_mod2 == whole.rank_mod2
    if whole.scheme is not None:
        assert rest.scheme is not None and rest.scheme.same_coefficients(whole.scheme)
        assert rest.checkpoint is None and whole.checkpoint is None  # a walk that found its scheme is over
    else:
        assert rest.scheme is None
        same_checkpoints(rest.checkpoint, whole.checkpoint)


def test_a_resumed_walk_mod_3_is_the_walk_that_never_stopped():
    fmt = Format.parse("2x2x3")
    settings = FlipSettings(field="gf3", runners=4, max_flips=200_000, plus_min=100, plus_max=500)
    start = Scheme.naive(fmt)
    whole = gf3_runner_search(fmt, 8, start, settings, np.random.SeedSequence(4))
    first = gf3_runner_search(fmt, 8, start, settings, np.random.SeedSequence(4), should_stop=stopped_after(3))
    assert first.scheme is None and first.checkpoint is not None
    rest = gf3_runner_search(fmt, 8, start, settings, np.random.SeedSequence(4), resume_from=first.checkpoint)
    same_stats(rest.stats, whole.stats)
    assert (rest.scheme is None) == (whole.scheme is None)
    if whole.scheme is not None:
        assert rest.scheme.same_coefficients(whole.scheme)
    else:
        same_checkpoints(rest.checkpoint, whole.checkpoint)


def test_a_walk_hands_out_checkpoints_while_it_runs(monkeypatch):
    monkeypatch.setattr(walk_checkpoint, "CHECKPOINT_EVERY", 0.0)
    fmt = Format.parse("3x3x3")
    problem = Problem(fmt, 19, "Z", start=Scheme.naive(fmt))
    held: list[dict] = []
    out = flip_search(problem, FlipSettings(field="gf2", runners=4, max_flips=40_000), np.random.SeedSequence(1),
                      on_checkpoint=held.append)
    flips = [int(h["arrays"]["stats"][0]) for h in held]
    assert len(held) >= 4 and flips == sorted(flips) and flips[0] > 0
    assert int(out.checkpoint["arrays"]["stats"][0]) == out.stats["flips"] >= flips[-1]
    # Copies: the walk went on after handing out the first, which still says where it stood then.
    assert flips[0] < out.stats["flips"]


def test_a_checkpoint_of_another_walk_is_refused_in_one_line():
    fmt = Format.parse("3x3x3")
    problem = Problem(fmt, 19, "Z", start=Scheme.naive(fmt))
    gf2_walk = flip_search(problem, FlipSettings(field="gf2", runners=4, max_flips=8_000), np.random.SeedSequence(1))
    with pytest.raises(SearchError, match="of a 'gf2' walk, not a 'zt' one"):
        flip_search(problem, FlipSettings(field="zt", runners=4, max_flips=8_000), np.random.SeedSequence(1),
                    resume_from=gf2_walk.checkpoint)
    with pytest.raises(SearchError, match=r"Fs .* does not fit this walk"):
        flip_search(problem, FlipSettings(field="gf2", runners=6, max_flips=8_000), np.random.SeedSequence(1),
                    resume_from=gf2_walk.checkpoint)


@pytest.mark.parametrize("field, target, flips", [
    ("gf2", 23, 3_000_000),  # at 23 by 136,907 flips; cut there, before its first lift
    ("zt", 19, 300_000),     # out of reach: the flip budget ends it
])
def test_a_resumed_single_walk_is_the_walk_that_never_stopped(field, target, flips):
    fmt = Format.parse("3x3x3")
    problem = Problem(fmt, target, "ZT", start=Scheme.naive(fmt))
    settings = FlipSettings(field=field, runners=0, max_flips=flips)
    whole = flip_search(problem, settings, np.random.SeedSequence(7))
    first = flip_search(problem, settings, np.random.SeedSequence(7), should_stop=stopped_after(3))
    assert first.scheme is None and first.checkpoint is not None and first.checkpoint["walk"] == f"single-{field}"
    assert 0 < first.stats["flips"] <= whole.stats["flips"] and first.stats["lift_attempts"] == 0
    rest = flip_search(problem, settings, np.random.SeedSequence(7), resume_from=first.checkpoint)
    assert rest.stats["resumed_at_flips"] == first.stats["flips"]
    same_stats(rest.stats, whole.stats)
    if field == "gf2":  # the lift made after the resume is the one the walk never stopped made
        assert whole.scheme is not None and rest.scheme.same_coefficients(whole.scheme)
        assert rest.stats["lift_attempts"] == whole.stats["lift_attempts"] == 1
        assert rest.checkpoint is None
    else:
        assert rest.scheme is None and whole.scheme is None
        same_checkpoints(rest.checkpoint, whole.checkpoint)


@pytest.mark.parametrize("field, target, flips", [("gf2", 23, 3_000_000), ("zt", 19, 300_000)])
def test_the_single_walk_does_not_depend_on_its_call_size(field, target, flips):
    # The call size follows the clock (~0.2 s a call); chunk=1000 pins it to 1000 flips a call.
    fmt = Format.parse("3x3x3")
    problem = Problem(fmt, target, "ZT", start=Scheme.naive(fmt))
    small, large = (flip_search(problem, FlipSettings(field=field, runners=0, max_flips=flips, chunk=chunk),
                                np.random.SeedSequence(7)) for chunk in (1000, 200_000))
    same_stats(small.stats, large.stats)
    if field == "gf2":
        assert small.scheme is not None and small.scheme.same_coefficients(large.scheme)
    else:
        assert small.scheme is None and large.scheme is None
        for name in small.checkpoint["arrays"]:
            assert np.array_equal(small.checkpoint["arrays"][name], large.checkpoint["arrays"][name]), name
