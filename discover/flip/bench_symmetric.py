"""The symmetric walk's benchmark: throughput and where walks end, from Moosbauer–Poole's cube starts.

``strassen bench symmetric`` prints what :func:`bench_case` measures: the GF(2) pairs walk
(:mod:`.pairwalk`, ``-m cyclic -O field=gf2 -O walk=pairs``) from a cube start
(:mod:`discover.cubes`), a fixed number of flips per walk, each seed its own walk. Flips are counted
per CPU second of the walk alone (compiled before the clock starts), so a busy second core lowers
the figure little, and the walks replay: a seed gives the same lowest rank on every machine.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field

from ..cubes import cube_start
from ..formats import Format
from .cyclic import cyclic_walk, scheme_orbits


@dataclass(frozen=True)
class SymmetricCase:
    """One row: a cube start, whether the mirror symmetry is kept, and the plus period (flips)."""

    start: str
    mirror: bool
    plus: int

    @property
    def format(self) -> Format:
        return Format.parse(self.start.split(":")[1])

    @property
    def term_flips(self) -> int:
        """Term flips per orbit flip: three terms an orbit, twice that for a mirror pair."""
        return 6 if self.mirror else 3


#: Moosbauer–Poole's settings (arXiv:2502.04514, their run files): 5x5x5 three cubes, plus every
#: 16,667 flips; 6x6x6 three cubes with the mirror, plus every 83,333 flips.
CASES = [SymmetricCase("cubes:5x5x5:10001+01010+00100", False, 16667),
         SymmetricCase("cubes:6x6x6:110000+001100+000011", True, 83333)]
QUICK_CASES = [SymmetricCase("cubes:4x4x4:1111", False, 5000)]


@dataclass
class SymmetricRow:
    """The walks of one case: flips, CPU seconds and the lowest rank mod 2 of each."""

    case: SymmetricCase
    flips: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    lowest: list[int] = field(default_factory=list)

    @property
    def orbit_rate(self) -> float:
        """Median orbit flips per CPU second over the walks."""
        return statistics.median(f / max(s, 1e-9) for f, s in zip(self.flips, self.seconds))


def _walk_inputs(case: SymmetricCase):
    fmt = case.format
    reps, fixed = scheme_orbits(cube_start(fmt, case.start.split(":", 2)[2]), mod2=True)
    settings = dict(mod2=True, pairs=True, mirror=case.mirror, plus_min=case.plus, plus_max=case.plus,
                    reps=reps, fixed=fixed)
    return fmt.dims[0], len(fixed), settings


def run_walk(case: SymmetricCase, seed: int, flips: int) -> tuple[int, float, int]:
    """Walk ``flips`` flips from the case's start with ``seed``.

    Returns
    -------
    (flips, cpu_seconds, lowest_rank)
        The flips made (fewer only when the walk cannot move), the walk's CPU seconds and the
        lowest rank mod 2 it reached (3 per orbit, 1 per fixed cube).
    """
    n, n_fixed, settings = _walk_inputs(case)
    c0 = time.process_time()
    reps, _, stats = cyclic_walk(n, 1, seed, max_flips=flips, **settings)
    seconds = time.process_time() - c0
    # The pairs walk hands its fixed cubes back as orbits (x, x, x): one term each mod 2.
    return int(stats["flips"]), seconds, 3 * (len(reps) - n_fixed) + n_fixed


def bench_case(case: SymmetricCase, flips: int, seeds: range, on_walk=None) -> SymmetricRow:
    """Run one walk per seed (after a short walk that compiles the kernel or loads it)."""
    n, _, settings = _walk_inputs(case)
    cyclic_walk(n, 1, 0, max_flips=1000, **settings)  # compile before any clock starts
    row = SymmetricRow(case)
    for seed in seeds:
        if on_walk is not None:
            on_walk(case, seed)
        made, seconds, lowest = run_walk(case, seed, flips)
        row.flips.append(made)
        row.seconds.append(seconds)
        row.lowest.append(lowest)
    return row
