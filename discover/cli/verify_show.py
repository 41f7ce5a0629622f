"""``strassen verify`` and ``strassen show``."""
from __future__ import annotations

from pathlib import Path

import click

from ..errors import DiscoverError, LoadError
from ..formulas import scheme_formulas
from ..sources import read_source
from ..verify import verify
from .common import EXIT_BAD_INPUT, EXIT_NOT_FOUND, SCHEME, echo_json, info, json_option, quiet_option


@click.command("verify")
@click.argument("files", nargs=-1, required=True, type=SCHEME)
@json_option("Print one JSON document: a list with one result per scheme.")
@click.option("--proof/--no-proof", default=True, show_default=True,
              help="Add the sympy proof to the exact tensor check.")
@quiet_option("No messages on stderr except errors.", expose=False)
def verify_command(files: tuple[str, ...], as_json: bool, proof: bool) -> None:
    """Check schemes (files, -, built-in names, naive:NxMxP, catalog:NxMxP) against their declared ring.

    A folder stands for the .json files in it (not its subfolders), in name order.
    Exit code 0 when every file is exact (a file labelled Z2 that holds mod 2 passes and
    is reported "valid mod 2 only"), 1 when any is not (with a diagnosis of the wrong
    entries of C), 2 when a file cannot be read or parsed.

    \b
    Examples:
      strassen verify algorithms/2x2x2_r7_ZT.json
      strassen verify --json my_scheme.json
      strassen verify algorithms/
      cat my_scheme.json | strassen verify -
    """
    results = []
    counts = {"valid": 0, "not valid": 0, "unreadable": 0}
    files = _expand_folders(files)
    for path in files:
        # One bad file never stops the batch: it is reported and the next file is checked.
        try:
            if Path(path).is_dir():
                raise LoadError(f"{path}: a folder without .json files")
            scheme = read_source(path)
            report = verify(scheme, proof=proof)
        except DiscoverError as e:
            counts["unreadable"] += 1
            results.append({"file": path, "error": str(e)})
            click.echo(f"error: {e}", err=True)
            continue
        counts["valid" if report.valid else "not valid"] += 1
        results.append({"file": path, **report.to_json()})
        if not as_json:
            click.echo(f"{path}: {report.summary()}")
            for line in report.diagnosis():
                click.echo(f"  {line}")
    if as_json:
        echo_json(results)
    if len(files) > 1:
        info(f"{len(files)} files: {counts['valid']} valid, {counts['not valid']} not valid, "
             f"{counts['unreadable']} unreadable")
    if counts["unreadable"]:
        raise SystemExit(EXIT_BAD_INPUT)
    if counts["not valid"]:
        raise SystemExit(EXIT_NOT_FOUND)


def _expand_folders(sources: tuple[str, ...]) -> tuple[str, ...]:
    """Each folder among ``sources`` replaced by its .json files in name order (a folder without
    any stays, and is then reported as unreadable)."""
    out: list[str] = []
    for source in sources:
        folder = Path(source)
        found = sorted(f for f in folder.glob("*.json") if f.is_file()) if folder.is_dir() else []
        if found:
            out.extend(str(f) for f in found)
        else:
            out.append(source)
    return tuple(out)


@click.command("show")
@click.argument("file", type=SCHEME)
@json_option("Print one JSON document: the file and its formulas as a list of lines.")
@click.option("--additions", is_flag=True,
              help="Also report additions before/after common-subexpression elimination and the error growth.")
@click.option("--plot", "plot_path", default=None, type=click.Path(dir_okay=False),
              help="Also draw U, V, W of every product as signed grids into this .svg/.png/.pdf (needs the plot extra).")
@click.option("--alt-basis", "alt_basis", is_flag=True,
              help="Also print the scheme in an alternative basis (Karstadt–Schwartz): the basis changes, the sparse "
                   "core and the additions per level in both bases.")
@quiet_option("No messages on stderr.", expose=False)
def show_command(file: str, as_json: bool, additions: bool, plot_path: str | None, alt_basis: bool = False) -> None:
    """Print a scheme as formulas: a header, one line per product, one per entry of C.

    \b
    FILE is a scheme file, -, strassen, winograd, naive:NxMxP or catalog:NxMxP.

    
    Examples:
      strassen show algorithms/2x2x2_r7_ZT.json
      strassen show winograd --additions
      strassen show winograd --alt-basis
      strassen show naive:2x3x4
      strassen show algorithms/2x2x2_r7_ZT.json --plot strassen.png
    """
    if plot_path:
        from ..plot import check_plot_path

        check_plot_path(plot_path)  # a missing extra or a bad suffix stops before any work
    scheme = read_source(file)
    if plot_path:
        from ..plot import plot_scheme

        plot_scheme(scheme, plot_path)
        info(f"wrote {plot_path}")
    lines = scheme_formulas(scheme)
    extra: dict = {}
    if additions:
        extra = _cost_report(scheme)
        lines = lines + extra.pop("lines")
    if alt_basis:
        from ..altbasis import find_alt_basis

        alt = find_alt_basis(scheme)
        lines = lines + alt.lines()
        extra["alt_basis"] = alt.to_json()
    if as_json:
        echo_json({"file": file, "lines": lines, **extra})
    else:
        click.echo("\n".join(lines))


def _cost_report(scheme) -> dict:
    """Additions before/after elimination and the measured error growth (exact schemes only)."""
    from ..slp import compile_scheme
    from ..stability import measure_stability

    if scheme.mod2 or not verify(scheme, proof=False).valid:
        return {"lines": ["additions/stability: not reported (the scheme is not exact over the integers)"]}
    program = compile_scheme(scheme, eliminate=True)
    stab = measure_stability(scheme, program=program)
    return {
        "lines": [
            f"additions: {scheme.additions} written plainly, {program.additions} after common-subexpression elimination",
            stab.summary(),
            "program:",
            *("  " + line for line in program.lines()),
        ],
        "additions": {"plain": scheme.additions, "program": program.additions},
        "stability": stab.to_json(),
    }
