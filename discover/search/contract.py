"""The contract between the search driver and every search method.

A *method* (``lm``, ``adam``, ``sgd``, ``flip``, ...) is an object with a name, a dataclass of
typed options, ``check`` and ``run_task``. The driver (:mod:`discover.search.driver`) cuts a
search into independent, picklable :class:`SearchTask` objects (task ``i`` gets the i-th child
of the user's ``SeedSequence``), hands them to a scheduler, checks every candidate exactly,
proves it with sympy, and only then reports or saves it. A method never writes files and never
claims a result is exact: it proposes candidates. A long walk cut short hands back where it
stood (``TaskResult.checkpoint``); the driver keeps it and gives it back (``SearchTask.resume_from``)
when the search is resumed.

To add a method: write a module under :mod:`discover.search.methods` that defines its options
dataclass and a ``METHOD`` object with this interface, and add its name to
:data:`discover.search.registry.BUILTIN_METHODS`.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Protocol

import numpy as np

from ..errors import SearchError
from ..problem import Problem
from ..scheme import Scheme

__all__ = ["Candidate", "Method", "Problem", "SearchError", "SearchTask", "TaskResult", "build_options", "describe_options"]


@dataclass
class Candidate:
    """A proposed scheme (not yet verified).

    Either ``scheme`` (a :class:`~discover.scheme.Scheme` whose metadata is kept) or the
    arrays ``U``, ``V``, ``W`` (ints or exact object arrays) are given.
    """

    U: Optional[np.ndarray] = None
    V: Optional[np.ndarray] = None
    W: Optional[np.ndarray] = None
    mod2: bool = False
    sub_index: int = 0  # position inside a batched task (restart = task_index * batch + sub_index)
    info: dict[str, Any] = field(default_factory=dict)
    scheme: Optional[Scheme] = None

    @classmethod
    def of(cls, scheme: Scheme, sub_index: int = 0, info: Optional[dict[str, Any]] = None) -> "Candidate":
        """A candidate that carries a whole scheme (its metadata travels with it)."""
        return cls(mod2=scheme.mod2, sub_index=sub_index, info=dict(info or {}), scheme=scheme)


def walk_prime(options: Mapping[str, Any]) -> int:
    """The prime that ``best_rank_mod2`` counts modulo: 3 for a walk with ``field=gf3``, else 2."""
    return 3 if str(options.get("field", "")) == "gf3" else 2


@dataclass
class TaskResult:
    """What one task returns: its candidates and statistics for the progress display.

    ``best_rank`` is the lowest rank a rank-lowering method (flip) reached with an exact
    scheme, even when it found nothing at the target; ``best_rank_mod2`` the lowest rank a
    GF(2) walk reached mod 2 (such a scheme may not lift); ``best_scheme`` an exact scheme of
    rank ``best_rank`` above the target (a proposal like the candidates: the collector checks
    it, keeps the lowest over all tasks, and saves it when nothing reached the target);
    ``best_residual`` is the smallest squared residual a numerical method reached;
    ``checkpoint`` where a walk stood when it stopped without reaching the target
    (:mod:`discover.flip.checkpoint`): the driver writes it into the output folder and hands it
    back as the task's ``resume_from`` when the search is resumed.
    """

    task_index: int
    restarts: int  # restarts this task ran (a batch of 256 counts 256)
    candidates: list[Candidate] = field(default_factory=list)
    best_residual: float = float("inf")
    seconds: float = 0.0
    stats: dict[str, Any] = field(default_factory=dict)
    best_rank: Optional[int] = None
    best_rank_mod2: Optional[int] = None
    best_scheme: Optional[Scheme] = None
    checkpoint: Optional[dict] = None  # a walk cut short: where it stood (the driver keeps it for --resume)


@dataclass(frozen=True)
class SearchTask:
    """One independent unit of work, picklable so any scheduler (process pool, cluster) can run it."""

    method: str
    problem: Problem
    options: Any  # the method's options dataclass instance
    seed: np.random.SeedSequence
    task_index: int
    time_limit: Optional[float] = None  # seconds this task may run
    # True when the driver wants one scheme only: a batched method may then return as soon as
    # one member is exact (the first to become exact, lowest index among simultaneous ones).
    first_hit: bool = False
    # A resumed search: the checkpoint this task's walk left when it was cut short (None: start).
    resume_from: Optional[dict] = None


class Method(Protocol):
    """A search method known to the registry.

    A method may also define ``fill_defaults(problem, options) -> options``: the driver calls it
    before anything else sees the options, to replace defaults that depend on the problem
    (``lm`` chooses its ``batch`` and ``iters`` there).
    """

    name: str
    options_type: type
    description: str

    def check(self, problem: Problem, options: Any) -> None:
        """Raise SearchError if this method cannot handle the problem with these options."""

    def run_task(self, task: SearchTask, should_stop: Callable[[], bool]) -> TaskResult:
        """Run one task; poll ``should_stop`` regularly and return early when it is true."""


def build_options(options_type: type, values: Mapping[str, Any]) -> Any:
    """Build a method's options dataclass from ``key=value`` pairs; unknown keys are errors.

    Strings are converted to the type of the field's default; numbers must be finite.
    """
    known = {f.name: f for f in dataclasses.fields(options_type)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise SearchError(f"unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    defaults = options_type()
    converted = {}
    for key, raw in values.items():
        default = getattr(defaults, key)
        try:
            if isinstance(default, bool):
                if isinstance(raw, bool):
                    converted[key] = raw
                elif str(raw).lower() in ("1", "true", "yes", "on"):
                    converted[key] = True
                elif str(raw).lower() in ("0", "false", "no", "off"):
                    converted[key] = False
                else:
                    raise ValueError(raw)
            elif isinstance(default, int):
                converted[key] = int(raw)
            elif isinstance(default, float):
                converted[key] = float(raw)
                if not math.isfinite(converted[key]):
                    raise ValueError(raw)
            else:
                converted[key] = raw
        except (TypeError, ValueError, OverflowError) as e:
            raise SearchError(f"option {key}={raw!r}: expected a finite {type(default).__name__}") from e
    return options_type(**converted)


def describe_options(options_type: type) -> list[tuple[str, str, str]]:
    """(name, type, default) of every option of a method, for ``--options-help``."""
    defaults = options_type()
    return [(f.name, type(getattr(defaults, f.name)).__name__, repr(getattr(defaults, f.name)))
            for f in dataclasses.fields(options_type)]
