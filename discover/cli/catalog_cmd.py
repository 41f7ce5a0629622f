"""``strassen catalog ...``: the catalog command group."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

from ..catalog import catalog_dir, list_entries
from ..catalog_improve import METHODS as IMPROVE_METHODS
from ..starts import PROBE_FIELDS
from .common import EXIT_NOT_FOUND, echo_json, info, quiet_option

DIR_OPTION = click.option(
    "--dir", "directory", type=click.Path(file_okay=False), default=None,
    help="Catalog folder (default: $STRASSEN_CATALOG, else the shipped catalog).",
)


@click.group("catalog")
def catalog_group() -> None:
    """The catalog of verified schemes.

    \b
    Examples:
      strassen catalog list
      strassen catalog list --dir my_algorithms --json
    """


@catalog_group.command("list")
@DIR_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def list_command(directory: Optional[str], as_json: bool) -> None:
    """A table of the schemes in the catalog: format, rank, naive rank, ring, additions, file."""
    root = catalog_dir(directory)
    entries = list_entries(directory)
    rows = [
        {
            "format": str(e.scheme.format),
            "rank": e.scheme.rank,
            "naive_rank": e.scheme.format.naive_rank,
            "ring": e.scheme.ring,
            "additions": e.scheme.additions,
            "composed": e.composed,
            "file": str(Path(e.path).relative_to(root)),
        }
        for e in entries
    ]
    if as_json:
        echo_json({"catalog": str(root), "schemes": rows})
        return
    header = f"{'format':<8} {'rank':>5} {'naive':>6} {'ring':<4} {'additions':>9}  file"
    click.echo(header)
    for row in rows:
        mark = " (composed)" if row["composed"] else ""
        click.echo(
            f"{row['format']:<8} {row['rank']:>5} {row['naive_rank']:>6} {row['ring']:<4} {row['additions']:>9}  {row['file']}{mark}"
        )
    info(f"{len(rows)} schemes in {root}")


@catalog_group.command("compare")
@DIR_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.option("--markdown", is_flag=True, help="Print a Markdown table (for the README).")
@click.option("--up-to", "up_to", type=click.IntRange(5, 6), default=5, show_default=True,
              help="Largest dimension of the formats listed: 6 adds the 15 formats with a dimension 6.")
def compare_command(directory: Optional[str], as_json: bool, markdown: bool, up_to: int) -> None:
    """Our best rank per format against the best known ranks (rational, integer and mod 2).

    Also: additions after elimination beside the fewest published, and the methods, search
    time (time limits), and workers of the recorded steps that produced each entry.

    \b
    Examples:
      strassen catalog compare
      strassen catalog compare --markdown > table.md
      strassen catalog compare --up-to 6
    """
    from ..catalog_compare import compare_catalog, markdown_table, text_table
    from .common import fail

    if as_json and markdown:
        fail("--json and --markdown exclude each other")
    comparison = compare_catalog(directory, up_to=up_to)
    if as_json:
        echo_json(comparison.to_json())
    else:
        click.echo(markdown_table(comparison) if markdown else text_table(comparison), nl=False)


@catalog_group.command("get")
@click.argument("fmt")
@DIR_OPTION
@click.option("-o", "--out", default=None, type=click.Path(dir_okay=False), help="Write the JSON here (default: stdout).")
@quiet_option(expose=False)
def get_command(fmt: str, directory: Optional[str], out: Optional[str]) -> None:
    """The best catalog scheme for FMT, reoriented and verified if stored in another orientation.

    \b
    Examples:
      strassen catalog get 3x2x2
      strassen catalog get 4x4x4 -o best444.json
    """
    from ..catalog import best
    from ..jsonio import dumps_scheme, save_scheme
    from ..provenance import stamp
    from ..verify import verify
    from .common import EXIT_NOT_FOUND, info

    scheme = best(fmt, directory)
    report = verify(scheme)
    if not report.valid:
        info(f"catalog scheme failed verification: {report.summary()}")
        raise SystemExit(EXIT_NOT_FOUND)
    scheme = stamp(scheme, report, keep_provenance=True)
    if out:
        save_scheme(scheme, out)
        info(f"wrote {out}: {report.summary()}")
    else:
        click.echo(dumps_scheme(scheme), nl=False)


@catalog_group.command("rebuild")
@click.option("--format", "fmt", default=None, help="Rebuild this format's best catalog entry.")
@click.option("--file", "file_name", default=None,
              help="Rebuild this catalog file instead (its name in the catalog folder, as `catalog list` shows it).")
@DIR_OPTION
@click.option("-o", "--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="Where the rerun writes, one folder per step (default: a temporary folder).")
@click.option("--last-step", is_flag=True, help="Rerun only the last recorded step, from the catalog file it started from.")
@quiet_option(expose=False)
def rebuild_command(fmt: Optional[str], file_name: Optional[str], directory: Optional[str], out_dir: Optional[str],
                    last_step: bool) -> None:
    """Rerun the recorded steps of a catalog entry and check its rank and time budget.

    The steps are followed back from the entry to its origin (each search's --start names the
    previous catalog file) and rerun in order, each from the previous step's new result. Exit 0
    when the last step reaches the entry's rank and the searches took no longer than their
    recorded time limits together, else 1. The entry is a format's best (--format) or any
    file of the catalog (--file), e.g. a second scheme at the same rank. A walk mod 2 or 3 that
    recorded where it lifted its scheme (info.lift_point) reruns with -O replay_lift, so the lift
    the clock let it make is made again.

    \b
    Examples:
      strassen catalog rebuild --format 3x3x3
      strassen catalog rebuild --format 3x4x5 --last-step
      strassen catalog rebuild --file 5x5x5_r97_ZT-resize.json
    """
    import shlex
    import tempfile

    from ..catalog import best_entry
    from ..catalog_compare import format_seconds
    from ..catalog_rebuild import rebuild
    from .common import fail

    if (fmt is None) == (file_name is None):
        fail("catalog rebuild: give exactly one of --format (the format's best entry) and --file (one catalog file)")
    root = catalog_dir(directory)
    entries = list_entries(directory)
    if file_name is not None:
        named = [e for e in entries if e.path.name == Path(file_name).name]
        if not named:
            fail(f"catalog rebuild: {Path(file_name).name} is not a file of the catalog in {root} "
                 "(see strassen catalog list)")
        target = named[0]
    else:
        target = best_entry(fmt, entries=entries)  # any orientation: the stored one is rebuilt

    def on_step(index: int, count: int, argv: list[str]) -> None:
        info(f"step {index}/{count}: strassen " + " ".join(shlex.quote(a) for a in argv))

    def on_done(run) -> None:
        took = format_seconds(run.search_time if run.search_time is not None else run.process_time)
        got = f"rank {run.rank}" if run.rank is not None else "nothing"
        info(f"  -> exit {run.returncode}, {got} (recorded: rank {run.step.entry.scheme.rank}) in {took}")
        if run.note:
            info(f"     {run.note}")

    out = Path(out_dir) if out_dir else Path(tempfile.mkdtemp(prefix="strassen-rebuild-"))
    result = rebuild(target, entries, root, out, last_step_only=last_step, on_step=on_step, on_done=on_done)
    click.echo(result.summary())
    if not result.ok:
        raise SystemExit(EXIT_NOT_FOUND)


@catalog_group.command("compose")
@click.argument("fmt")
@DIR_OPTION
@click.option("-o", "--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="Folder to write the verified scheme to (default: print it); an existing file of the same "
                   "name that holds another scheme is kept and the new one gets a -2, -3, ... name.")
@click.option("--peel", is_flag=True, help="Only split off a width-1 naive slice (a start that flip walks descend from easily).")
@quiet_option(expose=False)
def compose_catalog_command(fmt: str, directory: Optional[str], out_dir: Optional[str], peel: bool) -> None:
    """Build FMT from the catalog's schemes: the best direct sum or Kronecker product.

    Best: the lowest rank, then the fewest additions after elimination. The result is verified
    and marked as composed.

    \b
    Example:
      strassen catalog compose 3x4x5 --out algorithms
    """
    from ..catalog import best_composition
    from .._version import __version__
    from ..jsonio import dumps_scheme, free_path, now_iso, save_scheme
    from ..provenance import stamp
    from ..verify import verify
    from .common import EXIT_NOT_FOUND, command_line, info

    scheme = best_composition(fmt, directory, peel=peel)
    if scheme is None:
        info(f"nothing in the catalog composes to {fmt}")
        raise SystemExit(EXIT_NOT_FOUND)
    report = verify(scheme)
    if not report.valid:
        info(f"composition failed verification: {report.summary()}")
        raise SystemExit(EXIT_NOT_FOUND)
    scheme = stamp(scheme, report, {"command": command_line(), "date": now_iso(), "composed": True,
                                    "recipe": scheme.name, "version": __version__}, keep_provenance=True)
    if out_dir:
        path = free_path(out_dir, scheme, suffix="peeled" if peel else "composed")
        save_scheme(scheme, path)
        info(f"wrote {path}: {report.summary()} ({scheme.meta.get('name')})")
    else:
        click.echo(dumps_scheme(scheme), nl=False)


@catalog_group.command("starts")
@click.argument("fmt")
@DIR_OPTION
@click.option("--flips", type=click.IntRange(1), default=20_000_000, show_default=True,
              help="Flips of the short walk from each start.")
@click.option("--field", type=click.Choice(PROBE_FIELDS), default="gf2", show_default=True,
              help="The walk: GF(2) runners that lift their lows to ternary schemes, or the exact ternary runners.")
@click.option("--seed", type=int, default=0, show_default=True, help="The walks' seed (the same for each start).")
@click.option("--limit", type=click.IntRange(1), default=None, help="Print only the best LIMIT starts.")
@click.option("--cuts", is_flag=True,
              help="Cut each catalog scheme one larger in one dimension at every index of it (resize:FMT@I:), "
                   "not only where the most products die.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@quiet_option(expose=False)
def starts_command(fmt: str, directory: Optional[str], flips: int, field: str, seed: int, limit: Optional[int],
                   cuts: bool, as_json: bool) -> None:
    """Rank the starts for a search on FMT that meta moves make from the catalog.

    Each start (extend: of a catalog scheme one smaller, resize: of one larger, resize: of a
    Kronecker product with Strassen's 2x2x2 or the catalog's 3x3x3) gets the same short GF(2)
    walk (--flips, --seed): the table lists the rank each start reads, the rank mod 2 its walk
    reached and the lowest ternary scheme it lifted on the way (- for none below the start), best
    first. With --field zt each start gets the exact ternary runners instead (no lifts: the rank
    reached is a ternary scheme's; non-ternary starts are left out). --cuts probes every cut
    of each scheme one larger in one dimension (the cuts of one scheme walk to different ranks). Pass the spec to
    `strassen search --start`. Compositions are rigid
    starts; the rank a start reads does not tell how low a walk from it goes. Ctrl-C prints the
    starts walked so far.

    \b
    Examples:
      strassen catalog starts 5x5x6
      strassen catalog starts 4x5x6 --flips 5000000 --limit 3 --json
      strassen catalog starts 6x6x6 --field zt --limit 5
      strassen catalog starts 3x5x5 --cuts --limit 5
    """
    from ..formats import Format
    from ..starts import Start, probe_starts
    from .common import EXIT_INTERRUPTED

    fmt_parsed = Format.parse(fmt)
    done: list[Start] = []

    mod2 = " mod 2" if field == "gf2" else ""

    def progress(start: Start) -> None:
        done.append(start)
        lifted = f", lifted {start.lifted}" if start.lifted is not None else ", no lift"
        info(f"{start.spec}: reads rank {start.rank}, walked to {start.reached}{mod2}{lifted if mod2 else ''}")

    interrupted = False
    try:
        probe_starts(fmt_parsed, directory, flips=flips, seed=seed, on_start=progress, field=field, cuts=cuts)
    except KeyboardInterrupt:
        interrupted = True
    done.sort(key=lambda s: s.order)
    shown = done[:limit] if limit else done
    if as_json:
        # an exact ternary walk has nothing to lift: what it reached is a ternary scheme's rank
        rows = [{"spec": s.spec, "rank": s.rank, "reached_mod2": s.reached, "lifted": s.lifted} if mod2 else
                {"spec": s.spec, "rank": s.rank, "reached": s.reached} for s in shown]
        echo_json({"format": str(fmt_parsed), "field": field, "flips": flips, "seed": seed, "cuts": cuts,
                   "complete": not interrupted, "starts": rows})
    else:
        click.echo(f"{'reached':>7} {'lifted':>6} {'reads':>5}  start" if mod2 else f"{'reached':>7} {'reads':>5}  start")
        for s in shown:
            lifted = "-" if s.lifted is None else str(s.lifted)
            click.echo(f"{s.reached:>7} {lifted:>6} {s.rank:>5}  {s.spec}" if mod2 else
                       f"{s.reached:>7} {s.rank:>5}  {s.spec}")
    if interrupted:
        info(f"interrupted: {len(done)} starts walked")
        raise SystemExit(EXIT_INTERRUPTED)
    if not done:
        info(f"the catalog has no scheme to start {fmt_parsed} from")
        raise SystemExit(EXIT_NOT_FOUND)


@catalog_group.command("improve")
@DIR_OPTION
@click.option("--formats", default=None,
              help="Comma-separated formats to improve (default: every format of the compare table above its record).")
@click.option("--up-to", "up_to", type=click.IntRange(5, 6), default=5, show_default=True,
              help="Without --formats: 6 also takes the formats with a dimension 6.")
@click.option("--work", "work_dir", default="improve-runs", show_default=True, type=click.Path(file_okay=False),
              help="The searches' folders (one per format and rank): a rerun continues their pools.")
@click.option("--slice", "slice_seconds", type=click.FloatRange(1), default=600, show_default=True,
              help="Seconds of search per format per round.")
@click.option("--rounds", type=click.IntRange(1), default=None, help="Rounds to run at most (default: until --time-limit or Ctrl-C).")
@click.option("--time-limit", type=click.FloatRange(1), default=None, help="Seconds for the whole job.")
@click.option("-m", "--method", type=click.Choice(IMPROVE_METHODS), default="pool", show_default=True,
              help="The search each slice runs.")
@click.option("-O", "--option", "option_pairs", multiple=True, metavar="KEY=VALUE",
              help="A method option passed to every search (repeatable; see strassen search --options-help).")
@click.option("--seed", type=int, default=0, show_default=True, help="The searches' seed.")
@click.option("-j", "--workers", type=click.IntRange(1), default=None, help="Worker processes per search (default: all cores).")
@click.option("--parallel", type=click.IntRange(1), default=1, show_default=True,
              help="Searches of different formats run side by side (each with -j workers, by default the cores "
                   "shared among them; their progress goes to search.log in their folders).")
@click.option("--scheduler", "scheduler_address", default=None, envvar="DASK_SCHEDULER_ADDRESS",
              metavar="tcp://HOST:PORT",
              help="Run each search's tasks on the running Dask cluster of this scheduler (env "
                   "DASK_SCHEDULER_ADDRESS; not with -j).")
@click.option("--additions", type=click.IntRange(0), default=0, show_default=True,
              help="Moves of `strassen optimize-additions` run on each new scheme (its fewest-additions form is "
                   "written beside it; 0: none).")
@click.option("--commit", is_flag=True,
              help="Commit each new catalog file (with its fewest-additions form) with git as it lands, in a "
                   "commit of its own naming its format, rank, method, seed and time; the catalog folder must "
                   "be in a git work tree, and nothing else staged there is committed.")
@click.option("--fresh-walks", is_flag=True,
              help="Start each slice's walk from the catalog scheme with a seed of its own (default: a slice "
                   "goes on with the walk its folder's last slice cut short, from its checkpoint).")
@click.option("--start", "start_source", default=None, metavar="SOURCE",
              help="Start every search from this scheme source instead of the catalog's best (one format "
                   "only, e.g. -m cyclic --formats 6x6x6 --start cubes:6x6x6:110000+001100+000011).")
@click.option("--dry-run", is_flag=True, help="Print the first round's searches and exit.")
@click.option("--status", is_flag=True,
              help="Print what the slices under --work did (slices, time, the lowest rank saved, the lowest rank "
                   "the walks reached, exact or mod 2, the flips of the walk the next slice goes on with, and how long "
                   "a slice running now has run, per format and rank asked) and exit.")
@quiet_option(expose=False)
def improve_command(directory: Optional[str], formats: Optional[str], up_to: int, work_dir: str,
                    slice_seconds: float, rounds: Optional[int], time_limit: Optional[float], method: str,
                    option_pairs: tuple[str, ...], seed: int, workers: Optional[int], parallel: int,
                    scheduler_address: Optional[str], additions: int, commit: bool, fresh_walks: bool,
                    start_source: Optional[str], dry_run: bool, status: bool) -> None:
    """Lower the catalog's ranks in rounds: one search slice per format above its record.

    Each round runs, for every format whose catalog best is above the best known integer rank,
    `strassen search FMT --rank R-1 --start catalog:FMT` for --slice seconds (the pool descent by
    default), one after the other, or --parallel N of them side by side. A scheme below the
    catalog's rank is verified again (exact check and sympy proof), written into the catalog under
    a free name, and the search goes on from it, one rank lower, for the rest of the slice; each
    file records the command that made it (`catalog rebuild` reruns it) and the slices run in its
    search folder. --additions N then runs `strassen optimize-additions` (N moves) on it and writes
    the fewest-additions form beside it; --commit commits them with git at once. The pools live
    under --work: a rerun of the same command continues them; a flip or cyclic walk cut short by the end of
    its slice (or Ctrl-C) goes on in the folder's next slice, from its checkpoint. Ctrl-C stops the running searches
    cleanly and keeps what they verified. Exit 0 when a rank was lowered (or nothing is left to
    lower), 1 when not, 130 on Ctrl-C.

    \b
    Examples:
      strassen catalog improve --formats 2x5x6,3x3x6 --slice 600 -j 1
      strassen catalog improve --up-to 6 --parallel 2 -m flip -O field=gf2 --commit
      strassen catalog improve --up-to 6 --time-limit 14400 --work runs/improve
      strassen catalog improve --up-to 6 --dry-run
      strassen catalog improve --work runs/improve --status
      strassen catalog improve --up-to 6 --parallel 4 --scheduler tcp://10.0.0.5:8786
      strassen catalog improve --formats 6x6x6 -m cyclic --start cubes:6x6x6:110000+001100+000011
        -O field=gf2 -O walk=pairs -O mirror=1 -O lift_lows=1 -j 1 --commit
    """
    from ..catalog_improve import (SCHEDULER_WITH_WORKERS, SEARCH_LOG, check_start, command_text, improve, reached_text,
                                   search_argv, search_folder, slice_workers, targets)
    from .common import EXIT_INTERRUPTED

    wanted = [f.strip() for f in formats.split(",") if f.strip()] if formats else None
    for text in option_pairs:
        if "=" not in text:
            from .common import fail

            fail(f"catalog improve: -O takes KEY=VALUE, got {text!r}")
    work = Path(work_dir)
    if status:
        _print_improve_status(work)
        return
    if scheduler_address and workers is not None:
        from .common import fail

        fail(SCHEDULER_WITH_WORKERS)
    slice_j = slice_workers(workers, parallel, scheduler_address)
    if dry_run:
        if start_source is not None:
            check_start(start_source, wanted, directory)
        todo = targets(directory, wanted, up_to)
        for target in todo:
            click.echo(command_text(search_argv(target, work, slice_seconds, method, seed, slice_j, option_pairs,
                                                fresh_walks, start_source)))
        if not todo:
            info("nothing to improve: every format is at its best known integer rank")
        return

    def on_start(target, argv) -> None:
        info(f"{target.format}: rank {target.our_rank} (record {target.record}), searching {target.rank} for "
             f"{float(argv[argv.index('--time-limit') + 1]):g} s: {command_text(argv)}"
             + (f" (progress: {search_folder(work, target) / SEARCH_LOG})" if parallel > 1 else ""))

    def on_done(run) -> None:
        if run.adopted is not None:
            click.echo(f"{run.target.format}: rank {run.adopted_rank} (was {run.target.our_rank}) -> {run.adopted}")
            if run.additions_file is not None:
                click.echo(f"{run.target.format}: its fewest-additions form -> {run.additions_file}")
            if run.commit is not None:
                click.echo(f"{run.target.format}: committed {run.commit}")
            if run.commit_error is not None:
                info(f"{run.target.format}: not committed ({run.commit_error}); the file stays in the catalog")
        else:
            reached = reached_text(run.reached)
            info(f"{run.target.format}: not yet ({run.seconds:g} s, exit {run.returncode}"
                 + (f", its walk reached {reached})" if reached else ")"))

    result = improve(directory, work, formats=wanted, up_to=up_to, slice_seconds=slice_seconds,
                     time_limit=time_limit, rounds=rounds, method=method, seed=seed, workers=workers,
                     options=option_pairs, additions=additions, parallel=parallel, scheduler=scheduler_address,
                     commit=commit, fresh_walks=fresh_walks, start=start_source, on_start=on_start, on_done=on_done)
    if not result.runs and not result.interrupted:
        info("nothing to improve: every format asked is at its best known integer rank")
        return
    info(result.summary())
    if result.interrupted:
        raise SystemExit(EXIT_INTERRUPTED)
    if not result.improvements:
        raise SystemExit(EXIT_NOT_FOUND)


def _print_improve_status(work: Path) -> None:
    """The table of ``catalog improve --status``."""
    import time

    from ..catalog_compare import DASH, format_seconds
    from ..catalog_improve import reached_text, work_status
    from ..search.progress import si_count

    rows = work_status(work)
    if not rows:
        info(f"no slices have run in {work} yet")
        return
    click.echo(f"{'format':<8} {'rank asked':>10} {'slices':>6} {'searched':>12} {'lowest saved':>12} "
               f"{'walks reached':>16} {'walk flips':>10} {'running for':>12}")
    now = time.time()
    for row in rows:
        saved = DASH if row.lowest_saved is None else str(row.lowest_saved)
        reached = reached_text(row.reached) or DASH
        running = DASH if row.running_since is None else format_seconds(max(0.0, now - row.running_since))
        flips = DASH if row.walk_flips is None else si_count(row.walk_flips)
        click.echo(f"{row.format:<8} {row.rank:>10} {row.slices:>6} {format_seconds(row.seconds):>12} {saved:>12} "
                   f"{reached:>16} {flips:>10} {running:>12}")
    total = sum(row.seconds for row in rows)
    now_running = sum(row.running_since is not None for row in rows)
    info(f"{sum(row.slices for row in rows)} slices in {len(rows)} folders, {format_seconds(total)} of search"
         + (f"; {now_running} running now (not counted until they end)" if now_running else ""))


@catalog_group.command("site")
@click.argument("out_dir", type=click.Path())
@DIR_OPTION
@click.option("--no-pictures", is_flag=True, help="Leave out the pictures (then matplotlib is not needed).")
@click.option("-q", "--quiet", is_flag=True, help="No progress on stderr.")
def site_command(out_dir: str, directory: Optional[str], no_pictures: bool, quiet: bool) -> None:
    """Write a static HTML site of the catalog into OUT_DIR (no server, no JavaScript).

    index.html holds the comparison with the best known ranks (ours, best known over Q, Z
    and mod 2, gap, ring, additions, method, time); each scheme has a page with its picture,
    formulas, provenance and downloads in every export format. Open OUT_DIR/index.html in
    a browser, also offline (file://). Pictures need the plot extra.

    \b
    Examples:
      strassen catalog site site/
      strassen catalog site site/ --dir my_algorithms --no-pictures
    """
    from ..catalog_site import build_site
    from .common import info

    report = build_site(out_dir, directory, pictures=not no_pictures,
                        progress=None if quiet else (lambda message: info(message)))
    for line in report.skipped:
        info(f"skipped {line}", quiet)
    info(report.summary(), quiet)
    click.echo(str(Path(out_dir) / "index.html"))
