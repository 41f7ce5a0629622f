"""One syntax for "a scheme" everywhere (every command and function that takes one).

A *source* is one of:

* a path to a scheme file (the catalog JSON format);
* ``-``: a JSON scheme on standard input;
* a built-in name: ``strassen``, ``winograd``;
* ``naive:NxMxP``: the schoolbook scheme of a format;
* ``catalog:NxMxP``: the catalog's best scheme of a format (``directory`` picks the catalog).

Every scheme returned has passed the exact check (:func:`load_source` verifies files and stdin,
which anyone could have written); built-in, naive and catalog schemes are exact by construction
or were verified when they were written, and are checked again all the same.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Optional

from .errors import LoadError, NotExactError
from .jsonio import load_scheme, scheme_from_dict
from .known import KNOWN
from .scheme import Scheme
from .verify import verify_exact

#: What the help texts say a source is.
SOURCE_HELP = "a scheme file, - (stdin), a built-in name (strassen, winograd), naive:NxMxP or catalog:NxMxP"


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
    if sep and kind == "naive":
        return Scheme.naive(arg)
    if sep and kind == "catalog":
        from . import catalog

        return catalog.best(arg, directory)
    if not Path(spec).exists() and spec.lower() in KNOWN:
        return KNOWN[spec.lower()]()
    return load_scheme(spec)


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
    if exact:
        report = verify_exact(scheme)
        if not report.valid:
            raise NotExactError(f"{spec}: {report.summary()}")
    return scheme
