"""Starts made from the catalog by meta moves, ranked by a short walk from each (``catalog starts``)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from discover.cli import main
from discover.formats import Format
from discover.sources import load_source
from discover.starts import candidate_specs, probe_starts


def test_candidates_are_the_neighbours_and_the_products_that_cover_the_format():
    have = {(3, 3, 3), (5, 5, 5), (4, 5, 6), (5, 6, 6), (6, 6, 6), (2, 2, 2), (3, 3, 4)}
    specs = candidate_specs(Format.parse("5x5x6"), have)
    assert specs == [
        "extend:5x5x6:catalog:4x5x6", "extend:5x5x6:catalog:5x4x6", "extend:5x5x6:catalog:5x5x5",
        "resize:5x5x6:catalog:5x6x6", "cut:5x5x6:catalog:5x6x6", "resize:5x5x6:catalog:6x5x6",
        "cut:5x5x6:catalog:6x5x6", "resize:5x5x6:catalog:6x6x6", "cut:5x5x6:catalog:6x6x6",
        "resize:5x5x6:product:strassen,catalog:3x3x3",  # Strassen ⊗ 3x3x3 is 6x6x6
        "resize:5x5x6:product:strassen,catalog:4x3x3", "resize:5x5x6:product:strassen,catalog:3x4x3",
        "resize:5x5x6:product:strassen,catalog:3x3x4",
        "resize:5x5x6:product:catalog:3x3x3,catalog:2x2x2",
    ]
    # nothing from a format the catalog lacks, and the format itself is not its own start
    assert candidate_specs(Format.parse("3x3x3"), {(3, 3, 3)}) == []


def test_cuts_list_every_choice_of_the_dropped_indices():
    have = {(3, 3, 3), (2, 2, 2), (3, 3, 4), (3, 4, 4)}
    specs = candidate_specs(Format.parse("2x3x4"), have, cuts=True)
    one_cut = [s for s in specs if s.endswith(":catalog:3x3x4")]
    assert one_cut == ["resize:2x3x4@0:catalog:3x3x4", "resize:2x3x4@1:catalog:3x3x4", "resize:2x3x4@2:catalog:3x3x4",
                       "cut:2x3x4:catalog:3x3x4"]
    one_cut = one_cut[:3]
    # two dimensions larger: the default cut only (every cut of 4x6x6 to 3x5x5 would be 144 starts)
    assert [s for s in specs if s.endswith(":catalog:3x4x4")] == ["resize:2x3x4:catalog:3x4x4", "cut:2x3x4:catalog:3x4x4"]
    default = candidate_specs(Format.parse("2x3x4"), have)
    assert [s for s in specs if "@" not in s] == [s for s in default if s != "resize:2x3x4:catalog:3x3x4"]
    for spec in one_cut:
        scheme = load_source(spec)
        assert scheme.format == Format.parse("2x3x4") and scheme.rank <= 29
    # the cuts of one scheme: index 1 of the catalog's 3x3x4 is another start than the default
    cuts = [load_source(spec) for spec in one_cut]
    assert len({c.int64_arrays()[0].tobytes() for c in cuts}) == 3  # values, not the pointers of an object array
    assert load_source("resize:2x3x4:catalog:3x3x4").rank == min(c.rank for c in cuts)


def test_the_probe_is_reproducible_and_each_start_reads_what_it_says():
    first = probe_starts("2x3x4", flips=200_000, seed=3)
    assert first == probe_starts("2x3x4", flips=200_000, seed=3)
    assert len(first) >= 3
    assert [s.order for s in first] == sorted(s.order for s in first)
    for start in first:
        scheme = load_source(start.spec)
        assert scheme.format == Format.parse("2x3x4") and scheme.rank == start.rank
        assert 20 <= start.reached <= start.rank  # 20: the best known rank (and mod 2)
        assert start.lifted is None or start.reached <= start.lifted < start.rank
    assert any(s.lifted is not None for s in first)  # the walks lift their lows


def test_a_start_whose_low_lifts_ranks_before_one_whose_low_does_not():
    from discover.starts import Start

    lifts = Start("resize:6x6x6:catalog:a", 170, 159, 160)
    stuck = Start("extend:6x6x6:catalog:b", 165, 159, None)
    lower = Start("extend:6x6x6:catalog:c", 175, 158, None)
    assert sorted([stuck, lifts, lower], key=lambda s: s.order) == [lower, lifts, stuck]


def test_catalog_starts_command(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["catalog", "starts", "2x3x4", "--flips", "100000", "--limit", "2", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["format"] == "2x3x4" and doc["complete"] is True and len(doc["starts"]) == 2
    assert set(doc["starts"][0]) == {"spec", "rank", "reached_mod2", "lifted"}

    result = runner.invoke(main, ["catalog", "starts", "2x3"])
    assert result.exit_code == 2 and "Traceback" not in result.output

    lonely = tmp_path / "cat"
    lonely.mkdir()
    shutil.copy(Path(__file__).resolve().parents[1] / "algorithms" / "2x2x2_r7_ZT.json", lonely)
    result = runner.invoke(main, ["catalog", "starts", "5x5x5", "--dir", str(lonely)])
    assert result.exit_code == 1 and "no scheme to start 5x5x5 from" in result.stderr


def test_the_exact_ternary_probe_reaches_ternary_schemes():
    first = probe_starts("2x3x4", flips=200_000, seed=3, field="zt")
    assert first == probe_starts("2x3x4", flips=200_000, seed=3, field="zt")
    assert [s.order for s in first] == sorted(s.order for s in first)
    assert any(s.reached < s.rank for s in first)
    for start in first:
        assert 20 <= start.reached <= start.rank
        # no lifts: a start that walked lower holds a ternary scheme of the rank it reached
        assert start.lifted == (start.reached if start.reached < start.rank else None)


def test_the_exact_ternary_probe_skips_starts_that_are_not_ternary(tmp_path):
    # a catalog whose 2x6x6 is an integer scheme (coefficients up to 12): no ternary walk from it
    catalog = Path(__file__).resolve().parents[1] / "algorithms"
    for name in ("2x6x6_r59_Z.json", "2x4x6_r39_ZT.json"):
        shutil.copy(catalog / name, tmp_path)
    specs = {s.spec for s in probe_starts("2x5x6", tmp_path, flips=1, field="zt")}
    assert "resize:2x5x6:catalog:2x6x6" not in specs and "extend:2x5x6:catalog:2x4x6" in specs
    gf2_specs = {s.spec for s in probe_starts("2x5x6", tmp_path, flips=1)}
    assert "resize:2x5x6:catalog:2x6x6" in gf2_specs
    # the linear cut is a Z2 scheme: the GF(2) probe walks it, the ternary one cannot
    assert "cut:2x5x6:catalog:2x6x6" in gf2_specs and "cut:2x5x6:catalog:2x6x6" not in specs
    with pytest.raises(ValueError, match="field"):
        probe_starts("2x3x4", field="gf3")


def test_catalog_starts_command_with_the_ternary_walk():
    runner = CliRunner()
    result = runner.invoke(main, ["catalog", "starts", "2x3x4", "--field", "zt", "--flips", "100000", "--limit", "2",
                                  "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["field"] == "zt" and len(doc["starts"]) == 2
    assert set(doc["starts"][0]) == {"spec", "rank", "reached"}
    result = runner.invoke(main, ["catalog", "starts", "2x3x4", "--field", "gf3"])
    assert result.exit_code == 2 and "Traceback" not in result.output
