"""``strassen catalog ...``: the catalog command group."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

from ..catalog import catalog_dir, list_entries
from .common import echo_json

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
    click.echo(f"{len(rows)} schemes in {root}", err=True)
