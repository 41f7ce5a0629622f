"""Improve the catalog in rounds: a slice of search time per format above its record.

``strassen catalog improve`` is the long, resumable job that lowers the catalog's ranks: each round
gives every format whose best catalog scheme is above the best known integer rank one search of
``slice`` seconds for one rank less (``strassen search FMT --rank R-1 --start catalog:FMT``, the
pool descent by default), as its own process, so each scheme it finds records the exact command
that made it and ``catalog rebuild`` can rerun it. Every search writes into its own folder under
the work folder (``FMT_rR``); the pool descent keeps its pools there, so the next round, or a rerun
of the job after Ctrl-C or a crash, continues the pools where they stopped. A flip or cyclic walk cut short by
the end of its slice (or by Ctrl-C, or a restart of the job) leaves a checkpoint in its folder
(:mod:`discover.search.checkpoints`), and the folder's next slice goes on with that walk
(``--resume-or-start`` with its seed): slices add up to one walk of hours. Otherwise (``fresh_walks``,
or no checkpoint) the k-th slice of a folder (counted in its ledger, ``.improve-ledger``) runs
with seed + k, so rounds of the flip walk do not repeat one walk. The ledger also keeps the lowest rank the folder's walks reached, exact or
mod 2 (mod 3), read from each search's state: a walk that ends one above its target mod 2 is
closer than one that never left the catalog's rank, and ``--status`` shows which. While a slice runs,
its folder holds a mark (``.improve-running``: its process and start), so ``--status`` also shows
what a job is doing now.

A scheme is adopted into the catalog only when it is verified here again (the exact check and the
sympy proof, whatever the search did) and its rank is below the catalog's best for the format; it
is written atomically under a free name and the search goes on at once from it, one rank lower,
for the rest of its slice (the next round aims lower still); with
``additions`` moves, ``strassen optimize-additions`` then writes its fewest-additions form beside it.
The catalog files are the user's to commit, or (``commit``) committed here as they land.
"""
from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Optional, Sequence

from .catalog import best_entry, catalog_dir, list_entries
from .errors import DiscoverError, LoadError, WriteError
from .formats import Format

if TYPE_CHECKING:
    from .scheme import Scheme

DEFAULT_SLICE = 600.0
POLL_SECONDS = 0.2  # how often searches side by side are checked for their end
SEARCH_LOG = "search.log"  # a search's progress, with searches side by side
SCHEDULER_WITH_WORKERS = ("catalog improve: -j sizes each search's local pool; with --scheduler (or "
                          "DASK_SCHEDULER_ADDRESS) the cluster's workers run the searches")
FOLLOW_MIN = 5.0  # seconds: a slice's rest shorter than this is not worth a search
METHODS = ("pool", "flip", "cyclic")


@dataclass(frozen=True)
class Target:
    """A format whose catalog best (``our_rank``) is above the best known integer rank (``record``)."""

    format: str
    our_rank: int
    record: int

    @property
    def rank(self) -> int:
        """The rank the next search asks for: one below the catalog's."""
        return self.our_rank - 1


@dataclass
class SliceRun:
    """One search of a round: its target, command, exit code, seconds, and the file adopted (if any)."""

    target: Target
    argv: list[str]
    returncode: int
    seconds: float
    adopted: Optional[Path] = None
    adopted_rank: Optional[int] = None
    additions_file: Optional[Path] = None
    reached: dict[str, int] = field(default_factory=dict)
    commit: Optional[str] = None  # the commit of the adopted files (--commit)
    commit_error: Optional[str] = None  # why git refused it


@dataclass
class ImproveResult:
    """Every slice run, in order, whether Ctrl-C ended the job, and its wall-clock seconds."""

    runs: list[SliceRun] = field(default_factory=list)
    interrupted: bool = False
    wall: float = 0.0

    @property
    def improvements(self) -> list[SliceRun]:
        return [r for r in self.runs if r.adopted is not None]

    def summary(self) -> str:
        seconds = sum(r.seconds for r in self.runs)
        found = ", ".join(f"{r.target.format} {r.target.our_rank} → {r.adopted_rank}" for r in self.improvements)
        head = "interrupted" if self.interrupted else "done"
        # Searches side by side add up to more seconds than the job took: both are said.
        return (f"{head}: {len(self.runs)} search(es), {seconds:.0f} s of search in {self.wall:.0f} s, "
                + (f"{len(self.improvements)} improvement(s): {found}" if found else "no improvement"))


def targets(directory: Optional[os.PathLike | str] = None, formats: Optional[Sequence[str]] = None,
            up_to: int = 5) -> list[Target]:
    """The formats to improve, in the order of :func:`discover.best_known.table`.

    Parameters
    ----------
    directory
        The catalog folder.
    formats
        Only these formats (any orientation; each must be in the table of best known ranks). Default:
        every format of the table up to ``up_to`` whose catalog best is above the best known integer rank.
    up_to
        5 or 6: the largest dimension of the formats considered when ``formats`` is not given.

    Raises
    ------
    DiscoverError
        A format outside the table, or one the catalog has no scheme for.
    """
    from .best_known import best_known, table

    entries = list_entries(directory)
    if formats:
        records = []
        for text in formats:
            record = best_known(text)
            if record is None:
                raise DiscoverError(f"no best known rank for {text}: catalog improve takes the formats of "
                                    "`strassen catalog compare --up-to 6`")
            records.append(record)
    else:
        records = list(table(up_to))
    out: list[Target] = []
    for record in records:
        fmt = str(record.format)
        try:
            ours = best_entry(fmt, entries=entries).scheme.rank
        except LoadError:
            if formats:
                raise DiscoverError(f"the catalog has no scheme for {fmt} to start from") from None
            continue
        if ours > record.integer_rank:
            out.append(Target(fmt, ours, record.integer_rank))
    return out


def slice_workers(workers: Optional[int], parallel: int, scheduler: Optional[str] = None) -> Optional[int]:
    """The worker processes of each search: ``workers``, or with searches side by side and no
    ``workers`` given, the cores shared among them (None: the search's own default, every core; always
    None on a cluster, whose workers run the searches)."""
    if scheduler:
        return None
    if workers is None and parallel > 1:
        return max(1, (os.cpu_count() or 1) // parallel)
    return workers


def search_folder(work: Path, target: Target) -> Path:
    """The folder of ``target``'s searches under the work folder: ``FMT_rR`` (R the rank asked)."""
    return work / f"{target.format}_r{target.rank}"


def search_argv(target: Target, work: Path, slice_seconds: float, method: str, seed: int,
                workers: Optional[int], options: Sequence[str] = (), fresh_walks: bool = False,
                start: Optional[str] = None) -> list[str]:
    """The ``strassen search`` arguments of the next slice of ``target`` (without the program name).

    The search starts from ``catalog:FMT``, or from ``start`` (a scheme source, see
    :func:`check_start`).

    When the folder holds the checkpoint of a walk the last slice cut short (and not
    ``fresh_walks``), the slice goes on with that walk: its seed and ``--resume-or-start`` (a new
    search after all when the request changed, e.g. other options or another catalog scheme to
    start from). Otherwise slice k of a search folder runs with ``seed`` + k (k counted in its
    ledger): a flip walk would repeat itself every round, and each scheme still records the seed
    that makes it again.
    """
    folder = search_folder(work, target)
    walk_seed = None if fresh_walks else walk_to_continue(folder)
    argv = ["search", target.format, "--rank", str(target.rank), "--method", method,
            "--start", start or f"catalog:{target.format}",
            "--seed", str(seed + _ledger(folder)[0] if walk_seed is None else walk_seed),
            "--time-limit", f"{round(slice_seconds, 1):g}", "-o", str(folder)]
    if walk_seed is not None:
        argv.append("--resume-or-start")
    if workers is not None:
        argv += ["--workers", str(workers)]
    for option in options:
        argv += ["-O", option]
    return argv


def check_start(start: str, formats: Optional[Sequence[str]], directory: Optional[os.PathLike | str] = None) -> None:
    """Check a job's ``start`` (a scheme source every slice starts from instead of ``catalog:FMT``,
    e.g. the cube start a cyclic walk needs): it loads, and the job asks for its one format.

    Raises
    ------
    DiscoverError
        One line: the source does not load, the job has no single format, or it is another one.
    """
    from .best_known import best_known
    from .sources import load_source

    if not formats or len(formats) != 1:
        raise DiscoverError("catalog improve: --start is the start of one format's searches; "
                            "give that format alone with --formats")
    record = best_known(formats[0])
    try:
        scheme = load_source(start, directory)
    except DiscoverError as exc:
        raise DiscoverError(f"catalog improve: --start {start}: {exc}") from None
    if record is not None and str(scheme.format) != str(record.format):
        raise DiscoverError(f"catalog improve: --start {start} is a {scheme.format} scheme; the searches of "
                            f"{formats[0]} run as {record.format}")


@dataclass(frozen=True)
class FolderStatus:
    """What the slices of one search folder did: its format, the rank asked, slices, seconds, the
    lowest rank of a scheme saved there (None: none saved), and the lowest ranks its walks reached
    (:func:`reached_text`)."""

    folder: Path
    format: str
    rank: int
    slices: int
    seconds: float
    lowest_saved: Optional[int]
    reached: dict[str, int] = field(default_factory=dict)
    running_since: Optional[float] = None  # epoch seconds: a slice is running there now
    walk_flips: Optional[int] = None  # the flips of the walk(s) the next slice goes on with (their checkpoints)


def reached_text(reached: dict[str, int]) -> str:
    """``{"Z": 57, "2": 56}`` -> ``"57, 56 mod 2"``: the lowest rank reached exactly, then modulo each
    prime ("" when nothing was recorded)."""
    parts = [str(reached["Z"])] if "Z" in reached else []
    parts += [f"{rank} mod {key}" for key, rank in sorted(reached.items()) if key != "Z"]
    return ", ".join(parts)


def work_status(work: os.PathLike | str) -> list[FolderStatus]:
    """The search folders under ``work`` that slices ran in (those with a ledger) or run in now, by
    format, then rank from high to low: how long each rank has been searched, for a job that runs for days."""
    out = []
    root = Path(work)
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        fmt, _, rank_text = folder.name.rpartition("_r")
        if not fmt or not rank_text.isdigit():
            continue
        since = running_since(folder)
        if not (folder / LEDGER).is_file() and since is None:
            continue
        slices, seconds, reached = _ledger(folder)
        lowest = min((scheme.rank for scheme in _exact_schemes(folder)), default=None)
        out.append(FolderStatus(folder, fmt, int(rank_text), slices, seconds, lowest, reached, since,
                                _walk_flips(folder)))
    return sorted(out, key=lambda f: (f.format, -f.rank))


def _exact_schemes(folder: Path) -> Iterator["Scheme"]:
    """The readable schemes in ``folder`` that are exact over Z/Q (not mod-2 ones), in name order."""
    from .jsonio import load_scheme

    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            scheme = load_scheme(path)
        except DiscoverError:
            continue
        if not scheme.mod2:
            yield scheme


def lowest_verified(folder: Path, fmt: str, below: int) -> Optional["Scheme"]:
    """The lowest-rank scheme of ``fmt`` in ``folder`` (exact over Z/Q) when its rank is below ``below``,
    verified here again (exact check and sympy proof); None otherwise."""
    from .verify import verify

    canonical = Format.parse(fmt).canonical()
    best = None
    for scheme in _exact_schemes(folder):
        if scheme.format.canonical() == canonical and (best is None or scheme.rank < best.rank):
            best = scheme
    # Only a scheme that would enter the catalog is worth a proof (a slice that ends at the
    # catalog's rank saves its best, often a large scheme).
    if best is None or best.rank >= below or not verify(best).valid:
        return None
    return best


def adopt(folder: Path, target: Target, root: Path, slices: int, seconds: float) -> Optional[tuple[Path, int]]:
    """Copy the folder's lowest verified scheme into the catalog when it beats ``target.our_rank``."""
    from .jsonio import free_path, save_scheme

    scheme = lowest_verified(folder, target.format, target.our_rank)
    if scheme is None:
        return None
    dest = free_path(root, scheme)
    # The search's own provenance stays as it was; this adds the slices run in its folder (for the pool
    # descent, the searches that built the pools it came from) and their seconds.
    save_scheme(scheme, dest, improve={"slices": slices, "seconds": round(seconds, 1)})
    return dest, scheme.rank


def improve(directory: Optional[os.PathLike | str], work: Path, *, formats: Optional[Sequence[str]] = None,
            up_to: int = 5, slice_seconds: float = DEFAULT_SLICE, time_limit: Optional[float] = None,
            rounds: Optional[int] = None, method: str = "pool", seed: int = 0, workers: Optional[int] = None,
            options: Sequence[str] = (), additions: int = 0, parallel: int = 1, scheduler: Optional[str] = None,
            commit: bool = False, fresh_walks: bool = False, start: Optional[str] = None,
            on_start: Optional[Callable[[Target, list[str]], None]] = None,
            on_done: Optional[Callable[[SliceRun], None]] = None) -> ImproveResult:
    """Run rounds of searches until nothing is left to improve, ``rounds`` or ``time_limit`` run out, or Ctrl-C.

    Each search runs as ``python -m discover.cli search ...`` with ``STRASSEN_CATALOG`` set to the
    catalog folder, so ``--start catalog:FMT`` reads the scheme adopted before. ``parallel``
    searches of different formats run side by side (each with ``workers`` worker processes;
    by default the cores shared among them), and their progress goes to ``search.log`` in their
    folders; once every slice of a round has started, the next round's start as cores come free
    (a format's next slice waits for the one running). With ``scheduler`` (a Dask scheduler's
    address) every search runs its tasks on that cluster instead of a local pool
    (``DASK_SCHEDULER_ADDRESS`` in its environment, so the command each scheme records reruns on
    one machine). A slice that lowers the rank goes on from
    the new scheme, one rank lower, for the rest of its seconds (a new search, counted as one more
    run). A slice never starts once ``time_limit`` seconds have passed; the last ones are shortened
    to fit. With ``commit`` each adopted scheme, with its fewest-additions form, is committed with
    git at once, in a commit of its own (:mod:`discover.catalog_commit`); a commit git refuses is
    reported in the slice's ``commit_error`` and the job goes on. A slice goes on with the walk
    its folder's last slice cut short (:func:`search_argv`), unless ``fresh_walks``. With ``start``
    (one format only, :func:`check_start`) every search starts from that source, not the catalog's best.

    Returns
    -------
    ImproveResult
        ``interrupted`` when Ctrl-C ended it; the searches that were running save what they verified
        and anything below the catalog's rank is still adopted.
    """
    if method not in METHODS:
        raise DiscoverError(f"catalog improve: method {method!r} is not one of {', '.join(METHODS)}")
    if parallel < 1:
        raise DiscoverError(f"catalog improve: parallel={parallel}: run at least one search at a time")
    if scheduler and workers is not None:
        raise DiscoverError(SCHEDULER_WITH_WORKERS)
    if start is not None:
        check_start(start, formats, directory)
    root = catalog_dir(directory)
    work = Path(work)
    # Checked before hours of search: a scheme found then must have somewhere to go.
    if not os.access(root, os.W_OK | os.X_OK):
        raise WriteError(f"catalog improve: cannot write into the catalog folder {root}")
    if commit:
        from .catalog_commit import check_work_tree

        check_work_tree(root)
    try:
        work.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(f"catalog improve: cannot make the work folder {work}: {exc.strerror or exc}") from None
    if not os.access(work, os.W_OK | os.X_OK):
        raise WriteError(f"catalog improve: cannot write into the work folder {work}")
    workers = slice_workers(workers, parallel, scheduler)
    env = {**os.environ, "STRASSEN_CATALOG": str(root.resolve())}
    # The search reads the address from its environment: set it for a cluster, and clear one the
    # caller's shell may hold when the searches are to run here (a search refuses --workers with it).
    env.pop("DASK_SCHEDULER_ADDRESS", None)
    if scheduler:
        env["DASK_SCHEDULER_ADDRESS"] = scheduler
    result = ImproveResult()
    t0 = time.monotonic()
    # (format, seconds) of the slices not started yet: a round's formats, a follow-on first. The
    # target is read from the catalog when the slice starts (a search of the format may have lowered it).
    queue: list[tuple[str, float]] = []
    running: list[_Running] = []

    def seconds_left() -> Optional[float]:
        return None if time_limit is None else time_limit - (time.monotonic() - t0)

    def finish(ended: _Running, code: int) -> None:
        run = _finish(ended, code, work, root, env, seed=seed, additions=0 if result.interrupted else additions,
                      commit=commit)
        result.runs.append(run)
        if on_done is not None:
            on_done(run)
        if result.interrupted:
            return
        # A slice that lowered the rank goes on from the new scheme for the rest of its time: a walk
        # that just found a lower rank often finds the next one within seconds (5x6x6 136 -> 135).
        rest = ended.seconds - run.seconds
        if run.adopted is not None and rest >= FOLLOW_MIN:
            queue.insert(0, (run.target.format, rest))

    def next_startable() -> Optional[tuple[Target, float]]:
        """The first queued slice whose format is not being searched now (taken off the queue), with its
        target as the catalog stands; None when every queued format is running."""
        busy = {r.target.format for r in running}
        i = 0
        while i < len(queue):
            fmt, seconds = queue[i]
            if fmt in busy:
                i += 1
                continue
            del queue[i]
            fresh = targets(root, [fmt], up_to)
            if fresh:
                return fresh[0], seconds
            # at its record now: dropped, look further
        return None

    started_rounds = 0
    try:
        while True:
            # A new round is queued as soon as the last one's slices have all started, so no core waits
            # for the slowest search of a round.
            if not queue and (rounds is None or started_rounds < rounds):
                todo = targets(root, formats, up_to)
                if todo:
                    queue.extend((target.format, slice_seconds) for target in todo)
                    started_rounds += 1
            left = seconds_left()
            out_of_time = left is not None and left < 1
            while len(running) < parallel and not out_of_time:
                startable = next_startable()
                if startable is None:
                    break
                target, seconds = startable
                seconds = seconds if left is None else min(seconds, left)
                running.append(_launch(target, seconds, work, env, method=method, seed=seed, workers=workers,
                                       options=options, to_log=parallel > 1, fresh_walks=fresh_walks,
                                       start=start, on_start=on_start))
            if not running:
                return result  # nothing left to improve, the rounds or the time are used up
            for done in _wait_any(running):
                running.remove(done)
                finish(done, done.proc.returncode)
    except KeyboardInterrupt:
        result.interrupted = True
        for running_one, code in _stop_all(running):
            finish(running_one, code)
        return result
    except DiscoverError:
        # A search refused its arguments: the others side by side must not run on alone, nor their
        # running marks stay behind (--status would skip them, but the files would remain).
        for stopped, _ in _stop_all(running):
            (search_folder(work, stopped.target) / RUNNING).unlink(missing_ok=True)
        raise
    finally:
        result.wall = time.monotonic() - t0


@dataclass
class _Running:
    """A search slice under way: what it searches, its command, its process, when it started, its seconds."""

    target: Target
    argv: list[str]
    proc: "subprocess.Popen[bytes]"
    started: float
    seconds: float
    ended: Optional[float] = None  # when its end was seen (finishing the one before may take a while)
    log: Optional[Path] = None  # where its stderr goes (searches side by side); None: the job's stderr


def _launch(target: Target, seconds: float, work: Path, env: dict, *, method: str, seed: int,
            workers: Optional[int], options: Sequence[str], to_log: bool, fresh_walks: bool, start: Optional[str],
            on_start: Optional[Callable[[Target, list[str]], None]]) -> _Running:
    """Start one search slice of ``target`` as its own process (stderr into its folder's log with ``to_log``)."""
    argv = search_argv(target, work, seconds, method, seed, workers, options, fresh_walks, start)
    if on_start is not None:
        on_start(target, argv)
    stderr = log = None
    folder = search_folder(work, target)
    folder.mkdir(parents=True, exist_ok=True)
    if to_log:  # searches side by side: their progress lines would interleave on one terminal
        log = folder / SEARCH_LOG
        stderr = open(log, "ab")
    try:
        # Its own session: Ctrl-C (or SIGTERM) reaches this process alone, which passes one SIGTERM on
        # (SIGINT may be ignored in a job started with nohup; SIGTERM never is).
        proc = subprocess.Popen([sys.executable, "-m", "discover.cli", *argv], env=env,
                                stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
    finally:
        if stderr is not None:
            stderr.close()  # the child holds its own copy
    _mark_running(folder, proc.pid, seconds)
    return _Running(target, argv, proc, time.monotonic(), seconds, log=log)


def _wait_any(running: list[_Running]) -> list[_Running]:
    """Wait until at least one of the running searches has ended; return those that have."""
    if len(running) == 1:
        running[0].proc.wait()
    else:
        while not any(r.proc.poll() is not None for r in running):
            time.sleep(POLL_SECONDS)
    now = time.monotonic()
    ended = [r for r in running if r.proc.poll() is not None]
    for r in ended:
        r.ended = now
    return ended


def _finish(running: _Running, code: int, work: Path, root: Path, env: dict, *, seed: int,
            additions: int, commit: bool = False) -> SliceRun:
    """Count an ended slice into its folder's ledger and adopt what it found below the catalog's rank."""
    took = (running.ended if running.ended is not None else time.monotonic()) - running.started
    target = running.target
    folder = search_folder(work, target)
    (folder / RUNNING).unlink(missing_ok=True)  # also when it refused its arguments
    if code == 2:
        where = "above" if running.log is None else f"in {running.log}"
        raise DiscoverError(f"catalog improve: the search for {target.format} refused its arguments "
                            f"(exit 2, its message is {where})")
    reached = _reached_by_search(folder)
    slices, total = _add_slice(folder, took, reached)
    run = SliceRun(target, running.argv, code, round(took, 1), reached=reached)
    adopted = adopt(folder, target, root, slices, total)
    if adopted is not None:
        run.adopted, run.adopted_rank = adopted
        if additions:
            run.additions_file = _fewer_additions(run.adopted, root, additions, seed, env)
        if commit:
            from .catalog_commit import commit_files, commit_message

            files = [f for f in (run.adopted, run.additions_file) if f is not None]
            try:
                run.commit = commit_files(root, files, commit_message(run.adopted, target.our_rank))
            except DiscoverError as exc:  # the files stay in the catalog; the user commits them
                run.commit_error = str(exc)
    return run


def _stop_all(running: list[_Running]) -> list[tuple[_Running, int]]:
    """Stop the running searches: SIGTERM asks each to stop cleanly (it saves what it verified); a
    second Ctrl-C sends another, so they stop at once. Returns each with its exit code."""
    for r in running:
        r.proc.send_signal(signal.SIGTERM)
    out = []
    for r in running:
        try:
            code = r.proc.wait()
        except KeyboardInterrupt:
            for other in running:
                if other.proc.poll() is None:
                    other.proc.send_signal(signal.SIGTERM)
            code = r.proc.wait()
        r.ended = time.monotonic()
        out.append((r, code))
    return out


def _fewer_additions(path: Path, root: Path, moves: int, seed: int, env: dict) -> Optional[Path]:
    """``strassen optimize-additions`` of a new catalog file, written beside it; the file it wrote, or None.

    Its own process, so the form records its command as every catalog file does; the catalog
    keeps both (the lowest rank first, then the fewest additions: :func:`discover.catalog.quality_key`).
    """
    before = set(root.glob(f"{path.name.split('_r')[0]}_r*.json"))
    code = subprocess.run([sys.executable, "-m", "discover.cli", "optimize-additions", str(path), "--iterations",
                           str(moves), "--seed", str(seed), "-o", str(root), "-q"], env=env,
                          stdout=subprocess.DEVNULL, start_new_session=True).returncode
    new = sorted(set(root.glob(f"{path.name.split('_r')[0]}_r*.json")) - before)
    return new[0] if code == 0 and new else None


LEDGER = ".improve-ledger"
RUNNING = ".improve-running"  # a slice under way: its process and start, for --status while the job runs


def _mark_running(folder: Path, pid: int, seconds: float) -> None:
    import json

    from .jsonio import atomic_write_text

    try:
        atomic_write_text(folder / RUNNING, json.dumps({"pid": pid, "started": time.time(), "seconds": seconds}) + "\n")
    except OSError:
        pass  # only --status reads it: a full disk must not leave the search just started running untracked


def running_since(folder: Path) -> Optional[float]:
    """When the slice running in ``folder`` started (epoch seconds), or None: no slice, or its process
    is gone (a job killed outright leaves the mark behind)."""
    doc = _read_json(folder / RUNNING)
    try:
        pid, started = int(doc["pid"]), float(doc["started"])
    except (KeyError, TypeError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, another user's
    return started


def _read_json(path: Path) -> dict:
    """A small JSON object written by this job or a search; {} when missing or unreadable."""
    import json

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _ledger(folder: Path) -> tuple[int, float, dict[str, int]]:
    """(slices, seconds, reached) of a search folder, from one read of its ledger: the slices already
    run and their seconds ((0, 0.0) for a new folder), and the lowest ranks its walks reached (``"Z"``:
    exact; ``"2"``, ``"3"``: mod that prime; none in ledgers written before it was kept)."""
    doc = _read_json(folder / LEDGER)
    try:
        slices, seconds = int(doc["slices"]), float(doc["seconds"])
    except (KeyError, TypeError, ValueError):
        slices, seconds = 0, 0.0
    reached = doc.get("reached")
    if not isinstance(reached, dict):
        return slices, seconds, {}
    return slices, seconds, {str(k): int(v) for k, v in reached.items() if isinstance(v, int) and not isinstance(v, bool)}


def walk_to_continue(folder: Path) -> Optional[int]:
    """The seed of the walk a slice cut short in ``folder`` (it left a checkpoint there), or None."""
    from .search.checkpoints import holds_checkpoint
    from .search.state import STATE_FILE

    if not holds_checkpoint(folder):
        return None
    seed = _read_json(folder / STATE_FILE).get("request", {}).get("seed")
    return seed if isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0 else None


def _walk_flips(folder: Path) -> Optional[int]:
    """The flips of the walks cut short in ``folder`` (summed over their checkpoints), or None."""
    from .errors import SearchError
    from .search import checkpoints

    try:
        held = checkpoints.load_all(folder)
    except (SearchError, OSError):
        return None
    return sum(int(c["arrays"]["stats"][0]) for c in held.values() if "stats" in c["arrays"]) if held else None


def _reached_by_search(folder: Path) -> dict[str, int]:
    """What the folder's last search reached, from its state file (see :mod:`discover.search.state`)."""
    from .search.state import STATE_FILE

    doc = _read_json(folder / STATE_FILE)
    out = {}
    if isinstance(doc.get("best_rank"), int):
        out["Z"] = doc["best_rank"]
    if isinstance(doc.get("best_rank_mod2"), int):
        out[str(doc.get("best_rank_modulus") or 2)] = doc["best_rank_mod2"]
    return out


def _add_slice(folder: Path, seconds: float, reached: Optional[dict[str, int]] = None) -> tuple[int, float]:
    """Count one more slice into the folder's ledger (kept there, so a rerun of the job adds to it),
    with the lowest ranks its walk reached."""
    import json

    from .jsonio import atomic_write_text

    slices, total, lowest = _ledger(folder)
    slices, total = slices + 1, total + seconds
    for key, rank in (reached or {}).items():
        lowest[key] = min(rank, lowest.get(key, rank))
    doc = {"slices": slices, "seconds": round(total, 1)}
    if lowest:
        doc["reached"] = lowest
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / LEDGER, json.dumps(doc) + "\n")
    return slices, total


def command_text(argv: Sequence[str]) -> str:
    """The slice's command as a user would type it."""
    return "strassen " + " ".join(shlex.quote(a) for a in argv)
