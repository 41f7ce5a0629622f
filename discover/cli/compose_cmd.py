"""``strassen transform`` and ``strassen compose``: new verified schemes from old ones."""
from __future__ import annotations

from typing import Optional

import click

from ..jsonio import now_iso, parse_json, save_scheme
from ..provenance import certify
from ..scheme import Scheme
from ..sources import SOURCE_HELP as _SOURCE_HELP, read_source
from ..symmetry import cyclic, direct_sum, kron, sandwich, to_format, transpose
from ..verify import verify
from .common import EXIT_NOT_FOUND, command_line, fail, info, SCHEME, quiet_option


def _source(spec: str) -> Scheme:
    """A scheme source (see :mod:`discover.sources`); the result is verified when it is emitted."""
    return read_source(spec)


def _emit(scheme: Scheme, out: Optional[str]) -> None:
    report = verify(scheme)
    if not report.valid:
        info(f"the result is not exact: {report.summary()}")
        raise SystemExit(EXIT_NOT_FOUND)
    scheme = certify(scheme, {"command": command_line(), "date": now_iso()}, report=report, keep_provenance=True)
    if out:
        save_scheme(scheme, out)
        info(f"wrote {out}: {report.summary()}")
    else:
        from ..jsonio import dumps_scheme

        click.echo(dumps_scheme(scheme), nl=False)


SOURCE_HELP = _SOURCE_HELP[0].upper() + _SOURCE_HELP[1:] + "."


@click.command("transform")
@click.argument("source", type=SCHEME)
@click.option("--op", type=click.Choice(["transpose", "cyclic", "orient", "sandwich"]), required=True)
@click.option("--to", "target", default=None, help="Target format for --op orient (a permutation of the source format).")
@click.option("--xyz", default=None, help='For --op sandwich: JSON [X, Y, Z] of square matrices.')
@click.option("-o", "--out", default=None, type=click.Path(dir_okay=False), help="Write the verified JSON here (default: stdout).")
@quiet_option(expose=False)
def transform_command(source: str, op: str, target: Optional[str], xyz: Optional[str], out: Optional[str]) -> None:
    """Apply a symmetry to a scheme and write the verified result.

    SOURCE is a scheme file, naive:NxMxP, or a built-in name (strassen, winograd).

    \b
    Examples:
      strassen transform strassen --op cyclic -o s.json
      strassen transform naive:2x3x4 --op orient --to 4x2x3
      strassen transform strassen --op sandwich --xyz '[[[1,1],[0,1]],[[1,0],[0,1]],[[1,0],[1,1]]]'
    """
    scheme = _source(source)
    if op == "transpose":
        result = transpose(scheme)
    elif op == "cyclic":
        result = cyclic(scheme)
    elif op == "orient":
        if not target:
            fail("--op orient needs --to NxMxP")
        result = to_format(scheme, target)
    else:
        if not xyz:
            fail("--op sandwich needs --xyz '[X, Y, Z]'")
        try:
            mats = parse_json(xyz)
        except ValueError as e:  # also digits beyond the limit and nesting beyond the limit
            fail(f"--xyz is not JSON within the limits: {e}")
        if not isinstance(mats, list) or len(mats) != 3:
            fail("--xyz must be a JSON list of three square matrices [X, Y, Z]")
        result = sandwich(scheme, *mats)
    _emit(result, out)


@click.command("compose")
@click.argument("first", type=SCHEME)
@click.argument("second", type=SCHEME)
@click.option("--op", type=click.Choice(["kron", "sum-n", "sum-m", "sum-p"]), required=True,
              help="kron: tensor product; sum-X: direct sum along dimension X.")
@click.option("-o", "--out", default=None, type=click.Path(dir_okay=False), help="Write the verified JSON here (default: stdout).")
@quiet_option(expose=False)
def compose_command(first: str, second: str, op: str, out: Optional[str]) -> None:
    """Combine two schemes into a scheme for a larger format.

    FIRST and SECOND are scheme files, naive:NxMxP, or built-in names (strassen, winograd).

    \b
    Examples:
      strassen compose strassen strassen --op kron -o 4x4x4_r49.json
      strassen compose strassen naive:2x2x1 --op sum-p -o 2x2x3_r11.json
    """
    a, b = _source(first), _source(second)
    result = kron(a, b) if op == "kron" else direct_sum(a, b, op[-1])
    _emit(result, out)
