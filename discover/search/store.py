"""Naming and saving verified schemes of a search (nothing here verifies: the collector did)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Optional

from ..canonical import canonical_key
from ..errors import DiscoverError, SearchError
from ..jsonio import default_file_name, load_scheme, save_scheme
from ..scheme import Scheme


class SchemeStore:
    """Writes schemes into one folder as ``2x2x2_r7_ZT.json`` (``-2``, ``-3``, ... for more).

    A file that already holds the same scheme (same canonical form) is rewritten in place, so
    rerunning a search does not multiply files.
    """

    def __init__(self, folder: "str | os.PathLike[str]") -> None:
        self.folder = Path(folder)

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
        path = self.folder / default_file_name(scheme)
        n = 1
        while path.exists() and not _same_scheme_file(path, scheme):
            n += 1
            path = self.folder / default_file_name(scheme, suffix=str(n))
        return save_scheme(scheme, path)


def _same_scheme_file(path: Path, scheme: Scheme) -> bool:
    """True when ``path`` already holds the same scheme (then it is simply rewritten)."""
    try:
        return canonical_key(load_scheme(path)) == canonical_key(scheme)
    except DiscoverError:
        return False


def open_store(out_dir: "str | os.PathLike[str] | None") -> Optional[SchemeStore]:
    """A checked store for ``out_dir``, or None when nothing is to be saved."""
    if out_dir is None:
        return None
    store = SchemeStore(out_dir)
    store.check_writable()
    return store
