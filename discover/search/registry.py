"""Which search methods exist, loaded only when asked for.

Built-in methods are modules of :mod:`discover.search.methods` that define ``METHOD``; they are
imported on first use, so a flip search never imports torch (which the numerical methods need).
"""
from __future__ import annotations

import importlib

from ..errors import SearchError
from ..problem import Problem
from ..rings import Ring
from .contract import Method

#: Built-in method name -> module that defines ``METHOD``.
BUILTIN_METHODS: dict[str, str] = {
    "lm": "discover.search.methods.lm",
    "adam": "discover.search.methods.adam",
    "sgd": "discover.search.methods.sgd",
    "flip": "discover.search.methods.flip",
    "pool": "discover.search.methods.pool",
    "cyclic": "discover.search.methods.cyclic",
}

_EXTRA: dict[str, Method] = {}
_LOADED: dict[str, Method] = {}


def register(method: Method) -> Method:
    """Add a method (by its ``name``); it shadows a built-in of the same name."""
    _EXTRA[method.name] = method
    return method


def method_names() -> list[str]:
    """Every method name, built-in and registered."""
    return sorted(set(BUILTIN_METHODS) | set(_EXTRA))


def get_method(name: str) -> Method:
    """Look up a method, raising SearchError listing the known ones."""
    if name in _EXTRA:
        return _EXTRA[name]
    if name in _LOADED:
        return _LOADED[name]
    if name not in BUILTIN_METHODS:
        raise SearchError(f"unknown method {name!r}; choose one of: {', '.join(method_names())}")
    method = importlib.import_module(BUILTIN_METHODS[name]).METHOD
    _LOADED[name] = method
    return method


def default_method(problem: Problem) -> str:
    """The method used when none is named.

    ``lm`` (batched Levenberg–Marquardt) for 2x2x2 and for ring Q (halves); ``flip``
    (flip-graph walks) for every larger format, where ``strassen bench search`` shows it
    reaching the target ranks far sooner (2x2x3 r11: 0.05 s median against 1.5 s for ``lm``).
    """
    if problem.format.naive_rank > 8 and problem.ring is not Ring.Q:
        return "flip"
    return "lm"
