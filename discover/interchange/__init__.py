"""The field's interchange formats, both ways.

Readers never execute file content: text formats go through small tokenizers, AlphaTensor's
pickled object arrays through a restricted unpickler (:mod:`.safe_pickle`).

* :func:`import_file` detects a file's format and returns one :class:`ImportedScheme` per
  scheme it holds (an AlphaTensor npz holds 93), with per-item errors that do not stop the
  batch. Items are not verified yet: :func:`label_ring` does that and sets the ring.
* :data:`EXPORT_TARGETS` maps a target name to a writer ``(scheme, path) -> None`` that
  writes the file atomically.
"""
from __future__ import annotations

from pathlib import Path
from dataclasses import dataclass
from typing import Callable, Optional, Union

from ..errors import LoadError
from ..jsonio import load_scheme, save_scheme
from ..scheme import Scheme
from .alphatensor import read_alphaevolve, read_alphatensor, write_alphatensor
from .benson_ballard import read_benson_ballard, write_benson_ballard
from ..errors import ComplexCoefficientError, UnsafePickleError
from .common import ImportedScheme, ct_factors, scheme_from_ct
from .detect import detect_format
from .kauers import read_exp, write_exp, write_lifted
from .labelling import Labelled, label_ring
from .perminov import read_perminov, write_perminov

__all__ = [
    "EXPORT_TARGETS",
    "FORMATS",
    "InterchangeFormat",
    "IMPORTERS",
    "KINDS",
    "SOURCE_TAGS",
    "ComplexCoefficientError",
    "ImportedScheme",
    "Labelled",
    "UnsafePickleError",
    "ct_factors",
    "detect_format",
    "import_file",
    "label_ring",
    "scheme_from_ct",
]


def _read_json(path: Path) -> list[ImportedScheme]:
    scheme = load_scheme(path)
    return [ImportedScheme(Path(path).name, "", "json", scheme=scheme)]


def _write_json(scheme: Scheme, path: Path) -> None:
    save_scheme(scheme, path)


@dataclass(frozen=True)
class InterchangeFormat:
    """One interchange format: how to read it, how to write it (if it can be), its file-name tag.

    To add a format: write its reader (path -> list of :class:`ImportedScheme`) and writer
    ((scheme, path) -> None, atomic) in a module of this package, add one row to
    :data:`FORMATS`, and teach :func:`~.detect.detect_format` to recognise it.
    """

    name: str
    tag: str
    reader: Callable[[Path], list[ImportedScheme]]
    writer: Optional[Callable[[Scheme, Path], None]]
    description: str


#: Every interchange format, by name (the one table: the views below derive from it).
FORMATS: dict[str, InterchangeFormat] = {f.name: f for f in (
    InterchangeFormat("json", "json", _read_json, _write_json, "the catalog's own JSON (one scheme)"),
    InterchangeFormat("perminov", "perminov", read_perminov, write_perminov, "Perminov's JSON (C transposed)"),
    InterchangeFormat("alphatensor", "at", read_alphatensor, write_alphatensor, "AlphaTensor factorizations npz"),
    InterchangeFormat("alphaevolve", "ae", read_alphaevolve, None, "AlphaEvolve decompositions npz (read only)"),
    InterchangeFormat("exp", "km", read_exp, write_exp, "Kauers–Moosbauer .exp products"),
    InterchangeFormat("lifted", "mp", read_exp, write_lifted, "Moosbauer–Poole _lifted.txt products"),
    InterchangeFormat("benson-ballard", "bb", read_benson_ballard, write_benson_ballard, "Benson–Ballard coefficient file"),
)}

#: Format names, in table order.
KINDS: tuple[str, ...] = tuple(FORMATS)
#: Reader of each format: path -> items.
IMPORTERS: dict[str, Callable[[Path], list[ImportedScheme]]] = {n: f.reader for n, f in FORMATS.items()}
#: Writer of each export target: (scheme, path) -> None, atomic.
EXPORT_TARGETS: dict[str, Callable[[Scheme, Path], None]] = {n: f.writer for n, f in FORMATS.items() if f.writer}
#: Short tags for output file names, so that schemes from different sources do not collide.
SOURCE_TAGS: dict[str, str] = {n: f.tag for n, f in FORMATS.items()}


def import_file(path: Union[str, Path], kind: str | None = None) -> list[ImportedScheme]:
    """Read every scheme of a file in any supported format.

    Parameters
    ----------
    path
        The file.
    kind
        Force a format (one of :data:`KINDS`) instead of detecting it.

    Returns
    -------
    list of ImportedScheme
        One item per scheme; an item whose ``error`` is set was refused (e.g. complex
        coefficients) while the others were read.

    Raises
    ------
    LoadError
        When the file as a whole cannot be read (one line naming the file).
    """
    path = Path(path)
    if kind is None:
        kind = detect_format(path)
    elif kind not in IMPORTERS:
        raise LoadError(f"unknown format {kind!r}; choose one of {', '.join(KINDS)}")
    return IMPORTERS[kind](path)
