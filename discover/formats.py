"""The ``NxMxP`` format of a matrix product: A is N×M, B is M×P, C = AB is N×P."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Union

from .errors import FormatError
from .limits import MAX_DIMENSION, MAX_NAIVE_RANK

_FORMAT_RE = re.compile(r"^\s*(\d+)\s*[xX×,]\s*(\d+)\s*[xX×,]\s*(\d+)\s*$")


@dataclass(frozen=True, order=True)
class Format:
    """Dimensions of ``C = A @ B`` with A of shape (n, m) and B of shape (m, p).

    Examples
    --------
    >>> Format.parse("2x3x4")
    Format(n=2, m=3, p=4)
    >>> str(Format(2, 2, 2)), Format(2, 2, 2).naive_rank
    ('2x2x2', 8)
    """

    n: int
    m: int
    p: int

    def __post_init__(self) -> None:
        for name in ("n", "m", "p"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise FormatError(f"format dimension {name}={_short(value)} must be a positive integer")
            if value > MAX_DIMENSION:
                raise FormatError(f"format dimension {name}={_short(value)} exceeds the limit of {MAX_DIMENSION}")
        if self.n * self.m * self.p > MAX_NAIVE_RANK:
            raise FormatError(
                f"format {self.n}x{self.m}x{self.p} has n*m*p = {self.n * self.m * self.p:,} above the limit of {MAX_NAIVE_RANK:,}"
            )

    @classmethod
    def parse(cls, text: Union[str, "Format", Iterable[int]]) -> "Format":
        """Build a format from ``"NxMxP"``, a 3-sequence of ints, or a Format."""
        if isinstance(text, Format):
            return text
        if isinstance(text, str):
            match = _FORMAT_RE.match(text)
            if not match:
                raise FormatError(f"format {text[:40]!r} is not of the form NxMxP (e.g. 2x3x4)")
            if any(len(g) > 9 for g in match.groups()):  # int() of thousands of digits is slow and refused
                raise FormatError(f"format {text[:40]!r}: a dimension exceeds the limit of {MAX_DIMENSION}")
            return cls(*(int(g) for g in match.groups()))
        try:
            dims = list(text)
        except TypeError as e:
            raise FormatError(f"format {_short(text)} is not of the form NxMxP") from e
        if len(dims) != 3 or not all(isinstance(d, int) and not isinstance(d, bool) for d in dims):
            raise FormatError(f"format {_short(dims)} must be three positive integers")
        return cls(*dims)

    @property
    def dims(self) -> tuple[int, int, int]:
        return (self.n, self.m, self.p)

    @property
    def naive_rank(self) -> int:
        """Multiplications of the schoolbook algorithm, n·m·p."""
        return self.n * self.m * self.p

    @property
    def flattening_bound(self) -> int:
        """A lower bound on the rank: the largest rank of a flattening, max(nm, mp, np)."""
        n, m, p = self.dims
        return max(n * m, m * p, n * p)

    @property
    def shapes(self) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
        """Shapes of one factor of U, V and W: (n, m), (m, p), (n, p)."""
        n, m, p = self.dims
        return (n, m), (m, p), (n, p)

    def canonical(self) -> "Format":
        """The orientation with n ≤ m ≤ p reached by transposes and cyclic shifts."""
        return Format(*sorted(self.dims))

    def __str__(self) -> str:
        return f"{self.n}x{self.m}x{self.p}"


def _short(value: object) -> str:
    """``repr`` cut to one short line: a hostile value may be huge (and ``repr`` of a huge int fails)."""
    try:
        text = repr(value)
    except ValueError:  # an int beyond Python's digit limit for str()
        return f"<{type(value).__name__} too large to print>"
    return text if len(text) <= 60 else text[:57] + "..."
