"""discover: find, verify, catalog and run fast matrix-multiplication schemes."""
from __future__ import annotations

__version__ = "0.1.0"

from .errors import DiscoverError, FormatError, LoadError, SchemeError
from .formats import Format
from .scheme import RINGS, Scheme
from .tensor import matmul_tensor, reconstruct, residual
from .verify import VerificationReport, verify, verify_exact, verify_sympy

__all__ = [
    "__version__",
    "DiscoverError",
    "FormatError",
    "LoadError",
    "SchemeError",
    "Format",
    "RINGS",
    "Scheme",
    "matmul_tensor",
    "reconstruct",
    "residual",
    "VerificationReport",
    "verify",
    "verify_exact",
    "verify_sympy",
]
