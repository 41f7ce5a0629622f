"""discover: find, verify, catalog and run fast matrix-multiplication schemes.

The top-level API (see :mod:`discover.api`)::

    >>> import discover
    >>> s = discover.load("strassen")
    >>> discover.verify(s).valid, s.rank, str(s.ring)
    (True, 7, 'ZT')
    >>> result = discover.search("2x2x2", 7, method="flip", seed=0, workers=1, time_limit=60)
    >>> [found.rank for found in result.found]
    [7]

Light names (the exact core) are imported at once; ``search``, ``load``, ``save``, ``export``,
``matmul``, ``catalog`` and ``nn`` load their modules on first use, so ``import discover`` never
imports torch, numba or sympy.
"""
from __future__ import annotations

import importlib
from typing import Any

from ._version import __version__
from .errors import DiscoverError, FormatError, LoadError, NotExactError, SchemeError, SearchError
from .formats import Format
from .rings import Ring
from .scheme import RINGS, Scheme
from .tensor import matmul_tensor, reconstruct, residual
from .verify import VerificationReport, verify, verify_exact, verify_sympy

_LAZY = {
    "load": ("discover.api", "load"),
    "save": ("discover.api", "save"),
    "export": ("discover.api", "export"),
    "matmul": ("discover.api", "matmul"),
    "Problem": ("discover.problem", "Problem"),
    "search": ("discover.search", None),
    "catalog": ("discover.catalog", None),
    "nn": ("discover.nn", None),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module_name, attr = _LAZY[name]
        module = importlib.import_module(module_name)
        value = module if attr is None else getattr(module, attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'discover' has no attribute {name!r}")


__all__ = [
    "__version__", "DiscoverError", "FormatError", "LoadError", "NotExactError", "SchemeError", "SearchError",
    "Format", "Ring", "RINGS", "Scheme", "matmul_tensor", "reconstruct", "residual", "VerificationReport",
    "verify", "verify_exact", "verify_sympy", *_LAZY,
]
