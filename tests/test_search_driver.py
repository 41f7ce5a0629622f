"""The search driver: determinism across workers, verification gate, canonical keys, limits."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from discover.formats import Format
from discover.known import strassen
from discover.scheme import Scheme
from discover.search import driver
from discover.canonical import canonical_key
from discover.errors import SearchError
from discover.problem import Problem
from discover.search.contract import Candidate, TaskResult
from discover.search.registry import register
from discover.verify import verify

P222 = Problem(Format.parse("2x2x2"), 7)


@dataclass(frozen=True)
class BogusOptions:
    batch: int = 2


class BogusMethod:
    """Proposes Strassen with one coefficient changed: a near miss that must never be reported."""

    name = "bogus-near-miss"
    options_type = BogusOptions
    description = "test stub"

    def check(self, problem, options) -> None:
        pass

    def run_task(self, task, should_stop) -> TaskResult:
        s = strassen()
        U = np.array(s.U, dtype=object)
        U[0, 0, 0] = 0
        cand = Candidate(U, np.array(s.V, dtype=object), np.array(s.W, dtype=object))
        return TaskResult(task.task_index, restarts=options_batch(task), candidates=[cand], best_residual=1.0)


def options_batch(task) -> int:
    return task.options.batch


register(BogusMethod())


def test_task_seed_is_the_spawned_child():
    child = np.random.SeedSequence(5).spawn(4)[3]
    assert driver.task_seed(5, 3).generate_state(4).tolist() == child.generate_state(4).tolist()


def test_same_result_with_one_and_two_workers():
    opts = {"batch": 2}
    one = driver.search(P222, "lm", opts, seed=3, restarts=12, workers=1)
    two = driver.search(P222, "lm", opts, seed=3, restarts=12, workers=2)
    assert len(one.found) == len(two.found) == 1
    assert one.found[0].same_coefficients(two.found[0])
    assert one.found[0].meta["provenance"]["restart"] == two.found[0].meta["provenance"]["restart"]
    assert verify(one.found[0]).valid


def test_near_miss_is_never_reported_or_saved(tmp_path):
    result = driver.search(P222, "bogus-near-miss", seed=0, restarts=4, workers=1, out_dir=tmp_path)
    assert result.found == []
    assert result.rejected == 2
    assert result.restarts_done == 4
    assert [p.name for p in tmp_path.iterdir()] == [".search-state"]  # no scheme, only the resume state


def test_found_scheme_carries_provenance_and_is_saved(tmp_path):
    result = driver.search(P222, "lm", {"batch": 2}, seed=1, restarts=4, workers=1, out_dir=tmp_path)
    assert len(result.found) == 1 and len(result.saved) == 1
    prov = result.found[0].meta["provenance"]
    assert prov["method"] == "lm" and prov["seed"] == 1 and prov["options"]["batch"] == 2
    assert result.found[0].meta["verification"]["method"] == "sympy"
    assert result.saved[0].name == "2x2x2_r7_ZT.json"


def test_find_all_collects_distinct_schemes(tmp_path):
    result = driver.search(P222, "lm", {"batch": 4}, seed=0, restarts=8, workers=1, find_all=True, out_dir=tmp_path)
    keys = {canonical_key(s) for s in result.found}
    assert len(keys) == len(result.found) >= 2
    assert len(list(tmp_path.glob("*.json"))) == len(result.found)


@pytest.mark.parametrize("seed", range(6))
def test_the_integer_canonical_path_gives_the_fraction_paths_key(seed, monkeypatch):
    """Ternary schemes take an integer shortcut; its key must equal the general (Fraction) one."""
    import discover.canonical as canonical

    rng = np.random.default_rng(seed)
    s = strassen()
    scale = rng.choice([-1, 1], size=(7, 1, 1)).astype(object)
    t = Scheme.from_arrays(s.U * scale, s.V * scale, s.W, s.format)
    # integer leads other than ±1 (and a rational scheme) take the general path on both sides
    big = Scheme.from_arrays(s.U * 2, s.V, s.W, s.format)  # not exact: the key does not care
    for scheme in (s, t, big):
        fast = canonical.canonical_key(scheme)
        monkeypatch.setattr(canonical, "_unit_lead_terms", lambda _s: None)
        slow = canonical.canonical_key(scheme)
        monkeypatch.undo()
        assert fast == slow and hash(fast) == hash(slow)
    assert canonical._unit_lead_terms(s) is not None and canonical._unit_lead_terms(big) is None
    assert canonical.canonical_key(s) == canonical.canonical_key(t)


def test_the_store_keeps_one_file_per_scheme_and_rereads_a_changed_file(tmp_path):
    from discover.jsonio import save_scheme
    from discover.search.store import SchemeStore

    store = SchemeStore(tmp_path)
    first = store.save(strassen())
    assert store.save(strassen()) == first  # the same scheme is rewritten in place
    save_scheme(Scheme.naive("2x2x2"), first)  # changed behind the store's back: its key is reread
    other = store.save(strassen())
    assert other != first and sorted(p.name for p in tmp_path.glob("*.json")) == sorted([first.name, other.name])


def test_canonical_key_ignores_term_order_and_signs():
    s = strassen()
    order = [3, 1, 0, 6, 5, 2, 4]
    sign = np.array([1, -1, 1, -1, 1, 1, -1], dtype=object)[:, None, None]
    t = Scheme.from_arrays(s.U[order] * sign, s.V[order] * sign, s.W[order], s.format)
    assert canonical_key(s) == canonical_key(t)
    assert canonical_key(s) != canonical_key(Scheme.naive("2x2x2"))


@pytest.mark.parametrize("rank, message", [(0, "positive"), (3, "Winograd 1971"), (6, "Winograd 1971")])
def test_impossible_problems_are_rejected(rank, message):
    # Checked once, when the problem is built: no search (and no worker) ever starts.
    with pytest.raises(SearchError, match=message):
        Problem(Format.parse("2x2x2"), rank)


def test_unknown_option_is_an_error():
    with pytest.raises(SearchError, match="unknown option"):
        driver.search(P222, "lm", {"nonsense": 1}, restarts=1, workers=1)


def test_time_limit_and_stop_callback_end_a_hopeless_search():
    result = driver.search(P222, "bogus-near-miss", seed=0, time_limit=1.0, workers=1)
    assert result.found == [] and result.elapsed < 10 and result.restarts_done > 0
    stopped = driver.search(P222, "lm", seed=0, workers=1, should_stop=lambda: True)
    assert stopped.found == [] and stopped.restarts_done == 0


def test_ctrl_c_keeps_what_was_found(tmp_path):
    calls = []

    def progress(p):
        calls.append(p)
        if p.tasks_done >= 1 and len(calls) == 1:
            raise KeyboardInterrupt  # once, like a user pressing Ctrl-C

    result = driver.search(P222, "lm", {"batch": 2}, seed=0, restarts=8, workers=1, find_all=True,
                           out_dir=tmp_path, progress=progress)
    assert result.interrupted
    assert result.restarts_done == 2
    assert len(list(tmp_path.glob("*.json"))) == len(result.found) >= 1


def test_max_found_is_never_exceeded_even_inside_one_batch(tmp_path):
    result = driver.search(P222, "lm", {"batch": 8}, seed=0, restarts=16, workers=1, find_all=True,
                           out_dir=tmp_path, max_found=2)
    assert len(result.found) == 2
    assert len(list(tmp_path.glob("*.json"))) == 2


def test_a_found_scheme_records_its_time_budget(tmp_path):
    """`catalog rebuild` compares a rerun with the budget each search stamps (issue 13)."""
    result = driver.search(P222, "lm", {"batch": 2}, seed=1, time_limit=120.0, workers=1, out_dir=tmp_path)
    prov = result.found[0].meta["provenance"]
    assert prov["time_limit"] == 120.0 and prov["workers"] == 1
    assert 0 <= prov["wall_time"] <= 120.0


@dataclass(frozen=True)
class BestOptions:
    pass


def _naive_with_a_cancelling_pair() -> Scheme:
    """The naive 2x2x2 scheme plus a term and its negative: exact, rank 10."""
    n = Scheme.naive("2x2x2")
    U, V, W = (np.concatenate([X, X[:1], X[:1] * (-1 if i == 0 else 1)]) for i, X in enumerate(n.int64_arrays()))
    return Scheme.from_arrays(U, V, W, n.format)


class BestAboveTargetMethod(BogusMethod):
    """Reaches no target: task 0 proposes the naive scheme (rank 8) as its best exact scheme, the others a rank 10."""

    name = "best-above-target"
    options_type = BestOptions

    def run_task(self, task, should_stop) -> TaskResult:
        best = Scheme.naive("2x2x2") if task.task_index == 0 else _naive_with_a_cancelling_pair()
        return TaskResult(task.task_index, restarts=1, candidates=[], best_residual=1.0, best_rank=best.rank,
                          best_scheme=best)


register(BestAboveTargetMethod())


def test_a_resumed_search_keeps_the_best_scheme_an_earlier_run_saved(tmp_path):
    # The first run stops after task 0 and saves its best (the naive scheme, rank 8, above the
    # target 7); the resumed run's tasks propose only a rank 10: the search's best stays the saved
    # 8, reported with its file, and no worse file is written.
    first = driver.search(P222, "best-above-target", seed=0, restarts=3, workers=1, out_dir=tmp_path,
                          should_stop=lambda: (tmp_path / ".search-state").exists() and _tasks_done(tmp_path) >= 1)
    assert first.best_scheme.rank == 8 and first.best_saved == tmp_path / "2x2x2_r8_ZT.json"
    again = driver.search(P222, "best-above-target", seed=0, restarts=3, workers=1, out_dir=tmp_path, resume=True)
    assert again.tasks_done == 3 and again.best_rank == 8
    assert again.best_scheme.same_coefficients(Scheme.naive("2x2x2")) and again.best_saved == first.best_saved
    assert sorted(p.name for p in tmp_path.glob("*.json")) == ["2x2x2_r8_ZT.json"]
    # A third run (nothing left to do) says the same.
    third = driver.search(P222, "best-above-target", seed=0, restarts=3, workers=1, out_dir=tmp_path, resume=True)
    assert third.best_scheme.rank == 8 and third.best_saved == first.best_saved


def _tasks_done(folder) -> int:
    import json

    from discover.search.state import STATE_FILE

    return sum(b - a + 1 for a, b in json.loads((folder / STATE_FILE).read_text())["tasks_done"])
