"""Best known ranks of ⟨n,m,p⟩ for n ≤ m ≤ p ≤ 5, with sources (data, as of 2025).

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
    mod2_rank: int
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

_BY_FORMAT = {row.format: row for row in TABLE}


def best_known(fmt: Any) -> Optional[BestKnown]:
    """The record for any orientation of ``fmt``, or None outside the table."""
    return _BY_FORMAT.get(Format.parse(fmt).canonical())
