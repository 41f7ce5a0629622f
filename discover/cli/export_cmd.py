"""``strassen export``: a scheme as code (numpy, torch, C), formulas (LaTeX, Markdown) or an interchange format."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import click

from ..codegen import CUTOFF_TARGETS, DEFAULT_CUTOFF, TARGETS, generate
from ..interchange import EXPORT_TARGETS
from ..jsonio import atomic_write_text
from ..sources import read_source
from ..verify import verify
from .common import EXIT_NOT_FOUND, SCHEME, command_line, echo_json, fail, info, json_option, out_option, quiet_option


@click.command("export")
@click.argument("source", type=SCHEME)
@click.option("--to", "target", required=True, type=click.Choice([*TARGETS, *EXPORT_TARGETS]),
              help="python, torch, c (code); latex, markdown (formulas); json, alphatensor, perminov, exp, lifted, benson-ballard.")
@out_option("Output file (default: stdout for text targets).")
@click.option("--no-eliminate", is_flag=True, help="Generate the plain program (no shared subexpressions).")
@click.option("--cutoff", type=int, default=None, metavar="N",
              help=f"Default cutoff of the generated matmul (python, torch; default {DEFAULT_CUTOFF}): blocks "
                   "smaller than N in any dimension use A @ B. 1 always runs the scheme.")
@click.option("--no-stability", is_flag=True, help="Skip measuring the error growth.")
@click.option("--build", is_flag=True, help="With --to c: compile -o LIB.so (source beside it) with BLAS leaf "
              "products (scipy's/numpy's OpenBLAS or a system BLAS).")
@click.option("--no-blas", is_flag=True, help="With --build: plain C loops, no BLAS.")
@click.option("--alt-basis", "alt_basis", is_flag=True,
              help="With --to python or c: the scheme in an alternative basis (Karstadt–Schwartz): basis changes once "
                   "per level at the top and a sparser core.")
@json_option("Print a JSON report (additions, stability, file) on stdout.")
@quiet_option("No report on stderr.")
def export_command(source: str, target: str, out: Optional[str], no_eliminate: bool, cutoff: Optional[int],
                   no_stability: bool, build: bool, no_blas: bool, alt_basis: bool, as_json: bool, quiet: bool) -> None:
    """Write a verified scheme as code, formulas or an interchange format.

    SOURCE is a scheme file, -, strassen, winograd, naive:NxMxP or catalog:NxMxP. The scheme is verified first:
    a scheme that is not exact gets exit code 1 and nothing is written. Code targets
    report the additions before/after common-subexpression elimination and the measured
    error growth (1 and 2 levels) on stderr.

    \b
    Examples:
      strassen export algorithms/2x2x2_r7_ZT.json --to python -o strassen2.py
      strassen export algorithms/3x3x3_r23_ZT.json --to python --cutoff 1 -o s333.py
      strassen export winograd --to c -o winograd.c && gcc -O2 -Wall -Werror -c winograd.c
      strassen export winograd --to c --build -o libwinograd.so
      strassen export winograd --to markdown
      strassen export catalog:3x3x3 --to python -o m.py
      strassen export winograd --to python --alt-basis -o winograd_alt.py
      strassen export winograd --to c --alt-basis --build -o libwinograd_alt.so
    """
    if cutoff is not None and (target not in CUTOFF_TARGETS or cutoff < 1):
        fail(f"--cutoff takes a value of at least 1 and applies to {', '.join(CUTOFF_TARGETS)} only")
    if (build or no_blas) and (target != "c" or not out or out == "-" or (no_blas and not build)):
        fail("--build needs --to c and -o LIB.so (--no-blas only with --build)")
    if alt_basis and (target not in ("python", "c") or no_eliminate):
        fail("--alt-basis applies to --to python and --to c (without --no-eliminate)")
    output = out
    scheme = read_source(source)
    report = verify(scheme, proof=False)
    code_target = target in TARGETS
    if not report.valid or (code_target and scheme.mod2):
        reason = "valid mod 2 only, not an algorithm over the integers" if report.valid else report.summary()
        click.echo(f"error: {source}: not exact ({reason}); nothing exported", err=True)
        raise SystemExit(EXIT_NOT_FOUND)
    doc: dict = {"source": source, "target": target, "format": str(scheme.format), "rank": scheme.rank,
                 "ring": scheme.ring.value}
    if code_target:
        from ..slp import compile_scheme

        program = compile_scheme(scheme, eliminate=not no_eliminate)
        doc["additions"] = {"plain": scheme.additions, "program": program.additions}
        info(f"additions per level: {scheme.additions} written plainly, {program.additions} in the program", quiet)
        if alt_basis:
            from ..altbasis import find_alt_basis
            from ..codegen.altbasis import generate_c_alt, generate_numpy_alt

            alt = find_alt_basis(scheme)
            if target == "c":
                text = generate_c_alt(alt, command_line())
            else:
                text = generate_numpy_alt(alt, command_line(), DEFAULT_CUTOFF if cutoff is None else cutoff)
            core, changes = alt.core_additions(), alt.basis_additions()
            doc["additions"]["alt_basis"] = {"core": core["total"], "basis_changes": changes["total"]}
            info(f"alternative basis: {core['total']} additions per level in the core, basis changes "
                 f"{changes['total']} per level once at the top", quiet)
        else:
            text = generate(scheme, target, command_line(), program=program, cutoff=cutoff)
        if target in CUTOFF_TARGETS:
            doc["cutoff"] = DEFAULT_CUTOFF if cutoff is None else cutoff
            info(f"matmul(A, B, levels=1, cutoff={doc['cutoff']}): blocks smaller than the cutoff use A @ B "
                 "(cutoff=1 forces the scheme)", quiet)
        if not no_stability and not alt_basis:  # the measured growth is that of the standard basis
            from ..stability import measure_stability

            stab = measure_stability(scheme, program=program)
            doc["stability"] = stab.to_json()
            info(stab.summary(), quiet)
        if build:
            from ..codegen.cbuild import build_shared, find_blas

            blas = False if no_blas else find_blas()
            if blas is None:
                fail("--build found no BLAS (scipy's or numpy's OpenBLAS, or a system libblas); use --no-blas")
            library = build_shared(scheme, output, blas, command_line(), text=text if alt_basis else None)
            doc["file"], doc["source_file"] = str(library), str(Path(output).with_suffix(".c"))
            doc["blas"] = None if blas is False else f"{blas.path} ({blas.dgemm})"
            info(f"wrote {library} (BLAS: {doc['blas'] or 'none, plain loops'}) and {doc['source_file']}", quiet)
        elif output and output != "-":
            atomic_write_text(output, text)
            doc["file"] = output
            info(f"wrote {output} ({target})", quiet)
        else:
            sys.stdout.write(text)
            as_json = False
    else:
        if not output:
            fail(f"--to {target} needs an output file (-o PATH)")
        EXPORT_TARGETS[target](scheme, Path(output))
        doc["file"] = output
        info(f"wrote {output} ({target})", quiet)
    if as_json:
        echo_json(doc)


__all__ = ["export_command"]
