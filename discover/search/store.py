"""Naming and saving verified schemes of a search (nothing here verifies: the collector did)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Hashable, Optional

from ..canonical import canonical_key
from ..errors import DiscoverError, SearchError
from ..jsonio import default_file_name, load_scheme, save_scheme
from ..scheme import Scheme


class SchemeStore:
    """Writes schemes into one folder as ``2x2x2_r7_ZT.json`` (``-2``, ``-3``, ... for more).

    A file that already holds the same scheme (same canonical form) is rewritten in place, so
    rerunning a search does not multiply files. The canonical key of each file is computed once
    and remembered with the file's size and modification time: a search with ``--all`` saves
    hundreds of schemes into one folder, and reloading every file for every save was quadratic.
    """

    def __init__(self, folder: "str | os.PathLike[str]") -> None:
        self.folder = Path(folder)
        self._keys: dict[Path, tuple[tuple[int, int], Hashable]] = {}

    def check_writable(self) -> None:
        """Create the folder and prove a file can be written there, before any work starts."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(prefix=".write-test.", dir=self.folder)
            os.close(fd)
            os.unlink(probe)
        except OSError as e:
            raise SearchError(f"cannot write to the output folder {self.folder}: {e.strerror or e}") from e

    def save(self, scheme: Scheme) -> Path:
        """Write a (verified, stamped) scheme atomically; returns its path."""
        key = canonical_key(scheme)
        path = self.folder / default_file_name(scheme)
        n = 1
        while path.exists() and self._file_key(path) != key:
            n += 1
            path = self.folder / default_file_name(scheme, suffix=str(n))
        saved = save_scheme(scheme, path)
        self._remember(saved, key)
        return saved

    def _file_key(self, path: Path) -> Optional[Hashable]:
        """The canonical key of the scheme in ``path`` (None when it holds none we can read)."""
        stamp = _stamp(path)
        cached = self._keys.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        try:
            key: Optional[Hashable] = canonical_key(load_scheme(path))
        except DiscoverError:
            key = None
        if stamp is not None:
            self._keys[path] = (stamp, key)
        return key

    def _remember(self, path: Path, key: Hashable) -> None:
        stamp = _stamp(path)
        if stamp is not None:
            self._keys[path] = (stamp, key)


def _stamp(path: Path) -> Optional[tuple[int, int]]:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns)


def open_store(out_dir: "str | os.PathLike[str] | None") -> Optional[SchemeStore]:
    """A checked store for ``out_dir``, or None when nothing is to be saved."""
    if out_dir is None:
        return None
    store = SchemeStore(out_dir)
    store.check_writable()
    return store
