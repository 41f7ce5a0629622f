"""numba's cache is kept per version of the compiled sources (a stale cached kernel is never reused)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from discover import jitcache


def _copy_sources(dst: Path) -> Path:
    (dst / "flip").mkdir(parents=True)
    for path in jitcache.compiled_sources():
        target = dst / "flip" / path.name if path.parent.name == "flip" else dst / path.name
        shutil.copy(path, target)
    return dst


def test_any_change_to_any_compiled_source_gives_a_new_cache_folder(tmp_path):
    root = _copy_sources(tmp_path / "pkg")
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    before = jitcache.cache_folder(root, env)
    assert before.parent == tmp_path / "cache" / "strassen-discover" / "numba"
    assert jitcache.cache_folder(root, env) == before  # stable
    # a helper that another module's cached kernel calls: pairs.py (the stale-kernel case)
    pairs = root / "flip" / "pairs.py"
    pairs.write_text(pairs.read_text() + "\n# changed\n")
    assert jitcache.cache_folder(root, env) != before
    assert len(jitcache.compiled_sources(root)) == len(jitcache.compiled_sources()) >= 10


def test_kernels_are_cached_in_the_versioned_folder_unless_numba_cache_dir_is_set(tmp_path):
    code = ("import numba, discover.flip.zt, discover.jitcache as j; "
            "print(numba.config.CACHE_DIR); print(j.cache_folder())")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    used, expected = out.stdout.split()
    assert used == expected and Path(used).is_dir() and str(tmp_path) in used
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "mine")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split()[0] == str(tmp_path / "mine")
