"""Best known ranks of ⟨n,m,p⟩ for n ≤ m ≤ p ≤ 5 (:data:`TABLE`) and for the formats whose largest
dimension is 6 (:data:`SIX`), with sources (data, as of 2025).

``rank`` is the best rank in characteristic 0 (rational or complex coefficients allowed),
``integer_rank`` the best with integer coefficients, ``ternary`` whether a {-1,0,1} scheme is
known at ``integer_rank``, and ``mod2_rank`` the best rank valid over GF(2). Other orientations
of a format have the same ranks.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from .formats import Format


@dataclass(frozen=True)
class BestKnown:
    format: Format
    rank: int
    integer_rank: int
    ternary: bool
    mod2_rank: Optional[int]
    source: str
    integer_source: Optional[str] = None

    def to_json(self) -> dict[str, Any]:
        return {
            "format": str(self.format),
            "rank": self.rank,
            "integer_rank": self.integer_rank,
            "ternary": self.ternary,
            "mod2_rank": self.mod2_rank,
            "source": self.source,
            "integer_source": self.integer_source or self.source,
        }


def _row(fmt: str, rank: int, source: str, integer_rank: Optional[int] = None, mod2: Optional[int] = None,
         integer_source: Optional[str] = None) -> BestKnown:
    return BestKnown(Format.parse(fmt), rank, integer_rank or rank, True, mod2 or integer_rank or rank, source, integer_source)


TABLE: tuple[BestKnown, ...] = (
    _row("2x2x2", 7, "Strassen 1969 (optimal)"),
    _row("2x2x3", 11, "Hopcroft–Kerr 1971 (optimal)"),
    _row("2x2x4", 14, "Hopcroft–Kerr 1971"),
    _row("2x2x5", 18, "Hopcroft–Kerr 1971"),
    _row("2x3x3", 15, "Hopcroft–Kerr 1971"),
    _row("2x3x4", 20, "Hopcroft–Kerr 1971"),
    _row("2x3x5", 25, "Hopcroft–Kerr 1971"),
    _row("2x4x4", 26, "Hopcroft–Kerr 1971"),
    _row("2x4x5", 32, "AlphaEvolve 2025 (needs 1/2)", integer_rank=33, mod2=33, integer_source="Hopcroft–Kerr 1971"),
    _row("2x5x5", 40, "Hopcroft–Kerr 1971"),
    _row("3x3x3", 23, "Laderman 1976"),
    _row("3x3x4", 29, "Smirnov 2013"),
    _row("3x3x5", 36, "Smirnov 2013"),
    _row("3x4x4", 38, "Smirnov 2013"),
    _row("3x4x5", 47, "AlphaTensor 2022"),
    _row("3x5x5", 58, "Sedoglavic 2021"),
    _row("4x4x4", 48, "AlphaEvolve / Dumas–Pernet–Sedoglavic 2025 (needs 1/2)", integer_rank=49, mod2=47,
         integer_source="Strassen⊗Strassen 1969"),
    _row("4x4x5", 61, "AlphaEvolve 2025", mod2=60),
    _row("4x5x5", 76, "AlphaTensor 2022", mod2=73),
    _row("5x5x5", 93, "Moosbauer–Poole 2025"),
)

#: Formats n ≤ m ≤ p with p = 6. Ranks as listed by Perminov's FastMatrixMultiplication status table
#: (2025; the rings ZT/Z/Q there), which collects the published schemes; the rank over GF(2) is not
#: listed there (None). ``ternary`` is False where that table has no {-1,0,1} scheme at the integer rank.
_PERMINOV = "Perminov's table (2025)"
SIX: tuple[BestKnown, ...] = tuple(
    BestKnown(Format.parse(fmt), rank, integer_rank, ternary, None, source)
    for fmt, rank, integer_rank, ternary, source in (
        ("2x2x6", 21, 21, True, "Hopcroft–Kerr 1971"),
        ("2x3x6", 30, 30, True, _PERMINOV),
        ("2x4x6", 39, 39, True, _PERMINOV),
        ("2x5x6", 47, 47, True, _PERMINOV),
        ("2x6x6", 56, 56, True, _PERMINOV),
        ("3x3x6", 40, 42, True, "Smirnov 2013 (rank 40 needs rationals)"),
        ("3x4x6", 54, 54, True, _PERMINOV),
        ("3x5x6", 68, 68, True, _PERMINOV),
        ("3x6x6", 80, 83, True, _PERMINOV + " (rank 80 needs rationals)"),
        ("4x4x6", 73, 73, True, _PERMINOV),
        ("4x5x6", 90, 90, True, _PERMINOV),
        ("4x6x6", 105, 105, True, _PERMINOV),
        ("5x5x6", 110, 110, True, _PERMINOV),
        ("5x6x6", 130, 130, True, _PERMINOV),
        ("6x6x6", 153, 153, True, "Moosbauer–Poole 2025 (cyclic-symmetric flips)"),
    )
)

_BY_FORMAT = {row.format: row for row in TABLE + SIX}


def table(up_to: int = 5) -> tuple[BestKnown, ...]:
    """The rows of every format whose largest dimension is at most ``up_to`` (5 or 6)."""
    return TABLE + SIX if up_to >= 6 else TABLE


def best_known(fmt: Any) -> Optional[BestKnown]:
    """The record for any orientation of ``fmt``, or None outside the table."""
    return _BY_FORMAT.get(Format.parse(fmt).canonical())
