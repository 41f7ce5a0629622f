"""Our catalog against the best known ranks: one row per format of :data:`discover.best_known.TABLE`.

The engine behind ``strassen catalog compare`` and the catalog site (``strassen catalog site``):
both print or render the rows computed here and compute nothing themselves.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

from .catalog import CatalogEntry, catalog_dir, eliminated_additions, list_entries, quality_key


@dataclass(frozen=True)
class ComparisonRow:
    """One format: our best real (non-mod-2) scheme against the best known ranks.

    ``our_*`` fields are None when the catalog has no scheme for the format. ``gap`` is our
    rank minus the best known *integer* rank (the fair target for a search over Z).
    ``file`` is the best scheme's path relative to the catalog folder.
    """

    format: str
    our_rank: Optional[int]
    our_ring: Optional[str]
    composed: bool
    our_mod2_rank: Optional[int]
    schemes: int
    inequivalent: int
    best_known_rank: int
    best_known_integer_rank: int
    best_known_mod2_rank: int
    source: str
    gap: Optional[int]
    published_verified: Optional[int]
    additions: Optional[int]
    additions_eliminated: Optional[int]
    method: Optional[str]
    wall_time: Optional[float]
    file: Optional[str]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Comparison:
    """All rows plus the summary counts."""

    catalog: Path
    rows: list[ComparisonRow]

    @property
    def at_best(self) -> int:
        """Formats whose best scheme reaches the best known integer rank."""
        return sum(1 for r in self.rows if r.gap is not None and r.gap <= 0)

    @property
    def within2(self) -> int:
        """Formats within two products of the best known integer rank."""
        return sum(1 for r in self.rows if r.gap is not None and r.gap <= 2)

    @property
    def summary(self) -> str:
        n = len(self.rows)
        return f"{self.at_best}/{n} formats at the best known integer rank ({self.within2}/{n} within 2)"

    def to_json(self) -> dict[str, Any]:
        return {
            "catalog": str(self.catalog),
            "formats": [r.to_json() for r in self.rows],
            "at_best_known_integer_rank": self.at_best,
            "within_2": self.within2,
            "summary": self.summary,
        }


def entry_method(entry: CatalogEntry) -> Optional[str]:
    """How a catalog scheme was made: the search method, ``compose``, or the published source."""
    prov = entry.scheme.meta.get("provenance") or {}
    if not isinstance(prov, dict):
        return None
    if prov.get("source"):
        return "published"
    method = prov.get("method")
    return str(method) if method else ("compose" if prov.get("composed") else None)


def entry_wall_time(entry: CatalogEntry) -> Optional[float]:
    """Seconds the recorded search took (None when not recorded, e.g. for compositions)."""
    prov = entry.scheme.meta.get("provenance") or {}
    value = prov.get("wall_time") if isinstance(prov, dict) else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def compare_catalog(directory: Optional[os.PathLike | str] = None,
                    entries: Optional[Sequence[CatalogEntry]] = None) -> Comparison:
    """Compare the catalog with the best known ranks, one row per format of the table.

    Parameters
    ----------
    directory
        The catalog folder (see :func:`discover.catalog.catalog_dir`).
    entries
        Already loaded entries of that folder (loaded when omitted).

    Returns
    -------
    Comparison
        Rows in the order of :data:`discover.best_known.TABLE` and the summary counts.
    """
    from .best_known import TABLE
    from .invariants import count_inequivalent

    root = catalog_dir(directory)
    entries = list(entries) if entries is not None else list_entries(directory)
    rows = []
    for record in TABLE:
        fmt = record.format
        ours = [e for e in entries if e.scheme.format.canonical() == fmt and not e.published]
        real = [e for e in ours if not e.scheme.mod2]
        mod2 = [e.scheme for e in ours if e.scheme.mod2]
        published = [e.scheme for e in entries if e.scheme.format.canonical() == fmt and e.published]
        best_entry = min(real, key=lambda e: quality_key(e.scheme)) if real else None
        best = best_entry.scheme if best_entry else None
        rows.append(ComparisonRow(
            format=str(fmt),
            our_rank=best.rank if best else None,
            our_ring=best.ring if best else None,
            composed=bool(best_entry and best_entry.composed),
            our_mod2_rank=min((s.rank for s in mod2), default=None),
            schemes=len(real),
            inequivalent=count_inequivalent([e.scheme for e in real if e.scheme.rank == best.rank]) if best else 0,
            best_known_rank=record.rank,
            best_known_integer_rank=record.integer_rank,
            best_known_mod2_rank=record.mod2_rank,
            source=record.source,
            gap=(best.rank - record.integer_rank) if best else None,
            published_verified=min((s.rank for s in published), default=None),
            additions=best.additions if best else None,
            additions_eliminated=eliminated_additions(best) if best else None,
            method=entry_method(best_entry) if best_entry else None,
            wall_time=entry_wall_time(best_entry) if best_entry else None,
            file=relative_path(best_entry.path, root) if best_entry else None,
        ))
    return Comparison(root, rows)


def relative_path(path: Path, root: Path) -> str:
    """``path`` relative to the catalog folder (the file name alone when it lies elsewhere)."""
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return Path(path).name
