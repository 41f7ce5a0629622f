"""The coefficient rings that label every scheme: ZT ⊂ Z ⊂ Q, and Z2 (valid mod 2 only).

A :class:`Ring` is a ``str`` enum, so ``Ring.ZT == "ZT"`` and it is written to JSON as its name.
Its order (:attr:`Ring.order`) is the order of inclusion; Z2 comes last because a mod-2 scheme is
not an algorithm over the integers at all.
"""
from __future__ import annotations

import enum
from fractions import Fraction
from typing import Any

from .errors import RingError


class Ring(str, enum.Enum):
    """A coefficient ring label.

    Examples
    --------
    >>> Ring.parse("zt")
    <Ring.ZT: 'ZT'>
    >>> Ring.Z.contains(2), Ring.ZT.contains(2)
    (True, False)
    >>> Ring.ZT <= Ring.Q
    True
    """

    ZT = "ZT"
    Z = "Z"
    Q = "Q"
    Z2 = "Z2"

    def __str__(self) -> str:
        return self.value

    @property
    def order(self) -> int:
        """Position in the order ZT, Z, Q, Z2 (smaller is more restrictive)."""
        return _ORDER[self]

    @property
    def description(self) -> str:
        """One phrase for messages and help texts."""
        return _DESCRIPTIONS[self]

    def __le__(self, other: object) -> bool:  # type: ignore[override]
        return self.order <= Ring.parse(other).order

    def __lt__(self, other: object) -> bool:  # type: ignore[override]
        return self.order < Ring.parse(other).order

    def __ge__(self, other: object) -> bool:  # type: ignore[override]
        return self.order >= Ring.parse(other).order

    def __gt__(self, other: object) -> bool:  # type: ignore[override]
        return self.order > Ring.parse(other).order

    def __hash__(self) -> int:
        return hash(self.value)

    def contains(self, value: Any) -> bool:
        """Whether an exact coefficient (int or Fraction) lies in this ring (Z2: any integer)."""
        if isinstance(value, Fraction) and value.denominator != 1:
            return self is Ring.Q
        if self is Ring.ZT:
            return value in (-1, 0, 1)
        return True

    @classmethod
    def of(cls, value: Any) -> "Ring":
        """The smallest of ZT, Z, Q holding one exact coefficient."""
        if isinstance(value, Fraction) and value.denominator != 1:
            return cls.Q
        return cls.ZT if value in (-1, 0, 1) else cls.Z

    @classmethod
    def parse(cls, value: object) -> "Ring":
        """A ring from its name (any case); :class:`RingError` names the choices."""
        if isinstance(value, Ring):
            return value
        if isinstance(value, str):
            try:
                return cls(value.upper())
            except ValueError:
                pass
        raise RingError(f"unknown ring {value!r}; choose one of {', '.join(RING_NAMES)}")


_ORDER = {Ring.ZT: 0, Ring.Z: 1, Ring.Q: 2, Ring.Z2: 3}
_DESCRIPTIONS = {
    Ring.ZT: "ternary coefficients {-1, 0, 1}",
    Ring.Z: "integer coefficients",
    Ring.Q: "rational coefficients",
    Ring.Z2: "valid mod 2 only (not an algorithm over the integers)",
}

#: The ring names in order, for option choices and messages.
RING_NAMES: tuple[str, ...] = tuple(r.value for r in Ring)
