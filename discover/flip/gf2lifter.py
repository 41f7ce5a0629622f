"""Lifting the GF(2) schemes a walk or a pool finds at the target rank into the asked ring.

Shared by the GF(2) runner walk (:func:`discover.flip.walk.flip_search`, ``field=gf2``) and the
GF(2) pool descent (:mod:`discover.flip.pool`, ``field=gf2``): both hand each packed scheme at the
target rank to the lifter this module builds, and keep only what it returns.
"""
from __future__ import annotations

import hashlib
from typing import Optional

import numpy as np

from ..formats import Format
from ..rings import Ring
from ..scheme import Scheme
from . import gf2
from .lift import is_exact_mod2, lift
from .lifter import Lifter
from .liftfailures import LIFT_FAILURES


def accepts(scheme: Scheme, ring: Ring, bound: int) -> bool:
    """Whether a lifted scheme is in the ring the problem asks for."""
    if ring is Ring.ZT:
        return scheme.ring is Ring.ZT
    if ring is Ring.Z:
        return scheme.ring <= Ring.Z and scheme.max_abs_coefficient <= bound
    return True  # Q: any exact rational scheme


def _runs_hensel(ring: Ring, hensel: bool) -> bool:
    """Whether the lifter goes on to Hensel lifting when the sign lift fails (the costly part)."""
    return hensel and ring not in (Ring.ZT, Ring.Z2)


def scheme_rng(base: int, F: np.ndarray, r: int) -> np.random.Generator:
    """The generator a lift of the packed rank-``r`` scheme ``F`` draws from: a function of the
    scheme and ``base`` only, so that whether a lift succeeds never depends on the lifts made before
    it (which the clock decides); a recorded lift then replays (``replay_lift``)."""
    digest = hashlib.blake2b(np.ascontiguousarray(F[:r]).tobytes(), digest_size=8).digest()
    return np.random.default_rng([base, int.from_bytes(digest, "little")])


def gf2_lifter(fmt: Format, ring: Ring, bound: int, hensel: bool, rng: np.random.Generator,
               counters: dict, ternarize: int = 0) -> Lifter:
    """A lifter for GF(2)-packed schemes of ``fmt``.

    Ring Z2 returns the scheme mod 2 itself (labelled mod 2). Other rings try the sign lift, then
    (when ``hensel`` and the ring allows more than ternary coefficients) the Hensel lift, and keep
    the result only when :func:`accepts` does. ``counters`` gains ``lifted_sign`` and
    ``lifted_hensel``, and one count per kind of failure
    (:data:`~discover.flip.liftfailures.LIFT_FAILURES`). The lifter is ``deep`` when it may go on
    to Hensel lifting. ``rng`` gives one draw, the base of every lift's own generator
    (:func:`scheme_rng`): a lift's outcome depends on the scheme alone.

    ``ternarize`` (ring ZT): when the sign lift fails, the Hensel lift over Z is walked towards
    ternary coefficients for up to that many moves (:func:`discover.ternary_form.ternary_form`,
    its seed drawn from the scheme's generator); a ternary result counts as ``lifted_ternarized``.
    A 3x5x5 rank-58 walk tried 19,671 sign lifts in 15 min without one (no ±1 signs on any
    support it visited), and its Hensel lift (coefficients up to 9) has a ternary form 566 moves away.
    """
    base = int(rng.integers(1 << 62))
    for key in ("lifted_sign", "lifted_hensel", "lifted_ternarized", *LIFT_FAILURES):
        counters.setdefault(key, 0)
    ternary_walk = ternarize if ring is Ring.ZT and hensel else 0
    deep = _runs_hensel(ring, hensel) or ternary_walk > 0

    def lift_at(F: np.ndarray, r: int) -> Optional[Scheme]:
        U, V, W = gf2.unpack(F, r, fmt)
        if not is_exact_mod2(U, V, W, fmt):  # cannot happen: the moves keep the tensor mod 2
            raise RuntimeError("internal error: a GF(2) walk lost exactness")
        if ring is Ring.Z2:
            return Scheme.from_arrays(U, V, W, fmt, mod2=True)
        # Hensel lifts are rarely ternary: only worth their cost when the ring allows more, or
        # when the ternary walk may move them to {-1, 0, 1}.
        lift_rng = scheme_rng(base, F, r)
        lifted, how = lift(U, V, W, fmt, lift_rng, hensel=deep)
        if lifted is None:
            counters[how] += 1
            return None
        if ternary_walk and how == "hensel" and lifted.ring is not Ring.ZT:
            if lifted.ring is not Ring.Z:  # halves: nothing for an integer walk
                counters["out_of_ring"] += 1
                return None
            from ..ternary_form import ternary_form

            moved = ternary_form(lifted, moves=ternary_walk, seed=int(lift_rng.integers(1 << 62)))
            if not moved.ternary:
                counters["failed_ternarize"] += 1
                return None
            counters["lifted_ternarized"] += 1
            return moved.scheme
        if not accepts(lifted, ring, bound):
            counters["out_of_ring"] += 1
            return None
        counters[f"lifted_{how}"] += 1
        return lifted

    return Lifter(lift_at, deep)
