"""``strassen export``: a scheme as code (numpy, torch, C), formulas (LaTeX, Markdown) or an interchange format."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import click

from ..codegen import CUTOFF_TARGETS, DEFAULT_CUTOFF, TARGETS, generate
from ..errors import DiscoverError
from ..jsonio import atomic_write_text, load_scheme
from ..scheme import Scheme
from ..verify import verify
from .common import EXIT_NOT_FOUND, command_line, echo_json, fail, info

#: Targets written by discover.interchange (imported lazily: written by another module).
INTERCHANGE_TARGETS = ("json", "alphatensor", "perminov", "exp", "lifted", "benson-ballard")


def _load(source: str) -> Scheme:
    """A scheme file, or a known scheme's name (``strassen``, ``winograd``)."""
    from ..known import KNOWN

    if not Path(source).exists() and source.lower() in KNOWN:
        return KNOWN[source.lower()]()
    return load_scheme(source)


@click.command("export")
@click.argument("source")
@click.option("--to", "target", required=True, metavar="TARGET",
              help="python, torch, c (code); latex, markdown (formulas); json, alphatensor, perminov, exp, lifted, benson-ballard.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Output file (default: stdout for text targets).")
@click.option("--no-eliminate", is_flag=True, help="Generate the plain program (no shared subexpressions).")
@click.option("--cutoff", type=int, default=None, metavar="N",
              help=f"Default cutoff of the generated matmul (python, torch; default {DEFAULT_CUTOFF}): blocks "
                   "smaller than N in any dimension use A @ B. 1 always runs the scheme.")
@click.option("--no-stability", is_flag=True, help="Skip measuring the error growth.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON report (additions, stability, file) on stdout.")
@click.option("-q", "--quiet", is_flag=True, help="No report on stderr.")
def export_command(source: str, target: str, output: Optional[str], no_eliminate: bool, cutoff: Optional[int],
                   no_stability: bool, as_json: bool, quiet: bool) -> None:
    """Write a verified scheme as code, formulas or an interchange format.

    SOURCE is a scheme file (or ``strassen``/``winograd``). The scheme is verified first:
    a scheme that is not exact gets exit code 1 and nothing is written. Code targets
    report the additions before/after common-subexpression elimination and the measured
    error growth (1 and 2 levels) on stderr.

    \b
    Examples:
      strassen export algorithms/2x2x2_r7_ZT.json --to python -o strassen2.py
      strassen export algorithms/3x3x3_r23_ZT.json --to python --cutoff 1 -o s333.py
      strassen export winograd --to c -o winograd.c && gcc -O2 -Wall -Werror -c winograd.c
      strassen export winograd --to markdown
    """
    if target not in TARGETS and target not in INTERCHANGE_TARGETS:
        fail(f"unknown target {target!r}; choose one of {', '.join([*TARGETS, *INTERCHANGE_TARGETS])}")
    if cutoff is not None and (target not in CUTOFF_TARGETS or cutoff < 1):
        fail(f"--cutoff takes a value of at least 1 and applies to {', '.join(CUTOFF_TARGETS)} only")
    try:
        scheme = _load(source)
    except DiscoverError as e:
        fail(str(e))
    report = verify(scheme, proof=False)
    code_target = target in TARGETS
    if not report.valid or (code_target and scheme.mod2):
        reason = "valid mod 2 only, not an algorithm over the integers" if report.valid else report.summary()
        click.echo(f"error: {source}: not exact ({reason}); nothing exported", err=True)
        raise SystemExit(EXIT_NOT_FOUND)
    doc: dict = {"source": source, "target": target, "format": str(scheme.format), "rank": scheme.rank,
                 "ring": scheme.ring}
    if code_target:
        from ..slp import compile_scheme

        program = compile_scheme(scheme, eliminate=not no_eliminate)
        text = generate(scheme, target, command_line(), program=program, cutoff=cutoff)
        doc["additions"] = {"plain": scheme.additions, "program": program.additions}
        info(f"additions per level: {scheme.additions} written plainly, {program.additions} in the program", quiet)
        if target in CUTOFF_TARGETS:
            doc["cutoff"] = DEFAULT_CUTOFF if cutoff is None else cutoff
            info(f"matmul(A, B, levels=1, cutoff={doc['cutoff']}): blocks smaller than the cutoff use A @ B "
                 "(cutoff=1 forces the scheme)", quiet)
        if not no_stability:
            from ..stability import measure_stability

            stab = measure_stability(scheme, program=program)
            doc["stability"] = stab.to_json()
            info(stab.summary(), quiet)
        if output and output != "-":
            atomic_write_text(output, text)
            doc["file"] = output
            info(f"wrote {output} ({target})", quiet)
        else:
            sys.stdout.write(text)
            as_json = False
    else:
        if not output:
            fail(f"--to {target} needs an output file (-o PATH)")
        try:
            from ..interchange import EXPORT_TARGETS  # type: ignore[attr-defined]
        except ImportError:
            fail(f"target {target!r} is not available: discover.interchange is not installed")
        if target not in EXPORT_TARGETS:
            fail(f"target {target!r} is not available in discover.interchange")
        EXPORT_TARGETS[target](scheme, Path(output))
        doc["file"] = output
        info(f"wrote {output} ({target})", quiet)
    if as_json:
        echo_json(doc)


__all__ = ["export_command"]
