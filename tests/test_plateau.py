"""The plateau walk: sparser ternary schemes of the same rank, and optimize-additions --flips."""
from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from discover import Scheme, verify_exact
from discover.catalog import catalog_dir, eliminated_additions
from discover.cli import main
from discover.errors import SchemeError
from discover.flip import zt
from discover.flip.plateau import nonzeros, plateau_samples, plateau_walk
from discover.flip.rng import seed_state
from discover.jsonio import load_scheme
from discover.optimize_additions import plateau_start
from discover.tensor import matmul_tensor, reconstruct

LADERMAN_LIKE = "3x3x3_r23_ZT.json"  # the catalog's first 3x3x3 r23 (68 additions after elimination)


def _key(scheme: Scheme) -> bytes:
    """The factors as int64 bytes (a scheme's arrays hold Python ints: their own bytes are pointers)."""
    return b"".join(np.asarray(f, dtype=np.int64).tobytes() for f in scheme.factors)


def _exact(scheme: Scheme) -> bool:
    numerator, denominator = reconstruct(scheme)
    return denominator == 1 and np.array_equal(numerator, matmul_tensor(scheme.format))


@pytest.mark.parametrize("name", [LADERMAN_LIKE, "3x4x5_r47_ZT-sampled.json"])
def test_samples_are_exact_ternary_and_of_the_same_rank(name):
    source = load_scheme(catalog_dir() / name)
    samples = plateau_samples(source, 200_000, seed=3, samples=4)
    assert 1 <= len(samples) <= 4
    for sample in samples:
        assert sample.rank == source.rank and sample.ring == "ZT" and _exact(sample)
        assert all(np.any(f[k]) for f in sample.factors for k in range(sample.rank))  # no emptied factor
    assert len({_key(s) for s in samples}) == len(samples)
    # the first stretch starts at the source: its sparsest scheme is at most as dense
    assert samples[0].additions <= source.additions


def test_the_walk_is_reproducible_from_its_seed():
    source = load_scheme(catalog_dir() / LADERMAN_LIKE)
    first = plateau_samples(source, 100_000, seed=5, samples=3)
    again = plateau_samples(source, 100_000, seed=5, samples=3)
    other = plateau_samples(source, 100_000, seed=6, samples=3)
    assert [_key(s) for s in first] == [_key(s) for s in again] != [_key(s) for s in other]


def test_at_temperature_zero_the_walk_never_gets_denser():
    source = load_scheme(catalog_dir() / "3x4x5_r47_ZT-sampled.json")
    F = zt.pack(source.U, source.V, source.W)
    best = np.zeros_like(F)
    start = nonzeros(F, source.rank)
    current, fewest, taken = plateau_walk(F, source.rank, seed_state(1), 50_000, 0.0, best)
    assert taken > 0 and current == fewest == nonzeros(best, source.rank) == nonzeros(F, source.rank)
    assert current < start  # measured: the catalog's sampled 3x4x5 r47 gets sparser at once
    U, V, W = zt.unpack(F, source.rank, source.format)
    assert _exact(Scheme.from_arrays(U, V, W, source.format))


def test_plateau_start_counts_in_full_and_the_source_wins_ties():
    source = load_scheme(catalog_dir() / LADERMAN_LIKE)
    start = plateau_start(source, 200_000, seed=1, samples=4)
    assert start.additions[0] == eliminated_additions(source) == 68
    assert len(start.additions) == len(start.written) >= 2
    chosen = 0 if start.sample is None else start.sample
    assert start.additions[chosen] == min(start.additions)
    assert start.additions.index(min(start.additions)) == chosen  # the first of the cheapest
    assert start.scheme.additions == start.written[chosen]


def test_a_walk_needs_a_flip_and_a_sample():
    source = load_scheme(catalog_dir() / LADERMAN_LIKE)
    for flips, samples in ((0, 4), (100, 0)):
        with pytest.raises(ValueError, match="at least 1"):
            plateau_samples(source, flips, seed=0, samples=samples)


def test_plateau_start_refuses_a_scheme_that_is_not_ternary():
    with pytest.raises(SchemeError, match="ternary schemes"):
        plateau_start(load_scheme(catalog_dir() / "3x5x5_r58_Z.json"), 1000, seed=0)


def test_optimize_additions_with_flips_writes_a_proven_cheaper_scheme(runner, tmp_path, monkeypatch):
    source = catalog_dir() / LADERMAN_LIKE
    args = ["optimize-additions", str(source), "--flips", "200000", "--iterations", "200", "--seed", "1",
            "-o", str(tmp_path), "--json", "-q"]
    monkeypatch.setattr(sys, "argv", ["strassen", *args])  # what the provenance records
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["additions_before"] == 68 and doc["additions"] < 68
    written = tmp_path / "3x3x3_r23_ZT-additions.json"
    scheme = load_scheme(written)
    assert verify_exact(scheme).valid and scheme.ring == "ZT"
    assert eliminated_additions(scheme) == doc["additions"]
    prov = json.loads(written.read_text())["provenance"]
    assert prov["plateau"]["flips"] == 200000 and prov["plateau"]["additions"][0] == 68
    assert "--flips 200000" in prov["command"]
    again = runner.invoke(main, [*args[:-4], "-o", str(tmp_path / "again"), "--json", "-q"])
    assert again.exit_code == 0
    assert _key(load_scheme(tmp_path / "again" / "3x3x3_r23_ZT-additions.json")) == _key(scheme)


def test_optimize_additions_with_flips_refuses_an_integer_scheme_in_one_line(runner):
    result = runner.invoke(main, ["optimize-additions", str(catalog_dir() / "3x5x5_r58_Z.json"), "--flips", "1000"])
    assert result.exit_code == 2
    assert "ternary schemes" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
