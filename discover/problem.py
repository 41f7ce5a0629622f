"""What a search is asked to find, checked once when it is built.

A :class:`Problem` is a format, a target rank, a ring and optionally a start scheme. Building
one validates everything that does not depend on the method: a positive rank, the proven lower
bounds (the flattening bound max(nm, mp, np) for every format, and the published lower bounds
of small formats), a known ring and a start scheme of the same format.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from .errors import SearchError
from .formats import Format
from .rings import Ring
from .scheme import Scheme

#: Proven lower bounds above the flattening bound, by canonical format: (bound, reference,
#: also valid mod 2).
PROVEN_LOWER_BOUNDS: dict[tuple[int, int, int], tuple[int, str, bool]] = {
    (2, 2, 2): (7, "Winograd 1971, Hopcroft–Kerr 1971: rank 7 is optimal for 2x2x2", True),
    (2, 2, 3): (11, "Alekseyev 1985: rank 11 is optimal for 2x2x3", False),
    (3, 3, 3): (19, "Bläser 2003: 3x3x3 needs at least 19 products", False),
}


def lower_bound(fmt: Format, ring: Ring = Ring.ZT) -> tuple[int, str]:
    """The best proven lower bound on the rank of ``fmt`` over ``ring`` and its reference."""
    flat = fmt.flattening_bound
    known = PROVEN_LOWER_BOUNDS.get(fmt.canonical().dims)
    if known is not None and known[0] > flat and (ring is not Ring.Z2 or known[2]):
        return known[0], known[1]
    return flat, f"flattening bound: every scheme needs at least max(nm, mp, np) = {flat} products"


@dataclass(frozen=True)
class Problem:
    """A search request: a scheme for ``format`` with at most ``rank`` products in ``ring``.

    Parameters
    ----------
    format : Format or str
        ``"3x3x3"``, a :class:`~discover.formats.Format` or a 3-sequence.
    rank : int
        Target number of products; a scheme of lower rank is a better answer and is accepted.
    ring : Ring or str
        ZT ({-1,0,1}), Z (integers with ``|c| <= coefficient_bound``), Q (halves allowed) or
        Z2 (valid mod 2 only).
    coefficient_bound : int
        Largest absolute coefficient for ring Z (and the integer part of Q's grid).
    start : Scheme, optional
        An exact scheme of the same format to start from (flip-graph methods).
    start_file : str, optional
        The catalog file ``start`` was read from when the command named it indirectly
        (``--start catalog:NxMxP``, or the inner source of ``extend:NxMxP:catalog:SMALLER`` and the
        other meta moves): recorded with the results, so that their chain of steps can be
        followed back and rerun after the catalog has changed.
    start_pinned : str, optional
        The start source with every ``catalog:NxMxP`` in it replaced by the file it read
        (:func:`discover.sources.pinned_source`), recorded like ``start_file`` for sources that
        read the catalog deeper inside, e.g. ``resize:4x5x6:product:strassen,catalog:2x3x3``.

    Raises
    ------
    SearchError
        For a rank below a proven lower bound, an unknown ring or a start of another format.

    Examples
    --------
    >>> Problem("2x2x2", 7).ring
    <Ring.ZT: 'ZT'>
    >>> Problem("2x2x2", 6)
    Traceback (most recent call last):
    ...
    discover.errors.SearchError: rank 6 is impossible for 2x2x2: Winograd 1971, Hopcroft–Kerr 1971: rank 7 is optimal for 2x2x2
    """

    format: Format
    rank: int
    ring: Ring = Ring.ZT
    coefficient_bound: int = 2
    start: Optional[Scheme] = field(default=None, compare=False)
    start_file: Optional[str] = field(default=None, compare=False)
    start_pinned: Optional[str] = field(default=None, compare=False)

    def __post_init__(self) -> None:
        fmt = Format.parse(self.format)
        object.__setattr__(self, "format", fmt)
        try:
            object.__setattr__(self, "ring", Ring.parse(self.ring))
        except ValueError as e:
            raise SearchError(str(e)) from e
        rank = self.rank
        if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
            raise SearchError(f"rank must be a positive integer, got {rank!r}")
        bound, reason = lower_bound(fmt, self.ring)
        if rank < bound:
            raise SearchError(f"rank {rank} is impossible for {fmt}: {reason}")
        cb = self.coefficient_bound
        if isinstance(cb, bool) or not isinstance(cb, int) or cb < 1:
            raise SearchError(f"coefficient bound must be a positive integer, got {cb!r}")
        if self.start is not None:
            if not isinstance(self.start, Scheme):
                raise SearchError(f"start must be a Scheme, got {type(self.start).__name__}")
            if self.start.format != fmt:
                raise SearchError(f"the start scheme is for {self.start.format}, not {fmt}")

    @property
    def naive(self) -> bool:
        """True when the schoolbook algorithm already meets the target rank."""
        return self.rank >= self.format.naive_rank

    def to_json(self) -> dict[str, Any]:
        """The problem as recorded in provenance blocks and state files."""
        return {"format": str(self.format), "rank": self.rank, "ring": self.ring.value,
                "coefficient_bound": self.coefficient_bound}
