"""The walk checkpoints of a search's output folder: one file per task cut short, for ``--resume``.

A runner walk hands the driver where it stands (:mod:`discover.flip.checkpoint`): every few
minutes while it runs, and once more when it is stopped (time limit, Ctrl-C, a stop asked by
``catalog improve``). The driver writes each into ``.walk-<task>.ckpt`` in the output folder
(numpy's ``.npz`` layout, written to a temporary file and renamed, so a kill never leaves half a
checkpoint), removes it when its task ends for good (a scheme found, a flip budget spent), and
on ``--resume`` hands it back to the task, whose walk goes on from there instead of from its start.
A new search in the folder (no ``--resume``) first removes the checkpoints of the one before.
"""
from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Iterator, Optional

import numpy as np

from ..errors import SearchError, WriteError
from ..jsonio import atomic_write

_NAME = re.compile(r"^\.walk-(\d+)\.ckpt$")
_VALUES = "__values__"  # the checkpoint's walk kind and JSON values, as UTF-8 bytes


def checkpoint_path(folder: "str | Path", task_index: int) -> Path:
    """Where task ``task_index``'s checkpoint lives in ``folder``."""
    return Path(folder) / f".walk-{task_index}.ckpt"


def save(folder: "str | Path", task_index: int, checkpoint: dict) -> Optional[Path]:
    """Write a checkpoint atomically; None (and the old one kept) when it cannot be written.

    ``checkpoint["counted"]``: the task's result was accepted when it was cut short (its restart is
    counted in the search's state already); a checkpoint sent while the walk ran is not.

    A checkpoint is never a result: a full disk must not stop the search, it only costs the
    walk's progress since the last checkpoint that was written.
    """
    meta = json.dumps({"walk": checkpoint["walk"], "values": checkpoint.get("values", {}),
                       "counted": bool(checkpoint.get("counted"))})
    arrays = dict(checkpoint["arrays"])
    arrays[_VALUES] = np.frombuffer(meta.encode("utf-8"), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    try:
        return atomic_write(checkpoint_path(folder, task_index), lambda fh: fh.write(buffer.getvalue()))
    except WriteError:
        return None


def load(path: Path) -> dict:
    """The checkpoint in ``path``.

    Raises
    ------
    SearchError
        When the file cannot be read as a checkpoint (one line naming it).
    """
    try:
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as held:  # our handle: closed on a bad file too
            arrays = {name: held[name] for name in held.files if name != _VALUES}
            meta = json.loads(bytes(held[_VALUES]).decode("utf-8"))
        return {"walk": meta["walk"], "arrays": arrays, "values": meta.get("values", {}),
                "counted": bool(meta.get("counted"))}
    except (OSError, ValueError, KeyError, TypeError, AttributeError, EOFError, zipfile.BadZipFile) as e:
        raise SearchError(f"--resume: unreadable walk checkpoint {path}: {e}; remove it to start that walk over") from e


def _checkpoint_files(folder: "str | Path") -> Iterator[tuple[int, Path]]:
    """(task index, path) of every checkpoint file in ``folder``, by name (none when it is no folder)."""
    folder = Path(folder)
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        match = _NAME.match(path.name)
        if match and path.is_file():
            yield int(match.group(1)), path


def load_all(folder: "str | Path") -> dict[int, dict]:
    """Every checkpoint in ``folder``, by task index (read before any task starts)."""
    return {task: load(path) for task, path in _checkpoint_files(folder)}


def drop(folder: "str | Path", task_index: int) -> None:
    """Remove task ``task_index``'s checkpoint (its walk ended for good); nothing if there is none."""
    try:
        checkpoint_path(folder, task_index).unlink()
    except OSError:
        pass  # none there; or one left behind, read only by --resume of this very search


def drop_all(folder: "str | Path") -> None:
    """Remove every checkpoint in ``folder`` (a new search there: the old walks are not its own)."""
    for task, _ in list(_checkpoint_files(folder)):
        drop(folder, task)


def holds_checkpoint(folder: "str | Path") -> bool:
    """Whether ``folder`` holds a walk checkpoint (a search there was cut short mid-walk)."""
    return next(_checkpoint_files(folder), None) is not None
