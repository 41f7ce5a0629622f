"""numba's on-disk cache, kept apart for every version of the package's compiled sources.

numba files a cached kernel under the time stamp and size of *its own* source file only. A
cached kernel that calls a compiled helper from another module therefore keeps running the old
machine code of that helper after the helper changed (an upgrade, a ``git pull``): stale code,
with the old behaviour and the old speed. :func:`configure` points numba's cache at a folder
named by a hash of every source this package compiles with ``cache=True``, so any change to any
of them starts a fresh cache. ``NUMBA_CACHE_DIR``, when set, is the user's choice and is kept.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Optional

PACKAGE = Path(__file__).resolve().parent
_configured = False


def compiled_sources(root: Path = PACKAGE) -> list[Path]:
    """The package's sources compiled with numba's cache (the flip engine and the fused kernels)."""
    return sorted((root / "flip").glob("*.py")) + [root / "_fastkernels.py"]


def source_key(root: Path = PACKAGE) -> str:
    """A hash of the names and contents of :func:`compiled_sources` (16 hex digits)."""
    h = hashlib.sha1()
    for path in compiled_sources(root):
        h.update(path.name.encode() + b"\0")
        try:
            h.update(path.read_bytes())
        except OSError:
            h.update(b"<missing>")
    return h.hexdigest()[:16]


def cache_home(env: Optional[dict] = None) -> Path:
    """The package's cache folder: ``$XDG_CACHE_HOME/strassen-discover`` (``~/.cache`` by default)."""
    env = os.environ if env is None else env
    return Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "strassen-discover"


def cache_folder(root: Path = PACKAGE, env: Optional[dict] = None) -> Path:
    """Where the compiled kernels of this version of the sources are cached."""
    return cache_home(env) / "numba" / source_key(root)


def configure() -> Optional[Path]:
    """Point numba's cache at :func:`cache_folder` (once; before any kernel is decorated).

    Returns the folder, or None when ``NUMBA_CACHE_DIR`` is set or the folder is not writable
    (numba then caches beside the sources, as by default).
    """
    global _configured
    if _configured:
        import numba

        return Path(numba.config.CACHE_DIR) if numba.config.CACHE_DIR else None
    _configured = True
    if os.environ.get("NUMBA_CACHE_DIR"):
        return None
    import numba

    folder = cache_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError:
        return None
    # Read when a kernel is decorated (numba's cache locator), so setting it here is enough.
    numba.config.CACHE_DIR = str(folder)
    return folder
