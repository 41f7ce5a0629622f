"""The GF(2) flip graph: flips and reductions keep the tensor, seeds reproduce walks, the method finds schemes."""
from __future__ import annotations

import numpy as np
import pytest

from discover.flip import gf2, policy
from discover.flip.rng import seed_state
from discover.flip.settings import FlipSettings
from discover.flip.walk import flip_search
from discover.problem import Problem
from discover.formats import Format
from discover.known import strassen
from discover.scheme import Scheme
from discover.errors import SearchError
from discover.search.contract import SearchTask, build_options
from discover.search.registry import get_method
from discover.symmetry import kron
from discover.tensor import matmul_tensor
from discover.verify import verify_exact


def _packed(scheme: Scheme, extra: int = 4):
    U, V, W, _ = scheme.int_arrays()
    return gf2.pack(U, V, W, scheme.rank + extra), scheme.rank


def _exact_mod2(F, r, fmt) -> bool:
    return bool((gf2.tensor_mod2(F, r, fmt) == matmul_tensor(fmt) % 2).all())


def test_pack_roundtrip():
    s = strassen()
    F, r = _packed(s, 0)
    U, V, W = gf2.unpack(F, r, s.format)
    assert np.array_equal(U, np.asarray(s.U, dtype=np.int64) % 2)
    assert np.array_equal(W, np.asarray(s.W, dtype=np.int64) % 2)


@pytest.mark.parametrize("fmt", ["3x3x3", "2x3x4"])
def test_many_random_flips_keep_the_tensor(fmt):
    fmt = Format.parse(fmt)
    F, r = _packed(Scheme.naive(fmt), 4)
    best = F.copy()
    state = seed_state(7)
    stats = np.zeros(5, dtype=np.int64)
    for _ in range(300):  # 300 segments of 20 flips, each checked exactly mod 2
        r, _best_r = policy.walk_kernel(F, r, best, r, 0, 20, 10**9, 0, state, stats, False)
        assert _exact_mod2(F, r, fmt)
    assert stats[0] == 6000


def test_plus_transitions_keep_the_tensor():
    fmt = Format.parse("2x2x3")
    F, r = _packed(Scheme.naive(fmt), 8)
    best = F.copy()
    state = seed_state(3)
    stats = np.zeros(5, dtype=np.int64)
    best_r = r
    for _ in range(100):
        r, best_r = policy.walk_kernel(F, r, best, best_r, 0, 50, 5, 3, state, stats, False)
        assert _exact_mod2(F, r, fmt)
        assert _exact_mod2(best, best_r, fmt)
    assert stats[1] > 0  # plus transitions were taken


def test_reductions_lower_the_rank_and_keep_the_tensor():
    s = strassen()
    F, r = _packed(s, 6)
    fmt = s.format
    a, b, c = F[0, 0], F[1, 0], F[2, 0]
    # A term added twice cancels (rank − 2); a term split as (a, b, c1) + (a, b, c1 + c) merges (rank − 1).
    x = (np.uint64(0b0110), np.uint64(0b1001), np.uint64(0b0011))
    for col, term in ((r, x), (r + 1, x)):
        F[:, col] = term
    r += 2
    assert _exact_mod2(F, r, fmt)
    stack = np.array([r - 1] + [0] * 31, dtype=np.int64)
    r, removed = gf2.settle(F, r, stack, 1)
    assert (r, removed) == (7, 2)
    assert _exact_mod2(F, r, fmt)
    c1 = np.uint64(0b0101) if c != 0b0101 else np.uint64(0b1010)
    F[2, 0] = c1
    F[:, r] = (a, b, c1 ^ c)
    r += 1
    assert _exact_mod2(F, r, fmt)
    stack[0] = r - 1
    r, removed = gf2.settle(F, r, stack, 1)
    assert (r, removed) == (7, 1)
    assert _exact_mod2(F, r, fmt)
    # A zero factor drops the term.
    F[:, r] = (a, np.uint64(0), c)
    stack[0] = r
    r, removed = gf2.settle(F, r + 1, stack, 1)
    assert (r, removed) == (7, 1)


def test_a_seed_reproduces_a_walk():
    fmt = Format.parse("3x3x3")
    settings = FlipSettings(max_flips=30000, plateau=5000)
    runs = [
        flip_search(Problem(fmt, 10, "Z2", start=Scheme.naive(fmt)), settings, np.random.SeedSequence(42)) for _ in range(2)
    ]
    assert runs[0].stats["flips"] == runs[1].stats["flips"] == 30000
    assert runs[0].rank_mod2 == runs[1].rank_mod2
    other = flip_search(Problem(fmt, 10, "Z2", start=Scheme.naive(fmt)), settings, np.random.SeedSequence(43))
    assert (other.stats["reductions"], other.stats["plus_transitions"]) != (
        runs[0].stats["reductions"],
        runs[0].stats["plus_transitions"],
    ) or other.rank_mod2 != runs[0].rank_mod2


def test_a_walk_does_not_depend_on_how_it_is_cut_into_kernel_calls():
    # The search sizes its kernel calls by the clock; the plateau counters must outlive a call,
    # or a call shorter than the plateau never takes a plus transition and seeds stop reproducing.
    fmt = Format.parse("3x3x3")
    runs = [
        flip_search(Problem(fmt, 10, "Z2", start=Scheme.naive(fmt)),
                    FlipSettings(max_flips=60000, plateau=3000, chunk=chunk, runners=0), np.random.SeedSequence(5))
        for chunk in (1000, 7000)
    ]
    assert runs[0].stats["plus_transitions"] > 0
    keys = ("flips", "plus_transitions", "restarts", "reductions", "failed_picks")
    assert [runs[0].stats[k] for k in keys] == [runs[1].stats[k] for k in keys]
    assert runs[0].rank_mod2 == runs[1].rank_mod2


def _task(fmt, rank, ring, seed, start_scheme=None, **opts):
    method = get_method("flip")
    problem = Problem(Format.parse(fmt), rank, ring, start=start_scheme)
    return method, SearchTask("flip", problem, build_options(method.options_type, opts), np.random.SeedSequence(seed), 0)


@pytest.mark.parametrize("ring", ["ZT", "Z"])
def test_method_finds_3x3x3_rank_23(ring):
    method, task = _task("3x3x3", 23, ring, 1)
    result = method.run_task(task, lambda: False)
    assert len(result.candidates) == 1
    cand = result.candidates[0]
    scheme = cand.scheme  # the flip method proposes whole schemes (metadata kept)
    assert scheme.rank == 23 and not cand.mod2
    assert verify_exact(scheme).valid
    if ring == "ZT":
        assert scheme.ring == "ZT"


def test_method_ring_z2_gives_a_mod2_candidate():
    method, task = _task("2x2x3", 11, "Z2", 5)
    cand = method.run_task(task, lambda: False).candidates[0]
    assert cand.mod2
    scheme = cand.scheme
    assert scheme.mod2
    assert scheme.ring == "Z2" and scheme.rank <= 11
    assert verify_exact(scheme, modulus=2).valid


def test_method_starts_from_a_kronecker_product():
    start = kron(strassen(), strassen())
    method, task = _task("4x4x4", 48, "Z2", 0, start_scheme=start, max_flips=200_000)
    result = method.run_task(task, lambda: False)
    assert result.stats["flips"] == 200_000
    assert result.stats["best_rank_mod2"] <= 49


def test_method_stops_when_asked():
    method, task = _task("4x4x4", 40, "ZT", 0)
    result = method.run_task(task, lambda: True)
    assert result.candidates == []


@pytest.mark.parametrize("opts", [{"field": "int8"}, {"start": "random"}, {"plateau": 0}])
def test_bad_options_are_search_errors(opts):
    method, task = _task("2x2x2", 7, "ZT", 0, **opts)
    with pytest.raises(SearchError):
        method.check(task.problem, task.options)


def test_bench_flip_quick_prints_machine_and_table(runner):
    from discover.cli import main

    result = runner.invoke(main, ["bench", "flip", "--quick", "--budget", "2"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("machine: ") and "cores" in lines[0] and "field zt" in lines[0]
    assert any(line.startswith("3x3x3") for line in lines)
