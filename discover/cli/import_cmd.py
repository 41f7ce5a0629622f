"""``strassen import``: read the field's files, verify every scheme, write our JSON."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import click

from ..errors import DiscoverError, WriteError
from ..interchange import KINDS, SOURCE_TAGS, ImportedScheme, import_file, label_ring
from ..jsonio import default_file_name, now_iso, save_scheme
from ..provenance import stamp
from .common import EXIT_BAD_INPUT, EXIT_NOT_FOUND, EXIT_OK, command_line, echo_json, info


def _tag(item: ImportedScheme) -> str:
    """``at-factorizations_r``: the source tag and the file stem, safe in a file name."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(item.source).stem).strip("._-") or "file"
    return f"{SOURCE_TAGS.get(item.kind, item.kind)}-{stem}"


@click.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--out", "output_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("."), show_default=True, help="Folder for the JSON files.")
@click.option("--from", "kind", type=click.Choice(KINDS), default=None, help="Skip detection and read every FILE in this format (the mirror of export --to).")
@click.option("--proof/--no-proof", default=False, show_default=True, help="Add the sympy proof to the fast exact check (slow for ranks in the hundreds).")
@click.option("--dry-run", is_flag=True, help="Verify and report, write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document with every outcome.")
@click.option("-q", "--quiet", is_flag=True, help="No messages on stderr except errors.")
def import_command(files: tuple[Path, ...], output_dir: Path, kind: str | None, proof: bool, dry_run: bool, as_json: bool, quiet: bool) -> None:
    """Import schemes from the field's formats, verify them and write catalog JSON.

    Detects the format of each FILE (AlphaTensor / AlphaEvolve .npz, Perminov JSON,
    Kauers-Moosbauer .exp and _lifted.txt, Benson-Ballard coefficient files, our JSON),
    recounts the rank, verifies every scheme over Q and else mod 2, labels the ring from
    the verification (never from the file name) and writes NxMxP_rR_RING-SOURCE.json.

    A bad file or scheme is reported on one line and the batch goes on; a summary line ends it.
    Exit codes: 0 all imported, 1 some scheme refused or not exact, 2 a file unreadable or a
    scheme that could not be verified (over a size limit) or written.

    \b
    Examples:
      strassen import factorizations_r.npz -o imported/
      strassen import flips/*.exp perminov/*.json -o imported/ --proof
    """
    records: list[dict[str, Any]] = []
    unreadable: list[dict[str, str]] = []
    written: set[Path] = set()
    counts = {"valid": 0, "Z2": 0, "not exact": 0, "refused": 0}
    command = command_line()
    if not dry_run:
        _check_output_dir(output_dir)
    failed: list[dict[str, str]] = []
    for path in files:
        # A bad file, or a scheme that cannot be verified or written, never stops the batch.
        try:
            items = import_file(path, kind)
        except DiscoverError as e:
            click.echo(f"error: {e}", err=True)
            unreadable.append({"file": str(path), "error": str(e)})
            continue
        for item in items:
            try:
                records.append(_import_item(item, output_dir, proof, dry_run, as_json, quiet, written, counts, command))
            except DiscoverError as e:
                click.echo(f"error: {item.label}: {e}", err=True)
                failed.append({"source": item.label, "error": str(e)})
    total = sum(counts.values()) + len(failed)
    info(
        f"{total} scheme(s) from {len(files) - len(unreadable)} file(s): {counts['valid']} valid over Q, "
        f"{counts['Z2']} valid mod 2 only (Z2), {counts['not exact']} not exact, {counts['refused']} refused"
        + (f", {len(failed)} failed" if failed else "")
        + (f"; {len(unreadable)} file(s) unreadable" if unreadable else ""),
        quiet,
    )
    if as_json:
        echo_json({"schemes": records, "unreadable": unreadable, "failed": failed, "counts": counts})
    if unreadable or failed:
        raise SystemExit(EXIT_BAD_INPUT)
    raise SystemExit(EXIT_NOT_FOUND if counts["not exact"] or counts["refused"] else EXIT_OK)


def _check_output_dir(output_dir: Path) -> None:
    """Fail with one line before any work when the output folder could not be created or
    written (it is only created when a scheme is written)."""
    probe = output_dir
    while not probe.exists() and probe != probe.parent:
        if probe.is_symlink():  # a dangling link
            break
        probe = probe.parent
    if not probe.is_dir():
        raise WriteError(f"cannot write into the output folder {output_dir}: {probe} is not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise WriteError(f"cannot write into the output folder {output_dir}: {probe} is not writable")


def _import_item(
    item: ImportedScheme, output_dir: Path, proof: bool, dry_run: bool, as_json: bool, quiet: bool,
    written: set[Path], counts: dict[str, int], command: str,
) -> dict[str, Any]:
    record: dict[str, Any] = {"source": item.source, "key": item.key, "source_format": item.kind}
    if item.scheme is None:
        counts["refused"] += 1
        click.echo(f"error: {item.label}: {item.error}", err=True)
        return {**record, "status": "refused", "error": item.error}
    scheme = item.scheme
    if item.declared_rank is not None and item.declared_rank != scheme.rank:
        info(f"warning: {item.label}: the file claims rank {item.declared_rank} but holds {scheme.rank} products; using {scheme.rank}", quiet)
    labelled = label_ring(scheme, proof=proof)
    scheme = labelled.scheme
    record.update(format=str(scheme.format), rank=scheme.rank, ring=scheme.ring, checked_over=labelled.report.checked_over)
    if not labelled.valid:
        counts["not exact"] += 1
        click.echo(f"error: {item.label}: not exact: {labelled.report.summary()}", err=True)
        return {**record, "status": "not exact"}
    prov: dict[str, Any] = {"imported": now_iso(), "command": command}
    if item.declared_rank is not None and item.declared_rank != scheme.rank:
        prov["declared_rank"] = item.declared_rank
    scheme = stamp(scheme, labelled.report, prov, keep_provenance=True)
    target = output_dir / default_file_name(scheme, suffix=_tag(item))
    n = 2
    while target in written:  # two schemes of one file with the same format, rank and ring
        target = output_dir / default_file_name(scheme, suffix=f"{_tag(item)}-{n}")
        n += 1
    written.add(target)
    if not dry_run:
        save_scheme(scheme, target)
    counts["Z2" if scheme.mod2 else "valid"] += 1  # only once written: a failed write is counted as failed
    verdict = "valid mod 2 only" if scheme.mod2 else "valid"
    line = f"{'would write' if dry_run else 'wrote'} {target}  {scheme.format} rank {scheme.rank} ring {scheme.ring} ({verdict}; {item.label})"
    if not as_json:
        click.echo(line)
    return {**record, "status": "valid", "file": str(target)}
