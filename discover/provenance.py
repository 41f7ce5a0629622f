"""Certify, stamp and save: the one step every writer of a scheme goes through.

Nothing is written, printed as found, or handed to a layer unless it went through
:func:`certify`: the exact tensor check, the sympy proof (unless the caller proves it some
other way), and a ``verification`` block plus a ``provenance`` block (tool, version, date, the
command line, and what the caller adds: method, seed, source file, ...).
"""
from __future__ import annotations

import functools
import shlex
import sys
from pathlib import Path
from typing import Any, Mapping, Optional

from ._version import __version__
from .errors import NotExactError
from .jsonio import PathLike, now_iso, save_scheme, verification_record
from .scheme import Scheme
from .verify import VerificationReport, verify


def scheme_provenance(scheme: Scheme) -> dict[str, Any]:
    """A scheme's recorded provenance, or {} (the files may be anyone's)."""
    prov = scheme.meta.get("provenance")
    return prov if isinstance(prov, dict) else {}


def command_line(argv: Optional[list[str]] = None) -> str:
    """The ``strassen ...`` command that is running (``sys.argv``), shell-quoted."""
    args = sys.argv[1:] if argv is None else argv
    return " ".join(["strassen", *map(shlex.quote, args)])


@functools.lru_cache(maxsize=1)
def environment() -> dict[str, Any]:
    """Where a result was made: package version, git commit (in a checkout), Python and the versions
    of the dependencies that decide results, CPU model and core count."""
    import importlib.metadata as md
    import os
    import platform
    import subprocess

    from .machine import cpu_model

    versions = {}
    for dist in ("numpy", "sympy", "numba", "torch", "click"):
        try:
            versions[dist] = md.version(dist)
        except md.PackageNotFoundError:
            pass
    env: dict[str, Any] = {"version": __version__, "python": platform.python_version(), "dependencies": versions,
                           "cpu": cpu_model(), "cores": os.cpu_count()}
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / ".git").exists():
        try:
            commit = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True,
                                    text=True, timeout=10)
            if commit.returncode == 0:
                env["git_commit"] = commit.stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    return env


def stamp(scheme: Scheme, report: VerificationReport, provenance: Optional[Mapping[str, Any]] = None,
          *, keep_provenance: bool = False) -> Scheme:
    """Attach ``verification`` and ``provenance`` blocks to a scheme already verified by ``report``.

    Parameters
    ----------
    provenance
        Keys of the caller (method, seed, source, workers, ...); the tool, version, date, command
        and :func:`environment` are added unless given.
    keep_provenance
        Merge into the scheme's existing provenance instead of replacing it (catalog entries
        keep the record of how they were found). A provenance that is not a mapping (a file may
        hold anything there) is no record to merge into, and is replaced.
    """
    record: dict[str, Any] = dict(scheme_provenance(scheme)) if keep_provenance else {}
    record.update(provenance or {})
    record.setdefault("date", now_iso())
    record.setdefault("tool", "strassen-discover")
    record.setdefault("version", __version__)
    record.setdefault("command", command_line())
    record.setdefault("environment", environment())
    return scheme.with_meta(provenance=record, verification=verification_record(report))


def certify(scheme: Scheme, provenance: Optional[Mapping[str, Any]] = None, *, proof: bool = True,
            report: Optional[VerificationReport] = None, keep_provenance: bool = False) -> Scheme:
    """Verify a scheme and stamp it, or raise :class:`~discover.errors.NotExactError`.

    Parameters
    ----------
    scheme
        Any scheme (a Z2 scheme is certified mod 2 and keeps its label).
    provenance
        See :func:`stamp`.
    proof
        Also prove it with sympy (the default; pass False only where a proof already ran).
    report
        A report of a verification that already ran (then nothing is checked again).

    Returns
    -------
    Scheme
        The same coefficients with ``verification`` and ``provenance`` metadata.
    """
    report = report if report is not None else verify(scheme, proof=proof)
    if not report.valid:
        raise NotExactError(f"{scheme.format} rank {scheme.rank}: not exact ({report.summary()})")
    return stamp(scheme, report, provenance, keep_provenance=keep_provenance)


def save_certified(scheme: Scheme, path: PathLike, provenance: Optional[Mapping[str, Any]] = None, *,
                   proof: bool = True, report: Optional[VerificationReport] = None,
                   keep_provenance: bool = False) -> tuple[Scheme, Path]:
    """:func:`certify` then write the JSON file atomically; returns the stamped scheme and the path."""
    certified = certify(scheme, provenance, proof=proof, report=report, keep_provenance=keep_provenance)
    return certified, save_scheme(certified, path)
