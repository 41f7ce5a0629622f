"""The recorded steps behind a catalog entry: which commands made it, how long they took, on what.

Every catalog file records the ``strassen`` command that wrote it. A search that started from
another catalog file names it (``--start FILE``), and so do ``optimize-additions FILE`` and
``ternarize FILE``; following those names back gives the *chain* of steps from the origin (a
search from the naive scheme, or a composition of smaller catalog schemes) to the entry. ``catalog compare`` reports the chain's
methods and total search time, and ``catalog rebuild`` reruns it (:mod:`discover.catalog_rebuild`).
"""
from __future__ import annotations

import math
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

from .catalog import CatalogEntry
from .provenance import scheme_provenance
from .sources import peel_meta_source, split_meta_source

#: Commands whose first argument after the command name is the scheme they start from.
_STARTS_FROM_ARGUMENT = {"optimize-additions", "ternarize"}


@dataclass(frozen=True)
class RecordedStep:
    """One catalog file and the command that made it.

    Attributes
    ----------
    entry : CatalogEntry
        The file the step wrote.
    argv : list of str
        The recorded command without the leading ``strassen`` (empty when none is recorded).
    start : str or None
        The scheme the step started from, as recorded (a path, or a source such as ``naive:2x2x3``).
    method : str or None
        ``flip``, ``pool``, ``lm``, ..., ``compose``, ``optimize-additions``, or ``published``.
    wall_time : float or None
        Seconds the search took until this scheme was verified (its own clock; None if not recorded).
    budget : float or None
        The step's time limit in seconds (``--time-limit`` or the recorded ``time_limit``).
    workers : int or None
        Worker processes of the search, when recorded.
    cores : int or None
        CPU cores of the machine that ran it, when recorded.
    """

    entry: CatalogEntry
    argv: tuple[str, ...]
    start: Optional[str]
    method: Optional[str]
    wall_time: Optional[float]
    budget: Optional[float]
    workers: Optional[int]
    cores: Optional[int]

    @property
    def command(self) -> str:
        return " ".join(["strassen", *map(shlex.quote, self.argv)]) if self.argv else ""

    @property
    def timed(self) -> bool:
        """A search (its time counts against the budget); compositions and rewrites are not timed."""
        return bool(self.argv[:1] == ("search",))


@dataclass(frozen=True)
class Chain:
    """The steps from the origin to an entry (origin first).

    ``complete`` is False when a step starts from a file that is not in the catalog (then the
    chain begins at that step and its start is taken as it stands).
    """

    steps: tuple[RecordedStep, ...]
    complete: bool

    @property
    def wall_time(self) -> Optional[float]:
        """Total search seconds of the timed steps (None when one of them has no time recorded)."""
        times = [s.wall_time for s in self.steps if s.timed]
        if not times or any(t is None for t in times):
            return None
        return round(sum(times), 3)  # type: ignore[arg-type]

    @property
    def budget(self) -> Optional[float]:
        """Total time limit of the timed steps (None when one of them has none recorded)."""
        budgets = [s.budget for s in self.steps if s.timed]
        if not budgets or any(b is None for b in budgets):
            return None
        return round(sum(budgets), 3)  # type: ignore[arg-type]

    @property
    def workers(self) -> Optional[int]:
        """Most worker processes of a timed step (the ones the search time is about)."""
        return max((s.workers for s in self.steps if s.timed and s.workers is not None), default=None)

    @property
    def cores(self) -> Optional[int]:
        """Most cores of a machine that ran a timed step."""
        return max((s.cores for s in self.steps if s.timed and s.cores is not None), default=None)

    @property
    def methods(self) -> Optional[str]:
        """``compose → flip ×2``: the methods in order, repeats counted."""
        runs: list[list[Any]] = []
        for step in self.steps:
            if step.method is None:
                continue
            if runs and runs[-1][0] == step.method:
                runs[-1][1] += 1
            else:
                runs.append([step.method, 1])
        return " → ".join(m if k == 1 else f"{m} ×{k}" for m, k in runs) or None


def record_seconds(value: Any) -> Optional[float]:
    """A finite number of seconds from a record, or None (the files may be anyone's)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer beyond floats
        return None
    return number if math.isfinite(number) and number >= 0 else None


def _option(argv: Sequence[str], name: str) -> Optional[str]:
    """The value of ``--name VALUE`` or ``--name=VALUE`` (the last one given)."""
    found = None
    for i, arg in enumerate(argv):
        if arg == name and i + 1 < len(argv):
            found = argv[i + 1]
        elif arg.startswith(name + "="):
            found = arg[len(name) + 1:]
    return found


def parse_command(command: Any) -> tuple[str, ...]:
    """The recorded command's arguments after ``strassen`` (empty when there is none or it is not ours)."""
    if not isinstance(command, str):
        return ()
    try:
        argv = shlex.split(command)
    except ValueError:
        return ()
    return tuple(argv[1:]) if argv[:1] == ["strassen"] else ()


def start_argument(argv: Sequence[str]) -> Optional[str]:
    """The scheme a recorded command starts from, as written in it (None: it starts from nothing)."""
    if tuple(argv[:1]) == ("search",):
        return _option(argv, "--start")
    if argv and argv[0] in _STARTS_FROM_ARGUMENT and len(argv) > 1:
        return argv[1]
    return None


def recorded_step(entry: CatalogEntry) -> RecordedStep:
    """What the entry's provenance says about the step that made it."""
    prov = scheme_provenance(entry.scheme)
    argv = parse_command(prov.get("command"))
    if prov.get("source"):
        method: Optional[str] = "published"
    elif prov.get("method"):
        method = str(prov["method"])
    else:
        method = "compose" if prov.get("composed") else None
    budget = record_seconds(prov.get("time_limit"))
    if budget is None and argv[:1] == ("search",):
        budget = record_seconds(_safe_float(_option(argv, "--time-limit")))
    env = prov.get("environment") if isinstance(prov.get("environment"), dict) else {}
    workers, cores = prov.get("workers"), env.get("cores")
    return RecordedStep(
        entry=entry,
        argv=argv,
        start=_resolved_start(start_argument(argv), prov),
        method=method,
        wall_time=record_seconds(prov.get("wall_time")),
        budget=budget,
        workers=workers if isinstance(workers, int) and not isinstance(workers, bool) else None,
        cores=cores if isinstance(cores, int) and not isinstance(cores, bool) else None,
    )


def _resolved_start(start: Optional[str], prov: dict) -> Optional[str]:
    """A recorded ``catalog:NxMxP`` start names the file the search recorded it read (``start_file``);
    so does the inner source of a meta move, ``extend:NxMxP:catalog:SMALLER``; a start that read the
    catalog deeper inside is recorded whole with those files pinned (``start_pinned``)."""
    if start is not None and isinstance(prov.get("start_pinned"), str):
        return prov["start_pinned"]
    if start is None or not isinstance(prov.get("start_file"), str):
        return start
    if start.startswith("catalog:"):
        return prov["start_file"]
    meta = split_meta_source(start)
    if meta is not None and meta[1].startswith("catalog:"):
        return meta[0] + prov["start_file"]
    return start


def _safe_float(text: Optional[str]) -> Optional[float]:
    try:
        return float(text) if text is not None else None
    except (ValueError, OverflowError):
        return None


def is_file_source(start: str) -> bool:
    """Whether a recorded start names a scheme file (not naive:FMT, catalog:FMT, a built-in name, or a
    meta move of a file: that start is the origin of its chain)."""
    return Path(start).suffix == ".json" and split_meta_source(start) is None


def find_start(start: str, entries: Sequence[CatalogEntry], root: Path) -> Optional[CatalogEntry]:
    """The catalog entry a recorded start file names, or None.

    Recorded commands name catalog files relative to the repository (``algorithms/NAME.json``)
    or wherever the run wrote them; the file name decides, and among files of the same name
    in subfolders, the one at the same place under the catalog.
    """
    if not is_file_source(start):
        return None
    by_name = [e for e in entries if Path(e.path).name == Path(start).name]
    if len(by_name) > 1:
        tail = Path(*Path(start).parts[1:]) if len(Path(start).parts) > 1 else Path(start)
        same_place = [e for e in by_name if Path(e.path).resolve() == (root / tail).resolve()]
        by_name = same_place or by_name
    return by_name[0] if by_name else None


def recorded_chain(entry: CatalogEntry, entries: Sequence[CatalogEntry], root: Path) -> Chain:
    """Follow the recorded starts back from ``entry`` to the origin (see module docstring)."""
    steps = [recorded_step(entry)]
    seen = {Path(entry.path)}
    complete = True
    while steps[0].start is not None:
        previous = find_start(steps[0].start, entries, root)
        if previous is None:
            # naive:FMT and built-in names are origins; a file outside the catalog, or catalog:FMT
            # (whatever the catalog held then), cannot be followed.
            # A meta move (extend:NxMxP:SOURCE) is an origin when its inner source can be found again.
            origin = peel_meta_source(steps[0].start)[1]
            complete = not origin.startswith("catalog:") and not (
                is_file_source(origin) and find_start(origin, entries, root) is None)
            break
        if Path(previous.path) in seen:  # a loop in the records: stop rather than spin
            complete = False
            break
        seen.add(Path(previous.path))
        steps.insert(0, recorded_step(previous))
    return Chain(tuple(steps), complete)
