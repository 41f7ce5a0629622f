"""``strassen optimize-additions``: the same scheme up to symmetry, with fewer additions."""
from __future__ import annotations

import sys
import time
from typing import Optional

import click

from .common import (EXIT_INTERRUPTED, EXIT_NOT_FOUND, SCHEME, echo_json, emit_scheme, fail, info, json_option,
                     quiet_option)


@click.command("optimize-additions")
@click.argument("sources", metavar="SOURCE...", nargs=-1, required=True, type=SCHEME)
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
@click.option("--flips", default=0, show_default=True, type=click.IntRange(min=0),
              help="First walk each (ternary) SOURCE's plateau of the flip graph for this many flip attempts, "
                   "towards fewer written additions, and start the orbit walk from the cheapest of SOURCE and "
                   "the sparsest scheme of each sixteenth of that walk (they leave SOURCE's orbit).")
@click.option("--flip-temperature", default=1.0, show_default=True, type=click.FloatRange(min=0),
              help="Metropolis temperature of the plateau walk, per written addition.")
@json_option()
@quiet_option()
def optimize_additions_command(sources: tuple[str, ...], out: Optional[str], iterations: int, seed: int,
                               bound: Optional[int], time_limit: Optional[float], flips: int,
                               flip_temperature: float, as_json: bool, quiet: bool) -> None:
    """Search the symmetry orbit of SOURCE for the form with the fewest additions after elimination.

    The sandwich A → XAY⁻¹, B → YBZ⁻¹, C → XCZ⁻¹ by elementary integer matrices (and, for
    square formats, the cyclic and transposed orientations) keeps the rank and the tensor but
    changes the additions. The result is proven with sympy, its straight-line program is
    checked exactly, and it is written (or printed) only when it needs fewer additions than
    SOURCE: exit 0; exit 1 when nothing cheaper was found. Ctrl-C stops the walk and keeps the
    best form found so far (proven and written as above; exit 130).

    Several SOURCEs of one format and rank (e.g. the schemes of a `search --all`) are each walked
    the same way (--time-limit is for them all), and the cheapest form of them all is the result:
    schemes of one rank in different orbits can need far fewer additions than any form of one.
    With --flips N a walk on the ternary flip graph at the same rank (seeded by --seed) first
    looks for sparser schemes outside the orbit; the orbit walk starts from the cheapest.

    \b
    Examples:
      strassen optimize-additions strassen --iterations 300
      strassen optimize-additions algorithms/3x3x3_r23_ZT.json -o found/ --seed 1
      strassen optimize-additions found/3x3x3_r23_ZT*.json --iterations 600 -o algorithms/
      strassen optimize-additions algorithms/4x5x5_r76_ZT.json --flips 10000000 -o found/
    """
    from ..errors import SchemeError
    from ..jsonio import now_iso
    from ..optimize_additions import optimize_additions, plateau_start, sandwich_matrices
    from ..provenance import certify, command_line, scheme_provenance
    from ..published_additions import published_additions
    from ..slp import compile_scheme
    from ..sources import load_source

    loaded = [(source, load_source(source)) for source in sources]
    first_source, first = loaded[0]
    for source, scheme in loaded:
        if scheme.mod2:
            fail(f"{source} is valid mod 2 only: it has no additions over the integers to optimise")
        if (scheme.format, scheme.rank) != (first.format, first.rank):
            fail(f"{source} is a {scheme.format} rank {scheme.rank} scheme, {first_source} a {first.format} "
                 f"rank {first.rank} one: the SOURCEs must share a format and a rank")

    shown = []

    def progress(done: int, current: int, best: int) -> None:  # one line, rewritten in place
        # the walk's form is scored by one greedy pass, the best by all tries (see optimize_additions)
        click.echo(f"\r{done}/{iterations} moves, current {current} (greedy), best {best} additions", err=True, nl=False)
        shown.append(done)

    t0 = time.perf_counter()
    walked = []  # (source, scheme, result, plateau walk or None) in the order walked
    for k, (source, scheme) in enumerate(loaded):
        left = None if time_limit is None else time_limit - (time.perf_counter() - t0)
        if left is not None and left <= 0 and walked:
            break
        start, plateau = scheme, None
        if flips:
            try:
                plateau = plateau_start(scheme, flips, seed, temperature=flip_temperature)
            except SchemeError as exc:
                fail(f"{source}: {exc}")
            start = plateau.scheme
            info(f"plateau walk of {source}: {flips} flips, {len(plateau.written) - 1} distinct sparsest schemes "
                 f"(written additions {min(plateau.written[1:], default=plateau.written[0])}, source "
                 f"{plateau.written[0]}); after elimination {min(plateau.additions)} (source {plateau.additions[0]})",
                 quiet)
        one = optimize_additions(start, iterations=iterations, seed=seed, bound=bound, time_limit=left,
                                 on_progress=None if quiet or len(loaded) > 1 else progress)
        if plateau is not None:
            one.start_additions = plateau.additions[0]  # improved: against the source, not the sample
        walked.append((source, scheme, one, plateau))
        if len(loaded) > 1:
            info(f"[{k + 1}/{len(loaded)}] {source}: {one.start_additions} → {one.additions} additions", quiet)
        if one.interrupted:
            break
    # The cheapest form of them all; on a tie a source that is that cheap as given wins (then
    # nothing is written: no form is cheaper than every source), else the first walked.
    source, scheme, result, plateau = min(walked, key=lambda w: (w[2].additions, w[2].improved))
    result.interrupted = any(w[2].interrupted for w in walked)
    if shown:
        click.echo("", err=True)
    if result.interrupted:
        info("interrupted: keeping the best form found so far", quiet)
    pub = published_additions(scheme.format)
    known = f"; published: {pub.additions} at rank {pub.rank} ({pub.source})" if pub else ""
    cheapest = f" (the cheapest of {len(walked)}: {source})" if len(loaded) > 1 else ""
    info(f"{scheme.format} rank {scheme.rank}: {result.start_additions} → {result.additions} additions after "
         f"elimination in {result.iterations} moves, {result.seconds:.1f} s{known}{cheapest}", quiet)
    doc = {"format": str(scheme.format), "rank": scheme.rank, "source": source,
           "additions_before": result.start_additions, "additions": result.additions,
           "iterations": result.iterations, "seconds": result.seconds,
           "published_additions": pub.to_json() if pub else None, "improved": result.improved, "saved": None}
    if len(loaded) > 1:
        doc["sources"] = [{"source": src, "additions_before": one.start_additions, "additions": one.additions}
                          for src, _, one, _ in walked]
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
    if plateau is not None:
        # the sandwich acts on the chosen sample of the plateau walk (None: on the source itself)
        provenance["plateau"] = {"flips": flips, "samples": len(plateau.written) - 1,
                                 "temperature": flip_temperature, "sample": plateau.sample,
                                 "written_additions": plateau.written, "additions": plateau.additions}
    if len(loaded) > 1:
        # The result depends on its own source alone: record the command with that one source, so
        # that the chain of steps (and `catalog rebuild`) follows it back to the right file.
        others = set(sources) - {source}
        provenance["command"] = command_line([a for a in sys.argv[1:] if a not in others])
        provenance["chosen_from"] = {"sources": len(walked), "command": command_line()}
    if scheme_provenance(scheme).get("composed"):
        provenance["composed"] = True  # a rewrite keeps the rank: it is still a composition's
    certified = certify(result.scheme, provenance)
    emit_scheme(certified, out, doc, as_json, quiet, suffix="additions")
    if result.interrupted:
        raise SystemExit(EXIT_INTERRUPTED)
