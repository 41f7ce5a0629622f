"""Every example in README.md runs as written (the fast ones; a line whose comment starts with ``# slow`` is skipped).

Blocks fenced as ``bash`` and ``python`` are run; blocks fenced as ``sh`` and ``py`` show commands
for other machines (a cluster's head node, Slurm) or for hours of work, and are only read. A shell
line ending in a backslash continues on the next line.

Shell blocks (```bash): each command line is run with bash in a scratch folder that has the catalog
as ``algorithms/`` and the lead's material as ``../shared`` (when present); it must exit 0. Lines
that install (``pip install``) or run the test suite itself are CI's job and are not repeated here;
for ``pip install ... && CMD`` only CMD runs. Python blocks (```python) run as scripts there too.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SHARED = ROOT.parent / "shared"


def _blocks(language: str) -> list[tuple[int, str]]:
    text = README.read_text(encoding="utf-8")
    return [(text[: m.start()].count("\n") + 2, m.group(1))
            for m in re.finditer(rf"^```{language}\n(.*?)^```", text, flags=re.S | re.M)]


def _shell_commands() -> list[tuple[str, str]]:
    commands = []
    for line_no, body in _blocks("bash"):
        logical: list[tuple[int, str]] = []
        for offset, raw in enumerate(body.splitlines()):
            if logical and logical[-1][1].endswith("\\"):
                logical[-1] = (logical[-1][0], logical[-1][1][:-1] + " " + raw.strip())
            else:
                logical.append((offset, raw.strip()))
        for offset, line in logical:
            if not line or line.startswith("#") or re.search(r"#\s*slow\b", line):
                continue
            if "pip install" in line:
                if "&&" not in line:
                    continue
                line = line.split("&&", 1)[1].strip()
            if "pytest" in line or "apt-get" in line:
                continue
            commands.append((f"README.md:{line_no + offset}", line))
    return commands


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("readme")
    work = base / "work"
    work.mkdir()
    (work / "algorithms").symlink_to(ROOT / "algorithms")
    if SHARED.exists():
        (base / "shared").symlink_to(SHARED)
    return work


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # The scratch folder is not the checkout: make sure this checkout's package and command are used.
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["STRASSEN_CATALOG"] = str(ROOT / "algorithms")
    return env


@pytest.mark.parametrize("where, command", _shell_commands(), ids=lambda v: v if v.startswith("README") else "")
def test_shell_example(scratch, where, command):
    if "../shared" in command and not SHARED.exists():
        pytest.skip("../shared/data is not present")
    command = command.replace("strassen ", f"{sys.executable} -m discover ", 1) if command.startswith("strassen ") \
        else command
    command = re.sub(r"(?<=[&|;] )strassen ", f"{sys.executable} -m discover ", command)
    proc = subprocess.run(["bash", "-c", command], cwd=scratch, env=_env(), capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, f"{where}: {command}\n{proc.stderr[-2000:]}"


@pytest.mark.parametrize("where, code", [(f"README.md:{n}", body) for n, body in _blocks("python")],
                         ids=lambda v: v if isinstance(v, str) and v.startswith("README") else "")
def test_python_example(scratch, where, code):
    proc = subprocess.run([sys.executable, "-c", code], cwd=scratch, env=_env(), capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, f"{where}\n{proc.stderr[-2000:]}"
