"""Fewest published additions per format at a given rank, with sources (data).

The count is the literature's: additions and subtractions of the straight-line program after
common-subexpression elimination, in the standard basis (no change of basis), the same model as
:func:`discover.catalog.eliminated_additions`. A count is only comparable with ours at the same
rank, so each record names its rank. Formats missing here have no count we know of.

These are the counts of the schemes the sources publish, not lower bounds and not always the
fewest possible at that rank: Winograd's 2x2x2 scheme plus a naive 2x2x1 slice computes 2x2x3
at rank 11 with 17 additions, below the 20 listed for it.

Sources: Winograd 1971 (2x2x2, 15, optimal: Probert 1976; 12 in an alternative basis,
Karstadt–Schwartz 2017, a different model); Sun 2026, arXiv:2604.27645 (3x3x3 rank 23, 56);
the other formats from A. I. Perminov, "Parallel Heuristic Exploration for Additive Complexity
Reduction in Fast Matrix Multiplication", arXiv:2512.13365 (2025), reduced ternary schemes
published in github.com/dronperminov/FastMatrixMultiplication, schemes/results/addition_reduced_ZT.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from .formats import Format


@dataclass(frozen=True)
class PublishedAdditions:
    """The fewest additions published for ``format`` at ``rank`` (see module docstring)."""

    format: Format
    rank: int
    additions: int
    source: str

    def to_json(self) -> dict[str, Any]:
        return {"format": str(self.format), "rank": self.rank, "additions": self.additions, "source": self.source}


_PERMINOV = "Perminov 2025 (arXiv:2512.13365)"


def _row(fmt: str, rank: int, additions: int, source: str = _PERMINOV) -> PublishedAdditions:
    return PublishedAdditions(Format.parse(fmt), rank, additions, source)


TABLE: tuple[PublishedAdditions, ...] = (
    _row("2x2x2", 7, 15, "Winograd 1971 (optimal; 12 in another basis: Karstadt–Schwartz 2017)"),
    _row("2x2x3", 11, 20),
    _row("2x2x4", 14, 31),
    _row("2x2x5", 18, 33),
    _row("2x3x3", 15, 46),
    _row("2x3x4", 20, 58),
    _row("2x3x5", 25, 71),
    _row("2x4x4", 26, 92),
    _row("2x4x5", 33, 112),
    _row("2x5x5", 40, 153),
    _row("3x3x3", 23, 56, "Sun 2026 (arXiv:2604.27645; 58: Perminov 2025)"),
    _row("3x3x4", 29, 92),
    _row("3x3x5", 36, 123),
    _row("3x4x4", 38, 133),
    _row("3x4x5", 47, 161),
    _row("3x5x5", 58, 221),
    _row("4x4x4", 49, 159),
    _row("4x4x5", 61, 233),
    _row("4x5x5", 76, 299),
    _row("5x5x5", 93, 383),
)

_BY_FORMAT = {row.format: row for row in TABLE}


def published_additions(fmt: Any) -> Optional[PublishedAdditions]:
    """The record for ``fmt`` in the catalog's orientation n ≤ m ≤ p (the one counted), or None."""
    return _BY_FORMAT.get(Format.parse(fmt).canonical())
