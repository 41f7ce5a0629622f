"""The package's floors: no module imports a higher floor, no import cycles, lean imports.

Floors (see README, "Architecture"): 0 the exact core, 1 what is built on it (transforms,
formulas, straight-line programs, interchange formats, provenance, problems), 2 the engines
(search, flip, codegen, catalog, nn, benchmarks), 3 the CLI, 4 the top-level API facade. Every import is counted, also
those inside functions (lazy imports): a lazy import still couples two modules.
"""
from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "discover"

FACADE = {"discover", "discover.api", "discover.__main__"}
CORE = {"discover._version", "discover.limits", "discover.errors", "discover.formats", "discover.coefficients", "discover.rings",
        "discover.scheme", "discover.tensor", "discover.verify", "discover.jsonio", "discover.names",
        "discover.machine"}
BUILT_ON_CORE = {"discover.problem", "discover.canonical", "discover.symmetry", "discover.formulas",
                 "discover.slp", "discover.known", "discover.invariants", "discover.best_known", "discover.published_additions",
                 "discover.stability", "discover.provenance", "discover.plot", "discover.progress",
                 "discover.altbasis"}
#: Upward imports allowed by name, each a convenience method that delegates (imported inside it).
DELEGATES = {("discover.scheme", "discover.plot")}  # Scheme.plot() draws with discover.plot


def floor(module: str) -> int:
    if module in FACADE:
        return 4  # the top-level API: may use every floor (lazily), and nothing imports it
    if module in CORE:
        return 0
    if module in BUILT_ON_CORE or module.startswith("discover.interchange"):
        return 1
    if module == "discover.cli" or module.startswith("discover.cli."):
        return 3
    return 2  # engines: search, flip, codegen, catalog, sources, nn, ...


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Modules of the package that ``name`` imports (anywhere in its body)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            # ``from pkg import sub`` imports the submodule; ``from pkg import name`` the package.
            targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in known else mod for a in node.names]
        else:
            continue
        for target in targets:
            if target in known and target != name:
                found.add(target)
    return found


def _graph() -> dict[str, set[str]]:
    known = _modules()
    # Delegating methods (DELEGATES) are left out: their import runs only when the method is called.
    return {name: {t for t in _imports(name, path, known) if (name, t) not in DELEGATES} for name, path in known.items()}


def test_no_module_imports_a_higher_floor():
    bad = [f"{a} (floor {floor(a)}) imports {b} (floor {floor(b)})"
           for a, targets in _graph().items() for b in targets if floor(b) > floor(a)]
    assert bad == []


def test_engines_never_import_the_cli():
    bad = [f"{a} -> {b}" for a, targets in _graph().items() if floor(a) < 3
           for b in targets if floor(b) == 3]
    assert bad == []


def test_no_import_cycles():
    graph = _graph()
    # A package's __init__ may re-export its submodules; an edge back from a submodule to its own
    # package __init__ is what would close a cycle, and that is what this finds.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []
    counter = [0]

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert cycles == []


def _run(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_the_cli_imports_neither_torch_nor_numba_nor_sympy():
    out = _run("""
        import sys
        import discover.cli
        print(sorted(m for m in ("torch", "numba", "sympy", "scipy") if m in sys.modules))
    """)
    assert out == "[]"


@pytest.mark.parametrize("method", ["flip"])
def test_a_flip_search_runs_without_torch(method):
    out = _run(f"""
        import sys
        from discover.problem import Problem
        from discover.search import search
        result = search(Problem("2x2x2", 7), {method!r}, seed=0, workers=1, time_limit=120)
        print(result.found[0].rank, "torch" in sys.modules)
    """)
    assert out == "7 False"
