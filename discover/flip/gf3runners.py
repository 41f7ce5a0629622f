"""The compiled flip walk mod 3 with runners, and its 3-adic lift to Q (schemes with halves).

Residues mod 3 are written −1, 0, 1 (2 ≡ −1 ≡ 1/2), so a scheme mod 3 packs exactly like a
ternary scheme (:mod:`discover.flip.zt`), and the ternary kernels run on it with ``mod3`` set:
the merges of a reduction are taken mod 3 (two terms equal in all three slots merge, 2·t ≡ −t),
and flips and plus transitions either stay ternary over Z (``gf3_moves="ternary"``, the default:
the factors stay as sparse as a ternary walk's) or are taken mod 3 too (``"mod3"``).
The runners and their lifts are those of :mod:`.liftrunners`; a scheme at the target rank mod 3
goes to the 3-adic Hensel lift (:func:`discover.flip.gf3.hensel_lift3`). Only a lift that passes
the exact check over Q is returned.

The start can be any exact scheme whose denominators are prime to 3 (reduced mod 3), e.g. an
integer scheme one rank above the target: a walk mod 3 may then drop a term that no ternary
walk over Z can.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable, Optional

import numpy as np

from ..errors import SearchError
from ..formats import Format
from ..scheme import Scheme
from . import zt
from .gf3 import hensel_lift3, is_exact_mod3
from .lifter import Lifter
from .liftrunners import lifting_runner_search
from .policy import reduce_all
from .rng import seed_state
from .settings import FlipSettings


def residues_mod3(scheme: Scheme) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """U, V, W of ``scheme`` reduced mod 3 and written in {-1, 0, 1}.

    Raises
    ------
    SearchError
        If a coefficient has a denominator divisible by 3 (it has no residue mod 3).
    """
    out = []
    for X in scheme.factors:
        arr = np.asarray(X, dtype=object)
        flat = []
        for v in arr.ravel():
            q = Fraction(v)
            if q.denominator % 3 == 0:
                raise SearchError(f"field=gf3: the start scheme has the coefficient {q}, whose denominator 3 has no inverse mod 3")
            res = (q.numerator * pow(q.denominator, -1, 3)) % 3
            flat.append(-1 if res == 2 else res)
        out.append(np.array(flat, dtype=np.int64).reshape(arr.shape))
    return out[0], out[1], out[2]


def flat_residues(F: np.ndarray, r: int, fmt: Format) -> list[np.ndarray]:
    """The first r packed terms as flat (r, ·) arrays of residues in {0, 1, 2}."""
    return [X.reshape(r, -1) % 3 for X in zt.unpack(F, r, fmt)]


@dataclass
class Gf3Outcome:
    """A lifted scheme over Q of rank ≤ target (or None), the lowest rank reached mod 3, counters."""

    scheme: Optional[Scheme]
    rank_mod3: int
    stats: dict = field(default_factory=dict)
    checkpoint: Optional[dict] = None  # where the runners stood when the walk stopped without a scheme


def gf3_runner_search(fmt: Format, target: int, start: Scheme, settings: FlipSettings, seed: np.random.SeedSequence,
                      should_stop: Callable[[], bool] = lambda: False, time_limit: Optional[float] = None,
                      on_progress: Optional[Callable[[dict], None]] = None, *, resume_from: Optional[dict] = None,
                      on_checkpoint: Optional[Callable[[dict], None]] = None) -> Gf3Outcome:
    """Walk mod 3 with ``settings.runners`` runners until a scheme of rank ≤ ``target`` lifts to Q.

    Parameters
    ----------
    fmt, target
        The format and the rank to reach.
    start
        An exact scheme (denominators prime to 3); its residues mod 3 are the walk's start.
    settings
        ``runners``, ``plus_min``, ``plus_max``, ``plus_diff``, ``lift_interval``, ``max_flips``,
        ``gf3_moves``.
    seed
        The walk's randomness (with ``max_flips``, a seed replays the walk and its lifts).
    should_stop, time_limit, on_progress, resume_from, on_checkpoint
        As for :func:`discover.flip.walk.flip_search`.
    """
    state = seed_state(seed)
    U, V, W = residues_mod3(start)
    keep = [k for k in range(start.rank) if U[k].any() and V[k].any() and W[k].any()]
    capacity = len(keep) + settings.plus_diff + 4
    F0 = zt.pack(U[keep], V[keep], W[keep], capacity)
    r0, _ = reduce_all(F0, len(keep), True, True)

    def lift_at(F: np.ndarray, r: int) -> Optional[Scheme]:
        flat = flat_residues(F, r, fmt)
        if not is_exact_mod3(flat, fmt):
            raise RuntimeError("internal error: the walk mod 3 lost exactness")
        return hensel_lift3(flat, fmt)

    out = lifting_runner_search(F0, r0, target, 3, Lifter(lift_at, deep=True),  # a 3-adic Hensel lift
                                settings, state, should_stop, time_limit, on_progress, fmt=fmt,
                                resume_from=resume_from, on_checkpoint=on_checkpoint)
    stats = {"field": "gf3", **out.stats, "best_rank_mod3": out.lowest}
    found = out.scheme
    if found is not None:
        found = found.with_meta(name=f"GF(3) flip graph {fmt} rank {found.rank}, 3-adic lift")
    return Gf3Outcome(found, out.lowest, stats, out.checkpoint)
