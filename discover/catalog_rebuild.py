"""Rerun the recorded steps of a catalog entry and check that they reach its rank within their budget.

The chain of steps (:func:`discover.catalog_steps.recorded_chain`) is rerun in order, each step
as the ``strassen`` command it was, in its own process, writing into its own folder; a step that
started from the previous catalog file starts from the previous step's new output instead (a
composition that no longer gives the recorded scheme, because the catalog has grown since, is
replaced by the recorded file: the searches after it walked from that one). The
rebuild succeeds when the last step reaches the entry's rank (or lower) and the searches together
took no longer than their recorded time limits (their own clocks: the ``wall_time`` stamped in
the schemes they wrote, so process start-up and the final proof do not count).
"""
from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from .catalog import CatalogEntry
from .catalog_compare import format_seconds
from .catalog_steps import Chain, RecordedStep, find_start, is_file_source, record_seconds, recorded_chain
from .errors import DiscoverError
from .jsonio import load_scheme
from .provenance import scheme_provenance
from .scheme import Scheme
from .sources import map_leaves


@dataclass(frozen=True)
class StepRun:
    """One rerun step: the command run, what it wrote and how long it took."""

    step: RecordedStep
    argv: tuple[str, ...]
    returncode: int
    scheme: Optional[Scheme]
    path: Optional[Path]
    process_time: float
    note: str = ""  # e.g. why the next step starts from the recorded file instead of this output

    @property
    def rank(self) -> Optional[int]:
        return self.scheme.rank if self.scheme is not None else None

    @property
    def reached(self) -> bool:
        """The step wrote a scheme at the recorded step's rank or lower."""
        return self.rank is not None and self.rank <= self.step.entry.scheme.rank

    @property
    def search_time(self) -> Optional[float]:
        """The search's own time until its scheme was verified (None for untimed steps)."""
        if not self.step.timed or self.scheme is None:
            return None
        return record_seconds(scheme_provenance(self.scheme).get("wall_time"))


@dataclass
class RebuildResult:
    """The outcome of :func:`rebuild`."""

    target: CatalogEntry
    chain: Chain
    runs: list[StepRun] = field(default_factory=list)

    @property
    def rank(self) -> Optional[int]:
        """The rank the last step reached (None when a step wrote nothing)."""
        return self.runs[-1].rank if self.runs and len(self.runs) == len(self.chain.steps) else None

    @property
    def reached(self) -> bool:
        return len(self.runs) == len(self.chain.steps) and all(r.reached for r in self.runs)

    @property
    def search_time(self) -> float:
        """Seconds of all timed steps that ran (a step without a stamped time counts its process time)."""
        return round(sum(r.search_time if r.search_time is not None else r.process_time
                         for r in self.runs if r.step.timed), 3)

    @property
    def budget(self) -> Optional[float]:
        return self.chain.budget

    @property
    def within_budget(self) -> bool:
        return self.budget is None or self.search_time <= self.budget

    @property
    def ok(self) -> bool:
        return self.reached and self.within_budget

    def summary(self) -> str:
        """``rebuilt 3x4x5: reached rank 48 in 5.9 s (budget 90 s; catalog: rank 48, 3 steps)``."""
        fmt, want = self.target.scheme.format, self.target.scheme.rank
        budget = "no recorded budget" if self.budget is None else f"budget {format_seconds(self.budget)}"
        tail = f"catalog: rank {want}, {len(self.chain.steps)} step{'s' if len(self.chain.steps) != 1 else ''}"
        spent = format_seconds(self.search_time)
        if self.ok:
            return f"rebuilt {fmt}: reached rank {self.rank} in {spent} ({budget}; {tail})"
        if self.reached:
            return f"rebuild of {fmt}: reached rank {self.rank} in {spent}, over the {budget} ({tail})"
        got = "nothing" if not self.runs or self.runs[-1].rank is None else f"rank {self.runs[-1].rank}"
        return (f"rebuild of {fmt}: did not reach rank {want}: step {len(self.runs)} of {len(self.chain.steps)} "
                f"got {got} in {spent} ({budget}; {tail})")


# ---------------------------------------------------------------------- recorded arguments
def resolve_catalog_paths(argv: Sequence[str], root: Path) -> list[str]:
    """Recorded commands name catalog files as ``algorithms/...`` (relative to the repository):
    point those at the catalog actually in use, so a rebuild works from any folder."""
    result = []
    for arg in argv:
        if (arg == "algorithms" or arg.startswith("algorithms/")) and not Path(arg).exists():
            arg = str(root / arg[len("algorithms"):].lstrip("/")) if arg != "algorithms" else str(root)
        result.append(arg)
    return result


def upgrade_recorded_options(argv: Sequence[str]) -> list[str]:
    """Commands recorded by version 0.1 passed search method options as ``-o KEY=VALUE``;
    ``-o`` now names the output everywhere and method options are ``-O KEY=VALUE``."""
    if list(argv[:1]) != ["search"]:
        return list(argv)
    return ["-O" if a == "-o" and i + 1 < len(argv) and "=" in argv[i + 1] else a for i, a in enumerate(argv)]


def stop_at_recorded_task(argv: Sequence[str], found: Scheme) -> list[str]:
    """A search that collected schemes (``--all``) reruns only up to the task that found ``found``.

    Each restart walks from its own child seed, so ``--restarts`` = the recorded restart's index + 1
    runs the restarts up to the recorded one and none after it (the recorded scheme again when the
    time limit lets that restart run; :func:`_written` then picks it). A recorded ``--restarts``
    above that is lowered to it (a search stopped by hand after restart 3 of ``--restarts 2000``
    reruns 4 restarts, not 2000); one at or below it is kept. Other commands are unchanged.
    """
    result = list(argv)
    restart = scheme_provenance(found).get("restart")
    if result[:1] != ["search"] or "--all" not in result or not isinstance(restart, int):
        return result
    needed = restart + 1
    for i, a in enumerate(result):
        if a == "--restarts" and i + 1 < len(result) and result[i + 1].isdigit():
            result[i + 1] = str(min(int(result[i + 1]), needed))
            return result
        if a.startswith("--restarts=") and a.partition("=")[2].isdigit():
            result[i] = f"--restarts={min(int(a.partition('=')[2]), needed)}"
            return result
        if a == "--restarts" or a.startswith("--restarts="):
            return result  # not a count: the rerun reports it as the search would
    return result + ["--restarts", str(needed)]


def replay_recorded_lift(argv: Sequence[str], found: Scheme) -> list[str]:
    """A walk mod p (GF(2)/GF(3) runners, the cyclic walk mod 2) that recorded where it lifted
    ``found`` makes that lift again.

    Without a flip budget the clock picks which of a walk's schemes get lifted, so a rerun on a
    busier machine could skip the one lift that landed. The walk itself replays from the seed, and
    a lift's outcome depends only on the scheme, so ``-O replay_lift=FLIPS:RUNNER:WHICH`` (the
    recorded ``lift_point``; ``-O replay_lift=FLIPS`` for the cyclic walk) makes the rerun lift it
    whatever its lift budget says.
    """
    result = list(argv)
    info = scheme_provenance(found).get("info")
    point = info.get("lift_point") if isinstance(info, dict) else None
    if result[:1] != ["search"] or not isinstance(point, dict) or not isinstance(point.get("flips"), int):
        return result
    if any("replay_lift=" in arg for arg in result):
        return result
    if "runner" not in point:  # the cyclic walk: one walk, a lift after a flip count
        return result + ["-O", f"replay_lift={point['flips']}"]
    if point.get("scheme") not in ("best", "current"):  # "start": the start itself lifted
        return result
    return result + ["-O", f"replay_lift={point['flips']}:{point.get('runner')}:{point.get('scheme')}"]


def redirect_output(argv: Sequence[str], out_dir: Path) -> list[str]:
    """Point the rerun's ``--out``/``-o`` into ``out_dir``, so the catalog itself is never overwritten."""
    result = list(argv)
    for flag in ("--out", "-o"):
        if flag in result and result.index(flag) + 1 < len(result):
            i = result.index(flag)
            old = Path(result[i + 1])
            result[i + 1] = str(out_dir / old.name) if old.suffix == ".json" else str(out_dir)
            return result
    return result + ["--out", str(out_dir)]


def replace_start(argv: Sequence[str], start: str) -> list[str]:
    """The command with the scheme it starts from replaced (``--start X`` or the first argument)."""
    result = list(argv)
    if result[:1] == ["search"]:
        for i, arg in enumerate(result):
            if arg == "--start" and i + 1 < len(result):
                result[i + 1] = start
            elif arg.startswith("--start="):
                result[i] = "--start=" + start
        return result
    if len(result) > 1:
        result[1] = start
    return result


def _written(out_dir: Path, like: Scheme) -> tuple[Optional[Scheme], Optional[Path]]:
    """The lowest-rank scheme a step wrote for the entry's format and kind (real or mod 2).

    A step that wrote several at that rank (a search with ``--all``) gives the recorded scheme
    itself when it is among them, else the one from the recorded task (``task_index``,
    ``sub_index``), so the next step continues from the scheme the chain continued from.
    """
    found = []
    for path in sorted(out_dir.glob("*.json")):
        try:
            scheme = load_scheme(path)
        except DiscoverError:
            continue
        if scheme.format.canonical() == like.format.canonical() and scheme.mod2 == like.mod2:
            found.append((scheme.rank, str(path), scheme, path))
    if not found:
        return None, None
    lowest = min(rank for rank, *_ in found)
    at_lowest = sorted((item for item in found if item[0] == lowest), key=lambda item: item[1])
    _, _, scheme, path = min(at_lowest, key=lambda item: (not _same(item[2], like), _task(item[2]) != _task(like)))
    return scheme, path


def _task(scheme: Scheme) -> Optional[tuple[Any, Any]]:
    """The search task that found a scheme (``task_index``, ``sub_index``), when recorded."""
    prov = scheme_provenance(scheme)
    return (prov["task_index"], prov.get("sub_index")) if "task_index" in prov else None


def _same(a: Scheme, b: Scheme) -> bool:
    return a.format == b.format and a.rank == b.rank and a.same_coefficients(b)


def _recipe(scheme: Scheme) -> Optional[str]:
    return scheme_provenance(scheme).get("recipe") or scheme.name


# ---------------------------------------------------------------------- rerun
def rebuild(target: CatalogEntry, entries: Sequence[CatalogEntry], root: Path, out_dir: Path, *,
            last_step_only: bool = False, on_step: Optional[Callable[[int, int, list[str]], None]] = None,
            on_done: Optional[Callable[[StepRun], None]] = None) -> RebuildResult:
    """Rerun the recorded chain of ``target`` (or only its last step) into ``out_dir``.

    Parameters
    ----------
    target
        The catalog entry to rebuild.
    entries, root
        The catalog's entries and folder (to follow the recorded starts).
    out_dir
        Where the steps write (``step-1/``, ``step-2/``, ...).
    last_step_only
        Rerun only the last step, from the catalog file it started from.
    on_step, on_done
        Called before each step (index from 1, count, arguments) and after it.

    Returns
    -------
    RebuildResult
        Stops at the first step that fails to reach its recorded rank.

    Raises
    ------
    DiscoverError
        When the entry records no ``strassen`` command to rerun.
    """
    chain = recorded_chain(target, entries, root)
    if last_step_only:
        chain = Chain(chain.steps[-1:], chain.complete and len(chain.steps) == 1)
    for step in chain.steps:
        if not step.argv:
            raise DiscoverError(f"{Path(step.entry.path).name} records no strassen command to rerun")
    result = RebuildResult(target, chain)
    previous: Optional[Path] = None
    for index, step in enumerate(chain.steps, start=1):
        argv = stop_at_recorded_task(upgrade_recorded_options(resolve_catalog_paths(step.argv, root)),
                                     step.entry.scheme)
        argv = replay_recorded_lift(argv, step.entry.scheme)
        if step.start is not None:
            if previous is not None:
                argv = replace_start(argv, str(previous))
            else:
                # A recorded catalog file (or the one an extend:NxMxP:FILE start extended), wherever
                # the catalog is now.
                # Every catalog file a recorded start names (also inside a product) is read from
                # the catalog in use.
                def in_catalog(leaf: str) -> str:
                    origin = find_start(leaf, entries, root) if is_file_source(leaf) else None
                    return str(origin.path) if origin is not None else leaf

                moved = map_leaves(step.start, in_catalog)
                if moved != step.start:
                    argv = replace_start(argv, moved)
        step_dir = Path(out_dir) / f"step-{index}"
        step_dir.mkdir(parents=True, exist_ok=True)
        argv = redirect_output(argv, step_dir)
        if on_step is not None:
            on_step(index, len(chain.steps), argv)
        t0 = time.perf_counter()
        # Each recorded command runs as it ran the first time: as its own process.
        code = subprocess.run([sys.executable, "-m", "discover.cli", *argv], stdout=subprocess.DEVNULL).returncode
        elapsed = round(time.perf_counter() - t0, 3)
        scheme, path = _written(step_dir, step.entry.scheme)
        note = ""
        if argv[:2] == ["catalog", "compose"] and scheme is not None and not _same(scheme, step.entry.scheme):
            # A composition takes the best schemes the catalog holds *now*; once the catalog has
            # grown it composes something else, and the searches after it would walk from another
            # start. The recorded composition (a verified catalog file) is what they started from.
            note = (f"the catalog now composes {_recipe(scheme)} (rank {scheme.rank}); the next step starts from "
                    f"the recorded {_recipe(step.entry.scheme)} (rank {step.entry.scheme.rank}), as it did")
            scheme, path = step.entry.scheme, Path(step.entry.path)
        run = StepRun(step, tuple(argv), code, scheme, path, elapsed, note)
        result.runs.append(run)
        if on_done is not None:
            on_done(run)
        if not run.reached:
            break
        previous = path
    return result
