"""Build the generated C code into a shared library with BLAS leaf products, in one call.

:func:`find_blas` looks for a CBLAS ``dgemm``: the OpenBLAS that scipy ships (``scipy.libs``,
32-bit integers, symbols prefixed ``scipy_``), then the one numpy ships (``numpy.libs``, 64-bit
integers, ``scipy_...64_`` symbols), then a system ``libopenblas``/``libcblas``/``libblas``.
:func:`build_shared` writes the C file next to the library and compiles it with
``-DSTRASSEN_BLAS`` and the symbol names found, linking the library with an rpath, so the
result loads without environment variables (``ctypes.CDLL(path)``). Without BLAS it can still
build the plain-loop variant (``blas=False``).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import importlib.util
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..errors import BuildError
from ..scheme import Scheme


@dataclass(frozen=True)
class Blas:
    """A BLAS library: its file, its dgemm and sgemm CBLAS symbols and its integer type."""

    path: Path
    dgemm: str
    sgemm: str
    int_type: str


def _site_libs(package: str) -> list[Path]:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return []
    folder = Path(list(spec.submodule_search_locations)[0]).parent / f"{package}.libs"
    return sorted(folder.glob("lib*openblas*.so*")) if folder.is_dir() else []


def _probe(path: Path, candidates: list[tuple[str, str, str]]) -> Optional[Blas]:
    try:
        lib = ctypes.CDLL(str(path))
    except OSError:
        return None
    for dgemm, sgemm, int_type in candidates:
        if hasattr(lib, dgemm) and hasattr(lib, sgemm):
            return Blas(path, dgemm, sgemm, int_type)
    return None


def find_blas() -> Optional[Blas]:
    """The first usable CBLAS (see the module docstring), or None."""
    plain = [("cblas_dgemm", "cblas_sgemm", "int")]
    for path in _site_libs("scipy"):
        found = _probe(path, [("scipy_cblas_dgemm", "scipy_cblas_sgemm", "int")] + plain)
        if found:
            return found
    for path in _site_libs("numpy"):
        found = _probe(path, [("scipy_cblas_dgemm64_", "scipy_cblas_sgemm64_", "long long"),
                              ("cblas_dgemm64_", "cblas_sgemm64_", "long long")] + plain)
        if found:
            return found
    for name in ("openblas", "cblas", "blas"):
        located = ctypes.util.find_library(name)
        if located:
            found = _probe(Path(located), plain)
            if found:
                return found
    return None


def compiler() -> Optional[str]:
    """A C compiler on PATH (``cc``, ``gcc`` or ``clang``), or None."""
    return shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")


def build_shared(scheme: Scheme, out: "str | Path", blas: "bool | Blas" = True, command: str = "",
                 text: Optional[str] = None) -> Path:
    """Generate the C code of ``scheme``, compile it to the shared library ``out``; returns its path.

    Parameters
    ----------
    scheme : Scheme
        An exact scheme (checked by the caller).
    out : path
        The library (``libname.so``); the C source is written beside it (``.c``).
    blas : bool or Blas
        True: BLAS leaves through :func:`find_blas` (BuildError when none is found); a
        :class:`Blas`: that one; False: plain loops only.
    text : str, optional
        The C source to build (default: the ``c`` target of ``scheme``; ``export --alt-basis``
        passes :func:`discover.codegen.altbasis.generate_c_alt`'s).

    Raises
    ------
    BuildError
        Without a compiler, without BLAS when asked for, or when compilation fails.
    """
    from . import generate

    cc = compiler()
    if cc is None:
        raise BuildError("no C compiler (cc, gcc, clang) on PATH")
    found = find_blas() if blas is True else (blas or None)
    if blas is not False and found is None:
        raise BuildError("no BLAS found (scipy's or numpy's OpenBLAS, or a system libopenblas/libblas); "
                         "build without BLAS or install one")
    out = Path(out)
    src = out.with_suffix(".c")
    src.write_text(generate(scheme, "c", command) if text is None else text)
    args = [cc, "-O3", "-shared", "-fPIC", str(src), "-o", str(out)]
    if found is not None:
        args[1:1] = ["-DSTRASSEN_BLAS", f"-DSTRASSEN_DGEMM={found.dgemm}", f"-DSTRASSEN_SGEMM={found.sgemm}",
                     f"-DSTRASSEN_BLAS_INT={found.int_type}"]
        args += [str(found.path), f"-Wl,-rpath,{found.path.parent}"]
    run = subprocess.run(args, capture_output=True, text=True)
    if run.returncode != 0:
        raise BuildError(f"compilation failed: {' '.join(args)}\n{run.stderr.strip()}")
    return out
