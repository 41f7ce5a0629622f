"""One syntax for "a scheme" everywhere (every command and function that takes one).

A *source* is one of:

* a path to a scheme file (the catalog JSON format);
* ``-``: a JSON scheme on standard input;
* a built-in name: ``strassen``, ``winograd``;
* ``naive:NxMxP``: the schoolbook scheme of a format;
* ``catalog:NxMxP``: the catalog's best scheme of a format (``directory`` picks the catalog);
* ``cubes:NxNxN:MASKS``: the naive square scheme with its diagonal regrouped into fixed cubes, a
  start for cyclic-symmetric walks (:mod:`discover.cubes`, e.g. ``cubes:5x5x5:10001+01010+00100``);
* meta moves across formats (:mod:`discover.metamoves`) applied to another source:
  ``extend:NxMxP:SOURCE`` (naive slices added up to the format), ``project:NxMxP:SOURCE``
  (rows/columns dropped, dead products removed; ``project:NxMxP@I,J:SOURCE`` names the indices
  dropped, in the order n, m, p, instead of those that kill the most products),
  ``resize:NxMxP:SOURCE`` (either, per dimension), ``cut:NxMxP:SOURCE`` (linear cuts mod 2 down
  to the format, :mod:`discover.linearcut`: a Z2 start for GF(2) walks), ``orient:NxMxP:SOURCE`` (the same scheme
  moved to another order of its dimensions by transposes and cyclic shifts) and
  ``product:SOURCE1,SOURCE2`` (Kronecker product; split at the first comma).

Every scheme returned has passed the exact check (:func:`load_source` verifies files and stdin,
which anyone could have written); built-in, naive and catalog schemes are exact by construction
or were verified when they were written, and are checked again all the same.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

from .errors import LoadError, NotExactError
from .jsonio import load_scheme, scheme_from_dict
from .known import KNOWN
from .scheme import Scheme

if TYPE_CHECKING:
    from .catalog import CatalogEntry
from .verify import verify_exact

#: What the help texts say a source is.
SOURCE_HELP = ("a scheme file, - (stdin), a built-in name (strassen, winograd), naive:NxMxP, catalog:NxMxP, "
               "cubes:NxNxN:MASKS, or a meta move of one: extend:NxMxP:SOURCE, project:NxMxP[@INDEX,...]:SOURCE, "
               "resize:NxMxP:SOURCE, cut:NxMxP:SOURCE (mod 2), orient:NxMxP:SOURCE, product:SOURCE1,SOURCE2")
#: Meta moves spelled ``KIND:NxMxP:SOURCE``.
_RESIZERS = ("extend", "project", "resize", "orient", "cut")


def split_meta_source(spec: str) -> Optional[tuple[str, str]]:
    """``extend:NxMxP:SOURCE`` (or project:, resize:) as (``extend:NxMxP:``, ``SOURCE``); None otherwise.

    >>> split_meta_source("extend:3x4x6:catalog:3x4x5")
    ('extend:3x4x6:', 'catalog:3x4x5')
    >>> split_meta_source("catalog:3x4x5") is None
    True
    """
    kind, sep, rest = spec.partition(":")
    fmt, sep2, inner = rest.partition(":")
    if not (sep and sep2 and inner) or kind not in _RESIZERS:
        return None
    return f"{kind}:{fmt}:", inner


def peel_meta_source(spec: str) -> tuple[str, str]:
    """Every meta move of a source as one prefix, and the source they act on.

    >>> peel_meta_source("extend:4x5x5:orient:4x5x4:algorithms/4x4x5_r63_ZT.json")
    ('extend:4x5x5:orient:4x5x4:', 'algorithms/4x4x5_r63_ZT.json')
    >>> peel_meta_source("naive:2x2x2")
    ('', 'naive:2x2x2')
    """
    prefix = ""
    while (meta := split_meta_source(spec)) is not None:
        prefix, spec = prefix + meta[0], meta[1]
    return prefix, spec


def map_leaves(spec: str, fn: Callable[[str], str]) -> str:
    """``spec`` with ``fn`` applied to each source that its meta moves and products act on.

    >>> map_leaves("resize:4x5x6:product:strassen,catalog:2x3x3", str.upper)
    'resize:4x5x6:product:STRASSEN,CATALOG:2X3X3'
    """
    if spec == "-" or Path(spec).exists():
        return fn(spec)
    kind, sep, arg = spec.partition(":")
    if sep and kind in _RESIZERS:
        fmt, sep2, inner = arg.partition(":")
        if sep2 and inner:
            return f"{kind}:{fmt}:{map_leaves(inner, fn)}"
    if sep and kind == "product":
        first, comma, second = arg.partition(",")
        if comma:
            return f"product:{map_leaves(first, fn)},{map_leaves(second, fn)}"
    return fn(spec)


def pinned_source(spec: str, directory: "str | os.PathLike[str] | None" = None,
                  entries: Optional[list[CatalogEntry]] = None) -> Optional[str]:
    """``spec`` with every ``catalog:NxMxP`` in it replaced by the catalog file it reads now.

    A search records it (``start_pinned``), so ``catalog rebuild`` reruns the same start after the
    catalog's best has changed, however deep the catalog source sits (e.g.
    ``resize:4x5x6:product:strassen,catalog:2x3x3``). A file the catalog stores in another
    orientation is named ``orient:NxMxP:FILE``. None when ``spec`` reads no catalog scheme.
    ``entries``: the catalog already listed (:func:`discover.catalog.list_entries`), so that a caller
    pinning many specs reads it once.
    """

    def pin(leaf: str) -> str:
        kind, sep, arg = leaf.partition(":")
        if sep and kind == "catalog" and not Path(leaf).exists():
            return _catalog_file_source(arg, directory, entries)
        return leaf

    pinned = map_leaves(spec, pin)
    return pinned if pinned != spec else None


def _catalog_file_source(fmt: str, directory, entries: Optional[list[CatalogEntry]] = None) -> str:
    """The source that names the file of the catalog's best scheme of ``fmt``: its path relative to
    the working folder when it lies below it, ``orient:FMT:PATH`` when the catalog stores another
    orientation (which loads the scheme turned to ``fmt``)."""
    from . import catalog
    from .formats import Format

    want = Format.parse(fmt)
    entry = catalog.best_entry(want, directory, entries)
    path = Path(entry.path).resolve()
    try:
        name = str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        name = str(path)
    return name if entry.scheme.format == want else f"orient:{want}:{name}"


def read_source(spec: str, directory: "str | os.PathLike[str] | None" = None) -> Scheme:
    """The scheme a source names, as written (not verified: see :func:`load_source`).

    Raises
    ------
    LoadError
        When the source names nothing, or the file cannot be read or parsed.
    """
    if spec == "-":
        text = sys.stdin.read()
        try:
            doc = json.loads(text)
        except (json.JSONDecodeError, ValueError, RecursionError) as e:
            raise LoadError(f"<stdin>: malformed JSON: {e}") from e
        try:
            return scheme_from_dict(doc)
        except LoadError as e:
            raise LoadError(f"<stdin>: {e}") from e
    kind, sep, arg = spec.partition(":")
    if sep and kind in _RESIZERS and not Path(spec).exists():
        return _resized(kind, arg, directory)
    if sep and kind == "product" and not Path(spec).exists():
        first, comma, second = arg.partition(",")
        if not comma:
            raise LoadError(f"{spec}: product needs two sources, product:SOURCE1,SOURCE2")
        from .metamoves import product

        return product(_checked(first, directory), _checked(second, directory))
    if sep and kind == "naive":
        return Scheme.naive(arg)
    if sep and kind == "cubes" and not Path(spec).exists():
        from .cubes import cube_start

        return cube_start(*_format_and_rest(kind, arg, "NxNxN:MASKS (e.g. cubes:5x5x5:10001+01010+00100)"))
    if sep and kind == "catalog":
        from . import catalog

        return catalog.best(arg, directory)
    if not Path(spec).exists() and spec.lower() in KNOWN:
        return KNOWN[spec.lower()]()
    return load_scheme(spec)


def load_start(spec: str, directory=None) -> tuple[Scheme, Optional[str]]:
    """A search's start scheme, and for ``catalog:NxMxP`` the catalog file it was read from.

    For a meta move of a catalog scheme (``extend:NxMxP:catalog:SMALLER``) the file is the one the
    inner ``catalog:SMALLER`` was read from.

    Searches record that file, because the catalog's best scheme changes as the catalog grows: the
    file keeps their chain of steps followable (``catalog rebuild``). When the catalog stores the
    scheme in another orientation, the record is ``orient:NxMxP:FILE``, which loads the same
    scheme. It is None for other sources. The catalog is read once.
    """
    scheme, start_file, _ = load_pinned_start(spec, directory)
    return scheme, start_file


def load_pinned_start(spec: str, directory=None) -> tuple[Scheme, Optional[str], Optional[str]]:
    """:func:`load_start`'s scheme and file, and the whole source pinned (:func:`pinned_source`).

    The catalog is read once for each ``catalog:`` in ``spec``: the scheme is loaded from the
    pinned source, which names the same files.
    """
    pinned = pinned_source(spec, directory)
    if pinned is None:
        return load_source(spec, directory), None, None
    scheme = load_source(pinned, directory)
    if spec.startswith("catalog:"):
        return scheme, pinned, pinned
    meta, pinned_meta = split_meta_source(spec), split_meta_source(pinned)
    # extend:NxMxP:catalog:SMALLER: the inner file (a rerun extends the same scheme).
    inner_file = pinned_meta[1] if meta is not None and pinned_meta is not None and meta[1].startswith("catalog:") else None
    return scheme, inner_file, pinned


def _checked(spec: str, directory) -> Scheme:
    """An inner source of a meta move, checked exactly (the move keeps exactness, not creates it)."""
    return load_source(spec, directory)


def _format_and_rest(kind: str, arg: str, spelling: str) -> "tuple[Format, str]":
    """``NxMxP:REST`` (the part of ``kind:NxMxP:REST`` after the kind) as (format, REST), or one LoadError line."""
    from .errors import FormatError
    from .formats import Format

    fmt_text, sep, rest = arg.partition(":")
    if not sep or not rest:
        raise LoadError(f"{kind}:{arg}: spell it {kind}:{spelling}")
    try:
        return Format.parse(fmt_text), rest
    except FormatError as e:
        raise LoadError(f"{kind}:{arg}: {e}") from e


def _resized(kind: str, arg: str, directory) -> Scheme:
    """``extend``/``project``/``resize``/``orient`` of an inner source to the format before its colon."""
    from . import metamoves
    from .errors import SchemeError

    head, colon, rest = arg.partition(":")
    fmt_text, at, drop_text = head.partition("@")
    drops: list[int] = []
    if at:
        if kind not in ("project", "resize") or not all(t.strip().isdigit() for t in drop_text.split(",")):
            raise LoadError(f"{kind}:{arg}: only project/resize take @INDEX[,INDEX...] (the indices to drop, "
                            "e.g. project:3x5x5@3:SOURCE)")
        drops = [int(t) for t in drop_text.split(",")]
    fmt, inner = _format_and_rest(kind, fmt_text + colon + rest, "NxMxP:SOURCE")
    scheme = _checked(inner, directory)
    if kind == "orient":
        from .symmetry import to_format

        try:
            return to_format(scheme, fmt)
        except SchemeError as e:
            raise LoadError(f"{kind}:{arg}: {e}") from e
    if kind == "cut":
        from .linearcut import cut

        try:
            return cut(scheme, fmt)
        except SchemeError as e:
            raise LoadError(f"{kind}:{arg}: {e}") from e
    have = scheme.format.dims
    if kind == "extend" and any(a < b for a, b in zip(fmt.dims, have)):
        raise LoadError(f"{kind}:{arg}: extend only grows a format; {scheme.format} does not fit in {fmt}")
    if kind == "project" and any(a > b for a, b in zip(fmt.dims, have)):
        raise LoadError(f"{kind}:{arg}: project only shrinks a format; {fmt} is not inside {scheme.format}")
    try:
        return metamoves.resize(scheme, fmt, drops)
    except SchemeError as e:
        raise LoadError(f"{kind}:{arg}: {e}") from e


def load_source(spec: str, directory: "str | os.PathLike[str] | None" = None, *, exact: Optional[bool] = True) -> Scheme:
    """The scheme a source names, checked exactly (mod 2 for Z2 schemes).

    Parameters
    ----------
    exact
        True: raise :class:`~discover.errors.NotExactError` for a scheme that is not exact.
        None: no check (for ``strassen verify``, which reports what is wrong itself).

    Examples
    --------
    >>> load_source("naive:2x3x4").rank
    24
    >>> load_source("strassen").ring
    <Ring.ZT: 'ZT'>
    """
    scheme = read_source(spec, directory)
    return _exact(spec, scheme) if exact else scheme


def _exact(spec: str, scheme: Scheme) -> Scheme:
    """``scheme`` (read from ``spec``) if it is exact; else :class:`~discover.errors.NotExactError`."""
    report = verify_exact(scheme)
    if not report.valid:
        raise NotExactError(f"{spec}: {report.summary()}")
    return scheme
