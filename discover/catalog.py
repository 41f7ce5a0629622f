"""The catalog of verified schemes (``algorithms/``): listing, loading, choosing the best.

The catalog folder is, in order: the ``directory`` argument, the ``STRASSEN_CATALOG``
environment variable, the copy shipped inside the installed package, or ``algorithms/``
beside the package in a source checkout.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from .errors import DiscoverError, LoadError
from .formats import Format
from .jsonio import load_scheme
from .provenance import scheme_provenance
from .scheme import Scheme

ENV_VAR = "STRASSEN_CATALOG"


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
        return bool(scheme_provenance(self.scheme).get("composed"))

    @property
    def published(self) -> bool:
        return bool(scheme_provenance(self.scheme).get("source"))

    @functools.cached_property
    def quality(self) -> tuple[Any, ...]:
        """:func:`quality_key` of the scheme, computed once per entry (it compiles the scheme's
        program, about 0.4 s for a 6x6x6): callers that pick from one listing many times pay once."""
        return quality_key(self.scheme)


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


def eliminated_additions(scheme: Scheme, tries: Optional[int] = None) -> int:
    """Additions of the scheme's straight-line program after common-subexpression elimination.

    ``tries`` defaults to :data:`discover.slp.CSE_TRIES` (what every compiled program uses); the
    count is kept in a disk cache (:mod:`discover.additions_cache`), so a catalog is compiled once.
    """
    if scheme.mod2:
        return scheme.additions  # no program over Q for a mod-2 scheme
    from . import additions_cache
    from .slp import CSE_TRIES, compile_scheme

    tries = CSE_TRIES if tries is None else tries
    cached = additions_cache.lookup(scheme, tries)
    if cached is not None:
        return cached
    additions = compile_scheme(scheme, eliminate=True, check=False, tries=tries).additions
    additions_cache.store(scheme, tries, additions)
    return additions


def quality_key(scheme: Scheme) -> tuple[Any, ...]:
    """Order of preference: lower rank, a real algorithm before a mod-2 one, fewer additions after
    elimination, smaller coefficients, then the smaller ring."""
    return (scheme.rank, scheme.mod2, eliminated_additions(scheme), scheme.max_abs_coefficient, scheme.ring.order)


def load(fmt: Any, directory: Optional[os.PathLike | str] = None, *, include_mod2: bool = False) -> list[Scheme]:
    """All catalog schemes stored for exactly this format (no reorientation), best first."""
    fmt = Format.parse(fmt)
    found = [e.scheme for e in list_entries(directory) if e.scheme.format == fmt and (include_mod2 or not e.scheme.mod2)]
    return sorted(found, key=quality_key)


def best_entry(fmt: Any, directory: Optional[os.PathLike | str] = None,
               entries: Optional[list[CatalogEntry]] = None) -> CatalogEntry:
    """The catalog file of the best scheme for any orientation of ``fmt`` (as stored, not reoriented).

    The tool's own schemes are preferred; imported (published) ones are used when the folder has
    nothing else for the format, so ``catalog get`` finds what ``catalog list`` shows.

    Raises
    ------
    LoadError
        When the catalog has no scheme for any orientation of ``fmt``.
    """
    fmt = Format.parse(fmt)
    entries = list_entries(directory) if entries is None else entries
    usable = [e for e in entries if not e.scheme.mod2 and e.scheme.format.canonical() == fmt.canonical()]
    # The tool's own schemes first; a folder of imported (published) schemes is a catalog too.
    candidates = [e for e in usable if not e.published] or usable
    if not candidates:
        raise LoadError(f"the catalog has no scheme for {fmt} (nor any orientation of it)")
    # Additions cost a compile each: count them only among the entries of the lowest rank.
    lowest = min((e.scheme.rank, e.scheme.mod2) for e in candidates)
    return min((e for e in candidates if (e.scheme.rank, e.scheme.mod2) == lowest), key=lambda e: e.quality)


def best(fmt: Any, directory: Optional[os.PathLike | str] = None) -> Scheme:
    """The best catalog scheme for ``fmt`` over the integers/rationals, reoriented if stored in another orientation.

    See :func:`best_entry` for the choice.

    Raises
    ------
    LoadError
        When the catalog has no scheme for any orientation of ``fmt``.
    """
    fmt = Format.parse(fmt)
    return oriented(best_entry(fmt, directory), fmt)


def oriented(entry: CatalogEntry, fmt: Any) -> Scheme:
    """The entry's scheme in the orientation ``fmt`` (moved through the symmetries when stored in another)."""
    from .symmetry import to_format

    fmt = Format.parse(fmt)
    return entry.scheme if entry.scheme.format == fmt else to_format(entry.scheme, fmt)


def _best_or_naive(fmt: Format, directory: Optional[os.PathLike | str]) -> Optional[Scheme]:
    """Best catalog scheme for ``fmt``; the naive one when a dimension is 1 (it is optimal there)."""
    if 1 in fmt.dims:
        return Scheme.naive(fmt)
    try:
        return best(fmt, directory)
    except LoadError:
        return None


def best_composition(fmt: Any, directory: Optional[os.PathLike | str] = None, *, peel: bool = False) -> Optional[Scheme]:
    """The lowest-rank scheme for ``fmt`` built in one step from catalog schemes.

    Tries every direct sum along n, m or p of two smaller formats (each served by the catalog,
    reoriented as needed, or naive when a dimension is 1) and every Kronecker product of two
    catalog formats whose dimensions multiply to ``fmt``. Among those of the lowest rank, the one
    with the fewest additions after elimination wins (blocks of a direct sum share the
    subexpressions of the shared operand, so the sum of the parts' counts is not the answer:
    Winograd ⊕ Winograd for 2x2x4 needs 26, not 30). Returns None when nothing can be composed.

    With ``peel`` only direct sums that split off a slice of width 1 (a naive block) are tried:
    such starts carry many loose rank-one terms, and flip-graph walks descend from them much
    more easily than from two tight blocks.
    """
    from .symmetry import direct_sum, kron

    fmt = Format.parse(fmt)
    cache: dict[Format, Optional[Scheme]] = {}

    def get(f: Format) -> Optional[Scheme]:
        if f not in cache:
            cache[f] = _best_or_naive(f, directory)
        return cache[f]

    options: list[tuple[int, int, Any]] = []
    for axis, index in (("n", 0), ("m", 1), ("p", 2)):
        size = fmt.dims[index]
        for first in ([1] if peel else range(1, size // 2 + 1)):
            dims1, dims2 = list(fmt.dims), list(fmt.dims)
            dims1[index], dims2[index] = first, size - first
            a, b = get(Format(*dims1)), get(Format(*dims2))
            if a is not None and b is not None:
                options.append((a.rank + b.rank, (direct_sum, a, b, axis)))
    for n1 in ([] if peel else _divisors(fmt.n)):
        for m1 in _divisors(fmt.m):
            for p1 in _divisors(fmt.p):
                outer, inner = Format(n1, m1, p1), Format(fmt.n // n1, fmt.m // m1, fmt.p // p1)
                if outer.naive_rank == 1 or inner.naive_rank == 1:
                    continue
                a, b = get(outer), get(inner)
                if a is not None and b is not None:
                    options.append((a.rank * b.rank, (kron, a, b, None)))
    if not options:
        return None
    lowest = min(rank for rank, _ in options)
    built = [op(a, b, axis) if axis else op(a, b) for rank, (op, a, b, axis) in options if rank == lowest]
    return min(built, key=eliminated_additions)


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]
