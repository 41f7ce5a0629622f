"""``strassen search``: find an exact scheme of a given rank with restarts of a search method."""
from __future__ import annotations

from typing import Optional

import click

from ..formats import Format
from ..formulas import scheme_formulas
from ..jsonio import default_file_name, load_scheme, now_iso, save_scheme, scheme_to_dict, verification_record
from ..scheme import Scheme
from ..verify import verify
from .common import EXIT_INTERRUPTED, EXIT_NOT_FOUND, echo_json, fail, info

#: Bound on the search when neither --restarts nor --time-limit is given.
DEFAULT_TIME_LIMIT = 600.0


def _parse_options(pairs: tuple[str, ...]) -> dict[str, str]:
    values = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            fail(f"--option {pair!r}: expected KEY=VALUE")
        values[key.strip()] = value.strip()
    return values


@click.command("search")
@click.argument("format")
@click.option("--rank", "-r", type=int, required=True, help="Number of products to look for.")
@click.option("--method", "-m", default=None,
              help="Search method (lm, adam, sgd, flip, ...). Default: lm for 2x2x2 and --ring Q, "
                   "flip (when available) for larger formats: see strassen bench search.")
@click.option("--ring", type=click.Choice(["ZT", "Z", "Q", "Z2"], case_sensitive=False), default="ZT", show_default=True,
              help="Coefficients searched: ZT {-1,0,1}, Z integers up to --bound, Q halves {0,±1/2,±1,±2}, Z2 mod 2.")
@click.option("--bound", type=int, default=2, show_default=True, help="Largest |coefficient| for --ring Z (and Q).")
@click.option("--seed", type=int, default=0, show_default=True, help="Root seed; restart i uses the i-th child seed.")
@click.option("--restarts", type=int, default=None, help="Restarts to run at most.")
@click.option("--time-limit", type=float, default=None,
              help=f"Seconds for the whole search (default {DEFAULT_TIME_LIMIT:.0f} when --restarts is not given).")
@click.option("--workers", "-j", type=int, default=None, help="Worker processes (default: all cores).")
@click.option("--all", "find_all", is_flag=True, help="Collect every distinct scheme instead of stopping at the first.")
@click.option("--max-found", type=int, default=None, help="With --all: stop after this many distinct schemes.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None, help="Directory for verified schemes (JSON).")
@click.option("--start", "start_file", type=click.Path(dir_okay=False), default=None,
              help="A scheme file to start from (flip-graph methods).")
@click.option("--option", "-o", "option_pairs", multiple=True, metavar="KEY=VALUE",
              help="A method option (repeatable); unknown keys are errors.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No progress or messages on stderr.")
def search_command(format: str, rank: int, method: Optional[str], ring: str, bound: int, seed: int,
                   restarts: Optional[int], time_limit: Optional[float], workers: Optional[int], find_all: bool,
                   max_found: Optional[int], out_dir: Optional[str], start_file: Optional[str],
                   option_pairs: tuple[str, ...], as_json: bool, quiet: bool) -> None:
    """Search for an exact scheme for FORMAT (NxMxP) with --rank products.

    Every candidate is checked exactly and proven with sympy before it is printed or saved.
    Exit code 0 found, 1 not found, 2 bad input, 130 interrupted (what was found is printed
    and every file already written is kept).

    \b
    Examples:
      strassen search 2x2x2 --rank 7 --seed 0 --out found/
      strassen search 3x3x3 --rank 23 --time-limit 300 --workers 2
      strassen search 2x3x3 --rank 15 --all --max-found 10 --json
      strassen search 2x2x2 --rank 7 --method sgd -o quantizer=penalty
    """
    from ..search.base import Problem, get_method
    from ..search.driver import check_problem, default_method, resolve_options, search
    from ..search.progress import ProgressLine

    ring = ring.upper()
    fmt = Format.parse(format)
    if rank < 1:
        fail(f"--rank must be a positive integer, got {rank}")
    if rank >= fmt.naive_rank:
        _naive(fmt, rank, out_dir, as_json, quiet)
        return
    start = None
    if start_file is not None:
        start = load_scheme(start_file)
    problem = Problem(fmt, rank, ring=ring, coefficient_bound=bound, start=start)
    check_problem(problem)
    method_obj = get_method(method or default_method(problem))
    options = resolve_options(method_obj, _parse_options(option_pairs))
    for name, value, low in (("--workers", workers, 1), ("--restarts", restarts, 1), ("--max-found", max_found, 1)):
        if value is not None and value < low:
            fail(f"{name} must be at least {low}, got {value}")
    if time_limit is not None and time_limit <= 0:
        fail(f"--time-limit must be positive, got {time_limit:g}")
    if restarts is None and time_limit is None:
        time_limit = DEFAULT_TIME_LIMIT
    info(f"searching {fmt} rank {rank} ring {ring} with {method_obj.name} (seed {seed})", quiet)
    bar = None if quiet else ProgressLine()
    result = search(problem, method_obj, options, seed=seed, restarts=restarts, time_limit=time_limit,
                    workers=workers, find_all=find_all, out_dir=out_dir, progress=bar, max_found=max_found)
    if bar is not None:
        bar.close()
    status = "interrupted" if result.interrupted else "done"
    info(f"{status}: {result.restarts_done} restarts in {result.elapsed:.1f} s, "
         f"{len(result.found)} exact scheme(s)" + (f", {result.rejected} candidate(s) rejected" if result.rejected else ""), quiet)
    for path in result.saved:
        info(f"saved {path}", quiet)
    if as_json:
        echo_json({
            "format": str(fmt), "rank": rank, "ring": ring, "method": method_obj.name, "seed": seed,
            "found": [scheme_to_dict(s) for s in result.found],
            "restarts": result.restarts_done, "elapsed": round(result.elapsed, 3),
            "best_residual": result.best_residual if result.best_residual != float("inf") else None,
            "rejected": result.rejected, "interrupted": result.interrupted, "saved": [str(p) for p in result.saved],
        })
    else:
        for n, scheme in enumerate(result.found):
            if n:
                click.echo("")
            click.echo("\n".join(scheme_formulas(scheme)))
    if result.interrupted:
        raise SystemExit(EXIT_INTERRUPTED)
    if not result.found:
        info(f"no exact scheme found for {fmt} rank {rank} ring {ring}", False)
        raise SystemExit(EXIT_NOT_FOUND)


def _naive(fmt: Format, rank: int, out_dir: Optional[str], as_json: bool, quiet: bool) -> None:
    """Rank at or above n·m·p: the schoolbook algorithm already does it; return it."""
    scheme = Scheme.naive(fmt)
    report = verify(scheme)
    scheme = scheme.with_meta(provenance={"method": "naive", "date": now_iso()}, verification=verification_record(report))
    info(f"rank {rank} is at or above the naive rank {fmt.naive_rank} of {fmt}: "
         f"returning the schoolbook scheme with {fmt.naive_rank} products", quiet)
    if out_dir is not None:
        from pathlib import Path

        path = save_scheme(scheme, Path(out_dir) / default_file_name(scheme))
        info(f"saved {path}", quiet)
    if as_json:
        echo_json({"format": str(fmt), "rank": rank, "method": "naive", "found": [scheme_to_dict(scheme)],
                   "restarts": 0, "elapsed": 0.0, "interrupted": False})
    else:
        click.echo("\n".join(scheme_formulas(scheme)))
