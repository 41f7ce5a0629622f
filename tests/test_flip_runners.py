"""Many runners in one compiled call: the three-term plus transition and the plateau rule keep every scheme exact."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from discover.flip import gf2, policy, zt
from discover.flip.lift import is_exact_mod2
from discover.flip.rng import seed_state
from discover.flip.settings import FlipSettings
from discover.flip.walk import flip_search
from discover.formats import Format
from discover.problem import Problem
from discover.scheme import Scheme
from discover.tensor import integer_reconstruction, matmul_tensor

from .test_flip_pool import FORMATS, exact, random_exact


@settings(max_examples=30, deadline=None, derandomize=True, database=None)
@given(fmt=st.sampled_from(FORMATS), seed=st.integers(0, 2**32 - 1), flips=st.integers(0, 3000))
def test_mix_move_keeps_the_scheme_exact_and_ternary(fmt, seed, flips):
    fmt = Format.parse(fmt)
    F, r, state = random_exact(fmt, seed, flips)
    for _ in range(3):
        r2 = zt.mix_move(F, r, state, False)
        assert r2 in (r, r + 1) and exact(F, r2, fmt) and zt.is_ternary(*zt.unpack(F, r2, fmt))
        r = r2
    r2 = policy.expand(F, r, state, True, False)
    assert r2 in (r, r + 1) and exact(F, r2, fmt)


@settings(max_examples=20, deadline=None, derandomize=True, database=None)
@given(fmt=st.sampled_from(FORMATS), seed=st.integers(0, 2**32 - 1))
def test_gf2_mix_move_keeps_the_scheme_exact_mod_2(fmt, seed):
    fmt = Format.parse(fmt)
    naive = Scheme.naive(fmt)
    F = gf2.pack(*naive.int64_arrays(), naive.rank + 8)
    state = seed_state(seed)
    r = naive.rank
    for _ in range(4):
        r = gf2.mix_move(F, r, state)
        U, V, W = gf2.unpack(F, r, fmt)
        assert ((integer_reconstruction(U, V, W) - matmul_tensor(fmt)) % 2 == 0).all()
    assert r > naive.rank  # some pairs of terms differ in all three slots


def test_runners_kernel_keeps_every_runner_exact():
    fmt = Format.parse("3x3x3")
    naive = Scheme.naive(fmt)
    K, cap = 4, naive.rank + 8
    F = zt.pack(*naive.int64_arrays(), cap)
    Fs = np.repeat(F[None], K, axis=0)
    bests = Fs.copy()
    rs = np.full(K, naive.rank, dtype=np.int64)
    best_rs = rs.copy()
    since = np.zeros(K, dtype=np.int64)
    periods = np.full(K, 40, dtype=np.int64)
    quiet = np.zeros(K, dtype=np.int64)
    state, stats = seed_state(3), np.zeros(5, dtype=np.int64)
    for _ in range(5):
        hit = policy.runners_kernel(Fs, rs, bests, best_rs, since, periods, quiet, 0, 400, 20, 60, 4, 50, 10**9, state, stats,
                                    True)
        assert hit == -1
        for k in range(K):
            assert exact(Fs[k], int(rs[k]), fmt) and exact(bests[k], int(best_rs[k]), fmt)
            assert rs[k] < best_rs[k] + 4 + 1 and best_rs[k] <= naive.rank
    assert stats[1] > 0 and stats[3] > 0  # expansions and reductions both happened


def test_gf2_runners_kernel_keeps_every_runner_exact_mod_2_in_the_gf2_packing():
    # GF(2) runners walk a copy in the ternary layout (pair lists); the caller's arrays keep the GF(2) packing.
    fmt = Format.parse("3x3x4")
    naive = Scheme.naive(fmt)
    K, cap = 3, naive.rank + 8
    Fs = np.repeat(gf2.pack(*naive.int64_arrays(), cap)[None], K, axis=0)
    bests = Fs.copy()
    rs = np.full(K, naive.rank, dtype=np.int64)
    best_rs = rs.copy()
    since, quiet = np.zeros(K, dtype=np.int64), np.zeros(K, dtype=np.int64)
    periods = np.full(K, 300, dtype=np.int64)
    state, stats = seed_state(5), np.zeros(5, dtype=np.int64)

    for _ in range(5):
        hit = policy.runners_kernel(Fs, rs, bests, best_rs, since, periods, quiet, 0, 2000, 200, 400, 4, 0, 10**9,
                                    state, stats, False)
        assert hit == -1
        for k in range(K):
            assert is_exact_mod2(*gf2.unpack(Fs[k], int(rs[k]), fmt), fmt)
            assert is_exact_mod2(*gf2.unpack(bests[k], int(best_rs[k]), fmt), fmt)
    assert stats[0] == 5 * K * 2000 and stats[4] == 0  # mod 2 every drawn flip applies
    assert stats[1] > 0 and stats[3] > 0 and best_rs.min() < naive.rank


def test_runners_reach_3x3x3_rank_23_and_a_seed_reproduces_them():
    fmt = Format.parse("3x3x3")
    problem = Problem(fmt, 23, "ZT", start=Scheme.naive(fmt))
    found = flip_search(problem, FlipSettings(field="zt", runners=4), np.random.SeedSequence(2))
    assert found.scheme is not None and found.scheme.rank <= 23 and found.stats["runners"] == 4
    U, V, W = found.scheme.int64_arrays()
    assert (integer_reconstruction(U, V, W) == matmul_tensor(fmt)).all()
    budget = FlipSettings(field="zt", runners=3, max_flips=20_000, plus_min=100, plus_max=500)
    runs = [flip_search(Problem(fmt, 19, "ZT", start=Scheme.naive(fmt)), budget, np.random.SeedSequence(5))
            for _ in range(2)]
    assert runs[0].stats["flips"] == runs[1].stats["flips"] == 20_000
    assert runs[0].best.rank == runs[1].best.rank
    assert runs[0].best.same_coefficients(runs[1].best)


def test_a_seed_replays_the_runner_walk_however_slow_the_machine(monkeypatch):
    """Without a flip budget the walk must not follow the clock (it once sized its calls by time)."""
    import discover.flip.walk as walk

    fmt = Format.parse("3x3x3")
    problem = Problem(fmt, 23, "ZT", start=Scheme.naive(fmt))
    settings_ = FlipSettings(field="zt", runners=4)
    fast = flip_search(problem, settings_, np.random.SeedSequence(2))
    clock = [0.0]

    def slow_clock() -> float:  # every look at the clock finds a second gone
        clock[0] += 1.0
        return clock[0]

    monkeypatch.setattr(walk.time, "perf_counter", slow_clock)
    slow = flip_search(problem, settings_, np.random.SeedSequence(2))
    assert fast.scheme is not None and slow.scheme is not None
    assert fast.stats["flips"] == slow.stats["flips"] and fast.scheme.same_coefficients(slow.scheme)


def test_gf2_runners_with_lift_lows_keep_the_lowest_lift_above_the_target():
    # Rank 19 (the lower bound) is out of reach: without lift_lows the walk ends with nothing
    # exact; with it, each new lowest rank on the way down was lifted and the lowest lift is kept.
    from discover.verify import verify_exact

    fmt = Format.parse("3x3x3")
    problem = Problem(fmt, 19, "Z", start=Scheme.naive(fmt))
    budget = dict(field="gf2", runners=4, max_flips=200_000, plus_min=100, plus_max=500)
    plain = flip_search(problem, FlipSettings(**budget), np.random.SeedSequence(3))
    lows = flip_search(problem, FlipSettings(**budget, lift_lows=True), np.random.SeedSequence(3))
    assert plain.scheme is None and plain.best is None
    assert lows.scheme is None and lows.best is not None
    assert lows.stats["best_rank_mod2"] <= lows.best.rank < 27 and verify_exact(lows.best).valid
    assert lows.stats["lift_attempts"] >= 1
    assert 0 < lows.stats["best_lifted_seconds"] <= lows.stats["seconds"]  # when the kept lift was made


def test_a_recorded_lift_is_made_again_whatever_the_lift_budget(monkeypatch):
    # Without a flip budget the clock picks which schemes get lifted; the walk replays from the seed
    # and a lift's outcome depends on the scheme alone, so replay_lift (the recorded lift_point)
    # makes the lift that landed again even when the rerun's budget allows no lifts at all.
    from discover.flip import liftrunners

    fmt = Format.parse("3x3x3")
    problem = Problem(fmt, 19, "Z", start=Scheme.naive(fmt))
    budget = dict(field="gf2", runners=4, max_flips=200_000, plus_min=100, plus_max=500, lift_lows=True)
    first = flip_search(problem, FlipSettings(**budget), np.random.SeedSequence(3))
    point = first.stats["best_lift_point"]
    assert first.best is not None and point["scheme"] in ("best", "current") and point["flips"] > 0
    monkeypatch.setattr(liftrunners, "LIFT_SHARE", 0.0)  # only the very first lift fits the budget
    starved = flip_search(problem, FlipSettings(**budget), np.random.SeedSequence(3))
    assert starved.best is None or starved.best.rank > first.best.rank
    replay = f"{point['flips']}:{point['runner']}:{point['scheme']}"
    again = flip_search(problem, FlipSettings(**budget, replay_lift=replay), np.random.SeedSequence(3))
    assert again.stats["replayed_lift"] is True and again.stats["best_lift_point"] == point
    assert again.best.rank == first.best.rank and again.best.same_coefficients(first.best)
    missed = flip_search(problem, FlipSettings(**budget, replay_lift=f"{point['flips'] + 1}:0:best"),
                         np.random.SeedSequence(3))
    assert missed.stats["replayed_lift"] is False  # the walk never stood there: said, not hidden


@pytest.mark.parametrize("options, message", [
    (dict(field="gf2", replay_lift="12:0"), "FLIPS:RUNNER"),
    (dict(field="gf2", replay_lift="12:0:somewhere"), "FLIPS:RUNNER"),
    (dict(field="gf2", runners=4, replay_lift="12:4:best"), "runner 4"),
    (dict(field="zt", replay_lift="12:0:best"), "GF\\(2\\) or GF\\(3\\) runners"),
    (dict(field="gf2", runners=0, replay_lift="12:0:best"), "GF\\(2\\) or GF\\(3\\) runners"),
])
def test_a_malformed_replay_lift_is_refused(options, message):
    from discover.errors import SearchError

    with pytest.raises(SearchError, match=message):
        FlipSettings(**options).check()


def test_a_gf2_lift_draws_from_a_generator_of_the_scheme_alone():
    # The lifts made before one (which the clock decides) must not change its outcome: each lift's
    # random branches come from a generator of the lifter's seed and the scheme, nothing else.
    from discover.flip.gf2lifter import scheme_rng

    fmt = Format.parse("3x3x3")
    F, r, _ = random_exact(fmt, 11, 2000)
    G, r2, _ = random_exact(fmt, 12, 2000)
    draws = lambda rng: rng.integers(0, 2, size=64).tolist()
    assert draws(scheme_rng(7, F, r)) == draws(scheme_rng(7, F.copy(), r))
    assert draws(scheme_rng(7, F, r)) != draws(scheme_rng(7, G, r2))
    assert draws(scheme_rng(7, F, r)) != draws(scheme_rng(8, F, r))
    spare = F.copy()
    spare[r:] ^= 1  # rows past the rank are scratch space, not the scheme
    assert draws(scheme_rng(7, spare, r)) == draws(scheme_rng(7, F, r))


def test_lift_lows_is_refused_for_walks_with_nothing_to_lift():
    import pytest
    from discover.errors import SearchError

    with pytest.raises(SearchError, match="lift_lows"):
        FlipSettings(field="zt", lift_lows=True).check()


def _lifts_until_the_budget_ends(share: float, monkeypatch) -> tuple[list[int], int]:
    """(the ranks lifted, flips) of 3x3x3 GF(2) runners sitting at the target rank, every lift failing."""
    from discover.flip import liftrunners
    from discover.flip.lifter import Lifter
    from discover.flip.policy import reduce_all

    monkeypatch.setattr(liftrunners, "LIFT_SHARE", share)
    fmt = Format.parse("3x3x3")
    naive = Scheme.naive(fmt)
    F0 = gf2.pack(np.asarray(naive.U, dtype=np.int64), np.asarray(naive.V, dtype=np.int64),
                  np.asarray(naive.W, dtype=np.int64), 27 + 8)
    r0, _ = reduce_all(F0, 27, False)
    calls = []
    opts = FlipSettings(field="gf2", runners=4, max_flips=400_000, lift_interval=10)
    never = Lifter(lambda F, r: calls.append(r), deep=False)  # a lift that always fails, and counts
    out = liftrunners.lifting_runner_search(F0, r0, 27, 2, never, opts, seed_state(5), fmt=fmt)
    assert out.scheme is None and out.stats["lift_attempts"] == len(calls)
    return calls, out.stats["flips"]


def test_a_flip_budget_caps_lifts_at_a_share_of_the_flips(monkeypatch):
    # With max_flips the clock must not decide (a seed replays the walk and its lifts), so before
    # this cap every due lift ran: a runner at the target rank was lifted every lift_interval
    # flips, and lifts took most of the time. Each lift is now charged its cost in flips.
    from discover.flip.liftrunners import LIFT_SHARE, lift_cost_in_flips

    capped, flips = _lifts_until_the_budget_ends(LIFT_SHARE, monkeypatch)
    uncapped, _ = _lifts_until_the_budget_ends(1e9, monkeypatch)
    charged = sum(lift_cost_in_flips(Format.parse("3x3x3"), r) for r in capped[:-1])
    assert flips == 400_000 and len(capped) >= 2 and charged <= LIFT_SHARE * flips  # the last one ran within the share
    assert len(uncapped) > 2 * len(capped)  # the runners were due far more lifts than the budget allows
    again, _ = _lifts_until_the_budget_ends(LIFT_SHARE, monkeypatch)
    assert again == capped  # flips, not the clock, decide


def test_the_lift_budget_charges_flips_only_with_a_flip_budget():
    from discover.flip.liftrunners import LIFT_SHARE, LiftBudget, lift_cost_in_flips

    fmt = Format.parse("4x5x5")
    counted = LiftBudget(fmt, budgeted=True)
    assert counted.allows(0)  # the first lift always runs
    counted.charge(77, seconds=0.0)
    cost = lift_cost_in_flips(fmt, 77)
    assert cost == 3e-3 * (20 * 25 * 20) * 77 * (20 + 25 + 20)
    assert lift_cost_in_flips(fmt, 77, deep=True) == 12 * cost  # a Hensel lift costs about 12 sign lifts
    assert not counted.allows(int(cost / LIFT_SHARE) - 1) and counted.allows(int(cost / LIFT_SHARE) + 1)
    timed = LiftBudget(fmt, budgeted=False, t0=0.0)
    timed.charge(77, seconds=1e9)  # far more than a quarter of the time since t0
    assert not timed.allows(10**12)  # without a flip budget the clock decides, whatever the flips


@pytest.mark.parametrize("ring, hensel, deep", [
    ("ZT", True, False), ("Z2", True, False),  # a Hensel lift is rarely ternary; mod 2 needs no lift
    ("Z", True, True), ("Q", True, True), ("Z", False, False),
])
def test_the_gf2_lifter_says_whether_it_may_hensel_lift(ring, hensel, deep):
    # The lift budget charges a lift by this flag: the lifter carries it, so no caller can drift.
    from discover.flip.gf2lifter import gf2_lifter
    from discover.rings import Ring

    lifter = gf2_lifter(Format.parse("2x2x2"), Ring[ring], 1, hensel, np.random.default_rng(0), {})
    assert lifter.deep is deep
    strassen = Scheme.naive(Format.parse("2x2x2"))
    U, V, W = (np.asarray(a, dtype=np.int64) for a in (strassen.U, strassen.V, strassen.W))
    lifted = lifter(gf2.pack(U, V, W), 8)
    assert lifted is not None and lifted.rank == 8  # the naive scheme lifts by signs
