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
from typing import Callable, Union

from ..errors import LoadError
from ..jsonio import load_scheme, save_scheme
from ..scheme import Scheme
from .alphatensor import read_alphaevolve, read_alphatensor, write_alphatensor
from .benson_ballard import read_benson_ballard, write_benson_ballard
from ..errors import ComplexCoefficientError, UnsafePickleError
from .common import ImportedScheme, ct_factors, scheme_from_ct
from .detect import KINDS, detect_format
from .kauers import read_exp, write_exp, write_lifted
from .labelling import Labelled, label_ring
from .perminov import read_perminov, write_perminov

__all__ = [
    "EXPORT_TARGETS",
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


#: Reader of each format: path -> items.
IMPORTERS: dict[str, Callable[[Path], list[ImportedScheme]]] = {
    "json": _read_json,
    "perminov": read_perminov,
    "alphatensor": read_alphatensor,
    "alphaevolve": read_alphaevolve,
    "exp": read_exp,
    "lifted": read_exp,
    "benson-ballard": read_benson_ballard,
}

#: Writer of each export target: (scheme, path) -> None, atomic.
EXPORT_TARGETS: dict[str, Callable[[Scheme, Path], None]] = {
    "json": _write_json,
    "alphatensor": write_alphatensor,
    "perminov": write_perminov,
    "exp": write_exp,
    "lifted": write_lifted,
    "benson-ballard": write_benson_ballard,
}

#: Short tags for output file names, so that schemes from different sources do not collide.
SOURCE_TAGS = {
    "json": "json",
    "perminov": "perminov",
    "alphatensor": "at",
    "alphaevolve": "ae",
    "exp": "km",
    "lifted": "mp",
    "benson-ballard": "bb",
}


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
