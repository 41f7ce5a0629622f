"""The top-level API, scipy-style: every function takes format strings and scheme sources.

Re-exported by :mod:`discover` (loaded on first use, so ``import discover`` stays light)::

    import discover
    s = discover.load("strassen")                   # a file, "-", a name, "naive:2x3x4", "catalog:3x3x3"
    discover.verify(s).valid                         # exact check + sympy proof
    result = discover.search("2x2x2", 7, method="flip", seed=0, time_limit=60)
    discover.save(result.found[0], "s.json")          # certified, then written atomically
    code = discover.export(s, "python")               # code or an interchange file
    C = discover.matmul(A, B, s, levels=2)           # numpy or torch, batched

``discover.search`` is also the package :mod:`discover.search` (call it, or use its parts).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional

from .blockmm import matmul as _blockmm_matmul
from .errors import DiscoverError
from .jsonio import atomic_write_text
from .provenance import command_line, save_certified
from .scheme import Scheme


def load(source: str, directory: "str | os.PathLike[str] | None" = None) -> Scheme:
    """Load a scheme from any source and check it exactly.

    Parameters
    ----------
    source : str
        A scheme file, ``-`` (stdin), ``strassen``, ``winograd``, ``naive:NxMxP`` or ``catalog:NxMxP``.
    directory : path, optional
        The catalog folder for ``catalog:`` sources.

    Raises
    ------
    LoadError, NotExactError
        For a source that cannot be read, or a scheme that is not exact.

    Examples
    --------
    >>> import discover
    >>> discover.load("naive:2x3x4").rank
    24
    >>> discover.load("strassen").additions
    18
    """
    from .sources import load_source

    return load_source(source, directory)


def save(scheme: Scheme, path: "str | os.PathLike[str]", **provenance: Any) -> Path:
    """Verify (exact check and sympy proof), stamp provenance, and write the JSON file atomically.

    Examples
    --------
    >>> import discover, tempfile, os
    >>> path = discover.save(discover.load("strassen"), os.path.join(tempfile.mkdtemp(), "s.json"))
    >>> discover.load(str(path)).meta["verification"]["valid"]
    True
    """
    _, written = save_certified(scheme, path, provenance, keep_provenance=True)
    return written


def export(scheme: "Scheme | str", target: str, path: "str | os.PathLike[str] | None" = None) -> Optional[str]:
    """A scheme as code (``python``, ``torch``, ``c``), formulas (``latex``, ``markdown``) or an
    interchange file (``json``, ``perminov``, ``alphatensor``, ``exp``, ``lifted``, ``benson-ballard``).

    Code and formula targets return the text (and write it to ``path`` when given); interchange
    targets need ``path``. The scheme is checked exactly first.

    Examples
    --------
    >>> import discover
    >>> code = discover.export("strassen", "python")
    >>> "def matmul(" in code
    True
    """
    from .blockmm import resolve
    from .codegen import TARGETS, generate
    from .interchange import EXPORT_TARGETS

    scheme = resolve(scheme)
    if target in TARGETS:
        text = generate(scheme, target, command_line())
        if path is not None:
            atomic_write_text(path, text)
        return text
    if target in EXPORT_TARGETS:
        if path is None:
            raise DiscoverError(f"export to {target!r} needs a path")
        EXPORT_TARGETS[target](scheme, Path(path))
        return None
    raise DiscoverError(f"unknown export target {target!r}; choose one of {', '.join([*TARGETS, *EXPORT_TARGETS])}")


def matmul(A: Any, B: Any, scheme: "Scheme | str" = "strassen", levels: int = 1, cutoff: int = 1,
           backend: str = "auto", table: Any = None, basis: str = "standard") -> Any:
    """``A @ B`` by a verified scheme, or ``scheme="auto"``: as tuned; see :func:`discover.blockmm.matmul`.

    ``basis="alt"`` runs the scheme in its alternative basis (float arrays, fused backend).

    Examples
    --------
    >>> import numpy as np, discover
    >>> A = np.arange(24).reshape(2, 3, 4); B = np.ones((4, 5), dtype=int)
    >>> bool((discover.matmul(A, B, "catalog:3x4x5") == A @ B).all())
    True
    """
    return _blockmm_matmul(A, B, scheme, levels, cutoff, backend, table, basis)
