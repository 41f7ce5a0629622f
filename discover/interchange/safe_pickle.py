"""Reading ``.npy`` members without running pickled code.

AlphaTensor stores non-square factorizations as numpy object arrays, which ``.npy`` files
keep as pickles. ``numpy.load(allow_pickle=True)`` would let such a file call any Python
function. :class:`RestrictedUnpickler` admits only the globals numpy's own array pickles
use (``ndarray``, ``dtype`` and the array reconstructor) and refuses everything else
before anything runs.
"""
from __future__ import annotations

import io
import math
import pickle
from typing import IO, Any

import numpy as np

from ..errors import LoadError, UnsafePickleError

# numpy's array reconstructor, found without importing numpy.core (deprecated in numpy 2).
_RECONSTRUCT = np.zeros(1).__reduce__()[0]

#: (module, name) pairs a numpy array pickle needs; nothing else is ever resolved.
ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that can rebuild numpy arrays and nothing else."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"refusing a pickle that calls {module}.{name}: only numpy array reconstruction is allowed"
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError("refusing a pickle with persistent references")


def restricted_loads(data: bytes) -> Any:
    """Unpickle ``data`` with :class:`RestrictedUnpickler`."""
    try:
        return RestrictedUnpickler(io.BytesIO(data)).load()
    except UnsafePickleError:
        raise
    except Exception as e:  # a malformed pickle can raise almost anything
        raise LoadError(f"malformed pickle: {type(e).__name__}: {e}") from e


def read_npy(fh: IO[bytes]) -> np.ndarray:
    """Read one ``.npy`` stream; object arrays go through the restricted unpickler.

    Raises
    ------
    LoadError
        On a malformed header or data, or a pickle that calls a forbidden global.
    """
    try:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
    except Exception as e:  # numpy's header parser (ast.literal_eval) can raise almost anything on garbage
        raise LoadError(f"not a valid .npy member: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:200]) from e
    data = fh.read()
    if dtype.hasobject:
        arr = restricted_loads(data)
        if not isinstance(arr, np.ndarray):
            raise LoadError(f"the pickle holds a {type(arr).__name__}, not an array")
        return arr
    count = math.prod(shape)  # Python ints: numpy's prod would overflow on a hostile shape
    if dtype.itemsize == 0:
        raise LoadError(f"a .npy member of dtype {dtype} holds no numbers")
    if len(data) < count * dtype.itemsize:
        raise LoadError(f"truncated .npy data: {len(data)} bytes for {count} values of {dtype}")
    arr = np.frombuffer(data, dtype=dtype, count=count)
    return arr.reshape(shape, order="F" if fortran else "C").copy()
