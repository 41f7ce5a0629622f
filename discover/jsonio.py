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
from fractions import Fraction
import math
import os
import stat
import threading
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Callable, Mapping, Union

import numpy as np

from .coefficients import coefficient_to_json, to_coefficient
from .errors import CoefficientError, FormatError, LimitError, LoadError, SchemeError, WriteError
from .formats import Format
from .limits import MAX_DIGITS, MAX_JSON_DEPTH, check_scheme_size, read_limited_text
from .rings import RING_NAMES, Ring
from .scheme import Scheme

PathLike = Union[str, "os.PathLike[str]"]
REQUIRED = ("format", "rank", "ring", "U", "V", "W")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in a scheme file")


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e1000000 overflows to inf
        raise ValueError(f"the number {text[:40]} is not a finite float")
    return value


def parse_json(text: str) -> Any:
    """Decode a scheme file's JSON with the limits: digits, finite numbers, nesting depth.

    Raises ``ValueError`` (a ``json.JSONDecodeError`` for syntax) with a one-line message.
    """
    try:
        doc = json.loads(text, parse_constant=_reject_constant, parse_float=_parse_float)
    except RecursionError:
        raise ValueError(f"nesting deeper than the limit of {MAX_JSON_DEPTH} levels") from None
    except ValueError as e:
        if "digits" in str(e) and not isinstance(e, json.JSONDecodeError):
            # Python refuses int() of over 4300 digits; coefficients are limited further below.
            raise ValueError(f"an integer exceeds the limit of {MAX_DIGITS} digits") from None
        raise
    # U, V, W are checked to be exactly r×rows×cols when read; walking their millions of
    # leaves here would only cost time.
    depth = _depth({k: v for k, v in doc.items() if k not in ("U", "V", "W")} if isinstance(doc, dict) else doc)
    if depth > MAX_JSON_DEPTH:
        raise ValueError(f"nesting of {depth} levels exceeds the limit of {MAX_JSON_DEPTH}")
    return doc


def _depth(doc: Any) -> int:
    """Nesting depth of a decoded document, without recursion."""
    deepest = 0
    stack = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            deepest = max(deepest, depth)
            if depth > MAX_JSON_DEPTH:
                return depth
            stack.extend((child, depth + 1) for child in node if isinstance(child, (list, dict)))
    return deepest


def _parse_nested(value: Any, shape: tuple[int, ...], where: str) -> np.ndarray:
    """Check a nested list against ``shape`` (r, rows, cols) and convert leaves to exact coefficients."""
    r, rows, cols = shape

    def fail(index: tuple[int, ...], node: Any, length: int) -> None:
        label = where + "".join(f"[{i}]" for i in index)
        if not isinstance(node, list):
            raise LoadError(f"field {label}: expected a list of length {length}, found {type(node).__name__}")
        raise LoadError(f"field {label}: has length {len(node)} but the format needs {length}")

    for k, mat in enumerate(value):
        if not isinstance(mat, list) or len(mat) != rows:
            fail((k,), mat, rows)
        for i, row in enumerate(mat):
            if not isinstance(row, list) or len(row) != cols:
                fail((k, i), row, cols)
    # The common case, plain JSON integers, converted at C speed (Scheme checks their size).
    out = np.empty(shape, dtype=object)
    if r and rows and cols:
        flat = [v for mat in value for row in mat for v in row]
        if set(map(type, flat)) == {int}:
            out.ravel()[:] = flat
            return out
    for k, mat in enumerate(value):
        for i, row in enumerate(mat):
            for j, v in enumerate(row):
                try:
                    out[k, i, j] = to_coefficient(v)
                except CoefficientError as e:
                    raise LoadError(f"field {where}[{k}][{i}][{j}]: {e}") from e
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
        raise LoadError(f"field rank: {_short(rank)} is not a non-negative integer")
    ring = doc["ring"]
    if not isinstance(ring, str) or ring not in RING_NAMES:
        raise LoadError(f"field ring: {_short(ring)} is not one of {', '.join(RING_NAMES)}")
    ring = Ring(ring)
    try:
        check_scheme_size(fmt.dims, rank)
    except LimitError as e:
        raise LoadError(str(e)) from e
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
        flat = arr.ravel().tolist()
        # Fast screen on the whole array; the slow loop below only runs to name the culprit.
        has_fraction = Fraction in set(map(type, flat))
        if ring == "Q" or (ring in ("Z", "Z2") and not has_fraction):
            continue
        if ring == "ZT" and not has_fraction and (not flat or (min(flat) >= -1 and max(flat) <= 1)):
            continue
        for index, v in np.ndenumerate(arr):
            actual = Ring.of(v)
            label = "".join(f"[{i}]" for i in index)
            if ring is Ring.Z2:
                if actual is Ring.Q:
                    raise LoadError(f"field ring: Z2 contradicts the fraction {v} at {name}{label}")
            elif actual > ring:
                raise LoadError(f"field ring: {ring} contradicts coefficient {coefficient_to_json(v)} at {name}{label}")


def _short(value: Any) -> str:
    """``repr`` cut to one short line (hostile values can be huge)."""
    try:
        text = repr(value)
    except ValueError:  # an int beyond Python's digit limit for str()
        return f"<{type(value).__name__} too large to print>"
    return text if len(text) <= 60 else text[:57] + "..."


def load_scheme(path: PathLike) -> Scheme:
    """Read and validate a scheme file.

    Raises
    ------
    LoadError
        With a one-line message that starts with the file name.
    """
    path = Path(path)
    text = read_limited_text(path)
    try:
        doc = parse_json(text)
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


_UMASK_LOCK = threading.Lock()


def _umask() -> int:
    """The process umask (read by setting and restoring it, under a lock)."""
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def resolve_write_target(path: PathLike) -> Path:
    """The regular file a write to ``path`` replaces.

    A symbolic link is written through when its target stays in the link's folder; a link
    that leaves it, and an existing path that is not a regular file (``/dev/null``, a FIFO,
    a folder), are refused.

    Raises
    ------
    WriteError
        One line naming the path.
    """
    path = Path(path)
    if path.is_symlink():
        target = Path(os.path.realpath(path))
        if target.parent != Path(os.path.realpath(path.parent)):
            raise WriteError(f"{path}: refusing to write through a symbolic link that leaves its folder (to {target})")
        path = target
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return path
    except OSError as e:
        raise WriteError(f"cannot write {path}: {e.strerror or e}") from e
    if not stat.S_ISREG(info.st_mode):
        raise WriteError(f"{path}: refusing to replace something that is not a regular file")
    return path


def atomic_write(path: PathLike, write: Callable[[BinaryIO], None]) -> Path:
    """Write a file through a temporary file and a rename: never half-written.

    ``write`` receives the open binary temporary file; on any error the temporary file is
    removed and an existing file at ``path`` is left as it was. An existing file keeps its
    permission bits; a new one gets ``0666 & ~umask`` like any file a program creates. A
    symbolic link inside the folder is written through (the link stays a link).

    Raises
    ------
    WriteError
        When the target is not a regular file, is a link out of its folder, or cannot be
        written (one line naming it).
    """
    requested = Path(path)
    path = resolve_write_target(requested)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise WriteError(f"cannot write {requested}: {e.strerror or e}") from e
    try:
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
        os.fchmod(fd, mode)  # mkstemp creates 0600
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(e, OSError) and not isinstance(e, WriteError):
            raise WriteError(f"cannot write {requested}: {e.strerror or e}") from e
        raise
    return requested


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


def free_path(folder: PathLike, scheme: Scheme, suffix: str = "") -> Path:
    """Where to write ``scheme`` into ``folder`` without overwriting another scheme.

    The :func:`default_file_name`, unless that file exists and holds other factors (or cannot be
    read); then ``-SUFFIX-2``, ``-SUFFIX-3``, ... A rerun that makes the very scheme again rewrites
    its own file. Without this, ``optimize-additions X-additions.json -o FOLDER`` wrote over its
    own source, and the new file's provenance named itself as where it came from.
    """
    folder = Path(folder)
    path, n = folder / default_file_name(scheme, suffix), 2
    while path.exists() and not _holds(path, scheme):
        path = folder / default_file_name(scheme, f"{suffix}-{n}" if suffix else str(n))
        n += 1
    return path


def _holds(path: Path, scheme: Scheme) -> bool:
    """Whether ``path`` holds exactly ``scheme``'s format and factors."""
    try:
        other = load_scheme(path)
    except (LoadError, SchemeError, FormatError, CoefficientError, LimitError, OSError):
        return False
    return other.format == scheme.format and other.mod2 == scheme.mod2 and all(
        a.shape == b.shape and bool(np.all(a == b)) for a, b in zip(other.factors, scheme.factors))


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
