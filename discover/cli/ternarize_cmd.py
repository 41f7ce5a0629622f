"""``strassen ternarize``: an integer scheme moved to coefficients {-1, 0, 1} at the same rank."""
from __future__ import annotations

from typing import Optional

import click

from .common import (EXIT_INTERRUPTED, EXIT_NOT_FOUND, SCHEME, echo_json, emit_scheme, fail, info, json_option,
                     quiet_option)


@click.command("ternarize")
@click.argument("source", metavar="SOURCE", type=SCHEME)
@click.option("-o", "--out", default=None, type=click.Path(),
              help="Write the verified ternary scheme here: a .json file, or a folder (named NxMxP_rR_ZT.json, "
                   "or -2, -3, ... when that file holds another scheme).")
@click.option("--moves", default=200_000, show_default=True, type=click.IntRange(min=1),
              help="Moves tried at most (the walk stops at the first ternary form).")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0), help="Seed of the move choices.")
@click.option("--time-limit", default=None, type=click.FloatRange(min=0, min_open=True),
              help="Stop earlier after this many seconds (the result then depends on the machine).")
@json_option()
@quiet_option()
def ternarize_command(source: str, out: Optional[str], moves: int, seed: int, time_limit: Optional[float],
                      as_json: bool, quiet: bool) -> None:
    """Move an integer SOURCE to a scheme with coefficients in {-1, 0, 1} at the same rank.

    The walk takes symmetry transvections (the sandwich A → XAY⁻¹, B → YBZ⁻¹, C → XCZ⁻¹ by
    X, Y, Z = I ± e_ij) and integer flips of two terms that share a factor, and goes downhill
    (Metropolis) on the coefficients' excess over 1. A ternary form is proven with sympy and
    written (or printed): exit 0 (also when SOURCE is ternary already; then nothing is written).
    Exit 1 when the moves ran out first (the least excess reached is reported, nothing is
    written); 130 on Ctrl-C. For the schemes a `search --ring Z` lifts from GF(2) with
    coefficients up to 5 or 9.

    \b
    Examples:
      strassen ternarize found/3x5x5_r58_Z.json -o algorithms/ --seed 3
      strassen ternarize algorithms/2x4x4_r26_Z.json --json
    """
    from ..jsonio import now_iso
    from ..provenance import certify, command_line, scheme_provenance
    from ..rings import Ring
    from ..sources import load_source
    from ..ternary_form import coefficient_excess, ternary_form

    scheme = load_source(source)
    if scheme.mod2:
        fail(f"{source} is valid mod 2 only: lift it first (strassen search --ring Z --start {source})")
    if scheme.ring is Ring.Q:
        fail(f"{source} has fractions: ternarize walks integer schemes")
    if coefficient_excess(scheme.factors) == 0:
        # nothing to move, and nothing written: rewriting the file would replace its provenance
        info(f"{source}: its coefficients are already in {{-1, 0, 1}}; nothing written", quiet)
        if as_json:
            echo_json({"format": str(scheme.format), "rank": scheme.rank, "source": source, "excess_before": 0,
                       "excess": 0, "max_coefficient": 1, "moves": 0, "seconds": 0.0, "ternary": True, "saved": None})
        return
    shown = []

    def progress(done: int, current: int, best: int) -> None:  # one line, rewritten in place
        click.echo(f"\r{done}/{moves} moves, excess {current}, best {best}", err=True, nl=False)
        shown.append(done)

    result = ternary_form(scheme, moves=moves, seed=seed, time_limit=time_limit,
                          on_progress=None if quiet else progress)
    if shown:
        click.echo("", err=True)
    if result.interrupted:
        info("interrupted", quiet)
    info(f"{scheme.format} rank {scheme.rank}: coefficient excess {result.start_excess} → {result.excess} "
         f"(largest |coefficient| {result.max_coefficient}) in {result.moves} moves, {result.seconds:.1f} s", quiet)
    doc = {"format": str(scheme.format), "rank": result.scheme.rank, "source": source,
           "excess_before": result.start_excess, "excess": result.excess,
           "max_coefficient": result.max_coefficient, "moves": result.moves, "seconds": result.seconds,
           "ternary": result.ternary, "saved": None}
    if not result.ternary:
        if as_json:
            echo_json(doc)
        raise SystemExit(EXIT_INTERRUPTED if result.interrupted else EXIT_NOT_FOUND)
    provenance = {
        "method": "ternarize", "from": source, "seed": seed, "moves": result.moves,
        "excess_before": result.start_excess, "wall_time": result.seconds, "workers": 1,
        "command": command_line(), "date": now_iso(),
    }
    if scheme_provenance(scheme).get("composed"):
        provenance["composed"] = True
    certified = certify(result.scheme, provenance)
    emit_scheme(certified, out, doc, as_json, quiet)
