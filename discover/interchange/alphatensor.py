"""AlphaTensor and AlphaEvolve ``.npz`` files, both ways.

AlphaTensor (``factorizations_r.npz``, ``factorizations_f2.npz``): one key ``"a,b,c"`` per
format; its value is ``(u, v, w)`` with shapes (a·b, R), (b·c, R), (c·a, R), either one
numeric (3, S, R) array (square formats) or an object array of three arrays (a pickle, read
with :mod:`.safe_pickle`). AlphaEvolve: keys ``decomposition_NMP_u`` / ``_v`` / ``_w`` with
the same shapes. Both store Cᵀ. Floats hold dyadic values (±0.5, ±0.125): converted exactly.
"""
from __future__ import annotations

import io
import re
import zipfile
import zlib
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

import numpy as np

from ..errors import DiscoverError, LoadError, SchemeError
from ..jsonio import atomic_write
from ..limits import MAX_NPZ_MEMBER_BYTES, MAX_NPZ_TOTAL_BYTES, check_regular_file
from ..scheme import Scheme
from .common import ImportedScheme, ct_factors, exact_matrix, item_meta, scheme_from_ct
from .safe_pickle import UnsafePickleError, read_npy

#: What a corrupt or hostile archive raises from zipfile (a bad CRC, bad deflate data, an
#: unsupported compression method, a truncated directory).
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, NotImplementedError, EOFError, ValueError, OSError)
_AT_KEY = re.compile(r"^(\d{1,4}),(\d{1,4}),(\d{1,4})$")
_AE_KEY = re.compile(r"^decomposition_(\d+)_([uvw])$")


def npz_keys(path: Path) -> list[str]:
    """Member names of an npz archive without the ``.npy`` extension."""
    check_regular_file(path)
    try:
        with zipfile.ZipFile(path) as zf:
            return [n[:-4] if n.endswith(".npy") else n for n in zf.namelist()]
    except _ZIP_ERRORS as e:
        raise LoadError(f"{path}: not a readable npz archive: {e}") from e


def _read_members(path: Path, keep: Optional[Callable[[str], bool]] = None) -> dict[str, Any]:
    """Every member (or those ``keep`` accepts) as an array, or the LoadError that stopped it."""
    out: dict[str, Any] = {}
    check_regular_file(path)
    total = 0
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
                if keep is not None and not keep(key):
                    continue
                # Sizes come from the archive's directory: checked before anything is decompressed.
                if info.file_size > MAX_NPZ_MEMBER_BYTES:
                    out[key] = LoadError(
                        f"member of {info.file_size:,} bytes exceeds the limit of {MAX_NPZ_MEMBER_BYTES:,} bytes"
                    )
                    continue
                total += info.file_size
                if total > MAX_NPZ_TOTAL_BYTES:
                    raise LoadError(f"{path}: members exceed the total limit of {MAX_NPZ_TOTAL_BYTES:,} bytes")
                try:
                    with zf.open(info) as fh:
                        data = fh.read(MAX_NPZ_MEMBER_BYTES + 1)  # the directory may lie: never read past the limit
                    if len(data) > MAX_NPZ_MEMBER_BYTES:
                        raise LoadError(f"member exceeds the limit of {MAX_NPZ_MEMBER_BYTES:,} bytes")
                    out[key] = read_npy(io.BytesIO(data))
                except UnsafePickleError as e:
                    # A file that tries to run code is refused as a whole, not key by key.
                    raise UnsafePickleError(f"{path}: key {key!r}: {e}") from e
                except LoadError as e:
                    out[key] = e
    except _ZIP_ERRORS as e:
        raise LoadError(f"{path}: not a readable npz archive: {e}") from e
    return out


def _at_factors(value: np.ndarray, key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if value.dtype == object:
        if value.shape != (3,):
            raise SchemeError(f"object array of shape {value.shape}, expected three factor arrays")
        parts = list(value)
        for part in parts:
            if not isinstance(part, np.ndarray) or part.dtype == object or part.ndim != 2:
                raise SchemeError("each of u, v, w must be a 2-dimensional numeric array")
    else:
        if value.ndim != 3 or value.shape[0] != 3:
            raise SchemeError(f"array of shape {value.shape}, expected (3, S, R)")
        parts = [value[0], value[1], value[2]]
    u, v, w = (exact_matrix(part, f"{key} {name}") for part, name in zip(parts, "uvw"))
    return u, v, w


def read_alphatensor(path: Path, keys: Optional[Iterable[str]] = None) -> list[ImportedScheme]:
    """Import the factorizations of an AlphaTensor npz (one item per key; all keys by default)."""
    path = Path(path)
    items = []
    wanted = None if keys is None else set(keys)
    for key, value in _read_members(path, None if wanted is None else wanted.__contains__).items():
        match = _AT_KEY.match(key)
        if not match:
            items.append(ImportedScheme(path.name, key, "alphatensor", error=f"key {key[:40]!r} is not of the form 'a,b,c'"))
            continue
        try:
            if isinstance(value, Exception):
                raise value
            fmt = tuple(int(g) for g in match.groups())
            u, v, w = _at_factors(value, key)
            meta = item_meta(path.name, key, "alphatensor", f"AlphaTensor {'x'.join(map(str, fmt))} rank {u.shape[1]}")
            scheme = scheme_from_ct(u.T, v.T, w.T, fmt, meta=meta)
            items.append(ImportedScheme(path.name, key, "alphatensor", scheme=scheme))
        except DiscoverError as e:
            items.append(ImportedScheme(path.name, key, "alphatensor", error=str(e)))
    return items


def _split_digits(text: str) -> tuple[int, int, int]:
    if len(text) != 3:
        raise SchemeError(f"cannot split {text!r} into three dimensions")
    return int(text[0]), int(text[1]), int(text[2])


def read_alphaevolve(path: Path, keys: Optional[Iterable[str]] = None) -> list[ImportedScheme]:
    """Import the decompositions of an AlphaEvolve npz (keys ``decomposition_NMP_{u,v,w}``).

    ``keys`` selects some, by their item key ``decomposition_NMP``.
    """
    path = Path(path)
    groups: dict[str, dict[str, Any]] = {}
    items = []
    wanted = None if keys is None else set(keys)
    keep = None if wanted is None else (lambda k: k.rsplit("_", 1)[0] in wanted)
    for key, value in _read_members(path, keep).items():
        match = _AE_KEY.match(key)
        if not match:
            items.append(ImportedScheme(path.name, key, "alphaevolve", error=f"unexpected key {key[:40]!r}"))
            continue
        groups.setdefault(match.group(1), {})[match.group(2)] = value
    for dims, parts in groups.items():
        key = f"decomposition_{dims}"
        try:
            missing = [c for c in "uvw" if c not in parts]
            if missing:
                raise SchemeError(f"missing factor(s) {', '.join(missing)}")
            for part in parts.values():
                if isinstance(part, Exception):
                    raise part
            fmt = _split_digits(dims)
            u, v, w = (exact_matrix(parts[c], f"{key} {c}") for c in "uvw")
            meta = item_meta(path.name, key, "alphaevolve", f"AlphaEvolve {'x'.join(map(str, fmt))} rank {u.shape[1]}")
            scheme = scheme_from_ct(u.T, v.T, w.T, fmt, meta=meta)
            items.append(ImportedScheme(path.name, key, "alphaevolve", scheme=scheme))
        except DiscoverError as e:
            items.append(ImportedScheme(path.name, key, "alphaevolve", error=str(e)))
    return items


def _numeric(arr: np.ndarray, what: str) -> np.ndarray:
    """An exact object array as int64, or float64 when every value is a dyadic rational."""
    values = arr.ravel().tolist()
    if all(not isinstance(v, Fraction) for v in values):
        return np.array(values, dtype=np.int64).reshape(arr.shape)
    floats = [float(v) for v in values]
    for v, f in zip(values, floats):
        if Fraction(f) != v:
            raise SchemeError(f"{what}: coefficient {v} has no exact float64 value (AlphaTensor files store floats)")
    return np.array(floats, dtype=np.float64).reshape(arr.shape)


def write_alphatensor(scheme: Scheme, path: Path) -> None:
    """Write a one-key AlphaTensor npz (key ``"n,m,p"``), atomically.

    Square formats get one (3, S, R) array, others an object array of (u, v, w) like the
    published file. Integer schemes are stored as int64, dyadic ones as float64.
    """
    path = Path(path)
    n, m, p = scheme.format.dims
    u, v, w = (_numeric(f.T, name) for f, name in zip(ct_factors(scheme), "uvw"))
    if u.shape == v.shape == w.shape:
        dtype = np.result_type(u, v, w)
        value = np.stack([u.astype(dtype), v.astype(dtype), w.astype(dtype)])
    else:
        value = np.empty(3, dtype=object)
        value[0], value[1], value[2] = u, v, w
    _atomic_savez(path, {f"{n},{m},{p}": value})


def _atomic_savez(path: Path, arrays: dict[str, np.ndarray]) -> None:
    atomic_write(path, lambda fh: np.savez(fh, **arrays))
