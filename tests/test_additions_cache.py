"""The disk cache of additions after elimination: keyed by the exact factors, the tries and the compiler."""
from __future__ import annotations

from discover import additions_cache
from discover.catalog import eliminated_additions
from discover.known import strassen, winograd
from discover.slp import compile_scheme


def test_a_count_is_computed_once_then_read_back(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("STRASSEN_NO_CACHE", raising=False)
    scheme = winograd()
    assert additions_cache.lookup(scheme, 8) is None
    assert eliminated_additions(scheme) == 15 == compile_scheme(scheme).additions
    files = list((tmp_path / "strassen-discover" / "additions").rglob("*"))
    stored = [f for f in files if f.is_file()]
    assert len(stored) == 1 and stored[0].read_text() == "15"
    assert stored[0].parent.name == additions_cache.compiler_key()
    # what is read back is what the file says (a planted count proves the read path is used)
    stored[0].write_text("14")
    assert eliminated_additions(scheme) == 14
    # another tries count or another scheme is another key
    assert additions_cache.lookup(scheme, 1) is None
    assert additions_cache.lookup(strassen(), 8) is None
    assert eliminated_additions(scheme, tries=1) == 15


def test_unreadable_count_is_recomputed(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("STRASSEN_NO_CACHE", raising=False)
    scheme = winograd()
    folder = additions_cache.cache_folder()
    folder.mkdir(parents=True)
    (folder / additions_cache.scheme_key(scheme, 8)).write_text("not a number")
    assert eliminated_additions(scheme) == 15
    assert (folder / additions_cache.scheme_key(scheme, 8)).read_text() == "15"


def test_cache_off_and_unwritable_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("STRASSEN_NO_CACHE", "1")
    assert additions_cache.cache_folder() is None
    assert eliminated_additions(winograd()) == 15
    assert not (tmp_path / "strassen-discover").exists()
    # a cache home that is a file: nothing can be written, the count is still right
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    monkeypatch.delenv("STRASSEN_NO_CACHE")
    assert eliminated_additions(winograd()) == 15
    assert blocker.read_text() == ""


def test_key_depends_on_every_coefficient():
    a = winograd()
    U = [row.copy() for row in a.U]
    assert U[0][0, 0] != 0
    U[0][0, 0] = -U[0][0, 0]
    from discover.scheme import Scheme

    b = Scheme.from_arrays(U, a.V, a.W)
    assert additions_cache.scheme_key(a, 8) != additions_cache.scheme_key(b, 8)
    assert additions_cache.scheme_key(a, 8) == additions_cache.scheme_key(winograd(), 8)
