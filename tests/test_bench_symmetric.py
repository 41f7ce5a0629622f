"""`strassen bench symmetric`: the pairs walk's benchmark from cube starts (tables, not timings)."""
from click.testing import CliRunner

from discover.cli import main
from discover.cubes import cube_start
from discover.flip.bench_symmetric import CASES, QUICK_CASES, SymmetricCase, bench_case, run_walk


def test_quick_walk_replays_and_reaches_49():
    case = QUICK_CASES[0]
    assert cube_start(case.format, "1111").rank == 121
    first = run_walk(case, 1, 100_000)
    again = run_walk(case, 1, 100_000)
    assert first[0] == again[0] == 100_000
    assert first[2] == again[2] == 49  # 4x4x4 from one cube: 49 mod 2 within 100,000 flips


def test_five_cubes_rank_counts_fixed_terms_once():
    # Three fixed cubes: ranks ≡ 0 (mod 3), below the start's 135 after 300,000 flips.
    case = CASES[0]
    assert cube_start(case.format, "10001+01010+00100").rank == 135
    row = bench_case(case, 300_000, range(1, 3))
    assert row.flips == [300_000, 300_000]
    assert all(r % 3 == 0 and r < 135 for r in row.lowest)
    assert row.lowest == [run_walk(case, 1, 300_000)[2], run_walk(case, 2, 300_000)[2]]


def test_term_flips_per_orbit_flip():
    assert SymmetricCase("cubes:5x5x5:10001+01010+00100", False, 1).term_flips == 3
    assert SymmetricCase("cubes:6x6x6:110000+001100+000011", True, 1).term_flips == 6


def test_cli_quick_prints_the_row():
    result = CliRunner().invoke(main, ["bench", "symmetric", "--quick", "--flips", "100000"])
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if line.startswith("cubes:4x4x4:1111")]
    assert len(rows) == 1
    fields = rows[0].split()
    assert fields[1:4] == ["no", "5000", "1"] and fields[-1] == "49"


def test_cli_rejects_zero_flips():
    result = CliRunner().invoke(main, ["bench", "symmetric", "--flips", "0"])
    assert result.exit_code == 2
    assert "--flips" in result.output
