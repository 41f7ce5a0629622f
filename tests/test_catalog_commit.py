"""``strassen catalog improve --commit``: each new catalog file committed with git as it lands."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from discover.cli import main
from discover.jsonio import load_scheme, save_scheme
from discover.scheme import Scheme


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path):
    """A git work tree with a naive catalog committed, a staged note and an edited tracked file."""
    root = tmp_path / "repo"
    catalog = root / "algorithms"
    catalog.mkdir(parents=True)
    git(root, "init", "-q")
    git(root, "config", "user.name", "Test")
    git(root, "config", "user.email", "test@example.com")
    save_scheme(Scheme.naive("2x2x2"), catalog / "2x2x2_r8_ZT.json")
    save_scheme(Scheme.naive("2x2x3"), catalog / "2x2x3_r12_ZT.json")
    (root / "README.md").write_text("catalog\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "naive catalog")
    (root / "notes.txt").write_text("the user's own work\n")
    git(root, "add", "notes.txt")
    (root / "README.md").write_text("catalog, edited\n")
    return root


def improve_args(catalog: Path, work: Path, *extra: str) -> list[str]:
    return ["catalog", "improve", "--dir", str(catalog), "--work", str(work), "--rounds", "1", "--slice", "60",
            "-j", "1", "-m", "flip", "--seed", "3", "--commit", *extra]


def test_each_new_scheme_gets_a_commit_of_its_own_and_nothing_else_is_committed(runner, repo, tmp_path):
    catalog = repo / "algorithms"
    r = runner.invoke(main, improve_args(catalog, tmp_path / "work"))
    assert r.exit_code == 0, r.output
    log = git(repo, "log", "--format=%h %s").splitlines()
    assert len(log) == 3 and log[-1].endswith("naive catalog")
    for line, name, was in [(log[1], "2x2x2_r7_ZT.json", 8), (log[0], "2x2x3_r11_ZT.json", 12)]:
        commit, subject = line.split(" ", 1)
        scheme = load_scheme(catalog / name)
        prov = scheme.meta["provenance"]
        fmt = name.split("_")[0]
        assert subject.startswith(f"catalog: {fmt} r{scheme.rank} ZT (was {was}), flip, seed {prov['seed']}, ")
        assert subject.endswith(" (catalog improve)")
        assert git(repo, "show", "--name-only", "--format=", commit).split() == [f"algorithms/{name}"]
        assert prov["command"] in git(repo, "show", "-s", "--format=%b", commit)
        assert f"{fmt}: committed {commit}" in r.stdout
    # The user's staged note and edited README are as they were: staged, and edited, not committed.
    assert sorted(git(repo, "status", "--porcelain").splitlines()) == [" M README.md", "A  notes.txt"]


def test_a_catalog_outside_git_is_refused_before_any_search(runner, tmp_path):
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    save_scheme(Scheme.naive("2x2x2"), catalog / "2x2x2_r8_ZT.json")
    work = tmp_path / "work"
    r = runner.invoke(main, improve_args(catalog, work))
    assert r.exit_code == 2
    assert r.stderr == f"error: catalog improve --commit: the catalog folder {catalog} is not in a git work tree\n"
    assert not any(work.rglob(".improve-ledger"))
    assert sorted(p.name for p in catalog.iterdir()) == ["2x2x2_r8_ZT.json"]


def improve_2x2x2_behind_a_hook(runner, repo: Path, work: Path, hook_body: str):
    """One slice of 2x2x2 with --commit, a pre-commit hook of ``hook_body`` in the repository."""
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text(f"#!/bin/sh\n{hook_body}\n")
    hook.chmod(0o755)
    return runner.invoke(main, improve_args(repo / "algorithms", work, "--formats", "2x2x2"))


def test_a_commit_git_refuses_is_one_line_and_the_scheme_stays(runner, repo, tmp_path):
    catalog = repo / "algorithms"
    r = improve_2x2x2_behind_a_hook(runner, repo, tmp_path / "work", "echo 'no commits today' >&2\nexit 1")
    assert r.exit_code == 0, r.output
    assert "2x2x2: not committed (git commit failed: no commits today); the file stays in the catalog" in r.stderr
    assert load_scheme(catalog / "2x2x2_r7_ZT.json").rank == 7
    assert len(git(repo, "log", "--format=%h").splitlines()) == 1
    # git add ran before the hook refused: the new file is staged for the user to commit.
    assert "A  algorithms/2x2x2_r7_ZT.json" in git(repo, "status", "--porcelain").splitlines()


def test_the_fewest_additions_form_goes_into_the_schemes_commit(runner, repo, tmp_path):
    catalog = repo / "algorithms"
    r = runner.invoke(main, improve_args(catalog, tmp_path / "work", "--formats", "2x2x2", "--additions", "20"))
    assert r.exit_code == 0, r.output
    assert f"2x2x2: its fewest-additions form -> {catalog / '2x2x2_r7_ZT-additions.json'}" in r.stdout
    commit = git(repo, "log", "-1", "--format=%h").strip()
    assert f"2x2x2: committed {commit}" in r.stdout
    assert sorted(git(repo, "show", "--name-only", "--format=", commit).split()) == [
        "algorithms/2x2x2_r7_ZT-additions.json", "algorithms/2x2x2_r7_ZT.json"]
    assert len(git(repo, "log", "--format=%h").splitlines()) == 2


def test_a_git_that_does_not_answer_is_one_line_and_the_job_goes_on(runner, repo, tmp_path, monkeypatch):
    import discover.catalog_commit as cc

    monkeypatch.setattr(cc, "GIT_TIMEOUT", 3.0)
    r = improve_2x2x2_behind_a_hook(runner, repo, tmp_path / "work", "sleep 30")
    assert r.exit_code == 0, r.output
    assert "2x2x2: not committed (git commit failed: Command " in r.stderr and "timed out after 3" in r.stderr
    assert load_scheme(repo / "algorithms" / "2x2x2_r7_ZT.json").rank == 7


def test_a_commit_waits_while_another_git_holds_the_index_lock(repo, monkeypatch):
    import threading

    import discover.catalog_commit as cc

    catalog = repo / "algorithms"
    new = catalog / "2x2x2_r7_ZT.json"
    save_scheme(Scheme.naive("2x2x2"), new)  # any new file: what matters is the lock
    lock = repo / ".git" / "index.lock"
    lock.write_text("")  # the user's own git, mid-commit
    monkeypatch.setattr(cc, "LOCK_WAIT", 0.1)
    threading.Timer(0.5, lock.unlink).start()
    commit = cc.commit_files(catalog, [new], "catalog: a test\n")
    assert commit and git(repo, "show", "--name-only", "--format=", commit).split() == ["algorithms/2x2x2_r7_ZT.json"]
    # A lock that stays is one line after the last try, and nothing is committed.
    lock.write_text("")
    other = catalog / "2x2x3_r11_ZT.json"
    save_scheme(Scheme.naive("2x2x3"), other)
    monkeypatch.setattr(cc, "LOCK_TRIES", 3)
    with pytest.raises(cc.DiscoverError, match=r"^git add failed: .*index\.lock"):
        cc.commit_files(catalog, [other], "catalog: another\n")
    assert git(repo, "log", "--format=%h").split()[0] == commit
