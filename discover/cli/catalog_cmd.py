"""``strassen catalog ...``: the catalog command group."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

from ..catalog import catalog_dir, list_entries
from .common import echo_json, info, quiet_option

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
def compare_command(directory: Optional[str], as_json: bool) -> None:
    """Our best rank per format against the best known ranks (rational, integer and mod 2).

    \b
    Example:
      strassen catalog compare
    """
    from ..catalog_compare import compare_catalog

    comparison = compare_catalog(directory)
    if as_json:
        echo_json(comparison.to_json())
        return
    click.echo(f"{'format':<7} {'ours':>5} {'ring':<4} {'known Q':>7} {'known Z':>7} {'mod 2':>5} {'gap':>4} {'classes':>7}  source")
    for r in comparison.rows:
        ours = "-" if r.our_rank is None else str(r.our_rank)
        gap = "-" if r.gap is None else f"{r.gap:+d}" if r.gap else "0"
        mark = "*" if r.composed else ""
        click.echo(
            f"{r.format:<7} {ours + mark:>5} {r.our_ring or '-':<4} {r.best_known_rank:>7} "
            f"{r.best_known_integer_rank:>7} {r.best_known_mod2_rank:>5} {gap:>4} {r.inequivalent:>7}  {r.source}"
        )
    click.echo("(* composed from smaller catalog schemes; classes = distinct symmetry invariants among our schemes at our rank)")
    click.echo(comparison.summary)


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
@click.option("--format", "fmt", required=True, help="Rerun the recorded command of this format's best entry.")
@DIR_OPTION
@click.option("-o", "--out", "out_dir", default=None, type=click.Path(file_okay=False), help="Where the rerun writes (default: a temporary folder).")
@quiet_option(expose=False)
def rebuild_command(fmt: str, directory: Optional[str], out_dir: Optional[str]) -> None:
    """Rerun the recorded search (or composition) of a catalog entry and check the rank.

    Exit 0 when the rerun finds a verified scheme of the same rank.

    \b
    Example:
      strassen catalog rebuild --format 3x3x3
    """
    import shlex
    import subprocess
    import sys
    import tempfile

    from ..catalog import best
    from ..jsonio import load_scheme
    from .common import EXIT_NOT_FOUND, fail, info

    target = best(fmt, directory)
    prov = target.meta.get("provenance") or {}
    command = prov.get("command") if isinstance(prov, dict) else None
    if not command:
        fail(f"the catalog entry for {fmt} records no command to rerun")
    argv = shlex.split(command)
    if argv[:1] != ["strassen"]:
        fail(f"recorded command {command!r} is not a strassen command")
    argv = _upgrade_recorded_options(_resolve_catalog_paths(argv[1:], catalog_dir(directory)))
    argv = _redirect_output(argv, out_dir or tempfile.mkdtemp(prefix="strassen-rebuild-"))
    info("rerunning: strassen " + " ".join(shlex.quote(a) for a in argv))
    # The recorded command runs as it ran the first time: as its own process.
    code = subprocess.run([sys.executable, "-m", "discover.cli", *argv]).returncode
    if code != 0:
        raise SystemExit(code)
    written = _written_file(argv)
    schemes = [load_scheme(p) for p in written]
    ranks = sorted(s.rank for s in schemes)
    if not ranks or ranks[0] > target.rank:
        info(f"rerun did not reach rank {target.rank} (got {ranks or 'nothing'})")
        raise SystemExit(EXIT_NOT_FOUND)
    click.echo(f"rebuilt {fmt}: rank {ranks[0]} (catalog: {target.rank})")


def _resolve_catalog_paths(argv: list[str], root: Path) -> list[str]:
    """Recorded commands name catalog files as ``algorithms/...`` (relative to the repository):
    point those at the catalog actually in use, so a rebuild works from any folder."""
    result = []
    for arg in argv:
        if (arg == "algorithms" or arg.startswith("algorithms/")) and not Path(arg).exists():
            arg = str(root / arg[len("algorithms"):].lstrip("/")) if arg != "algorithms" else str(root)
        result.append(arg)
    return result


def _upgrade_recorded_options(argv: list[str]) -> list[str]:
    """Commands recorded by version 0.1 passed search method options as ``-o KEY=VALUE``;
    ``-o`` now names the output everywhere and method options are ``-O KEY=VALUE``."""
    if argv[:1] != ["search"]:
        return argv
    return ["-O" if a == "-o" and i + 1 < len(argv) and "=" in argv[i + 1] else a for i, a in enumerate(argv)]


def _redirect_output(argv: list[str], out_dir: str) -> list[str]:
    """Point the rerun's --out / -o at ``out_dir`` so the catalog itself is never overwritten."""
    from pathlib import Path

    result = list(argv)
    for flag in ("--out", "-o"):
        if flag in result:
            i = result.index(flag)
            old = Path(result[i + 1])
            result[i + 1] = str(Path(out_dir) / old.name) if old.suffix == ".json" else out_dir
            return result
    return result + ["--out", out_dir]


def _written_file(argv: list[str]) -> list[Path]:
    for flag in ("--out", "-o"):
        if flag in argv:
            target = Path(argv[argv.index(flag) + 1])
            return [target] if target.suffix == ".json" else sorted(target.glob("*.json"))
    return []


@catalog_group.command("compose")
@click.argument("fmt")
@DIR_OPTION
@click.option("-o", "--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="Folder to write the verified scheme to (default: print it).")
@click.option("--peel", is_flag=True, help="Only split off a width-1 naive slice (a start that flip walks descend from easily).")
@quiet_option(expose=False)
def compose_catalog_command(fmt: str, directory: Optional[str], out_dir: Optional[str], peel: bool) -> None:
    """Build FMT from the catalog's schemes: the best direct sum or Kronecker product.

    The result is verified and marked as composed.

    \b
    Example:
      strassen catalog compose 3x4x5 --out algorithms
    """
    from ..catalog import best_composition
    from .._version import __version__
    from ..jsonio import default_file_name, dumps_scheme, now_iso, save_scheme
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
                                    "recipe": scheme.meta.get("name"), "version": __version__}, keep_provenance=True)
    if out_dir:
        path = Path(out_dir) / default_file_name(scheme, suffix="peeled" if peel else "composed")
        save_scheme(scheme, path)
        info(f"wrote {path}: {report.summary()} ({scheme.meta.get('name')})")
    else:
        click.echo(dumps_scheme(scheme), nl=False)


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
