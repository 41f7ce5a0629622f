"""The catalog JSON format: strict loading, atomic writing.

A file holds one scheme::

    {"format": [N, M, P], "rank": r, "ring": "ZT",
     "U": r×N×M nested lists, "V": r×M×P, "W": r×N×P,
     "name": "...", "provenance": {...}, "verification": {...}}

Coefficients are JSON integers or strings ``"p/q"``. ``ring`` is one of ZT, Z, Q, Z2 and
must hold every coefficient (Z2: integer coefficients, read mod 2). Every problem found
while loading raises :class:`~discover.errors.LoadError` with one line naming the file and
the field.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Callable, Mapping, Union

import numpy as np

from .coefficients import coefficient_to_json, to_coefficient
from .errors import CoefficientError, FormatError, LoadError, SchemeError
from .formats import Format
from .rings import RING_NAMES, Ring
from .scheme import Scheme

PathLike = Union[str, "os.PathLike[str]"]
REQUIRED = ("format", "rank", "ring", "U", "V", "W")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in a scheme file")


def _parse_nested(value: Any, shape: tuple[int, ...], where: str) -> np.ndarray:
    """Check a nested list against ``shape`` and convert leaves to exact coefficients."""
    out = np.empty(shape, dtype=object)

    def walk(node: Any, depth: int, index: tuple[int, ...]) -> None:
        label = where + "".join(f"[{i}]" for i in index)
        if depth == len(shape):
            try:
                out[index] = to_coefficient(node)
            except CoefficientError as e:
                raise LoadError(f"field {label}: {e}") from e
            return
        if not isinstance(node, list):
            raise LoadError(f"field {label}: expected a list of length {shape[depth]}, found {type(node).__name__}")
        if len(node) != shape[depth]:
            raise LoadError(f"field {label}: has length {len(node)} but the format needs {shape[depth]}")
        for i, child in enumerate(node):
            walk(child, depth + 1, index + (i,))

    walk(value, 0, ())
    return out


def scheme_from_dict(doc: Any) -> Scheme:
    """Validate a decoded JSON document and build the scheme (errors name the field)."""
    if not isinstance(doc, dict):
        raise LoadError(f"top level: expected a JSON object, found {type(doc).__name__}")
    missing = [k for k in REQUIRED if k not in doc]
    if missing:
        raise LoadError(f"missing field(s): {', '.join(missing)}")
    try:
        fmt = Format.parse(doc["format"])
    except FormatError as e:
        raise LoadError(f"field format: {e}") from e
    rank = doc["rank"]
    if isinstance(rank, bool) or not isinstance(rank, int) or rank < 0:
        raise LoadError(f"field rank: {rank!r} is not a non-negative integer")
    ring = doc["ring"]
    if not isinstance(ring, str) or ring not in RING_NAMES:
        raise LoadError(f"field ring: {ring!r} is not one of {', '.join(RING_NAMES)}")
    ring = Ring(ring)
    arrays = {}
    for name, (rows, cols) in zip("UVW", fmt.shapes):
        value = doc[name]
        if not isinstance(value, list):
            raise LoadError(f"field {name}: expected a list of {rank} matrices, found {type(value).__name__}")
        if len(value) != rank:
            raise LoadError(f"field {name}: holds {len(value)} matrices but rank is {rank}")
        arrays[name] = _parse_nested(value, (rank, rows, cols), name)
    _check_ring_label(ring, arrays)
    meta = {k: v for k, v in doc.items() if k not in REQUIRED}
    try:
        return Scheme.from_arrays(arrays["U"], arrays["V"], arrays["W"], fmt, mod2=ring is Ring.Z2, meta=meta)
    except SchemeError as e:
        raise LoadError(str(e)) from e


def _check_ring_label(ring: Ring, arrays: Mapping[str, np.ndarray]) -> None:
    for name, arr in arrays.items():
        for index, v in np.ndenumerate(arr):
            actual = Ring.of(v)
            label = "".join(f"[{i}]" for i in index)
            if ring is Ring.Z2:
                if actual is Ring.Q:
                    raise LoadError(f"field ring: Z2 contradicts the fraction {v} at {name}{label}")
            elif actual > ring:
                raise LoadError(f"field ring: {ring} contradicts coefficient {coefficient_to_json(v)} at {name}{label}")


def load_scheme(path: PathLike) -> Scheme:
    """Read and validate a scheme file.

    Raises
    ------
    LoadError
        With a one-line message that starts with the file name.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise LoadError(f"{path}: cannot read: {e.strerror if isinstance(e, OSError) else e}") from e
    try:
        doc = json.loads(text, parse_constant=_reject_constant)
    except (json.JSONDecodeError, ValueError) as e:
        raise LoadError(f"{path}: malformed JSON: {e}") from e
    try:
        scheme = scheme_from_dict(doc)
    except LoadError as e:
        raise LoadError(f"{path}: {e}") from e
    return scheme


def _factor_json(arr: np.ndarray) -> list:
    return [[[coefficient_to_json(v) for v in row] for row in mat] for mat in arr]


def scheme_to_dict(scheme: Scheme, **extra_meta: Any) -> dict[str, Any]:
    """The JSON document of a scheme (metadata after the required fields)."""
    doc: dict[str, Any] = {
        "format": list(scheme.format.dims),
        "rank": scheme.rank,
        "ring": scheme.ring.value,
        "U": _factor_json(scheme.U),
        "V": _factor_json(scheme.V),
        "W": _factor_json(scheme.W),
    }
    meta = dict(scheme.meta)
    meta.update(extra_meta)
    for key, value in meta.items():
        if key not in doc:
            doc[key] = value
    return doc


def dumps_scheme(scheme: Scheme, **extra_meta: Any) -> str:
    """Serialise with one rank-one term per line, so diffs of catalog files stay readable."""
    doc = scheme_to_dict(scheme, **extra_meta)
    lines = ["{"]
    keys = list(doc)
    for n, key in enumerate(keys):
        comma = "," if n < len(keys) - 1 else ""
        value = doc[key]
        if key in ("U", "V", "W"):
            if not value:
                lines.append(f'  "{key}": []{comma}')
                continue
            lines.append(f'  "{key}": [')
            for k, mat in enumerate(value):
                lines.append("    " + json.dumps(mat, separators=(",", ":")) + ("," if k < len(value) - 1 else ""))
            lines.append(f"  ]{comma}")
        elif isinstance(value, list) and all(not isinstance(v, (list, dict)) for v in value):
            lines.append(f'  "{key}": {json.dumps(value, allow_nan=False)}{comma}')
        else:
            body = json.dumps(value, indent=2, allow_nan=False).replace("\n", "\n  ")
            lines.append(f'  "{key}": {body}{comma}')
    lines.append("}")
    return "\n".join(lines) + "\n"


def atomic_write(path: PathLike, write: Callable[[BinaryIO], None]) -> Path:
    """Write a file through a temporary file and a rename: never half-written.

    ``write`` receives the open binary temporary file; on any error the temporary file is
    removed and an existing file at ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def atomic_write_text(path: PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) atomically, see :func:`atomic_write`."""
    return atomic_write(path, lambda fh: fh.write(text.encode("utf-8")))


def save_scheme(scheme: Scheme, path: PathLike, **extra_meta: Any) -> Path:
    """Write a scheme as JSON atomically; ``extra_meta`` adds or replaces metadata keys."""
    return atomic_write_text(path, dumps_scheme(scheme, **extra_meta))


def default_file_name(scheme: Scheme, suffix: str = "") -> str:
    """``2x2x2_r7_ZT.json`` (with an optional ``-suffix`` before the extension)."""
    tail = f"-{suffix}" if suffix else ""
    return f"{scheme.format}_r{scheme.rank}_{scheme.ring}{tail}.json"


def now_iso() -> str:
    """Current UTC time, ISO 8601 to the second."""
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def verification_record(report: Any) -> dict[str, Any]:
    """The ``verification`` metadata block stored with a verified scheme."""
    return {
        "valid": bool(report.valid),
        "checked_over": report.checked_over,
        "method": report.method,
        "date": now_iso(),
    }
