"""Search for exact schemes: one front door for every method and scheduler.

The package is callable: ``discover.search("2x2x2", 7, method="flip")`` runs :func:`.driver.find`,
and ``discover.search.search(Problem(...), ...)`` is the front door itself.

>>> from discover.search import Problem, search
>>> result = search(Problem("2x2x2", 7), "flip", seed=0, workers=1, time_limit=60)
>>> [s.rank for s in result.found]
[7]

Modules: :mod:`.driver` (the front door), :mod:`.contract` (what a method implements),
:mod:`.registry` (which methods exist, loaded lazily), :mod:`.schedulers` (where tasks run),
:mod:`.collector` (verification of proposals), :mod:`.store` (saving), :mod:`.methods`.
"""
from __future__ import annotations

import sys
import types
from typing import Any

from ..errors import SearchError
from ..problem import Problem
from .collector import Progress, SearchResult
from .driver import DEFAULT_TIME_LIMIT, find, search, task_seed
from .registry import default_method, get_method, method_names, register

__all__ = ["DEFAULT_TIME_LIMIT", "Problem", "Progress", "SearchError", "SearchResult", "default_method", "find",
           "get_method", "method_names", "register", "search", "task_seed"]


class _CallableModule(types.ModuleType):
    """Lets ``discover.search(...)`` be called like a function while it stays a package."""

    def __call__(self, *args: Any, **kwargs: Any) -> SearchResult:
        return find(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
