"""The tune table: where it lives, reading and writing it, and the dispatch rule (:func:`choose`).

Kept apart from :mod:`discover.tune` (which measures) so that the layers and
:func:`discover.matmul` can dispatch without importing the measuring code.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Optional

from .errors import TuneError

VERSION = 1
#: A scheme is chosen only where it measured at least this much faster than the plain product.
DEFAULT_MARGIN = 1.02


def default_path() -> Path:
    """``$STRASSEN_TUNE``, else ``$XDG_CACHE_HOME/strassen-discover/tune.json`` (``~/.cache`` by default)."""
    if os.environ.get("STRASSEN_TUNE"):
        return Path(os.environ["STRASSEN_TUNE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "strassen-discover" / "tune.json"


def save_table(table: dict[str, Any], path: "str | os.PathLike[str] | None" = None) -> Path:
    """Write ``table`` as JSON atomically (default :func:`default_path`); returns the path."""
    from .jsonio import atomic_write_text

    target = Path(path) if path is not None else default_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(target, json.dumps(table, indent=1) + "\n")


_LOADED: dict[str, tuple[float, dict[str, Any]]] = {}


def load_table(path: "str | os.PathLike[str] | None" = None) -> Optional[dict[str, Any]]:
    """The table at ``path`` (default :func:`default_path`), None when there is none; cached by mtime."""
    target = Path(path) if path is not None else default_path()
    try:
        mtime = target.stat().st_mtime
    except OSError:
        if path is not None:
            raise TuneError(f"no tune table at {target}") from None
        return None
    cached = _LOADED.get(str(target))
    if cached is None or cached[0] != mtime:
        try:
            table = json.loads(target.read_text())
        except (OSError, ValueError) as exc:
            raise TuneError(f"cannot read the tune table {target}: {exc}") from None
        if not isinstance(table, dict) or table.get("version") != VERSION or not isinstance(table.get("entries"), list):
            raise TuneError(f"{target} is not a version-{VERSION} tune table; run `strassen tune` again")
        _LOADED[str(target)] = cached = (mtime, table)
    return cached[1]


def choose(table: Optional[dict[str, Any]], backend: str, dtype: str, shape: tuple[int, int, int]
           ) -> Optional[tuple[str, int]]:
    """``(scheme source, levels)`` for an (N, K) @ (K, P) product, or None for the plain product.

    Examples
    --------
    >>> table = {"margin": 1.02, "entries": [
    ...     {"backend": "numpy", "dtype": "float64", "scheme": "strassen", "levels": 1, "size": 2048, "speedup": 1.1},
    ...     {"backend": "numpy", "dtype": "float64", "scheme": "strassen", "levels": 1, "size": 1024, "speedup": 0.9}]}
    >>> choose(table, "numpy", "float64", (4000, 3000, 5000))
    ('strassen', 1)
    >>> choose(table, "numpy", "float64", (1500, 3000, 5000)) is None
    True
    """
    if not table:
        return None
    rows = [e for e in table.get("entries", []) if e.get("backend") == backend and e.get("dtype") == dtype]
    smallest = min(shape)
    classes = sorted({e["size"] for e in rows if e["size"] <= smallest})
    if not classes:
        return None
    here = [e for e in rows if e["size"] == classes[-1]]
    best = max(here, key=lambda e: e["speedup"])
    if best["speedup"] < float(table.get("margin", DEFAULT_MARGIN)):
        return None
    return str(best["scheme"]), int(best["levels"])
