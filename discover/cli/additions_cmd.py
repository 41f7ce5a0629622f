"""``strassen optimize-additions``: the same scheme up to symmetry, with fewer additions."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

from .common import EXIT_INTERRUPTED, EXIT_NOT_FOUND, SCHEME, echo_json, fail, info, json_option, quiet_option


@click.command("optimize-additions")
@click.argument("source", type=SCHEME)
@click.option("-o", "--out", default=None, type=click.Path(),
              help="Write the verified scheme here: a .json file, or a folder (named NxMxP_rR_RING-additions.json, "
                   "or -additions-2.json, ... when that file holds another scheme, e.g. SOURCE itself).")
@click.option("--iterations", default=2000, show_default=True, type=click.IntRange(min=0),
              help="Elementary moves tried (each compiles the scheme once).")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0), help="Seed of the move choices.")
@click.option("--bound", default=None, type=click.IntRange(min=1),
              help="Largest coefficient allowed (default: the source's; a ternary scheme stays ternary).")
@click.option("--time-limit", default=None, type=click.FloatRange(min=0, min_open=True),
              help="Stop earlier after this many seconds (the result then depends on the machine).")
@json_option()
@quiet_option()
def optimize_additions_command(source: str, out: Optional[str], iterations: int, seed: int, bound: Optional[int],
                               time_limit: Optional[float], as_json: bool, quiet: bool) -> None:
    """Search the symmetry orbit of SOURCE for the form with the fewest additions after elimination.

    The sandwich A → XAY⁻¹, B → YBZ⁻¹, C → XCZ⁻¹ by elementary integer matrices (and, for
    square formats, the cyclic and transposed orientations) keeps the rank and the tensor but
    changes the additions. The result is proven with sympy, its straight-line program is
    checked exactly, and it is written (or printed) only when it needs fewer additions than
    SOURCE: exit 0; exit 1 when nothing cheaper was found. Ctrl-C stops the walk and keeps the
    best form found so far (proven and written as above; exit 130).

    \b
    Examples:
      strassen optimize-additions strassen --iterations 300
      strassen optimize-additions algorithms/3x3x3_r23_ZT.json -o found/ --seed 1
    """
    from ..jsonio import dumps_scheme, free_path, now_iso, save_scheme, scheme_to_dict
    from ..optimize_additions import optimize_additions, sandwich_matrices
    from ..provenance import certify, command_line, scheme_provenance
    from ..published_additions import published_additions
    from ..slp import compile_scheme
    from ..sources import load_source

    scheme = load_source(source)
    if scheme.mod2:
        fail(f"{source} is valid mod 2 only: it has no additions over the integers to optimise")

    shown = []

    def progress(done: int, current: int, best: int) -> None:  # one line, rewritten in place
        click.echo(f"\r{done}/{iterations} moves, current {current}, best {best} additions", err=True, nl=False)
        shown.append(done)

    result = optimize_additions(scheme, iterations=iterations, seed=seed, bound=bound, time_limit=time_limit,
                                on_progress=None if quiet else progress)
    if shown:
        click.echo("", err=True)
    if result.interrupted:
        info("interrupted: keeping the best form found so far", quiet)
    pub = published_additions(scheme.format)
    known = f"; published: {pub.additions} at rank {pub.rank} ({pub.source})" if pub else ""
    info(f"{scheme.format} rank {scheme.rank}: {result.start_additions} → {result.additions} additions after "
         f"elimination in {result.iterations} moves, {result.seconds:.1f} s{known}", quiet)
    doc = {"format": str(scheme.format), "rank": scheme.rank, "additions_before": result.start_additions,
           "additions": result.additions, "iterations": result.iterations, "seconds": result.seconds,
           "published_additions": pub.to_json() if pub else None, "improved": result.improved, "saved": None}
    if not result.improved:
        if as_json:
            echo_json(doc)
        raise SystemExit(EXIT_INTERRUPTED if result.interrupted else EXIT_NOT_FOUND)
    X, Y, Z = sandwich_matrices(scheme.format.dims, result.moves)
    compile_scheme(result.scheme, eliminate=True, check=True)  # the program itself, checked exactly
    provenance = {
        "method": "optimize-additions", "from": source, "seed": seed, "iterations": result.iterations,
        "additions_before": result.start_additions, "additions": result.additions,
        "orientation": result.orientation, "sandwich": {"X": X, "Y": Y, "Z": Z},
        "wall_time": result.seconds, "workers": 1, "command": command_line(), "date": now_iso(),
    }
    if scheme_provenance(scheme).get("composed"):
        provenance["composed"] = True  # a rewrite keeps the rank: it is still a composition's
    certified = certify(result.scheme, provenance)
    if out:
        path = Path(out)
        if path.suffix != ".json":
            path = free_path(path, certified, suffix="additions")
        save_scheme(certified, path)
        doc["saved"] = str(path)
        info(f"wrote {path}", quiet)
    if as_json:
        doc["scheme"] = scheme_to_dict(certified)
        echo_json(doc)
    elif not out:
        click.echo(dumps_scheme(certified), nl=False)
    if result.interrupted:
        raise SystemExit(EXIT_INTERRUPTED)
