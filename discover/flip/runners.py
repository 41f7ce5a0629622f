"""The state of K runner walks advanced together in one compiled call, shared by every runner search.

The ternary walk (:mod:`.walk`), the walks mod 2 and mod 3 that lift (:mod:`.liftrunners`) and
the pool (:mod:`.pool`) run their runners through :class:`Runners` and
:func:`~discover.flip.policy.runners_kernel`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .policy import runners_kernel
from .rng import below
from .settings import FlipSettings

#: Flips per runner in one compiled call of the runner walk (fixed, so a seed replays the walk).
RUNNER_CALL_FLIPS = 2000
#: Seconds between two progress reports of the runner walk (a new best rank is reported at once).
PROGRESS_EVERY = 0.2


@dataclass
class Runners:
    """The state of ``K`` runner walks (see :func:`~discover.flip.policy.runners_kernel`).

    ``Fs[k]``/``rs[k]``: runner k's scheme and rank; ``bests[k]``/``best_rs[k]``: its lowest;
    ``since``/``periods``: flips since its last reduction and its current plus period;
    ``quiet``: flips left with reductions deferred.
    """

    Fs: np.ndarray
    bests: np.ndarray
    rs: np.ndarray
    best_rs: np.ndarray
    since: np.ndarray
    periods: np.ndarray
    quiet: np.ndarray

    @classmethod
    def start(cls, F0: np.ndarray, r: int, K: int, settings: FlipSettings, state: np.ndarray) -> "Runners":
        """K runners at the packed scheme ``F0`` (rank r), each with a plus period drawn from ``state``."""
        Fs = np.repeat(F0[None], K, axis=0)
        rs = np.full(K, r, dtype=np.int64)
        span = settings.plus_max - settings.plus_min + 1
        periods = np.array([settings.plus_min + int(x) for x in seed_state_draws(state, K, span)], dtype=np.int64)
        return cls(Fs, Fs.copy(), rs, rs.copy(), np.zeros(K, dtype=np.int64), periods, np.zeros(K, dtype=np.int64))

    def advance(self, target: int, steps: int, settings: FlipSettings, cap: int, state: np.ndarray,
                stats: np.ndarray, mod3: bool = False, ternary: bool = True) -> int:
        """``steps`` flips per runner in one compiled call; the index of a runner at rank ≤ target, or −1.

        ``ternary`` False: the schemes are GF(2)-packed (:mod:`.gf2`)."""
        return runners_kernel(self.Fs, self.rs, self.bests, self.best_rs, self.since, self.periods, self.quiet, target,
                              steps, settings.plus_min, settings.plus_max, settings.plus_diff, settings.quiet_flips,
                              cap, state, stats, ternary, mod3)


def seed_state_draws(state: np.ndarray, count: int, below_n: int) -> list[int]:
    """``count`` integers in [0, below_n) from the walk's own generator (so a seed replays the walk)."""
    return [int(below(state, below_n)) for _ in range(count)]
