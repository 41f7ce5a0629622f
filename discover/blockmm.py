"""Multiply matrices with a scheme: numpy arrays through the generated Python code, torch tensors
through :class:`~discover.nn.scheme_layers.SchemeMatmul`, stacked (batched) operands included.

This is what :func:`discover.matmul` runs. The scheme is applied whenever it is asked for: ``levels``
recursion levels, each taken while every block dimension is at least ``cutoff`` (default 1: always);
the dtype policy is that of the generated code and of the layers (README, "dtype policy").
"""
from __future__ import annotations

import types
from typing import Any

import numpy as np

from .errors import NotExactError, SchemeError
from .scheme import Scheme
from .verify import verify_exact

_NUMPY_MODULES: dict[Any, types.ModuleType] = {}
_TORCH_MODULES: dict[Any, Any] = {}


def resolve(scheme: "Scheme | str") -> Scheme:
    """A scheme object, or a scheme source (``"strassen"``, ``"catalog:3x3x3"``, a file), checked exactly."""
    if isinstance(scheme, str):
        from .sources import load_source

        return load_source(scheme)
    if not isinstance(scheme, Scheme):
        raise SchemeError(f"scheme must be a Scheme or a scheme source, got {type(scheme).__name__}")
    if scheme.mod2 or not verify_exact(scheme).valid:
        raise NotExactError(f"{scheme!r} is not exact over the integers: it cannot multiply matrices")
    return scheme


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


def matmul(A: Any, B: Any, scheme: "Scheme | str" = "strassen", levels: int = 1, cutoff: int = 1) -> Any:
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

    Examples
    --------
    >>> import numpy as np, discover
    >>> A = np.arange(12).reshape(3, 4); B = np.arange(20).reshape(4, 5)
    >>> bool((discover.matmul(A, B, "strassen", levels=2) == A @ B).all())
    True
    """
    _check_levels(levels, cutoff)
    scheme = resolve(scheme)
    if type(A).__module__.startswith("torch") or type(B).__module__.startswith("torch"):
        return _torch_matmul(A, B, scheme, levels, cutoff)
    A, B = np.asarray(A), np.asarray(B)
    if A.ndim < 2 or B.ndim < 2:
        raise SchemeError(f"matmul needs matrices (2-D or batched), got shapes {A.shape} and {B.shape}")
    if A.shape[-1] != B.shape[-2]:
        raise SchemeError(f"shapes {A.shape} and {B.shape} do not multiply")
    module = numpy_module(scheme)
    if A.ndim == 2 and B.ndim == 2:
        return module.matmul(A, B, levels=levels, cutoff=cutoff)
    batch = np.broadcast_shapes(A.shape[:-2], B.shape[:-2])
    A = np.broadcast_to(A, batch + A.shape[-2:])
    B = np.broadcast_to(B, batch + B.shape[-2:])
    flat = [module.matmul(np.ascontiguousarray(a), np.ascontiguousarray(b), levels=levels, cutoff=cutoff)
            for a, b in zip(A.reshape((-1,) + A.shape[-2:]), B.reshape((-1,) + B.shape[-2:]))]
    return np.stack(flat).reshape(batch + flat[0].shape[-2:]) if flat else np.matmul(A, B)


def _torch_matmul(A: Any, B: Any, scheme: Scheme, levels: int, cutoff: int) -> Any:
    import torch

    from .nn.scheme_layers import SchemeMatmul

    key = (_key(scheme), levels, cutoff)
    if key not in _TORCH_MODULES:
        _TORCH_MODULES[key] = SchemeMatmul(scheme, levels=levels, min_size=cutoff)
    module = _TORCH_MODULES[key]
    A, B = torch.as_tensor(A), torch.as_tensor(B)
    return module.to(A.device)(A, B)
