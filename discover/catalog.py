"""The catalog of verified schemes (``algorithms/``): listing, loading, choosing the best.

The catalog folder is, in order: the ``directory`` argument, the ``STRASSEN_CATALOG``
environment variable, the copy shipped inside the installed package, or ``algorithms/``
beside the package in a source checkout.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from .errors import DiscoverError, LoadError
from .formats import Format
from .jsonio import load_scheme
from .scheme import Scheme

ENV_VAR = "STRASSEN_CATALOG"
_RING_RANK = {"ZT": 0, "Z": 1, "Q": 2, "Z2": 3}


def catalog_dir(directory: Optional[os.PathLike | str] = None) -> Path:
    """Resolve the catalog folder (see module docstring)."""
    if directory is not None:
        return Path(directory)
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    here = Path(__file__).resolve().parent
    for candidate in (here / "algorithms", here.parent / "algorithms"):
        if candidate.is_dir():
            return candidate
    return here.parent / "algorithms"


@dataclass(frozen=True)
class CatalogEntry:
    """One scheme file of the catalog."""

    path: Path
    scheme: Scheme

    @property
    def composed(self) -> bool:
        prov = self.scheme.meta.get("provenance") or {}
        return bool(isinstance(prov, dict) and prov.get("composed"))

    @property
    def published(self) -> bool:
        prov = self.scheme.meta.get("provenance") or {}
        return bool(isinstance(prov, dict) and prov.get("source"))


def list_entries(directory: Optional[os.PathLike | str] = None) -> list[CatalogEntry]:
    """Every ``*.json`` scheme under the catalog folder (recursively), sorted by format then rank.

    Raises
    ------
    LoadError
        When a file in the catalog is malformed (the catalog must stay clean).
    """
    root = catalog_dir(directory)
    if not root.is_dir():
        raise DiscoverError(f"catalog folder {root} does not exist")
    entries = [CatalogEntry(path, load_scheme(path)) for path in sorted(root.rglob("*.json"))]
    entries.sort(key=lambda e: (e.scheme.format.canonical().dims, e.scheme.format.dims, e.scheme.rank, str(e.path)))
    return entries


def quality_key(scheme: Scheme) -> tuple[Any, ...]:
    """Order of preference: lower rank, then a ring that is a real algorithm and small, fewer additions, smaller coefficients."""
    return (scheme.rank, scheme.mod2, scheme.additions, scheme.max_abs_coefficient, _RING_RANK[scheme.ring])


def load(fmt: Any, directory: Optional[os.PathLike | str] = None, *, include_mod2: bool = False) -> list[Scheme]:
    """All catalog schemes stored for exactly this format (no reorientation), best first."""
    fmt = Format.parse(fmt)
    found = [e.scheme for e in list_entries(directory) if e.scheme.format == fmt and (include_mod2 or not e.scheme.mod2)]
    return sorted(found, key=quality_key)


def best(fmt: Any, directory: Optional[os.PathLike | str] = None) -> Scheme:
    """The best catalog scheme for ``fmt`` over the integers/rationals, reoriented if stored in another orientation.

    Raises
    ------
    LoadError
        When the catalog has no scheme for any orientation of ``fmt``.
    """
    from .symmetry import to_format

    fmt = Format.parse(fmt)
    candidates = [
        e.scheme for e in list_entries(directory)
        if not e.scheme.mod2 and not e.published and e.scheme.format.canonical() == fmt.canonical()
    ]
    if not candidates:
        raise LoadError(f"the catalog has no scheme for {fmt} (nor any orientation of it)")
    chosen = min(candidates, key=quality_key)
    return chosen if chosen.format == fmt else to_format(chosen, fmt)
