"""A disk cache of the additions after elimination, per scheme and per version of the compiler.

Counting a scheme's additions compiles its straight-line program :data:`~discover.slp.CSE_TRIES`
times per phase and orientation (pure Python: about 0.5 s for a 4x5x5 r76, 2.5 s for a 6x6x6
r159), and ``catalog compare`` counts every scheme at the lowest rank of every format. The count is a pure function of
the factors, the tries and the compiler's source, so it is kept in one small file per scheme under
``$XDG_CACHE_HOME/strassen-discover/additions/<hash of slp.py>/`` (``~/.cache`` by default): a new
compiler starts a new folder and stale counts are never read. ``STRASSEN_NO_CACHE=1`` turns the
cache off; a folder that cannot be written is skipped silently (the count is just recomputed).
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Optional

import numpy as np

from .jitcache import cache_home
from .scheme import Scheme

_SLP_SOURCE = Path(__file__).resolve().parent / "slp.py"
_compiler_key: Optional[str] = None


def compiler_key() -> str:
    """A hash of the compiler's source (16 hex digits): a change to it starts a new cache."""
    global _compiler_key
    if _compiler_key is None:
        try:
            _compiler_key = hashlib.sha1(_SLP_SOURCE.read_bytes()).hexdigest()[:16]
        except OSError:
            _compiler_key = "unknown"
    return _compiler_key


def cache_folder(env: Optional[dict] = None) -> Optional[Path]:
    """Where the counts of this compiler live, or None when the cache is turned off."""
    env = os.environ if env is None else env
    if env.get("STRASSEN_NO_CACHE", "") not in ("", "0"):
        return None
    return cache_home(env) / "additions" / compiler_key()


def scheme_key(scheme: Scheme, tries: int) -> str:
    """A hash of the format, the exact factors and the tries (the count depends on nothing else)."""
    h = hashlib.sha1(f"{scheme.format.dims}|{scheme.rank}|{tries}".encode())
    for factor in scheme.factors:
        # str() of every entry: exact for ints and Fractions alike, whatever the array's dtype
        h.update(b"|" + ",".join(str(x) for x in np.asarray(factor, dtype=object).ravel()).encode())
    return h.hexdigest()


def lookup(scheme: Scheme, tries: int) -> Optional[int]:
    """The cached count, or None."""
    folder = cache_folder()
    if folder is None:
        return None
    try:
        text = (folder / scheme_key(scheme, tries)).read_text()
        return int(text)
    except (OSError, ValueError):
        return None


def store(scheme: Scheme, tries: int, additions: int) -> None:
    """Keep a count (atomically: a temporary file renamed; any failure is ignored)."""
    folder = cache_folder()
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    except OSError:
        return
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(str(int(additions)))
        os.replace(tmp, folder / scheme_key(scheme, tries))
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
