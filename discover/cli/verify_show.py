"""``strassen verify`` and ``strassen show``."""
from __future__ import annotations

import click

from ..errors import DiscoverError
from ..formulas import scheme_formulas
from ..jsonio import load_scheme
from ..verify import verify
from .common import EXIT_BAD_INPUT, EXIT_NOT_FOUND, echo_json, fail


@click.command("verify")
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document with a result per file.")
@click.option("--no-proof", is_flag=True, help="Skip the sympy proof; only the exact tensor check.")
def verify_command(files: tuple[str, ...], as_json: bool, no_proof: bool) -> None:
    """Check scheme files against their declared ring.

    Exit code 0 when every file is exact (a file labelled Z2 that holds mod 2 passes and
    is reported "valid mod 2 only"), 1 when any is not (with a diagnosis of the wrong
    entries of C), 2 when a file cannot be read or parsed.

    \b
    Examples:
      strassen verify algorithms/2x2x2_r7_ZT.json
      strassen verify --json my_scheme.json
    """
    results = []
    counts = {"valid": 0, "not valid": 0, "unreadable": 0}
    for path in files:
        # One bad file never stops the batch: it is reported and the next file is checked.
        try:
            scheme = load_scheme(path)
            report = verify(scheme, proof=not no_proof)
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
        echo_json(results if len(results) > 1 else results[0])
    if len(files) > 1:
        click.echo(
            f"{len(files)} files: {counts['valid']} valid, {counts['not valid']} not valid, {counts['unreadable']} unreadable",
            err=True,
        )
    if counts["unreadable"]:
        raise SystemExit(EXIT_BAD_INPUT)
    if counts["not valid"]:
        raise SystemExit(EXIT_NOT_FOUND)


@click.command("show")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the formulas as a JSON list of lines.")
@click.option("--additions", is_flag=True,
              help="Also report additions before/after common-subexpression elimination and the error growth.")
def show_command(file: str, as_json: bool, additions: bool) -> None:
    """Print a scheme as formulas: a header, one line per product, one per entry of C.

    \b
    Example:
      strassen show algorithms/2x2x2_r7_ZT.json
    """
    try:
        scheme = load_scheme(file)
    except DiscoverError as e:
        fail(str(e))
    lines = scheme_formulas(scheme)
    extra: dict = {}
    if additions:
        extra = _cost_report(scheme)
        lines = lines + extra.pop("lines")
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
