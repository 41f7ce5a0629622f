"""``strassen search``: translate the command line into one call of :func:`discover.search.search`."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import click

from ..errors import ClusterError
from ..formulas import scheme_formulas
from ..jsonio import scheme_to_dict
from ..rings import RING_NAMES
from .progress_option import progress_plot_option, write_progress_plot
from .common import EXIT_INTERRUPTED, EXIT_NOT_FOUND, SCHEME, cluster_scheduler, echo_json, fail, info, json_option, out_option, \
    quiet_option

if TYPE_CHECKING:  # the search driver is loaded when a search runs; this is only an annotation
    from ..search.collector import SearchResult


def _parse_options(pairs: tuple[str, ...]) -> dict[str, str]:
    values = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            fail(f"--option {pair!r}: expected KEY=VALUE")
        values[key.strip()] = value.strip()
    return values


def _failure_words(result: SearchResult) -> str:
    """': 21340 no ±1 signs on the support (mod 4)': the failed lifts by reason, when known."""
    from ..flip.liftfailures import LIFT_FAILURES

    kinds = result.lift_failure_kinds
    parts = [f"{kinds[key]} {words}" for key, words in LIFT_FAILURES.items() if kinds.get(key)]
    return ": " + ", ".join(parts) if parts else ""


def _print_options_help(method: Optional[str]) -> None:
    from ..search.contract import describe_options
    from ..search.registry import get_method, method_names

    for name in ([method] if method else method_names()):
        m = get_method(name)
        click.echo(f"{m.name}: {m.description}")
        for option, kind, default in describe_options(m.options_type):
            click.echo(f"  -O {option}=<{kind}>  (default {default})")


@click.command("search")
@click.argument("format")
@click.option("--rank", "-r", type=int, default=None, help="Number of products to look for (required).")
@click.option("--method", "-m", default=None,
              help="Search method (lm, adam, sgd, flip, pool, cyclic). Default: lm for 2x2x2 and --ring Q, "
                   "flip for larger formats: see strassen bench search.")
@click.option("--ring", type=click.Choice(RING_NAMES, case_sensitive=False), default="ZT", show_default=True,
              help="Coefficients searched: ZT {-1,0,1}, Z integers up to --bound, Q halves {0,±1/2,±1,±2}, Z2 mod 2.")
@click.option("--bound", type=int, default=2, show_default=True, help="Largest |coefficient| for --ring Z (and Q).")
@click.option("--seed", type=int, default=0, show_default=True, help="Root seed; restart i uses the i-th child seed.")
@click.option("--restarts", type=int, default=None, help="Restarts to run at most.")
@click.option("--time-limit", type=float, default=None,
              help="Seconds for the whole search (default 600 when --restarts is not given).")
@click.option("--workers", "-j", type=int, default=None, help="Worker processes (default: all cores).")
@click.option("--all", "find_all", is_flag=True, help="Collect every distinct scheme instead of stopping at the first.")
@click.option("--max-found", type=int, default=None, help="With --all: stop after this many distinct schemes.")
@out_option("Folder for verified schemes (JSON), checked writable before the search starts.", folder=True)
@click.option("--start", "start_source", type=SCHEME, default=None,
              help="A scheme to start from (flip, pool, cyclic): a file, naive:NxMxP, catalog:NxMxP, strassen, cubes:NxNxN:MASKS (cyclic), or a meta move of one: extend:NxMxP:SOURCE, project:NxMxP:SOURCE, resize:NxMxP:SOURCE, cut:NxMxP:SOURCE (linear cuts mod 2), orient:NxMxP:SOURCE, product:SOURCE1,SOURCE2")
@click.option("--option", "-O", "option_pairs", multiple=True, metavar="KEY=VALUE",
              help="A method option (repeatable); unknown keys are errors. See --options-help.")
@click.option("--options-help", is_flag=True, help="List the options of --method (or of every method) and exit.")
@click.option("--cluster", default=None, metavar="local:N",
              help="Run the tasks on a Dask LocalCluster of N worker processes (needs the distributed extra).")
@click.option("--scheduler", "scheduler_address", default=None, envvar="DASK_SCHEDULER_ADDRESS", metavar="tcp://HOST:PORT",
              help="Run the tasks on the running Dask cluster of this scheduler (env DASK_SCHEDULER_ADDRESS).")
@click.option("--resume", is_flag=True,
              help="Continue the search whose state is in --out (same request): finished tasks are not rerun, "
                   "walks cut short go on from their checkpoints.")
@click.option("--resume-or-start", is_flag=True,
              help="Like --resume when --out holds the state of this same request; else start a new search there.")
@progress_plot_option
@json_option()
@quiet_option()
def search_command(format: str, rank: Optional[int], method: Optional[str], ring: str, bound: int, seed: int,
                   restarts: Optional[int], time_limit: Optional[float], workers: Optional[int], find_all: bool,
                   max_found: Optional[int], out: Optional[str], start_source: Optional[str],
                   option_pairs: tuple[str, ...], options_help: bool, cluster: Optional[str],
                   scheduler_address: Optional[str], resume: bool, resume_or_start: bool, progress_plot: Optional[str],
                   as_json: bool, quiet: bool) -> None:
    """Search for an exact scheme for FORMAT (NxMxP) with --rank products.

    Every candidate is checked exactly and proven with sympy before it is printed or saved; a
    scheme with fewer products than asked is a better answer and is reported under its rank.
    Exit code 0 found, 1 not found (or the cluster was lost), 2 bad input, 130 interrupted
    (what was found is printed and every file already written is kept). With --out the folder
    keeps the search's state, so --resume continues it after Ctrl-C, a crash or a kill; a flip
    walk with runners goes on from where it stood (its checkpoint, written every 5 min and when
    it stops).

    \b
    Examples:
      strassen search 2x2x2 --rank 7 --seed 0 -o found/
      strassen search 3x3x3 --rank 23 --time-limit 300 --workers 2
      strassen search 2x3x3 --rank 15 --all --max-found 10 --json
      strassen search 2x2x2 --rank 7 --method sgd -O quantizer=penalty
      strassen search 4x4x4 --rank 47 --method flip --start catalog:4x4x4 --ring Z2
      strassen search 3x3x3 --rank 23 --method flip --cluster local:4 -o found/
      strassen search 3x3x3 --rank 23 --all --scheduler tcp://10.0.0.5:8786 -o found/ --resume
      strassen search 3x4x4 --rank 38 --method pool -o runs/344 --time-limit 600   (rerun: continues the pools)
      strassen search --method lm --options-help x
      strassen search 3x3x3 --rank 23 --progress-plot progress.png
    """
    from ..problem import Problem
    from ..search import search
    from ..search.progress import ProgressLine, si_count
    from ..sources import load_pinned_start

    if options_help:
        _print_options_help(method)
        return
    if rank is None:
        fail("--rank is required")
    if resume and resume_or_start:
        fail("--resume and --resume-or-start: give one")
    if resume_or_start and out is None:
        fail("--resume-or-start needs the output folder (-o DIR) of the search to continue")
    scheduler = cluster_scheduler(cluster, scheduler_address, workers, quiet)
    # A source that reads the catalog anywhere inside is recorded with those files pinned.
    start, start_file, start_pinned = (load_pinned_start(start_source) if start_source is not None
                                       else (None, None, None))
    problem = Problem(format, rank, ring=ring, coefficient_bound=bound, start=start, start_file=start_file,
                      start_pinned=start_pinned)

    def on_found(scheme, path) -> None:
        # Printed (and saved, by then) as soon as it is final, so Ctrl-C never loses it.
        if path is not None:
            info(f"saved {path}", quiet)
        if not as_json:
            if on_found.count:
                click.echo("")
            click.echo("\n".join(scheme_formulas(scheme)))
        on_found.count += 1

    on_found.count = 0  # type: ignore[attr-defined]
    def on_start(method_name: str, limit: Optional[float]) -> None:
        note = f", stops after {limit:g} s" + (" (--time-limit to change)" if time_limit is None else "") if limit else ""
        info(f"searching {problem.format} rank {rank} ring {problem.ring} with {method_name} (seed {seed}{note})", quiet)
        if str(options.get("max_flips", 0)) not in ("0", "") and restarts is None:
            # A budget per walk, not per search: without --restarts the walks restart until the time limit.
            info(f"max_flips={options['max_flips']} is per restart; the search restarts until its time limit "
                 f"(--restarts 1 for one walk)", quiet)
    options = _parse_options(option_pairs)
    if method == "pool" and out is not None and "pool_dir" not in options:
        options["pool_dir"] = str(Path(out) / "pools")  # the pools live beside the results; a rerun continues them
    bar = None if quiet or as_json else ProgressLine()
    try:
        result = search(problem, method, options, seed=seed, restarts=restarts,
                        time_limit=time_limit, workers=workers, find_all=find_all, max_found=max_found, out_dir=out,
                        progress=bar, on_found=on_found, on_start=on_start, scheduler=scheduler,
                        resume="if-same" if resume_or_start else resume)
    except ClusterError as e:
        # Everything verified so far is printed and saved; the state lets --resume go on.
        if bar is not None:
            bar.close()
        click.echo(f"error: {e}" + (f" (saved schemes kept; continue with --resume -o {out})" if out else ""), err=True)
        raise SystemExit(EXIT_NOT_FOUND) from None
    finally:
        if bar is not None:
            bar.close()
    status = "interrupted" if result.interrupted else "done"
    info(f"{status}: {result.method}, {result.restarts_done} restarts in {result.elapsed:.1f} s, "
         f"{len(result.found)} exact scheme(s)" + (f", {result.rejected} candidate(s) rejected" if result.rejected else "")
         + (f"; {result.resumed_walks} walk(s) went on from their checkpoints ({si_count(result.resumed_flips)} flips "
            f"before, {si_count(result.flips)} now)" if result.resumed_walks else ""), quiet)
    if result.method == "naive":
        info(f"rank {rank} is at or above the naive rank {problem.format.naive_rank} of {problem.format}: "
             f"the schoolbook scheme meets it", quiet)
    elif result.below_target:
        info(f"found rank {min(s.rank for s in result.found)}, below the target {rank}", quiet)
    if progress_plot and result.history:
        write_progress_plot(result.history, progress_plot, title=f"{problem.format} rank {rank}, {result.method}",
                            quiet=quiet)
    from ..search.contract import walk_prime as prime_of

    walk_prime = prime_of(options)  # the prime of best_rank_mod2
    if as_json:
        doc = result.to_json()
        doc["best_rank_modulus"] = walk_prime if result.best_rank_mod2 is not None else None
        doc["found"] = [scheme_to_dict(s) for s in result.found]
        if result.best_scheme is not None:
            doc["best_scheme"] = scheme_to_dict(result.best_scheme)
        echo_json(doc)
    if result.interrupted:
        if not result.found and result.best_scheme is not None:
            where = f", saved {result.best_saved}" if result.best_saved is not None else ""
            info(f"best exact scheme so far: rank {result.best_scheme.rank} (verified){where}", quiet)
        raise SystemExit(EXIT_INTERRUPTED)
    if not result.found:
        notes = []
        if result.best_rank is not None:
            notes.append(f"best rank reached: {result.best_rank}")
        if result.best_rank_mod2 is not None and (result.best_rank is None or result.best_rank_mod2 < result.best_rank):
            tried = (f" ({result.lift_failures} of {result.lift_attempts} lifts failed{_failure_words(result)})"
                     if result.lift_attempts else " (no lift tried)")
            notes.append(f"best rank mod {walk_prime}: {result.best_rank_mod2}, not lifted{tried}")
        best = f" ({'; '.join(notes)})" if notes else ""
        info(f"no exact scheme found for {problem.format} rank {rank} ring {problem.ring}{best}", False)
        if result.best_scheme is not None:
            where = f", saved {result.best_saved}" if result.best_saved is not None else ""
            info(f"best exact scheme: rank {result.best_scheme.rank} (verified){where}", quiet)
        raise SystemExit(EXIT_NOT_FOUND)


__all__ = ["search_command"]
