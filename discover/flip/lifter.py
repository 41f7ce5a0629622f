"""What a walk mod p hands its schemes at the target rank to: a lift with its cost class.

The GF(2) lifter (:func:`discover.flip.gf2lifter.gf2_lifter`) and the 3-adic one of the GF(3)
runners both take a packed scheme and its rank and return an accepted exact scheme or None. The
walks that call them (runners, the pool, the cyclic walk) budget the lifts by what they cost
(:class:`discover.flip.liftrunners.LiftBudget`); the costly part is Hensel lifting, and only the
lifter knows whether it may go on to it, so it says so itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from ..scheme import Scheme


@dataclass(frozen=True)
class Lifter:
    """``lifter(F, r)``: the packed scheme ``F`` of rank ``r`` lifted to an accepted exact scheme, or None.

    Attributes
    ----------
    lift
        The function that does it.
    deep
        Whether a lift may go on to Hensel lifting (about 20 times the cost of a sign lift).
    """

    lift: Callable[[np.ndarray, int], Optional[Scheme]]
    deep: bool

    def __call__(self, F: np.ndarray, r: int) -> Optional[Scheme]:
        return self.lift(F, r)
