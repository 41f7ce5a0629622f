"""The tune table: where it lives, reading and writing it, and the dispatch rule (:func:`choose`).

Kept apart from :mod:`discover.tune` (which measures) so that the layers and
:func:`discover.matmul` can dispatch without importing the measuring code.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Optional

from .errors import TuneError

VERSION = 1
#: A scheme is chosen only where it measured at least this much faster than the plain product.
#: 5 %: on a quiet 2-core machine two runs of the same plain product differ by a few per cent, and a
#: table built at 1.02 dispatched 1024-size float32 products that then ran at 0.94x.
DEFAULT_MARGIN = 1.05
#: Seconds between two looks at the table file's mtime (a stat per product costs more than a small
#: product's whole dispatch budget).
RELOAD_INTERVAL = 1.0


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
#: When each path's mtime was last looked at, and whether the file was there (None: missing).
_CHECKED: dict[str, tuple[float, Optional[dict[str, Any]]]] = {}
_DEFAULT: list[Any] = [-1e9, ""]  # when the environment was last read, and the default path then


def _default_key() -> str:
    # Reading os.environ twice per product costs microseconds: re-read it once per interval.
    now = time.monotonic()
    if now - _DEFAULT[0] >= RELOAD_INTERVAL:
        _DEFAULT[:] = [now, str(default_path())]
    return _DEFAULT[1]


def load_table(path: "str | os.PathLike[str] | None" = None) -> Optional[dict[str, Any]]:
    """The table at ``path`` (default :func:`default_path`), None when there is none.

    Cached by mtime, and the mtime is looked at no more than once per :data:`RELOAD_INTERVAL`
    seconds: ``scheme="auto"`` calls this for every product.
    """
    key = _default_key() if path is None else os.fspath(path)
    now = time.monotonic()
    checked = _CHECKED.get(key)
    if checked is not None and now - checked[0] < RELOAD_INTERVAL and (checked[1] is not None or path is None):
        return checked[1]
    target = Path(key)
    try:
        mtime = target.stat().st_mtime
    except OSError:
        if path is not None:
            raise TuneError(f"no tune table at {target}") from None
        _CHECKED[key] = (now, None)
        return None
    cached = _LOADED.get(key)
    if cached is None or cached[0] != mtime:
        try:
            table = json.loads(target.read_text())
        except (OSError, ValueError) as exc:
            raise TuneError(f"cannot read the tune table {target}: {exc}") from None
        if not isinstance(table, dict) or table.get("version") != VERSION or not isinstance(table.get("entries"), list):
            raise TuneError(f"{target} is not a version-{VERSION} tune table; run `strassen tune` again")
        _LOADED[key] = cached = (mtime, table)
    _CHECKED[key] = (now, cached[1])
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
    threshold, steps = dispatch_plan(table, backend, dtype)
    smallest = shape[0] if shape[0] < shape[1] else shape[1]
    if shape[2] < smallest:
        smallest = shape[2]
    if smallest < threshold:
        return None
    for size, picked in steps:
        if size <= smallest:
            return picked
    return None


_PLANS: dict[tuple[int, str, str], tuple[Any, tuple[float, list[tuple[int, tuple[str, int]]]]]] = {}


def dispatch_plan(table: dict[str, Any], backend: str, dtype: str
                  ) -> tuple[float, list[tuple[int, tuple[str, int]]]]:
    """The size classes where ``table`` dispatches to a scheme, largest first, and the smallest of them.

    A class dispatches when its fastest configuration beat the plain product by the table's margin
    **and** every larger class dispatches too: a crossover is a size from which on the scheme wins,
    so an isolated gain below a measured loss is read as noise, not as a crossover. Returns
    ``(threshold, [(size, (scheme, levels)), ...])``; ``threshold`` is ``inf`` where nothing is
    dispatched. Memoised per table object (tables are not edited in place).
    """
    key = (id(table), backend, dtype)
    cached = _PLANS.get(key)  # id() alone could be reused by a new table: the stored object is compared
    if cached is not None and cached[0] is table:
        return cached[1]
    margin = float(table.get("margin", DEFAULT_MARGIN))
    rows = [e for e in table.get("entries", []) if e.get("backend") == backend and e.get("dtype") == dtype]
    steps: list[tuple[int, tuple[str, int]]] = []
    for size in sorted({int(e["size"]) for e in rows}, reverse=True):
        best = max((e for e in rows if int(e["size"]) == size), key=lambda e: e["speedup"])
        if best["speedup"] < margin:
            break
        steps.append((size, (str(best["scheme"]), int(best["levels"]))))
    plan = (float(steps[-1][0]) if steps else float("inf"), steps)
    if len(_PLANS) > 64:
        _PLANS.clear()
    _PLANS[key] = (table, plan)
    return plan
