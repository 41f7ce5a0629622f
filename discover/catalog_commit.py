"""Commit new catalog files with git as they land (``strassen catalog improve --commit``).

A record search runs for hours; what it verified belongs in the history at once, each scheme in a
commit of its own that says where it came from, not in one sweep at the end of the session. Only
the files named are committed (``git commit --only``): whatever else the user has staged or
changed in the work tree stays as it was.
"""
from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Optional, Sequence

from .errors import DiscoverError


GIT_TIMEOUT = 120.0  # seconds: a hook that hangs must not stop the job for good
#: Seconds to wait, and tries, when another git (the user's own commit beside the job) holds the index lock.
LOCK_WAIT, LOCK_TRIES = 1.0, 30


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=GIT_TIMEOUT)


def check_work_tree(folder: Path) -> None:
    """Raise DiscoverError unless ``folder`` lies in a git work tree (checked before hours of search)."""
    try:
        inside = _git(folder, "rev-parse", "--is-inside-work-tree")
    except OSError:
        raise DiscoverError("catalog improve --commit: git is not installed here") from None
    except subprocess.TimeoutExpired:
        raise DiscoverError(f"catalog improve --commit: git did not answer in {GIT_TIMEOUT:g} s") from None
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        raise DiscoverError(f"catalog improve --commit: the catalog folder {folder} is not in a git work tree")


def commit_message(path: Path, was: int) -> str:
    """The commit message of a new catalog file: its format, rank and ring, the rank it replaces, and
    how it was found (method, seed, seconds, flips, slices) from its provenance."""
    from .jsonio import load_scheme
    from .provenance import scheme_provenance

    scheme = load_scheme(path)
    prov = scheme_provenance(scheme)
    how = [str(prov.get("method") or "search")]
    if prov.get("seed") is not None:
        how.append(f"seed {prov['seed']}")
    if isinstance(prov.get("wall_time"), (int, float)):
        how.append(f"{prov['wall_time']:.0f} s")
    flips = (prov.get("info") or {}).get("flips")
    if isinstance(flips, int) and flips:
        how.append(f"{flips / 1e9:.2f} G flips" if flips >= 10**8 else f"{flips / 1e6:.1f} M flips")
    head = f"catalog: {scheme.format} r{scheme.rank} {scheme.ring} (was {was})"
    return f"{head}, {', '.join(how)} (catalog improve)\n\n{prov.get('command', '')}".rstrip() + "\n"


def commit_files(folder: Path, paths: Sequence[Path], message: str) -> Optional[str]:
    """Add and commit exactly ``paths`` (nothing else the index holds); the new commit's short hash.

    Raises
    ------
    DiscoverError
        git refused (a hook, no identity, an index lock held for :data:`LOCK_TRIES` tries; or it did not
        answer in :data:`GIT_TIMEOUT`): git's ``fatal:`` line, else its last line (a hook's), so the
        job can say it and go on.
    """
    names = [str(Path(p).resolve()) for p in paths]
    for args in (["add", "--", *names], ["commit", "-q", "-m", message, "--only", "--", *names]):
        for attempt in range(LOCK_TRIES):
            try:
                done = _git(folder, *args)
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise DiscoverError(f"git {args[0]} failed: {exc}") from None
            # Another git holds the index (the user committing beside a job that runs for hours): wait.
            if done.returncode == 0 or "index.lock" not in done.stderr or attempt == LOCK_TRIES - 1:
                break
            time.sleep(LOCK_WAIT)
        if done.returncode != 0:
            said = (done.stderr or done.stdout).strip().splitlines()
            # git's own "fatal:" line names the cause (a lock's advice comes after it); else a hook's last line.
            line = next((x for x in said if x.startswith("fatal:")), said[-1] if said else f"exit {done.returncode}")
            raise DiscoverError(f"git {args[0]} failed: {line}")
    return _git(folder, "rev-parse", "--short", "HEAD").stdout.strip() or None
