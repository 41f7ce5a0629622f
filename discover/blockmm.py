"""Multiply matrices with a scheme: numpy arrays through the generated Python code, torch tensors
through :class:`~discover.nn.scheme_layers.SchemeMatmul`, stacked (batched) operands included.

This is what :func:`discover.matmul` runs. The scheme is applied whenever it is asked for: ``levels``
recursion levels, each taken while every block dimension is at least ``cutoff`` (default 1: always);
the dtype policy is that of the generated code and of the layers (README, "dtype policy").
"""
from __future__ import annotations

import time
import types
from typing import Any

import numpy as np

from .errors import NotExactError, SchemeError
from .scheme import Scheme
from .tunetable import RELOAD_INTERVAL, choose, dispatch_plan, load_table
from .verify import verify_exact

_NUMPY_MODULES: dict[Any, types.ModuleType] = {}
_TORCH_MODULES: dict[Any, Any] = {}


def resolve(scheme: "Scheme | str") -> Scheme:
    """A scheme object, or a scheme source (``"strassen"``, ``"catalog:3x3x3"``, a file), checked exactly."""
    if isinstance(scheme, str):
        return _load_cached(scheme)
    if not isinstance(scheme, Scheme):
        raise SchemeError(f"scheme must be a Scheme or a scheme source, got {type(scheme).__name__}")
    if scheme.mod2 or not verify_exact(scheme).valid:
        raise NotExactError(f"{scheme!r} is not exact over the integers: it cannot multiply matrices")
    return scheme


_SOURCES: dict[tuple[str, float], Scheme] = {}


def _load_cached(source: str) -> Scheme:
    """A scheme source loaded and checked once per process (a file: again when its mtime changes)."""
    import os

    from .sources import load_source

    if source == "-":
        return load_source(source)
    try:
        stamp = os.stat(source).st_mtime
    except OSError:
        stamp = 0.0  # a name (strassen, catalog:...), not a file
    key = (source, stamp)
    if key not in _SOURCES:
        _SOURCES[key] = load_source(source)
    return _SOURCES[key]


def _key(scheme: Scheme) -> Any:
    return (scheme.format.dims, tuple(tuple(a.ravel().tolist()) for a in scheme.factors))


def numpy_module(scheme: Scheme) -> types.ModuleType:
    """The generated Python module of a scheme (generated once per scheme and cached)."""
    key = _key(scheme)
    if key not in _NUMPY_MODULES:
        from .codegen import generate

        module = types.ModuleType(f"discover_generated_{len(_NUMPY_MODULES)}")
        exec(compile(generate(scheme, "python", "discover.matmul"), module.__name__, "exec"), module.__dict__)
        _NUMPY_MODULES[key] = module
    return _NUMPY_MODULES[key]


def _check_levels(levels: int, cutoff: int) -> None:
    for name, value in (("levels", levels), ("cutoff", cutoff)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < (0 if name == "levels" else 1):
            raise SchemeError(f"{name} must be an integer ≥ {0 if name == 'levels' else 1}, got {value!r}")


BACKENDS = ("auto", "fused", "numpy")
BASES = ("standard", "alt")
_ALT: dict[Any, Any] = {}


def alt_basis(scheme: Scheme) -> Any:
    """The alternative basis of a scheme (:func:`discover.altbasis.find_alt_basis`), found once per process."""
    key = _key(scheme)
    if key not in _ALT:
        from .altbasis import find_alt_basis

        _ALT[key] = find_alt_basis(scheme)
    return _ALT[key]


_DTYPE_NAMES: dict[Any, str] = {}


def _dtype_name(A: Any, B: Any, is_torch: bool) -> str:
    """The result dtype's name, cheaply when both operands already share a dtype (the usual case)."""
    a, b = getattr(A, "dtype", None), getattr(B, "dtype", None)
    if a is not None and a == b:
        name = _DTYPE_NAMES.get(a)
        if name is None:
            name = _DTYPE_NAMES[a] = str(a).replace("torch.", "") if is_torch else np.dtype(a).name
        return name
    if is_torch:
        import torch

        return str(torch.promote_types(torch.as_tensor(A).dtype, torch.as_tensor(B).dtype)).replace("torch.", "")
    return np.result_type(np.asarray(A), np.asarray(B)).name


#: For ``scheme="auto"`` with the default table: per operand dtype, the smallest size the table
#: dispatches to a scheme (inf: never), valid until ``_FAST_UNTIL[0]`` (a monotonic time). Lets the
#: plain case return after a handful of attribute lookups.
_FAST: dict[Any, float] = {}
_FAST_UNTIL = [-1.0]


def _remember_threshold(A: Any, B: Any, table: "dict[str, Any] | None") -> None:
    dtype = getattr(A, "dtype", None)
    if dtype is None or dtype is not getattr(B, "dtype", None):
        return
    now = time.monotonic()
    if now >= _FAST_UNTIL[0]:
        _FAST.clear()
        _FAST_UNTIL[0] = now + RELOAD_INTERVAL
    is_torch = type(A).__module__.startswith("torch")
    _FAST[dtype] = dispatch_plan(table, "torch" if is_torch else "numpy", _dtype_name(A, B, is_torch))[0] \
        if table else float("inf")


def _auto(A: Any, B: Any, table: Any) -> "tuple[str, int] | None":
    """The tuned choice for this product (None: the plain product), see :mod:`discover.tune`.

    Kept cheap (a few microseconds): a 128×128 float32 product takes about 0.2 ms, and the plain
    path must stay within 2 % of calling it directly.
    """
    if table is None:
        table = load_table(None)
        _remember_threshold(A, B, table)
        if table is None:
            return None
    elif not isinstance(table, dict):
        table = load_table(table)
    shape_a, shape_b = getattr(A, "shape", None), getattr(B, "shape", None)
    if shape_a is None or shape_b is None:
        A, B = np.asarray(A), np.asarray(B)
        shape_a, shape_b = A.shape, B.shape
    if len(shape_a) < 2 or len(shape_b) < 2:
        return None
    is_torch = type(A).__module__.startswith("torch") or type(B).__module__.startswith("torch")
    return choose(table, "torch" if is_torch else "numpy", _dtype_name(A, B, is_torch),
                  (shape_a[-2], shape_a[-1], shape_b[-1]))


def matmul(A: Any, B: Any, scheme: "Scheme | str" = "strassen", levels: int = 1, cutoff: int = 1,
           backend: str = "auto", table: Any = None, basis: str = "standard") -> Any:
    """``A @ B`` computed by a verified scheme (numpy arrays or torch tensors, 2-D or batched).

    Parameters
    ----------
    A, B
        Arrays ``(..., N, M)`` and ``(..., M, P)``; leading (batch) dimensions broadcast like ``@``.
    scheme
        A :class:`~discover.scheme.Scheme` or a scheme source (see :mod:`discover.sources`).
    levels
        Recursion levels of the scheme (0: the plain product).
    cutoff
        A level is applied only while every block dimension is at least this (default 1).
    backend : {"auto", "fused", "numpy"}
        For numpy arrays: ``fused`` runs :mod:`discover.fastmm` (numba kernels for the additions,
        BLAS leaves; float and complex dtypes only), ``numpy`` the generated numpy code, ``auto``
        the first for float/complex arrays when numba is installed and the second otherwise.
    table : dict or path, optional
        With ``scheme="auto"``: the tune table (default: the one ``strassen tune`` saved, see
        :func:`discover.tune.default_path`). ``scheme="auto"`` picks the scheme and levels the
        table measured fastest for this size class and dtype, or the plain product (also when
        there is no table); ``levels`` is then ignored.
    basis : {"standard", "alt"}
        ``alt`` runs the scheme in its alternative basis (Karstadt–Schwartz, :mod:`discover.altbasis`:
        basis changes once per level at the top, a sparser core; the basis is found on first use and
        cached): numpy float or complex arrays on the fused backend only.

    Examples
    --------
    >>> import numpy as np, discover
    >>> A = np.arange(12).reshape(3, 4); B = np.arange(20).reshape(4, 5)
    >>> bool((discover.matmul(A, B, "strassen", levels=2) == A @ B).all())
    True
    """
    if table is None and scheme == "auto" and _FAST and basis in BASES:
        # The fast plain path (see _FAST): same dtype, below the table's smallest dispatched size.
        dtype = getattr(A, "dtype", None)
        if dtype is not None and dtype is getattr(B, "dtype", None) and time.monotonic() < _FAST_UNTIL[0]:
            threshold = _FAST.get(dtype)
            if threshold is not None:
                sa, sb = A.shape, B.shape
                if len(sa) >= 2 and len(sb) >= 2 and min(sa[-2], sa[-1], sb[-1]) < threshold:
                    return A @ B
    if backend not in BACKENDS:
        raise SchemeError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if basis not in BASES:
        raise SchemeError(f"basis must be one of {', '.join(BASES)}, got {basis!r}")
    if scheme == "auto" and isinstance(scheme, str):
        picked = _auto(A, B, table)
        if picked is None:
            # The plain product, as directly as possible: this path is timed against torch.matmul itself.
            if type(A).__module__.startswith("torch") or type(B).__module__.startswith("torch"):
                import torch

                if isinstance(A, torch.Tensor) and isinstance(B, torch.Tensor):
                    return torch.matmul(A, B)
                return torch.matmul(torch.as_tensor(A), torch.as_tensor(B))
            return np.matmul(np.asarray(A), np.asarray(B))
        scheme, levels = picked
    _check_levels(levels, cutoff)
    scheme = resolve(scheme)
    if type(A).__module__.startswith("torch") or type(B).__module__.startswith("torch"):
        if basis == "alt":
            raise SchemeError("basis='alt' runs numpy arrays (the fused backend), not torch tensors")
        return _torch_matmul(A, B, scheme, levels, cutoff)
    A, B = np.asarray(A), np.asarray(B)
    if A.ndim < 2 or B.ndim < 2:
        raise SchemeError(f"matmul needs matrices (2-D or batched), got shapes {A.shape} and {B.shape}")
    if A.shape[-1] != B.shape[-2]:
        raise SchemeError(f"shapes {A.shape} and {B.shape} do not multiply")
    if basis == "alt":
        if backend == "numpy" or not _fused(A, B, "fused"):
            raise SchemeError("basis='alt' runs on the fused backend (float or complex arrays, numba), "
                              f"not backend={backend!r} with {np.result_type(A, B)}")
        from .altmm import alt_module

        module: Any = alt_module(alt_basis(scheme))
    else:
        module = numpy_module(scheme)
    if basis == "standard" and _fused(A, B, backend):
        from .fastmm import fused_matmul

        module = types.SimpleNamespace(matmul=lambda a, b, levels, cutoff: fused_matmul(a, b, scheme, levels, cutoff))
    if A.ndim == 2 and B.ndim == 2:
        return module.matmul(A, B, levels=levels, cutoff=cutoff)
    batch = np.broadcast_shapes(A.shape[:-2], B.shape[:-2])
    A = np.broadcast_to(A, batch + A.shape[-2:])
    B = np.broadcast_to(B, batch + B.shape[-2:])
    flat = [module.matmul(np.ascontiguousarray(a), np.ascontiguousarray(b), levels=levels, cutoff=cutoff)
            for a, b in zip(A.reshape((-1,) + A.shape[-2:]), B.reshape((-1,) + B.shape[-2:]))]
    return np.stack(flat).reshape(batch + flat[0].shape[-2:]) if flat else np.matmul(A, B)


def _fused(A: np.ndarray, B: np.ndarray, backend: str) -> bool:
    if backend == "numpy":
        return False
    from .fastmm import DTYPES, available

    ok = np.result_type(A, B).name in DTYPES
    if backend == "fused" and not ok:
        raise SchemeError(f"the fused backend computes {', '.join(DTYPES)}, not {np.result_type(A, B)}")
    if backend == "fused" and not available():
        raise SchemeError("the fused backend needs numba (pip install numba)")
    return ok and available()


def _torch_matmul(A: Any, B: Any, scheme: Scheme, levels: int, cutoff: int) -> Any:
    import torch

    from .nn.scheme_layers import SchemeMatmul

    key = (_key(scheme), levels, cutoff)
    if key not in _TORCH_MODULES:
        _TORCH_MODULES[key] = SchemeMatmul(scheme, levels=levels, min_size=cutoff)
    module = _TORCH_MODULES[key]
    A, B = torch.as_tensor(A), torch.as_tensor(B)
    return module.to(A.device)(A, B)
