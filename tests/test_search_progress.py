"""Honest progress: live best rank, flips/s and pool sizes reach the display; GF(2) ranks are labelled."""
from __future__ import annotations

from discover.formats import Format
from discover.problem import Problem
from discover.search import driver, live
from discover.search.collector import Progress
from discover.search.progress import format_progress

P333 = Problem(Format.parse("3x3x3"), 20)


def test_format_progress_shows_rank_rate_and_pools():
    p = Progress(2, 0, float("inf"), 0, 0, 3.25, 25, 23, best_rank_mod2=None, flips_per_s=1_850_000.0,
                 pools={26: 16, 25: 3})
    assert format_progress(p) == "restarts 2 | best rank 25 (target 23) | 1.9M flips/s | pools r26:16 r25:3 | exact 0 | 3.2 s"
    gf2 = Progress(1, 1, 3.0, 0, 0, 1.0, None, 23, best_rank_mod2=24)
    assert "best rank mod 2 24 (target 23)" in format_progress(gf2) and "residual" not in format_progress(gf2)
    numeric = Progress(5, 5, 0.5, 0, 0, 1.0)
    assert "best residual 0.5" in format_progress(numeric)


def test_a_running_walk_reports_its_best_rank_and_rate_before_it_ends():
    seen = []
    result = driver.search(P333, "flip", {"max_flips": 200_000}, seed=0, restarts=1, workers=1, progress=seen.append)
    during = [p for p in seen if p.tasks_done == 0]
    assert during and during[0].best_rank is not None and during[0].flips_per_s > 0
    assert result.found == [] and result.best_rank == result.best_scheme.rank and result.flips == 200_000
    assert live.install(None) is None  # the inline scheduler removed its sink


def test_gf2_walk_reports_a_labelled_mod2_rank_and_saves_nothing_unlifted(tmp_path):
    result = driver.search(P333, "flip", {"field": "gf2", "max_flips": 100_000, "hensel": False}, seed=0,
                           restarts=1, workers=1, out_dir=tmp_path)
    assert result.best_rank_mod2 is not None and 20 < result.best_rank_mod2 < 27
    assert result.best_rank is None and result.best_scheme is None
    assert [f.name for f in tmp_path.iterdir()] == [".search-state"]  # no scheme, only the resume state
    assert result.to_json()["best_rank_mod2"] == result.best_rank_mod2


def test_gf2_walk_with_ring_z2_saves_its_best_mod2_scheme(tmp_path):
    p = Problem(Format.parse("3x3x3"), 20, "Z2")
    result = driver.search(p, "flip", {"max_flips": 100_000}, seed=0, restarts=1, workers=1, out_dir=tmp_path)
    assert result.best_scheme is not None and result.best_scheme.mod2
    assert sorted(f.name for f in tmp_path.iterdir()) == [".search-state", f"3x3x3_r{result.best_scheme.rank}_Z2.json"]


def test_live_reports_cross_the_process_pool():
    # A worker reports after its first compiled call (milliseconds); 8M flips take several
    # seconds even at ~3M flips/s, far longer than the parent's 0.5 s polling period, so a report
    # arrives while the tasks still run (1M flips, ~0.35 s since the pair-list kernel, did not).
    seen = []
    driver.search(P333, "flip", {"max_flips": 8_000_000}, seed=0, restarts=2, workers=2, progress=seen.append)
    during = [p for p in seen if p.tasks_done == 0 and p.flips_per_s]
    assert during and during[0].best_rank is not None
    assert seen[-1].tasks_done == 2 and seen[-1].best_rank is not None
