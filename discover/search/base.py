"""The contract between the search driver and every search method.

A *method* (``als``, ``lm``, ``adam``, ``sgd``, ``flip``, ...) is an object with a name, a
dataclass of typed options, and ``run_task``. The driver (:mod:`discover.search.driver`)
cuts a search into independent, picklable :class:`SearchTask` objects (task ``i`` gets the
i-th child of the user's ``SeedSequence``), runs them in worker processes, checks every
candidate exactly, proves it with sympy, and only then reports or saves it. A method never
writes files and never claims a result is exact: it proposes candidates.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Protocol

import numpy as np

from ..errors import DiscoverError
from ..formats import Format
from ..scheme import Scheme

#: Coefficient sets a search may target.
SEARCH_RINGS = ("ZT", "Z", "Q", "Z2")


class SearchError(DiscoverError, ValueError):
    """Bad search input (unknown method or option, impossible rank, ...): exit code 2."""


@dataclass(frozen=True)
class Problem:
    """What to find: a scheme for ``format`` with ``rank`` products in ``ring``.

    ``ring`` is ZT ({-1,0,1}), Z (integers with |c| ≤ ``coefficient_bound``),
    Q (halves allowed: {0, ±1/2, ±1, ±2}) or Z2 (valid mod 2). ``start`` is an exact
    scheme to start from (flip-graph methods).
    """

    format: Format
    rank: int
    ring: str = "ZT"
    coefficient_bound: int = 2
    start: Optional[Scheme] = None


@dataclass
class Candidate:
    """A proposed scheme (not yet verified). Arrays are ints or exact object arrays."""

    U: np.ndarray
    V: np.ndarray
    W: np.ndarray
    mod2: bool = False
    sub_index: int = 0  # position inside a batched task (restart = task_index * batch + sub_index)
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class TaskResult:
    """What one task returns: its candidates and statistics for the progress display."""

    task_index: int
    restarts: int  # restarts this task ran (a batch of 256 counts 256)
    candidates: list[Candidate] = field(default_factory=list)
    best_residual: float = float("inf")
    seconds: float = 0.0
    stats: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchTask:
    """One independent unit of work, picklable so any executor (process pool, cluster) can run it."""

    method: str
    problem: Problem
    options: Any  # the method's options dataclass instance
    seed: np.random.SeedSequence
    task_index: int
    time_limit: Optional[float] = None  # seconds this task may run
    # True when the driver wants one scheme only: a batched method may then return as soon as
    # one member is exact (the first to become exact, lowest index among simultaneous ones).
    first_hit: bool = False


class Method(Protocol):
    """A search method registered with the driver."""

    name: str
    options_type: type
    description: str

    def check(self, problem: Problem, options: Any) -> None:
        """Raise SearchError if this method cannot handle the problem."""

    def run_task(self, task: SearchTask, should_stop: Callable[[], bool]) -> TaskResult:
        """Run one task; poll ``should_stop`` regularly and return early when it is true."""


_REGISTRY: dict[str, Method] = {}


def register(method: Method) -> Method:
    """Add a method to the registry (by its ``name``)."""
    _REGISTRY[method.name] = method
    return method


def get_method(name: str) -> Method:
    """Look up a method, raising SearchError listing the known ones."""
    _load_builtin_methods()
    if name not in _REGISTRY:
        raise SearchError(f"unknown method {name!r}; choose one of: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def method_names() -> list[str]:
    _load_builtin_methods()
    return sorted(_REGISTRY)


def _load_builtin_methods() -> None:
    # Importing a method module registers it.
    from . import methods  # noqa: F401


def build_options(options_type: type, values: Mapping[str, Any]) -> Any:
    """Build a method's options dataclass from ``key=value`` pairs; unknown keys are errors."""
    known = {f.name: f for f in dataclasses.fields(options_type)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise SearchError(f"unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    converted = {}
    for key, raw in values.items():
        default = getattr(options_type(), key)
        try:
            if isinstance(default, bool):
                converted[key] = raw if isinstance(raw, bool) else str(raw).lower() in ("1", "true", "yes", "on")
            elif isinstance(default, int):
                converted[key] = int(raw)
            elif isinstance(default, float):
                converted[key] = float(raw)
            else:
                converted[key] = raw
        except (TypeError, ValueError) as e:
            raise SearchError(f"option {key}={raw!r}: expected {type(default).__name__}") from e
    return options_type(**converted)
