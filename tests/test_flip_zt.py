"""The ternary flip graph over Z: moves keep the tensor exactly, seeds reproduce walks, the method finds ZT schemes."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from discover.flip import policy, zt
from discover.flip.rng import seed_state
from discover.flip.settings import FlipSettings
from discover.flip.walk import flip_search
from discover.problem import Problem
from discover.rings import Ring
from discover.formats import Format
from discover.known import strassen, winograd
from discover.scheme import Scheme
from discover.errors import SearchError
from discover.search.contract import SearchTask, build_options
from discover.search.registry import get_method
from discover.symmetry import direct_sum
from discover.tensor import integer_reconstruction, matmul_tensor
from discover.verify import verify_exact


def _packed(scheme: Scheme, extra: int = 4):
    U, V, W = scheme.int64_arrays()
    return zt.pack(U, V, W, scheme.rank + extra), scheme.rank


def _exact(F, r, fmt) -> bool:
    return bool((integer_reconstruction(*zt.unpack(F, r, fmt)) == matmul_tensor(fmt)).all())


def test_pack_roundtrip_keeps_signs():
    s = winograd()
    F, r = _packed(s, 0)
    U, V, W = zt.unpack(F, r, s.format)
    assert np.array_equal(U, s.int64_arrays()[0])
    assert np.array_equal(V, s.int64_arrays()[1])
    assert np.array_equal(W, s.int64_arrays()[2])
    with pytest.raises(ValueError):
        zt.pack(np.full((1, 2, 2), 2), np.ones((1, 2, 2), int), np.ones((1, 2, 2), int))


@pytest.mark.parametrize("sign", [1, -1])
def test_sum_is_exact_or_refused(sign):
    rng = np.random.default_rng(0)
    for _ in range(200):
        x, y = rng.integers(-1, 2, size=(2, 10))
        F = zt.pack(x.reshape(1, 2, 5), y.reshape(1, 2, 5), y.reshape(1, 2, 5))
        p, n, ok = zt._sum(F[0, 0], F[1, 0], F[2, 0], F[3, 0], sign, False)
        total = x + sign * y
        assert ok == bool((np.abs(total) <= 1).all())
        if ok:
            G = np.zeros((6, 1), dtype=np.uint64)
            G[0, 0], G[1, 0] = p, n
            assert np.array_equal(zt.unpack(G, 1, Format.parse("2x5x1"))[0].ravel(), total)


@pytest.mark.parametrize(
    "fmt, start", [("3x3x3", None), ("2x2x3", direct_sum(winograd(), Scheme.naive(Format.parse("2x2x1")), "p"))]
)
def test_many_random_flips_keep_the_tensor_exactly(fmt, start):
    fmt = Format.parse(fmt)
    F, r = _packed(start if start is not None else Scheme.naive(fmt), 4)
    best = F.copy()
    state = seed_state(7)
    stats = np.zeros(5, dtype=np.int64)
    for _ in range(300):  # 300 segments of 20 flips, each checked exactly over Z
        r, _best_r = policy.walk_kernel(F, r, best, r, 0, 20, 10**9, 0, state, stats, True)
        assert _exact(F, r, fmt)
        assert zt.is_ternary(*zt.unpack(F, r, fmt))
    assert stats[0] == 6000


def test_plus_transitions_keep_the_tensor_exactly():
    fmt = Format.parse("2x3x3")
    F, r = _packed(Scheme.naive(fmt), 8)
    best = F.copy()
    state = seed_state(3)
    stats = np.zeros(5, dtype=np.int64)
    best_r = r
    for _ in range(100):
        r, best_r = policy.walk_kernel(F, r, best, best_r, 0, 50, 5, 3, state, stats, True)
        assert _exact(F, r, fmt)
        assert _exact(best, best_r, fmt)
    assert stats[1] > 0


def test_reductions_lower_the_rank_and_stay_exact():
    s = strassen()
    fmt = s.format
    F, r = _packed(s, 6)
    stack = np.zeros(32, dtype=np.int64)
    # A term and its negation cancel (rank − 2) ...
    x = (np.uint64(0b0110), np.uint64(0b0001), np.uint64(0b1001), np.uint64(0), np.uint64(0b0011), np.uint64(0b0100))
    neg = (x[1], x[0]) + x[2:]  # −a ⊗ b ⊗ c
    F[:, r], F[:, r + 1] = x, neg
    r += 2
    assert _exact(F, r, fmt)
    stack[0] = r - 1
    r, removed = zt.settle(F, r, stack, 1, False)
    assert (r, removed) == (7, 2) and _exact(F, r, fmt)
    # ... a term split into a⊗(−b)⊗c1 + a⊗b⊗(c1 + c) merges back into a⊗b⊗c (rank − 1) ...
    a, b, c = strassen().int64_arrays()
    c1 = np.array([[0, 1], [-1, 0]]) if not np.array_equal(c[0], [[0, 1], [-1, 0]]) else np.array([[1, 0], [0, 1]])
    c2 = c[0] + c1
    assert (np.abs(c2) <= 1).all()
    split = zt.pack(np.stack([a[0], a[0]]), np.stack([-b[0], b[0]]), np.stack([c1, c2]))
    F[:, 0], F[:, r] = split[:, 0], split[:, 1]
    r += 1
    assert _exact(F, r, fmt)
    stack[0] = r - 1
    r, removed = zt.settle(F, r, stack, 1, False)
    assert (r, removed) == (7, 1) and _exact(F, r, fmt)
    # ... and a zero factor drops the term.
    F[:, r] = (x[0], x[1], 0, 0, x[4], x[5])
    stack[0] = r
    r, removed = zt.settle(F, r + 1, stack, 1, False)
    assert (r, removed) == (7, 1) and _exact(F, r, fmt)


def test_a_walk_from_the_naive_scheme_reduces_the_rank_exactly():
    fmt = Format.parse("2x2x3")
    F, r = _packed(Scheme.naive(fmt), 4)
    best = F.copy()
    stats = np.zeros(5, dtype=np.int64)
    r, best_r = policy.walk_kernel(F, r, best, r, 11, 200_000, 2000, 2, seed_state(1), stats, True)
    assert best_r <= 11 and stats[3] > 0
    assert _exact(best, best_r, fmt)


def test_a_seed_reproduces_a_walk():
    fmt = Format.parse("3x3x3")
    # Enough flips that every runner takes reductions (the pair-list kernel rarely fails a pick).
    settings = FlipSettings(max_flips=300_000, plateau=5000, field="zt")
    runs = [flip_search(Problem(fmt, 19, "ZT", start=Scheme.naive(fmt)), settings, np.random.SeedSequence(42)) for _ in range(2)]
    assert runs[0].stats["flips"] == runs[1].stats["flips"] == 300_000
    assert runs[0].stats == {**runs[1].stats, "seconds": runs[0].stats["seconds"]}
    other = flip_search(Problem(fmt, 19, "ZT", start=Scheme.naive(fmt)), settings, np.random.SeedSequence(43))
    keys = ("reductions", "plus_transitions", "failed_picks")
    assert runs[0].stats["reductions"] > 0
    assert [other.stats[k] for k in keys] != [runs[0].stats[k] for k in keys] or not other.best.same_coefficients(runs[0].best)


def _task(fmt, rank, ring, seed, start_scheme=None, **opts):
    method = get_method("flip")
    problem = Problem(Format.parse(fmt), rank, ring, start=start_scheme)
    return method, SearchTask("flip", problem, build_options(method.options_type, opts), np.random.SeedSequence(seed), 0)


def test_field_zt_finds_3x3x3_rank_23_from_the_naive_scheme():
    method, task = _task("3x3x3", 23, "ZT", 1, field="zt", max_flips=3_000_000)
    result = method.run_task(task, lambda: False)
    assert len(result.candidates) == 1 and result.stats["field"] == "zt"
    cand = result.candidates[0]
    scheme = cand.scheme  # the flip method proposes whole schemes (metadata kept)
    assert scheme.rank == 23 and scheme.ring == "ZT" and not cand.mod2
    assert verify_exact(scheme).valid


def test_field_zt_walks_from_a_direct_sum():
    start = direct_sum(strassen(), Scheme.naive(Format.parse("2x2x1")), axis="p")  # 2x2x3, rank 11
    method, task = _task("2x2x3", 11, "Z", 0, start_scheme=start, field="zt")
    cand = method.run_task(task, lambda: False).candidates[0]
    assert verify_exact(cand.scheme).valid


def test_auto_field_picks_zt_for_integer_rings_and_gf2_for_z2():
    _, task = _task("2x2x3", 11, "Z2", 5)
    assert get_method("flip").run_task(task, lambda: False).stats["field"] == "gf2"
    _, task = _task("2x2x3", 11, "ZT", 5)
    assert get_method("flip").run_task(task, lambda: False).stats["field"] == "zt"


def test_gf2_lift_failures_keep_progress(monkeypatch):
    # Every lift fails: after lift_tries failures the walk escapes by plus transitions from where
    # it is, so it never climbs back above target + escape_plus (the old policy restarted at 18).
    import discover.flip.walk as walk_module

    monkeypatch.setattr(walk_module, "lift", lambda *args, **kw: (None, "failed_signs_not_exact"))
    seen = []
    kernel = walk_module.walk_kernel

    def recording(F, r, *args):
        seen.append(r)
        return kernel(F, r, *args)

    monkeypatch.setattr(walk_module, "walk_kernel", recording)
    fmt = Format.parse("2x2x3")
    settings = FlipSettings(max_flips=300_000, plateau=2000, chunk=20_000, field="gf2", lift_tries=2, lift_interval=100,
                            runners=0)  # the single GF(2) walk: the runners have no escapes
    out = flip_search(Problem(fmt, 11, "ZT", start=Scheme.naive(fmt)), settings, np.random.SeedSequence(4))
    assert out.scheme is None and out.stats["escapes"] >= 2
    first = out.stats["lift_attempts"] and next(k for k, r in enumerate(seen) if r <= 11)
    assert max(seen[first:]) <= 11 + settings.escape_plus


def test_gf2_runners_lift_again_after_failures_and_only_at_the_target(monkeypatch):
    import discover.flip.gf2lifter as lifter_module

    ranks = []

    def failing(U, V, W, fmt, rng, hensel=True):
        ranks.append(U.shape[0])
        return None, "failed_signs_not_exact"

    monkeypatch.setattr(lifter_module, "lift", failing)
    fmt = Format.parse("2x2x3")
    settings = FlipSettings(max_flips=400_000, field="gf2", lift_interval=2000)
    out = flip_search(Problem(fmt, 11, "ZT", start=Scheme.naive(fmt)), settings, np.random.SeedSequence(4))
    assert out.scheme is None and out.rank_mod2 == 11
    assert len(ranks) == out.stats["lift_attempts"] == out.stats["lift_failures"] > 1
    assert set(ranks) == {11}


def test_gf2_runners_find_a_ternary_scheme_by_sign_lift_and_a_seed_replays_it():
    fmt = Format.parse("2x3x3")
    settings = FlipSettings(max_flips=3_000_000, field="gf2")
    runs = [flip_search(Problem(fmt, 15, "ZT", start=Scheme.naive(fmt)), settings, np.random.SeedSequence(2))
            for _ in range(2)]
    found = runs[0].scheme
    assert found is not None and found.rank == 15 and found.ring is Ring.ZT
    assert verify_exact(found).valid
    assert runs[0].stats["field"] == "gf2" and runs[0].stats["lifted_sign"] == 1
    assert found.same_coefficients(runs[1].scheme) and runs[0].stats["flips"] == runs[1].stats["flips"]


def test_zt_rejects_a_non_ternary_start():
    one = np.ones((1, 1, 1), dtype=object)
    start = Scheme.from_arrays(one * 2, one, one * Fraction(1, 2), "1x1x1")
    method, task = _task("1x1x1", 1, "Q", 0, start_scheme=start, field="zt")
    with pytest.raises(SearchError):
        method.check(task.problem, task.options)
