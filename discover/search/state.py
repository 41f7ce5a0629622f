"""The resumable state of a search: which tasks finished and which schemes were saved.

A search with an output folder keeps a small JSON file there (:data:`STATE_FILE`), rewritten
atomically each time a task's result is accepted. It records the request (problem, method,
options, seed, task count, mode), the tasks that ran to their end, the lowest rank reached (exact,
and a GF(2) or GF(3) walk's lowest mod its prime, with the prime), the files of the verified
schemes saved so far, the file of the best exact scheme above the target (saved when nothing
reached it; a resumed search keeps it as its best unless it goes lower) and, in first-hit mode,
the lowest-index verified scheme not yet saved
(only the end of a first-hit search knows which success counts). ``search(..., resume=True)``
reads it back, refuses a different request, skips the finished tasks and takes back the saved
schemes, so no task is redone and no scheme is saved twice.

Why a kill at any moment is safe: a scheme file is written (atomically) before the state that
lists it, so the worst case is a saved file whose task is not yet marked finished; resuming
reruns that task, which proposes the same scheme again, and the store rewrites the same file.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path
from typing import Any, Iterable, Optional

from ..errors import DiscoverError, SearchError
from ..jsonio import atomic_write_text, load_scheme, scheme_from_dict, scheme_to_dict
from ..problem import Problem
from ..provenance import scheme_provenance
from ..scheme import Scheme
from .contract import walk_prime

#: The state file in the output folder (hidden, and not ``*.json``, so scheme globs skip it).
STATE_FILE = ".search-state"
VERSION = 1
# What jsonio.atomic_write leaves behind when it is killed mid-write: ".NAME.XXXXXXXX.tmp".
_TEMPORARY = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")


def _scheme_digest(scheme: Optional[Scheme]) -> Optional[str]:
    if scheme is None:
        return None
    doc = scheme_to_dict(scheme)
    doc.pop("meta", None)
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()[:16]


def describe_request(problem: Problem, method: str, options: Any, seed: int, restarts: Optional[int],
                     find_all: bool, batch: int) -> dict[str, Any]:
    """The part of a request a resumed search must repeat exactly (limits such as time may change)."""
    opts = dataclasses.asdict(options) if dataclasses.is_dataclass(options) else repr(options)
    return {
        **problem.to_json(),
        "start": _scheme_digest(problem.start),
        "method": method,
        "options": json.loads(json.dumps(opts, default=str)),
        "seed": int(seed),
        "restarts": restarts,
        "batch": batch,
        "mode": "all" if find_all else "first",
    }


def _ranges(indices: Iterable[int]) -> list[list[int]]:
    """[0, 1, 2, 5] -> [[0, 2], [5, 5]]: a long search's finished tasks stay a short list."""
    out: list[list[int]] = []
    for i in sorted(indices):
        if out and i == out[-1][1] + 1:
            out[-1][1] = i
        else:
            out.append([i, i])
    return out


def _unranges(ranges: Any) -> set[int]:
    return {i for a, b in ranges for i in range(int(a), int(b) + 1)}


class SearchState:
    """The state file of one output folder (see the module docstring)."""

    def __init__(self, folder: Path, request: dict[str, Any]) -> None:
        self.path = Path(folder) / STATE_FILE
        self.request = request
        self.done: set[int] = set()
        self.restarts_done = 0
        self.best_rank: Optional[int] = None
        self.best_rank_mod2: Optional[int] = None  # modulo walk_prime(request options): 2, or 3 for GF(3) walks
        self.found: list[dict[str, Any]] = []  # {"file": name, "task": index}
        self.pending: Optional[dict[str, Any]] = None  # {"task": index, "scheme": document}
        self.best_saved: Optional[dict[str, Any]] = None  # {"file": name, "task": index}: the best above the target
        self.resumed = False  # True when read back from the folder (--resume)

    @classmethod
    def open(cls, folder: "str | Path", request: dict[str, Any], resume: bool) -> "SearchState":
        """A fresh state for ``request``, or (``resume``) the folder's state, checked to match it."""
        state = cls(Path(folder), request)
        if not resume:
            return state
        if not state.path.exists():
            raise SearchError(f"--resume: no search state in {folder} (start the search there without --resume)")
        try:
            doc = json.loads(state.path.read_text(encoding="utf-8"))
            if doc.get("version") != VERSION:
                raise ValueError(f"version {doc.get('version')!r}")
            saved_request = doc["request"]
            state.done = _unranges(doc["tasks_done"])
            state.restarts_done = int(doc["restarts_done"])
            state.best_rank = doc.get("best_rank")
            state.best_rank_mod2 = doc.get("best_rank_mod2")
            state.found = [dict(file=str(f["file"]), task=f.get("task")) for f in doc["found"]]
            state.pending = doc.get("pending")
            best = doc.get("best_saved")
            state.best_saved = None if best is None else dict(file=str(best["file"]), task=int(best["task"]))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise SearchError(f"--resume: unreadable search state {state.path}: {e}") from e
        for key in sorted(set(request) | set(saved_request)):
            if request.get(key) != saved_request.get(key):
                raise SearchError(f"--resume: the search in {folder} ran with {key} {saved_request.get(key)!r}, "
                                  f"not {request.get(key)!r}; repeat its request or use another folder")
        for stale in state.path.parent.iterdir():
            if _TEMPORARY.match(stale.name) and stale.is_file():
                stale.unlink()  # a write cut short by the kill: its scheme is proposed again
        state.resumed = True
        return state

    def saved_schemes(self) -> list[tuple[Optional[int], Scheme, Optional[Path]]]:
        """(task, scheme, path) of what the earlier run verified: saved files, then the pending one."""
        out: list[tuple[Optional[int], Scheme, Optional[Path]]] = []
        for entry in self.found:
            path = self.path.parent / entry["file"]
            try:
                out.append((entry["task"], load_scheme(path), path))
            except DiscoverError:
                continue  # removed or replaced since: its task is not rerun, the rest stands
        if self.pending is not None:
            try:
                out.append((int(self.pending["task"]), scheme_from_dict(self.pending["scheme"]), None))
            except (DiscoverError, KeyError, TypeError, ValueError):
                pass
        return out

    def best_saved_scheme(self) -> Optional[tuple[int, Scheme, Path]]:
        """(task, scheme, path) of the best exact scheme above the target the earlier run saved, or
        None (none saved, or its file removed or replaced since)."""
        if self.best_saved is None:
            return None
        path = self.path.parent / self.best_saved["file"]
        try:
            return self.best_saved["task"], load_scheme(path), path
        except DiscoverError:
            return None

    def record(self, collector: Any, finished_task: Optional[int] = None) -> None:
        """Write the state after a task's result was accepted (``finished_task`` ran to its end)."""
        if finished_task is not None:
            self.done.add(finished_task)
        r = collector.result
        self.restarts_done = r.restarts_done
        self.best_rank = r.best_rank
        self.best_rank_mod2 = r.best_rank_mod2
        self.found = [{"file": path.name, "task": scheme_provenance(scheme).get("task_index")}
                      for scheme, path in zip(r.found, r.saved)]
        by_task = getattr(collector, "by_task", {})
        if not collector.find_all and by_task and not r.found:
            first = min(by_task)
            self.pending = {"task": first, "scheme": scheme_to_dict(by_task[first])}
        else:
            self.pending = None
        best = collector.best_file() if hasattr(collector, "best_file") else None
        if best is not None:
            self.best_saved = {"file": best[1].name, "task": best[0]}
        self.save()

    @property
    def modulus(self) -> int:
        """The prime of ``best_rank_mod2``: 3 for a GF(3) walk, else 2."""
        options = self.request.get("options")
        return walk_prime(options if isinstance(options, dict) else {})

    def save(self) -> None:
        doc = {
            "version": VERSION,
            "request": self.request,
            "tasks_done": _ranges(self.done),
            "restarts_done": self.restarts_done,
            "best_rank": self.best_rank,
            "best_rank_mod2": self.best_rank_mod2,
            "best_rank_modulus": None if self.best_rank_mod2 is None else self.modulus,
            "found": self.found,
            "pending": self.pending,
            "best_saved": self.best_saved,
        }
        atomic_write_text(self.path, json.dumps(doc, indent=1) + "\n")
